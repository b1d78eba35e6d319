/* Walks over the interpreter's thread-state list (yappi's and ddtrace's pre-3.11 shape). Reading
 * another thread's frame through its state is a use-after-free whatever the build; only following
 * the list itself (`ts->next`, thread ids) is safe while the GIL is held, because thread states are
 * unlinked by threads holding the GIL. This module keeps the GIL. */
#include <Python.h>

static PyObject *
deepest_frames(PyObject *module, PyObject *unused)
{
    long depth = 0;
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL; ts = PyThreadState_Next(ts)) { // expect: FR201 {{reads other threads' thread states and frames}}
        PyFrameObject *f = PyThreadState_GetFrame(ts);
        while (f != NULL) {
            depth++;
            f = f->f_back;                                           // expect-note: FR201 {{f->f_back}}
        }
    }
    return PyLong_FromLong(depth);
}

static PyObject *
thread_ids(PyObject *module, PyObject *unused)
{
    PyObject *ids = PyList_New(0);
    if (ids == NULL) {
        return NULL;
    }
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL; ts = ts->next) { // expect-none
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
    {"deepest_frames", deepest_frames, METH_NOARGS, NULL},
    {"thread_ids", thread_ids, METH_NOARGS, NULL},
    {NULL}
};

static struct PyModuleDef walkmodule = {PyModuleDef_HEAD_INIT, "walk", NULL, 0, methods};

PyMODINIT_FUNC
PyInit_walk(void)
{
    return PyModuleDef_Init(&walkmodule);
}
