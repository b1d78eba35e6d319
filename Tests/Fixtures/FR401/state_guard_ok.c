/* expect-none
 * A state guard in C: run() raises `self->running` while it holds the GIL, uses the handle with
 * the GIL released, and lowers the flag after; close() refuses a running object (it tests the
 * flag and returns before it destroys the handle). Both the test and the store run holding the
 * GIL, so close() either sees the flag raised or ran before run() raised it. A state compared
 * with a named constant guards the same way. */
#include <Python.h>

typedef struct lib_conn lib_conn;
extern int lib_conn_query(lib_conn *c, const char *q);
extern void lib_conn_close(lib_conn *c);

enum { STATE_IDLE, STATE_RUNNING };

typedef struct {
    PyObject_HEAD
    lib_conn *conn;
    int running;
    int state;
} RunnerObject;

static PyObject *
runner_run(RunnerObject *self, PyObject *unused)
{
    int r;
    if (self->running) {
        PyErr_SetString(PyExc_RuntimeError, "already running");
        return NULL;
    }
    self->running = 1;
    self->state = STATE_RUNNING;
    Py_BEGIN_ALLOW_THREADS
    r = lib_conn_query(self->conn, "q");
    Py_END_ALLOW_THREADS
    self->running = 0;
    self->state = STATE_IDLE;
    return PyLong_FromLong(r);
}

static PyObject *
runner_close(RunnerObject *self, PyObject *unused)
{
    if (self->running != 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot close a running object");
        return NULL;
    }
    lib_conn_close(self->conn);
    self->conn = NULL;
    Py_RETURN_NONE;
}

static PyObject *
runner_shutdown(RunnerObject *self, PyObject *unused)
{
    if (self->state == STATE_RUNNING)
        return NULL;
    lib_conn_close(self->conn);
    self->conn = NULL;
    Py_RETURN_NONE;
}

static PyMethodDef runner_methods[] = {
    {"run", (PyCFunction)runner_run, METH_NOARGS, NULL},
    {"close", (PyCFunction)runner_close, METH_NOARGS, NULL},
    {"shutdown", (PyCFunction)runner_shutdown, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RunnerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "stateguard.Runner",
    .tp_basicsize = sizeof(RunnerObject),
    .tp_methods = runner_methods,
};
