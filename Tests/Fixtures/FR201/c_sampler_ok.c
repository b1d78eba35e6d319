/* Safe samplers: a walk under stop-the-world, and a copy-based reader that never dereferences
 * another thread's frame pointers directly. */
// expect-none
#include <Python.h>
#include <sys/uio.h>

static PyObject *
sample_stopped_ok(PyObject *module, PyObject *unused)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyEval_StopTheWorld(interp);
    PyObject *frames = _PyThread_CurrentFrames();
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    long depth = 0;
    while (frames && PyDict_Next(frames, &pos, &key, &value)) {
        PyFrameObject *f = (PyFrameObject *)value;
        while (f != NULL) {
            depth++;
            f = PyFrame_GetBack(f);
        }
    }
    _PyEval_StartTheWorld(interp);
    Py_XDECREF(frames);
    return PyLong_FromLong(depth);
}

static PyObject *
sample_copy_ok(PyObject *module, PyObject *addr_obj)
{
    /* the frame address comes from elsewhere and is read with process_vm_readv into a local copy */
    char buf[256];
    struct iovec local = {buf, sizeof buf};
    struct iovec remote = {PyLong_AsVoidPtr(addr_obj), sizeof buf};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"sample_stopped", sample_stopped_ok, METH_NOARGS, NULL},
    {"sample_copy", sample_copy_ok, METH_O, NULL},
    {NULL}
};

static PyModuleDef sampler = {PyModuleDef_HEAD_INIT, "sampler", NULL, -1, methods};
