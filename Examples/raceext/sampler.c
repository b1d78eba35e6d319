/* raceext.sampler: stack samples as lists of function names, in a buggy and a fixed form.
 * The module declares Py_MOD_GIL_NOT_USED: the sampled threads really run during the walk.
 *
 * sample_all_threads()  (buggy): takes every thread's current frame from _PyThread_CurrentFrames()
 *                       and walks it with PyFrame_GetBack while the owning threads keep running:
 *                       when a sampled function returns, its frame is popped and reused under
 *                       the walk. freerace reports FR201.
 * sample_this_thread()  (fixed): walks only the calling thread's own stack (PyEval_GetFrame()),
 *                       which cannot change while we walk it.
 * thread_count()        (fine):  uses _PyThread_CurrentFrames() only for its size.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MAX_DEPTH 128

/* The function names of `frame` and its callers, innermost first. Steals a reference to `frame`. */
static PyObject *
stack_names(PyFrameObject *frame)
{
    PyObject *names = PyList_New(0);
    for (int depth = 0; names != NULL && frame != NULL && depth < MAX_DEPTH; depth++) {
        PyCodeObject *code = PyFrame_GetCode(frame);
        PyObject *name = PyObject_GetAttrString((PyObject *)code, "co_qualname");
        Py_DECREF(code);
        if (name == NULL || PyList_Append(names, name) < 0) {
            Py_XDECREF(name);
            Py_CLEAR(names);
            break;
        }
        Py_DECREF(name);
        PyFrameObject *back = PyFrame_GetBack(frame);
        Py_DECREF(frame);
        frame = back;
    }
    Py_XDECREF(frame);
    return names;
}

static PyObject *
sample_all_threads(PyObject *module, PyObject *unused)
{
    PyObject *frames = _PyThread_CurrentFrames();      /* {thread id: topmost frame} */
    if (frames == NULL) {
        return NULL;
    }
    PyObject *samples = PyDict_New();
    PyObject *tid, *frame;
    Py_ssize_t pos = 0;
    while (samples != NULL && PyDict_Next(frames, &pos, &tid, &frame)) {
        PyObject *stack = stack_names((PyFrameObject *)Py_NewRef(frame));
        if (stack == NULL || PyDict_SetItem(samples, tid, stack) < 0) {
            Py_CLEAR(samples);
        }
        Py_XDECREF(stack);
    }
    Py_DECREF(frames);
    return samples;
}

static PyObject *
sample_this_thread(PyObject *module, PyObject *unused)
{
    PyFrameObject *frame = PyEval_GetFrame();          /* borrowed: the caller's own frame */
    return stack_names((PyFrameObject *)Py_XNewRef(frame));
}

static PyObject *
thread_count(PyObject *module, PyObject *unused)
{
    PyObject *frames = _PyThread_CurrentFrames();
    if (frames == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyDict_Size(frames);
    Py_DECREF(frames);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef sampler_methods[] = {
    {"sample_all_threads", sample_all_threads, METH_NOARGS, NULL},
    {"sample_this_thread", sample_this_thread, METH_NOARGS, NULL},
    {"thread_count", thread_count, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot sampler_module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef sampler_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "raceext.sampler",
    .m_size = 0,
    .m_methods = sampler_methods,
    .m_slots = sampler_module_slots,
};

PyMODINIT_FUNC
PyInit_sampler(void)
{
    return PyModuleDef_Init(&sampler_module);
}
