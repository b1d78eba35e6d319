/* The fixed design of gh-143228: arenas are refcounted and unmapped when the last code object
 * using them is destroyed (a code watcher), never while a thread can be inside them. */
// expect-none
#include <Python.h>
#include <sys/mman.h>

typedef PyObject *(*tramp_fn)(PyThreadState *, struct _PyInterpreterFrame *, int, void *);

typedef struct arena {
    Py_ssize_t refcount;    /* code objects whose trampoline lives here */
    char *base;
    char *next;
    size_t size;
    struct arena *prev;
} arena_t;

static arena_t *arenas;

static int
arena_new(void)
{
    size_t size = 1 << 16;
    char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        return -1;
    }
    memcpy(mem, template_code, template_size);
    if (mprotect(mem, size, PROT_READ | PROT_EXEC) != 0) {
        munmap(mem, size);   /* never published: no other thread can be inside */
        return -1;
    }
    arena_t *a = PyMem_RawCalloc(1, sizeof(arena_t));
    if (a == NULL) {
        munmap(mem, size);
        return -1;
    }
    a->base = mem;
    a->next = mem;
    a->size = size;
    a->prev = arenas;
    arenas = a;
    return 0;
}

static tramp_fn
arena_take(arena_t *a)
{
    char *p = a->next;
    a->next += 64;
    return (tramp_fn)p;
}

static tramp_fn
compile_tramp(void)
{
    if (arenas == NULL && arena_new() < 0) {
        return NULL;
    }
    return arena_take(arenas);
}

static PyObject *
jit_evaluator(PyThreadState *ts, struct _PyInterpreterFrame *frame, int exc)
{
    tramp_fn f = compile_tramp();
    if (f == NULL) {
        return _PyEval_EvalFrameDefault(ts, frame, exc);
    }
    return f(ts, frame, exc, _PyEval_EvalFrameDefault);
}

static void
arena_release(arena_t *a)
{
    if (--a->refcount == 0) {
        munmap(a->base, a->size);
        PyMem_RawFree(a);
    }
}

static int
code_watcher(PyCodeEvent event, PyCodeObject *co)
{
    if (event == PY_CODE_EVENT_DESTROY) {
        arena_t *a = NULL;
        if (_PyCode_GetExtra((PyObject *)co, 0, (void **)&a) == 0 && a != NULL) {
            arena_release(a);
        }
    }
    return 0;
}

static void
free_arenas(void)
{
    arena_t *cur = arenas;
    arenas = NULL;
    while (cur) {
        arena_t *prev = cur->prev;
        arena_release(cur);       /* unmapped only when no code object uses it any more */
        cur = prev;
    }
}

static PyObject *
jit_activate(PyObject *module, PyObject *unused)
{
    PyCode_AddWatcher(code_watcher);
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), jit_evaluator);
    Py_RETURN_NONE;
}

static PyObject *
jit_deactivate(PyObject *module, PyObject *unused)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), NULL);
    free_arenas();
    Py_RETURN_NONE;
}

static PyMethodDef jit_methods[] = {
    {"activate", jit_activate, METH_NOARGS, NULL},
    {"deactivate", jit_deactivate, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef jitmodule = {PyModuleDef_HEAD_INIT, "jit", NULL, -1, jit_methods};
