/* A cache used only on builds with the GIL, as msgspec does for timezones: on a free-threaded
 * build the `#else` branch runs and there is no shared state. The module declares
 * Py_MOD_GIL_NOT_USED, so freerace reads the file as a free-threaded build compiles it. */
#include <Python.h>

#define CACHE_SIZE 64

typedef struct {
    int key;
    PyObject *value;
} CacheItem;

static CacheItem cache[CACHE_SIZE];

static PyObject *
make_value(int key)
{
    return PyLong_FromLong(key * 60);
}

static PyObject *
cached_value(PyObject *module, PyObject *arg)
{
    int key = (int)PyLong_AsLong(arg);
#ifndef Py_GIL_DISABLED
    unsigned int index = (unsigned int)key % CACHE_SIZE;
    if (cache[index].key == key && cache[index].value != NULL) {
        return Py_NewRef(cache[index].value);
    }
    PyObject *v = make_value(key);
    if (v == NULL) {
        return NULL;
    }
    Py_XDECREF(cache[index].value);
    cache[index].key = key;
    cache[index].value = Py_NewRef(v);     // expect-none
    return v;
#else
    return make_value(key);
#endif
}

static PyMethodDef methods[] = {
    {"cached_value", cached_value, METH_O, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static PyModuleDef cachemodule = {PyModuleDef_HEAD_INIT, "cache", NULL, 0, methods, slots};

PyMODINIT_FUNC
PyInit_cache(void)
{
    return PyModuleDef_Init(&cachemodule);
}
