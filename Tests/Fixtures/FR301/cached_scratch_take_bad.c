/* An object caches a scratch buffer between calls: each call takes it into its own state
 * (`st->scratch = self->scratch_cache; self->scratch_cache = NULL;`) and puts it back at the
 * end, shrinking it with PyMem_Realloc. Without the GIL two threads can both load the cached
 * pointer before either clears it, and one shrinks (frees) the buffer the other is using. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *scratch_cache;
    Py_ssize_t cache_size;
} ScannerObject;

typedef struct {
    ScannerObject *owner;
    char *scratch;
    Py_ssize_t size;
} ScanState;

static int
state_begin(ScanState *st, ScannerObject *self)
{
    st->owner = self;
    if (self->scratch_cache) {
        st->scratch = self->scratch_cache;
        st->size = self->cache_size;
        self->scratch_cache = NULL;
    } else {
        st->scratch = PyMem_Malloc(256);
        st->size = 256;
    }
    return st->scratch == NULL ? -1 : 0;
}

static void
state_end(ScanState *st)
{
    ScannerObject *obj = st->owner;
    if (!obj->scratch_cache) {
        obj->scratch_cache = st->scratch;
        obj->cache_size = st->size;
        if (obj->cache_size > 4096) {
            char *smaller = PyMem_Realloc(obj->scratch_cache, 4096);   // expect: FR301 {{`state_end` frees `ScannerObject.scratch_cache`}}
            if (smaller != NULL) {
                obj->scratch_cache = smaller;
                obj->cache_size = 4096;
            }
        }
    } else {
        PyMem_Free(st->scratch);
    }
}

static PyObject *
scanner_scan(ScannerObject *self, PyObject *arg)
{
    ScanState st;
    if (state_begin(&st, self) < 0) {
        return PyErr_NoMemory();
    }
    memset(st.scratch, 0, (size_t)st.size);
    state_end(&st);
    Py_RETURN_NONE;
}

static PyMethodDef scanner_methods[] = {
    {"scan", (PyCFunction)scanner_scan, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Scanner_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "scan.Scanner",
    .tp_basicsize = sizeof(ScannerObject),
    .tp_methods = scanner_methods,
};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef scan_module = {PyModuleDef_HEAD_INIT, "scan", NULL, 0, NULL, slots};
PyMODINIT_FUNC PyInit_scan(void) { return PyModuleDef_Init(&scan_module); }
