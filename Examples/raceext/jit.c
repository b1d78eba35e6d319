/* raceext.jit: a toy trampoline "JIT" in the shape of CPython's perf trampoline, and the symbol
 * prefix it writes into perf map files, each in a buggy and a fixed form.
 *
 * activate()/deactivate()        (buggy): the eval-frame hook runs every frame through a
 *     trampoline copied into an executable arena; deactivate() unmaps the arenas while other
 *     threads may still be running inside them (gh-143228). freerace reports FR101.
 * safe_activate()/safe_deactivate() (fixed): an arena counts the code objects whose trampoline
 *     lives in it and is unmapped when the last of them is destroyed (a code watcher).
 * set_prefix()/write_entry()     (buggy): write_entry() reads the global `prefix` with the GIL
 *     released while set_prefix() frees it. freerace reports FR102.
 * safe_set_prefix()/safe_write_entry() (fixed): both sides hold `safe_prefix_lock`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA_SIZE (1 << 16)
#define TRAMPOLINE_SIZE 64

typedef PyObject *(*trampoline_fn)(PyThreadState *, struct _PyInterpreterFrame *, int,
                                   _PyFrameEvalFunction);
extern const char trampoline_template[TRAMPOLINE_SIZE];     /* assembled in trampoline.S */

typedef struct arena {
    char *start;
    size_t used;
    struct arena *prev;
} arena_t;

typedef struct counted_arena {
    char *start;
    size_t used;
    Py_ssize_t users;       /* code objects with a trampoline here, +1 while it is the current one */
} counted_arena_t;

static arena_t *arenas;                     /* buggy: newest first, unmapped by deactivate() */
static counted_arena_t *current_arena;      /* fixed */
static Py_ssize_t tramp_index = -1, safe_tramp_index = -1, safe_arena_index = -1;  /* code extras */

/* ---- buggy: arenas unmapped by deactivate() ---- */

static trampoline_fn
next_trampoline(void)
{
    if (arenas == NULL || arenas->used == ARENA_SIZE) {
        char *mem = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            return NULL;
        }
        for (size_t off = 0; off < ARENA_SIZE; off += TRAMPOLINE_SIZE) {
            memcpy(mem + off, trampoline_template, TRAMPOLINE_SIZE);
        }
        arena_t *a = PyMem_RawCalloc(1, sizeof(arena_t));
        if (a == NULL || mprotect(mem, ARENA_SIZE, PROT_READ | PROT_EXEC) != 0) {
            munmap(mem, ARENA_SIZE);
            PyMem_RawFree(a);
            return NULL;
        }
        a->start = mem;
        a->prev = arenas;
        arenas = a;
    }
    trampoline_fn t = (trampoline_fn)(arenas->start + arenas->used);
    arenas->used += TRAMPOLINE_SIZE;
    return t;
}

static PyObject *
jit_eval_frame(PyThreadState *ts, struct _PyInterpreterFrame *frame, int throwflag)
{
    PyObject *code = PyUnstable_InterpreterFrame_GetCode(frame);
    trampoline_fn t = NULL;
    if (PyUnstable_Code_GetExtra(code, tramp_index, (void **)&t) == 0 && t == NULL) {
        t = next_trampoline();
        PyUnstable_Code_SetExtra(code, tramp_index, (void *)t);
    }
    Py_DECREF(code);
    return t ? t(ts, frame, throwflag, _PyEval_EvalFrameDefault)
             : _PyEval_EvalFrameDefault(ts, frame, throwflag);
}

static PyObject *
jit_activate(PyObject *module, PyObject *unused)
{
    tramp_index = PyUnstable_Eval_RequestCodeExtraIndex(NULL);    /* forget older trampolines */
    if (tramp_index < 0) {
        return NULL;
    }
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), jit_eval_frame);
    Py_RETURN_NONE;
}

static PyObject *
jit_deactivate(PyObject *module, PyObject *unused)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), _PyEval_EvalFrameDefault);
    while (arenas != NULL) {
        arena_t *prev = arenas->prev;
        munmap(arenas->start, ARENA_SIZE);     /* other threads may still be inside a trampoline */
        PyMem_RawFree(arenas);
        arenas = prev;
    }
    Py_RETURN_NONE;
}

/* ---- fixed: an arena lives as long as the code objects that use it ---- */

static void
arena_release(counted_arena_t *a)
{
    if (--a->users == 0) {
        munmap(a->start, ARENA_SIZE);      /* no frame can be running a trampoline in it */
        PyMem_RawFree(a);
    }
}

static int
safe_code_watcher(PyCodeEvent event, PyCodeObject *co)
{
    counted_arena_t *a = NULL;
    if (event == PY_CODE_EVENT_DESTROY
            && PyUnstable_Code_GetExtra((PyObject *)co, safe_arena_index, (void **)&a) == 0 && a != NULL) {
        arena_release(a);
    }
    return 0;
}

static trampoline_fn
safe_next_trampoline(PyObject *code)
{
    counted_arena_t *a = current_arena;
    if (a == NULL || a->used == ARENA_SIZE) {
        char *mem = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            return NULL;
        }
        for (size_t off = 0; off < ARENA_SIZE; off += TRAMPOLINE_SIZE) {
            memcpy(mem + off, trampoline_template, TRAMPOLINE_SIZE);
        }
        a = PyMem_RawCalloc(1, sizeof(counted_arena_t));
        if (a == NULL || mprotect(mem, ARENA_SIZE, PROT_READ | PROT_EXEC) != 0) {
            munmap(mem, ARENA_SIZE);
            PyMem_RawFree(a);
            return NULL;
        }
        a->start = mem;
        a->users = 1;                      /* the allocator's own reference */
        if (current_arena != NULL) {
            arena_release(current_arena);
        }
        current_arena = a;
    }
    trampoline_fn t = (trampoline_fn)(a->start + a->used);
    a->used += TRAMPOLINE_SIZE;
    a->users++;                            /* released by safe_code_watcher() */
    PyUnstable_Code_SetExtra(code, safe_arena_index, a);
    PyUnstable_Code_SetExtra(code, safe_tramp_index, (void *)t);
    return t;
}

static PyObject *
safe_eval_frame(PyThreadState *ts, struct _PyInterpreterFrame *frame, int throwflag)
{
    PyObject *code = PyUnstable_InterpreterFrame_GetCode(frame);
    trampoline_fn t = NULL;
    if (PyUnstable_Code_GetExtra(code, safe_tramp_index, (void **)&t) == 0 && t == NULL) {
        t = safe_next_trampoline(code);
    }
    Py_DECREF(code);
    return t ? t(ts, frame, throwflag, _PyEval_EvalFrameDefault)
             : _PyEval_EvalFrameDefault(ts, frame, throwflag);
}

static PyObject *
safe_activate(PyObject *module, PyObject *unused)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), safe_eval_frame);
    Py_RETURN_NONE;
}

static PyObject *
safe_deactivate(PyObject *module, PyObject *unused)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), _PyEval_EvalFrameDefault);
    counted_arena_t *a = current_arena;
    current_arena = NULL;
    if (a != NULL) {
        arena_release(a);                  /* unmapped once its code objects are gone as well */
    }
    Py_RETURN_NONE;
}

/* ---- the perf map symbol prefix ---- */

static char *prefix;                       /* buggy: no lock */
static char *safe_prefix;                  /* fixed: guarded by safe_prefix_lock */
static PyMutex safe_prefix_lock;

static int
append_perf_entry(const char *pfx, unsigned long long addr, Py_ssize_t size, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "%llx %zx %s:%s\n", addr, (size_t)size, pfx ? pfx : "py", name);
    return fclose(f);
}

static PyObject *
set_prefix(PyObject *module, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    char *fresh = s ? strdup(s) : NULL;
    if (fresh == NULL) {
        return s ? PyErr_NoMemory() : NULL;
    }
    char *old = prefix;
    prefix = fresh;
    free(old);                             /* write_entry() may be formatting `old` right now */
    Py_RETURN_NONE;
}

static PyObject *
write_entry(PyObject *module, PyObject *args)
{
    unsigned long long addr;
    Py_ssize_t size;
    const char *name;
    int rc;
    if (!PyArg_ParseTuple(args, "Kns", &addr, &size, &name)) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = append_perf_entry(prefix, addr, size, name);
    Py_END_ALLOW_THREADS
    return rc < 0 ? PyErr_SetFromErrno(PyExc_OSError) : Py_NewRef(Py_None);
}

static PyObject *
safe_set_prefix(PyObject *module, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    char *fresh = s ? strdup(s) : NULL;
    if (fresh == NULL) {
        return s ? PyErr_NoMemory() : NULL;
    }
    PyMutex_Lock(&safe_prefix_lock);
    char *old = safe_prefix;
    safe_prefix = fresh;
    free(old);
    PyMutex_Unlock(&safe_prefix_lock);
    Py_RETURN_NONE;
}

static PyObject *
safe_write_entry(PyObject *module, PyObject *args)
{
    unsigned long long addr;
    Py_ssize_t size;
    const char *name;
    int rc;
    if (!PyArg_ParseTuple(args, "Kns", &addr, &size, &name)) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    PyMutex_Lock(&safe_prefix_lock);
    rc = append_perf_entry(safe_prefix, addr, size, name);
    PyMutex_Unlock(&safe_prefix_lock);
    Py_END_ALLOW_THREADS
    return rc < 0 ? PyErr_SetFromErrno(PyExc_OSError) : Py_NewRef(Py_None);
}

static int
jit_exec(PyObject *module)
{
    safe_tramp_index = PyUnstable_Eval_RequestCodeExtraIndex(NULL);
    safe_arena_index = PyUnstable_Eval_RequestCodeExtraIndex(NULL);
    if (safe_tramp_index < 0 || safe_arena_index < 0) {
        return -1;
    }
    return PyCode_AddWatcher(safe_code_watcher) < 0 ? -1 : 0;
}

static PyMethodDef jit_methods[] = {
    {"activate", jit_activate, METH_NOARGS, NULL},
    {"deactivate", jit_deactivate, METH_NOARGS, NULL},
    {"safe_activate", safe_activate, METH_NOARGS, NULL},
    {"safe_deactivate", safe_deactivate, METH_NOARGS, NULL},
    {"set_prefix", set_prefix, METH_O, NULL},
    {"write_entry", write_entry, METH_VARARGS, NULL},
    {"safe_set_prefix", safe_set_prefix, METH_O, NULL},
    {"safe_write_entry", safe_write_entry, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* This module keeps the GIL: the trampolines run with it held, yet a thread inside one keeps its
 * return address in the arena while the GIL passes to others (FR101 does not need free threading),
 * and write_entry() releases it around the file I/O (FR102). */
static PyModuleDef_Slot jit_slots[] = {
    {Py_mod_exec, jit_exec},
    {Py_mod_gil, Py_MOD_GIL_USED},
    {0, NULL},
};

static struct PyModuleDef jit_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "raceext.jit",
    .m_size = 0,
    .m_methods = jit_methods,
    .m_slots = jit_slots,
};

PyMODINIT_FUNC
PyInit_jit(void)
{
    return PyModuleDef_Init(&jit_module);
}
