/* The thread-id walk of thread_state_walk.c in a module that declares Py_MOD_GIL_NOT_USED: with
 * no GIL to order thread exit against the walk, even following `ts->next` can read a freed state. */
#include <Python.h>

static PyObject *
thread_ids(PyObject *module, PyObject *unused)
{
    PyObject *ids = PyList_New(0);
    if (ids == NULL) {
        return NULL;
    }
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL; ts = ts->next) { // expect: FR201 {{follows other threads' states}}
        PyObject *id = PyLong_FromUnsignedLong(ts->thread_id);
        if (id == NULL || PyList_Append(ids, id) < 0) {
            Py_XDECREF(id);
            Py_DECREF(ids);
            return NULL;
        }
        Py_DECREF(id);
    }
    return ids;
}

static PyMethodDef methods[] = {
    {"thread_ids", thread_ids, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static struct PyModuleDef walkmodule = {PyModuleDef_HEAD_INIT, "walk", NULL, 0, methods, slots};

PyMODINIT_FUNC
PyInit_walk(void)
{
    return PyModuleDef_Init(&walkmodule);
}
