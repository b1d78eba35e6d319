/* The pointer is swapped under the mutex but freed after unlocking: still correct, because no
 * reader can obtain `old` once the swap is done and readers copy under the lock. */
#include <Python.h>
#include <string.h>
#include <pthread.h>

static char *cache;
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;

static PyObject *
cache_set(PyObject *module, PyObject *value)
{
    const char *s = PyUnicode_AsUTF8(value);
    if (s == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&cache_mutex);
    char *old = cache;
    cache = strdup(s);
    pthread_mutex_unlock(&cache_mutex);
    free(old);    // todo-none: FR102 (the free happens after the unlock; freerace does not see that the old pointer is unreachable once swapped under the lock)
    Py_RETURN_NONE;
}

static PyObject *
cache_get(PyObject *module, PyObject *unused)
{
    pthread_mutex_lock(&cache_mutex);
    PyObject *res = cache ? PyUnicode_FromString(cache) : Py_NewRef(Py_None);
    pthread_mutex_unlock(&cache_mutex);
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
