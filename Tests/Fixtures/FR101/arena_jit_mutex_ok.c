/* The arena JIT with one mutex held around the call into the arena and around the unmap. */
// expect-none
#include <Python.h>
#include <sys/mman.h>

typedef PyObject *(*tramp_fn)(PyThreadState *, struct _PyInterpreterFrame *, int, void *);

typedef struct arena {
    char *base;
    char *next;
    size_t size;
    struct arena *prev;
} arena_t;

static arena_t *arenas;
static PyMutex arena_lock;

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
    PyObject *res;
    PyMutex_Lock(&arena_lock);
    tramp_fn f = compile_tramp();
    if (f == NULL) {
        res = _PyEval_EvalFrameDefault(ts, frame, exc);
    }
    else {
        res = f(ts, frame, exc, _PyEval_EvalFrameDefault);
    }
    PyMutex_Unlock(&arena_lock);
    return res;
}

static void
free_arenas(void)
{
    arena_t *cur = arenas;
    arenas = NULL;
    while (cur) {
        arena_t *prev = cur->prev;
        munmap(cur->base, cur->size);
        PyMem_RawFree(cur);
        cur = prev;
    }
}

static PyObject *
jit_activate(PyObject *module, PyObject *unused)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), jit_evaluator);
    Py_RETURN_NONE;
}

static PyObject *
jit_deactivate(PyObject *module, PyObject *unused)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), NULL);
    PyMutex_Lock(&arena_lock);
    free_arenas();
    PyMutex_Unlock(&arena_lock);
    Py_RETURN_NONE;
}

static PyMethodDef jit_methods[] = {
    {"activate", jit_activate, METH_NOARGS, NULL},
    {"deactivate", jit_deactivate, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef jitmodule = {PyModuleDef_HEAD_INIT, "jit", NULL, -1, jit_methods};
