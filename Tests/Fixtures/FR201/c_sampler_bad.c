/* A C sampling profiler that walks every thread's frames from _PyThread_CurrentFrames(). */
#include <Python.h>

static int
count_depth(PyFrameObject *frame)
{
    int depth = 0;
    while (frame != NULL) {
        depth++;
        frame = PyFrame_GetBack(frame);         // expect-note: thread A {{calls PyFrame_GetBack(frame)}}
    }
    return depth;
}

static PyObject *
sample_bad(PyObject *module, PyObject *unused)
{
    PyObject *frames = _PyThread_CurrentFrames();      // expect: FR201 {{`sample_bad` dereferences other threads' frames from _PyThread_CurrentFrames()}}
    if (frames == NULL) {
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long total = 0;
    while (PyDict_Next(frames, &pos, &key, &value)) {
        total += count_depth((PyFrameObject *)value);
    }
    Py_DECREF(frames);
    return PyLong_FromLong(total);
}

static PyObject *
sample_own_ok(PyObject *module, PyObject *unused)
{
    PyFrameObject *frame = PyEval_GetFrame();   /* the current thread's own stack */
    return PyLong_FromLong(count_depth(frame));
}

static PyObject *
thread_count_ok(PyObject *module, PyObject *unused)
{
    PyObject *frames = _PyThread_CurrentFrames();   /* only the number of threads is used */
    if (frames == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyDict_Size(frames);
    Py_DECREF(frames);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"sample", sample_bad, METH_NOARGS, NULL},
    {"sample_own", sample_own_ok, METH_NOARGS, NULL},
    {"thread_count", thread_count_ok, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef sampler = {PyModuleDef_HEAD_INIT, "sampler", NULL, -1, methods};
