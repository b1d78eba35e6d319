/* freerace-options: --target free-threaded
 * expect-none
 * A cache dict that methods only ever add to with PyDict_SetDefault, and that only the
 * dealloc releases: an item, once in, stays for the object's life, so the borrowed references
 * of PyDict_GetItem and PyDict_SetDefault stay valid whatever other threads insert meanwhile.
 * The cache sits in a struct embedded in the object (it is the object's field all the same). */
#include <Python.h>

typedef struct { PyObject *types; int count; } builder_t;

typedef struct {
    PyObject_HEAD
    builder_t builder;
} CacheObject;

static PyObject *
cache_lookup(CacheObject *self, PyObject *key)
{
    PyObject *types = self->builder.types;
    PyObject *x = PyDict_GetItem(types, key);
    if (x == NULL) {
        PyObject *made = PyUnicode_FromFormat("<%S>", key);
        if (made == NULL)
            return NULL;
        x = PyDict_SetDefault(types, key, made);
        Py_DECREF(made);
        if (x == NULL)
            return NULL;
    }
    return Py_NewRef(x);
}

static void
cache_dealloc(CacheObject *self)
{
    Py_XDECREF(self->builder.types);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef cache_methods[] = {
    {"lookup", (PyCFunction)cache_lookup, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "c.Cache",
    .tp_basicsize = sizeof(CacheObject),
    .tp_dealloc = (destructor)cache_dealloc,
    .tp_methods = cache_methods,
};
