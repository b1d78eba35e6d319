/* Not a free list: `hook_add` links a caller's hook onto a global list that `run_hooks` walks.
 * The hook stays alive (nothing gives it back or frees it), so the unlocked push can lose a hook
 * but never hands freed memory to a reader. */
// expect-none
// freerace-options: --target free-threaded
#include <Python.h>

struct hook {
    struct hook *next;
    void (*fn)(void);
};

static struct hook *hooks = NULL;

void
hook_add(struct hook *h)
{
    h->next = hooks;
    hooks = h;
}

static PyObject *
run_hooks(PyObject *module, PyObject *unused)
{
    for (struct hook *h = hooks; h != NULL; h = h->next)
        h->fn();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {{"run_hooks", run_hooks, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef hooks_module = {PyModuleDef_HEAD_INIT, "hooks", NULL, 0, methods};
PyMODINIT_FUNC PyInit_hooks(void) { return PyModuleDef_Init(&hooks_module); }
