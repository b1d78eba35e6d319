/* The shape of state_guard_ok.c without a guard that separates the two sides: close() tests a
 * flag run() never raises (`closed`), and shutdown() tests for a state run() has left again
 * before it releases the GIL. Either can destroy the handle while run() uses it. */
#include <Python.h>

typedef struct lib_conn lib_conn;
extern int lib_conn_query(lib_conn *c, const char *q);
extern void lib_conn_close(lib_conn *c);

enum { STATE_IDLE, STATE_RUNNING };

typedef struct {
    PyObject_HEAD
    lib_conn *conn;
    int running;
    int closed;
} RunnerObject;

static PyObject *
runner_run(RunnerObject *self, PyObject *unused)
{
    int r;
    self->running = 1;
    Py_BEGIN_ALLOW_THREADS
    r = lib_conn_query(self->conn, "q");   // expect: FR401 {{`runner_run` reads `RunnerObject.conn` with the GIL released while `Runner.close()` may free it}}
    Py_END_ALLOW_THREADS
    self->running = 0;
    return PyLong_FromLong(r);
}

static PyObject *
runner_close(RunnerObject *self, PyObject *unused)
{
    if (self->closed) {
        Py_RETURN_NONE;
    }
    lib_conn_close(self->conn);
    self->conn = NULL;
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyMethodDef runner_methods[] = {
    {"run", (PyCFunction)runner_run, METH_NOARGS, NULL},
    {"close", (PyCFunction)runner_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RunnerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "stateguard.Runner",
    .tp_basicsize = sizeof(RunnerObject),
    .tp_methods = runner_methods,
};

typedef struct {
    PyObject_HEAD
    lib_conn *conn;
    int state;
} ShifterObject;

static PyObject *
shifter_run(ShifterObject *self, PyObject *unused)
{
    int r;
    self->state = STATE_RUNNING;
    self->state = STATE_IDLE;
    Py_BEGIN_ALLOW_THREADS
    r = lib_conn_query(self->conn, "q");   // expect: FR401 {{`shifter_run` reads `ShifterObject.conn` with the GIL released while `Shifter.shutdown()` may free it}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(r);
}

static PyObject *
shifter_shutdown(ShifterObject *self, PyObject *unused)
{
    if (self->state == STATE_RUNNING)
        return NULL;
    lib_conn_close(self->conn);
    self->conn = NULL;
    Py_RETURN_NONE;
}

static PyMethodDef shifter_methods[] = {
    {"run", (PyCFunction)shifter_run, METH_NOARGS, NULL},
    {"shutdown", (PyCFunction)shifter_shutdown, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ShifterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "stateguard.Shifter",
    .tp_basicsize = sizeof(ShifterObject),
    .tp_methods = shifter_methods,
};
