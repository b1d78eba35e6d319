/* The fixed forms of closed_handle_bad.c: a per-object lock held across the GIL-released use
 * and around the destructor orders the two; a close that leaves the handle alive (a flush)
 * ends nothing (and takes the lock, as it must against close); a handle destroyed only by the deallocator has no concurrent reader. */
#include <Python.h>
#include <pythread.h>

typedef struct lib_conn { int fd; char *scratch; } lib_conn;

extern int lib_conn_query(lib_conn *c, const char *q);
extern void lib_conn_close(lib_conn *c);
extern void lib_conn_flush(lib_conn *c);

typedef struct {
    PyObject_HEAD
    lib_conn conn;
    PyThread_type_lock lock;
    int open;
    int dirty;
} SessionObject;

static PyObject *
session_query(SessionObject *self, PyObject *arg)
{
    const char *q = PyUnicode_AsUTF8(arg);
    int r = -1;
    if (q == NULL) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (self->open) {
        r = lib_conn_query(&self->conn, q);
    }
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(r);
}

static PyObject *
session_close(SessionObject *self, PyObject *unused)
{
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (self->open) {
        lib_conn_close(&self->conn);
        self->open = 0;
    }
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *
session_flush(SessionObject *self, PyObject *unused)
{
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (self->open) {
        lib_conn_flush(&self->conn);
        self->dirty = 0;
    }
    PyThread_release_lock(self->lock);
    Py_RETURN_NONE;
}

static void
session_dealloc(SessionObject *self)
{
    if (self->open) {
        lib_conn_close(&self->conn);
        self->open = 0;
    }
    PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef session_methods[] = {
    {"query", (PyCFunction)session_query, METH_O, NULL},
    {"close", (PyCFunction)session_close, METH_NOARGS, NULL},
    {"flush", (PyCFunction)session_flush, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "closedhandle.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_dealloc = (destructor)session_dealloc,
    .tp_methods = session_methods,
};
// expect-none
