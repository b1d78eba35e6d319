/* A global cache buffer replaced and freed by one Python-callable function while another reads
 * it, in a module that declares free-threading support. */
#include <Python.h>
#include <string.h>

static char *cache;

static PyObject *
cache_set(PyObject *module, PyObject *value)
{
    const char *s = PyUnicode_AsUTF8(value);
    if (s == NULL) {
        return NULL;
    }
    char *old = cache;
    cache = strdup(s);
    free(old);                        // expect: FR102 {{`cache_set` frees `cache` while `cache_get()` may still read it}}  expect-note: thread B {{frees `cache` with free(old)}}
    Py_RETURN_NONE;
}

static PyObject *
cache_get(PyObject *module, PyObject *unused)
{
    if (cache == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_FromString(cache);   // expect-note: thread A {{`cache_get()` uses `cache`}}
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
