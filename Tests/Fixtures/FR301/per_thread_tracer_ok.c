/* A tracer object installed as the calling thread's trace function (PyEval_SetTrace, not the
 * AllThreads form): its callback and its methods run on the thread that owns it, one tracer
 * per thread, so growing its stack buffer cannot race with a read of it on another thread.
 * (coverage.py's CTracer is built this way.) */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    int *stack;
    Py_ssize_t depth;
    Py_ssize_t capacity;
} TracerObject;

static int
push(TracerObject *self, int line)
{
    if (self->depth == self->capacity) {
        int *bigger = PyMem_Realloc(self->stack, 2 * (self->capacity + 1) * sizeof(int));   // expect-none
        if (bigger == NULL) {
            return -1;
        }
        self->stack = bigger;
        self->capacity = 2 * (self->capacity + 1);
    }
    self->stack[self->depth++] = line;
    return 0;
}

static int
tracer_trace(TracerObject *self, PyFrameObject *frame, int what, PyObject *arg)
{
    if (what == PyTrace_CALL) {
        return push(self, PyFrame_GetLineNumber(frame));
    }
    if (what == PyTrace_RETURN && self->depth > 0) {
        self->depth--;
    }
    return 0;
}

static PyObject *
tracer_start(TracerObject *self, PyObject *unused)
{
    PyEval_SetTrace((Py_tracefunc)tracer_trace, (PyObject *)self);
    Py_RETURN_NONE;
}

static PyObject *
tracer_top(TracerObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->depth > 0 ? self->stack[self->depth - 1] : -1);
}

static PyMethodDef tracer_methods[] = {
    {"start", (PyCFunction)tracer_start, METH_NOARGS, NULL},
    {"top", (PyCFunction)tracer_top, METH_NOARGS, NULL},
    {NULL},
};

static PyTypeObject Tracer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pertrace.Tracer",
    .tp_basicsize = sizeof(TracerObject),
    .tp_methods = tracer_methods,
};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef pertrace_module = {PyModuleDef_HEAD_INIT, "pertrace", NULL, 0, NULL, slots};
PyMODINIT_FUNC PyInit_pertrace(void) { return PyModuleDef_Init(&pertrace_module); }
