// A C++ profiler whose stack capture is a static member function defined out of line: it walks
// every thread state and follows their frames through a member helper. Reports name the member
// as `Class::method`.
#include <Python.h>
#include <vector>

class StackRecorder {
public:
    static void recordAll();
    static PyObject *take();

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
        frame = PyFrame_GetBack(frame);     // expect-note: thread A {{calls PyFrame_GetBack(frame)}}
    }
    return out;
}

void
StackRecorder::recordAll()
{
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL; ts = PyThreadState_Next(ts)) {   // expect: FR201 {{`StackRecorder::recordAll` reads other threads' thread states and frames}}
        PyFrameObject *frame = PyThreadState_GetFrame(ts);
        s_frames = toStack(frame);
    }
}

PyObject *
StackRecorder::take()
{
    recordAll();
    return PyLong_FromSize_t(s_frames.size());
}

static PyObject *
start(PyObject *module, PyObject *unused)
{
    return StackRecorder::take();
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
