// expect-none
// The same recorder walking only the current thread's own stack: nothing of another thread is
// read, so nothing is reported for the member functions.
#include <Python.h>
#include <vector>

class StackRecorder {
public:
    static void recordOwn();

private:
    static std::vector<PyFrameObject *> toStack(PyFrameObject *frame);
    static std::vector<PyFrameObject *> s_frames;
};

std::vector<PyFrameObject *> StackRecorder::s_frames;

std::vector<PyFrameObject *>
StackRecorder::toStack(PyFrameObject *frame)
{
    std::vector<PyFrameObject *> out;
    while (frame != NULL) {
        out.push_back(frame);
        frame = PyFrame_GetBack(frame);
    }
    return out;
}

void
StackRecorder::recordOwn()
{
    s_frames = toStack(PyEval_GetFrame());
}

static PyObject *
start(PyObject *module, PyObject *unused)
{
    StackRecorder::recordOwn();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"start", start, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef recordermodule = {PyModuleDef_HEAD_INIT, "recorder", NULL, 0, methods};

PyMODINIT_FUNC
PyInit_recorder(void)
{
    return PyModule_Create(&recordermodule);
}
