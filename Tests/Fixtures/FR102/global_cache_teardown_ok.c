/* The global is set at module exec and freed in m_free (teardown): not a race. */
// expect-none
#include <Python.h>
#include <string.h>

static char *cache;

static int
cache_exec(PyObject *module)
{
    cache = strdup("initial");
    return cache ? 0 : -1;
}

static void
cache_free(void *module)
{
    free(cache);      /* module teardown: no Python code runs in this module any more */
    cache = NULL;
}

static PyObject *
cache_get(PyObject *module, PyObject *unused)
{
    if (cache == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_FromString(cache);
}

static PyMethodDef methods[] = {
    {"cache_get", cache_get, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, cache_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static PyModuleDef cachemodule = {PyModuleDef_HEAD_INIT, "cache", NULL, 0, methods, slots, NULL, NULL, cache_free};
