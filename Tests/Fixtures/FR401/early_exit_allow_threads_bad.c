/* An error path inside Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS takes the GIL back with
 * Py_BLOCK_THREADS and returns: that re-acquire holds for its own block only. The code after
 * the block still runs without the GIL — here a result freed and replaced under a lock of the
 * connection that the cursor's readers never take (a database driver's execute path). */
#include <Python.h>
#include <pthread.h>

typedef struct lib_result lib_result;
extern int lib_begin(void *conn);
extern lib_result *lib_exec(void *conn, const char *q);
extern void lib_result_clear(lib_result *r);
extern long lib_result_rows(const lib_result *r);

#define CLEAR_RESULT(r) do { lib_result_clear(r); r = NULL; } while (0)

typedef struct {
    void *handle;
    pthread_mutex_t lock;
} Connection;

typedef struct {
    PyObject_HEAD
    Connection *conn;
    lib_result *res;
} CursorObject;

static int
cursor_run(CursorObject *self, const char *q)
{
    Py_BEGIN_ALLOW_THREADS;
    pthread_mutex_lock(&(self->conn->lock));
    if (lib_begin(self->conn->handle) < 0) {
        pthread_mutex_unlock(&(self->conn->lock));
        Py_BLOCK_THREADS;
        PyErr_SetString(PyExc_RuntimeError, "begin failed");
        return -1;
    }
    CLEAR_RESULT(self->res);            // expect: FR401 {{`cursor_run` frees `CursorObject.res` with the GIL released while `Cursor.rowcount()` may read it}}
    self->res = lib_exec(self->conn->handle, q);
    pthread_mutex_unlock(&(self->conn->lock));
    Py_END_ALLOW_THREADS;
    return 0;
}

static PyObject *
cursor_execute(CursorObject *self, PyObject *arg)
{
    const char *q = PyUnicode_AsUTF8(arg);
    if (q == NULL || cursor_run(self, q) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
cursor_rowcount(CursorObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->res == NULL ? -1 : lib_result_rows(self->res));
}

static PyMethodDef cursor_methods[] = {
    {"execute", (PyCFunction)cursor_execute, METH_O, NULL},
    {"rowcount", (PyCFunction)cursor_rowcount, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CursorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "earlyexit.Cursor",
    .tp_basicsize = sizeof(CursorObject),
    .tp_methods = cursor_methods,
};
