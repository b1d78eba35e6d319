/* A type's deallocator runs on whichever thread drops the last reference to *its* object,
 * concurrently with every other thread: when it frees module-global memory, a method running
 * on another thread can still be reading it. (Its own object's fields stay private to it.) */
#include <Python.h>

static char *g_table;          /* a global lookup table, shared by every Handle */
static Py_ssize_t g_size;

typedef struct {
    PyObject_HEAD
    char *name;
} HandleObject;

static void
handle_dealloc(HandleObject *self)
{
    PyMem_Free(self->name);            // expect-none
    if (--g_size == 0) {
        PyMem_Free(g_table);           // expect: FR102 {{`handle_dealloc` frees `g_table` while `lookup()` may still read it}}
        g_table = NULL;
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
lookup(PyObject *module, PyObject *arg)
{
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (g_table == NULL || i < 0 || i >= 256) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(g_table[i]);
}

static PyMethodDef methods[] = {{"lookup", lookup, METH_O, NULL}, {NULL}};

static PyTypeObject Handle_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dealloc.Handle",
    .tp_basicsize = sizeof(HandleObject),
    .tp_dealloc = (destructor)handle_dealloc,
};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef dealloc_module = {PyModuleDef_HEAD_INIT, "dealloc", NULL, 0, methods, slots};
PyMODINIT_FUNC PyInit_dealloc(void) { return PyModuleDef_Init(&dealloc_module); }
