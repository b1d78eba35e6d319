/* A project's own macros that release the GIL, destroy-and-clear a pointer, and open its object
 * struct: freerace expands them where they are used, so the regions and frees they hide are seen.
 * (An extension that wraps Py_BEGIN_ALLOW_THREADS around every library call in one macro.) */
#include <Python.h>

#define MyObject_HEAD \
    PyObject_HEAD     \
    int valid;

#define UNLOCKED(out, e)   \
    Py_BEGIN_ALLOW_THREADS \
    out = (e);             \
    Py_END_ALLOW_THREADS

#define CLEAR_HANDLE(h) do { store_close(h); h = NULL; } while (0)

typedef struct store store_t;
extern store_t *store_open(const char *path);
extern void store_close(store_t *s);
extern int store_count(store_t *s);

typedef struct {
    MyObject_HEAD
    store_t *handle;
} StoreObject;

static PyObject *
store_len(StoreObject *self, PyObject *unused)
{
    int n;
    UNLOCKED(n, store_count(self->handle));   // expect: FR401 {{`store_len` reads `StoreObject.handle` with the GIL released while `Store.close()` may free it}}
    return PyLong_FromLong(n);                // expect-note@-1: thread A {{`store_len` releases the GIL here (Py_BEGIN_ALLOW_THREADS)}}
}

static PyObject *
store_close_method(StoreObject *self, PyObject *unused)
{
    if (self->handle != NULL) {
        CLEAR_HANDLE(self->handle);           // expect-note: thread B {{`Store.close()` frees `StoreObject.handle` (store_close(self->handle), a library destructor}}
    }
    self->valid = 0;
    Py_RETURN_NONE;
}

/* Quiet: a macro that only logs is not expanded, and nothing here runs without the GIL. */
#define TRACE(msg) fprintf(stderr, "%s\n", msg)

typedef struct {
    MyObject_HEAD
    store_t *handle;
} SafeStoreObject;

static PyObject *
safe_len(SafeStoreObject *self, PyObject *unused)
{
    TRACE("len");
    return PyLong_FromLong(store_count(self->handle));   // expect-none
}

static PyObject *
safe_close(SafeStoreObject *self, PyObject *unused)
{
    CLEAR_HANDLE(self->handle);
    Py_RETURN_NONE;
}

static PyMethodDef store_methods[] = {
    {"__len__", (PyCFunction)store_len, METH_NOARGS, NULL},
    {"close", (PyCFunction)store_close_method, METH_NOARGS, NULL},
    {NULL},
};
static PyMethodDef safe_methods[] = {
    {"__len__", (PyCFunction)safe_len, METH_NOARGS, NULL},
    {"close", (PyCFunction)safe_close, METH_NOARGS, NULL},
    {NULL},
};
static PyTypeObject Store_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = "macros.Store",
    .tp_basicsize = sizeof(StoreObject), .tp_methods = store_methods};
static PyTypeObject SafeStore_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = "macros.SafeStore",
    .tp_basicsize = sizeof(SafeStoreObject), .tp_methods = safe_methods};
static struct PyModuleDef macros_module = {PyModuleDef_HEAD_INIT, "macros", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_macros(void) { return PyModule_Create(&macros_module); }
