/* The same state done safely: under a PyMutex, with atomics, or set once in the exec slot. */
// expect-none
#include <Python.h>
#include <stdatomic.h>

static PyObject *json_module;          /* set in the exec slot only */
static PyObject *pickle_module;        /* guarded by a PyMutex */
static PyMutex pickle_lock;
static PyObject *copy_module;          /* published with an atomic compare-exchange */
static _Atomic(PyObject *) decimal_module;   /* C11 atomic */

static PyObject *
dumps_ok(PyObject *module, PyObject *obj)
{
    return PyObject_CallMethod(json_module, "dumps", "O", obj);
}

static PyObject *
pickle_ok(PyObject *module, PyObject *obj)
{
    PyMutex_Lock(&pickle_lock);
    if (pickle_module == NULL) {
        pickle_module = PyImport_ImportModule("pickle");
    }
    PyObject *m = Py_XNewRef(pickle_module);
    PyMutex_Unlock(&pickle_lock);
    if (m == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_CallMethod(m, "dumps", "O", obj);
    Py_DECREF(m);
    return res;
}

static PyObject *
copy_ok(PyObject *module, PyObject *obj)
{
    PyObject *m = _Py_atomic_load_ptr(&copy_module);
    if (m == NULL) {
        PyObject *fresh = PyImport_ImportModule("copy");
        if (fresh == NULL) {
            return NULL;
        }
        PyObject *expected = NULL;
        if (!_Py_atomic_compare_exchange_ptr(&copy_module, &expected, fresh)) {
            Py_DECREF(fresh);
        }
        m = _Py_atomic_load_ptr(&copy_module);
    }
    return PyObject_CallMethod(m, "copy", "O", obj);
}

static PyObject *
decimal_ok(PyObject *module, PyObject *unused)
{
    PyObject *m = atomic_load(&decimal_module);
    if (m == NULL) {
        PyObject *fresh = PyImport_ImportModule("decimal");
        PyObject *expected = NULL;
        if (!atomic_compare_exchange_strong(&decimal_module, &expected, fresh)) {
            Py_XDECREF(fresh);
        }
        m = atomic_load(&decimal_module);
    }
    return Py_XNewRef(m);
}

static int
lazy_exec(PyObject *module)
{
    json_module = PyImport_ImportModule("json");
    return json_module == NULL ? -1 : 0;
}

static PyMethodDef methods[] = {
    {"dumps", dumps_ok, METH_O, NULL},
    {"pickle", pickle_ok, METH_O, NULL},
    {"copy", copy_ok, METH_O, NULL},
    {"decimal", decimal_ok, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, lazy_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef lazymodule = {PyModuleDef_HEAD_INIT, "lazy", NULL, 0, methods, slots};
