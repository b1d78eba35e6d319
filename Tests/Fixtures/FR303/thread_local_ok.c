/* Thread-local statics are per-thread state, never shared: a lazily filled thread-local cache
 * needs no lock. Spelled with the keyword, with a macro this file defines (gmpy2's shape), and
 * with NumPy's NPY_TLS on function-local statics (numpy's temp_elide.c shape). */
// expect-none
#include <Python.h>

#if !defined(_MSC_VER)
#  define MY_TLS _Thread_local
#else
#  define MY_TLS __declspec(thread)
#endif

MY_TLS static PyObject *per_thread_cache;
static __thread PyObject *per_thread_last;

static PyObject *
get_cache(PyObject *module, PyObject *unused)
{
    if (per_thread_cache == NULL) {
        per_thread_cache = PyDict_New();
    }
    return Py_XNewRef(per_thread_cache);
}

static PyObject *
remember(PyObject *module, PyObject *obj)
{
    Py_XSETREF(per_thread_last, Py_NewRef(obj));
    Py_RETURN_NONE;
}

static int
caller_is_python(void *address)
{
    NPY_TLS static int init = 0;
    NPY_TLS static void *python_start;
    if (init == 0) {
        python_start = address;
        init = 1;
    }
    return address >= python_start;
}

static PyObject *
check(PyObject *module, PyObject *unused)
{
    return PyBool_FromLong(caller_is_python((void *)module));
}

static PyMethodDef methods[] = {
    {"get_cache", get_cache, METH_NOARGS, NULL},
    {"remember", remember, METH_O, NULL},
    {"check", check, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef tlsmodule = {PyModuleDef_HEAD_INIT, "tls", NULL, 0, methods, slots};
