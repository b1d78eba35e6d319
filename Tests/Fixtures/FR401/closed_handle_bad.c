/* A library handle closed by one method while another uses it with the GIL released.
 * The handle's life ends at a library destructor — a call whose name says it closes, frees or
 * destroys — on the handle field or on the address of a handle embedded in the object, after
 * which the method marks the object closed in a flag of its own (the handle itself cannot be
 * set to NULL when it is embedded). Database drivers and compression streams have this shape:
 * `query()` checks the flag, releases the GIL and calls the library on the handle; `close()` on
 * another thread destroys the handle's internal buffers under it. */
#include <Python.h>

typedef struct lib_conn { int fd; char *scratch; } lib_conn;
typedef struct lib_db lib_db;

extern int lib_conn_query(lib_conn *c, const char *q);
extern void lib_conn_close(lib_conn *c);
extern void lib_conn_reset(lib_conn *c);
extern int lib_db_get(lib_db *db, const char *key, char *out);
extern void lib_db_destroy(lib_db *db);

/* an embedded handle, closed through its address; liveness kept in `open` */
typedef struct {
    PyObject_HEAD
    lib_conn conn;
    int open;
} SessionObject;

static PyObject *
session_query(SessionObject *self, PyObject *arg)
{
    const char *q = PyUnicode_AsUTF8(arg);
    int r;
    if (q == NULL) {
        return NULL;
    }
    if (!self->open) {
        PyErr_SetString(PyExc_ValueError, "closed");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    r = lib_conn_query(&self->conn, q);   // expect: FR401 {{`session_query` reads `SessionObject.conn` with the GIL released while `Session.close()` may free it}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(r);
}

static PyObject *
session_close(SessionObject *self, PyObject *unused)
{
    if (!self->open) {
        Py_RETURN_NONE;
    }
    Py_BEGIN_ALLOW_THREADS
    lib_conn_close(&self->conn);
    Py_END_ALLOW_THREADS
    self->open = 0;
    Py_RETURN_NONE;
}

/* resetting is not destroying: the handle stays valid */
static PyObject *
session_reset(SessionObject *self, PyObject *unused)
{
    lib_conn_reset(&self->conn);
    self->open = 1;
    Py_RETURN_NONE;
}

static PyMethodDef session_methods[] = {
    {"query", (PyCFunction)session_query, METH_O, NULL},
    {"close", (PyCFunction)session_close, METH_NOARGS, NULL},
    {"reset", (PyCFunction)session_reset, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "closedhandle.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_methods = session_methods,
};

/* a handle pointer destroyed, liveness kept in a `closed` flag (the pointer is left dangling) */
typedef struct {
    PyObject_HEAD
    lib_db *db;
    char closed;
} StoreObject;

static PyObject *
store_get(StoreObject *self, PyObject *arg)
{
    char out[64];
    const char *key = PyUnicode_AsUTF8(arg);
    int n;
    if (key == NULL || self->closed) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    n = lib_db_get(self->db, key, out);   // expect: FR401 {{`store_get` reads `StoreObject.db` with the GIL released while `Store.close()` may free it}}
    Py_END_ALLOW_THREADS
    return PyBytes_FromStringAndSize(out, n);
}

static PyObject *
store_close(StoreObject *self, PyObject *unused)
{
    lib_db_destroy(self->db);
    self->closed = 1;
    Py_RETURN_NONE;
}

static PyMethodDef store_methods[] = {
    {"get", (PyCFunction)store_get, METH_O, NULL},
    {"close", (PyCFunction)store_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "closedhandle.Store",
    .tp_basicsize = sizeof(StoreObject),
    .tp_methods = store_methods,
};
