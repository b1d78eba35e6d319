/* The global cache with one PyMutex held by the reader and by the replace-and-free. */
// expect-none
#include <Python.h>
#include <string.h>

static char *cache;
static PyMutex cache_lock;

static PyObject *
cache_set(PyObject *module, PyObject *value)
{
    const char *s = PyUnicode_AsUTF8(value);
    if (s == NULL) {
        return NULL;
    }
    PyMutex_Lock(&cache_lock);
    char *old = cache;
    cache = strdup(s);
    free(old);
    PyMutex_Unlock(&cache_lock);
    Py_RETURN_NONE;
}

static PyObject *
cache_get(PyObject *module, PyObject *unused)
{
    PyObject *res;
    PyMutex_Lock(&cache_lock);
    if (cache == NULL) {
        res = Py_NewRef(Py_None);
    }
    else {
        res = PyUnicode_FromString(cache);
    }
    PyMutex_Unlock(&cache_lock);
    return res;
}

static PyMethodDef methods[] = {
    {"cache_set", cache_set, METH_O, NULL},
    {"cache_get", cache_get, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static PyModuleDef cachemodule = {PyModuleDef_HEAD_INIT, "cache", NULL, 0, methods, slots};
