/* A per-object lock taken through the project's own helper functions, and through statement
 * macros built on them: `conn_lock(self)` is `PyThread_acquire_lock(self->lock, …)` with an error
 * path, `conn_unlock(self)` its release, and `BEGIN_OP(c, on_closed)` a statement macro around
 * the helper. Every use of the handle and its destruction hold that lock: nothing to report.
 * Objects made by an allocation macro (`NEW_SESSION()`) are not shared while they are set up. */
#include <Python.h>
#include <pythread.h>

typedef struct lib_conn { int fd; char *scratch; } lib_conn;

extern int lib_conn_open(lib_conn *c, const char *dsn);
extern int lib_conn_query(lib_conn *c, const char *q);
extern void lib_conn_close(lib_conn *c);

typedef struct {
    PyObject_HEAD
    lib_conn conn;
    PyThread_type_lock lock;
    int open;
} SessionObject;

static PyTypeObject SessionType;

#define NEW_SESSION() (SessionObject *)SessionType.tp_alloc(&SessionType, 0)

static int
conn_lock(SessionObject *self)
{
    if (PyThread_acquire_lock(self->lock, NOWAIT_LOCK) != PY_LOCK_ACQUIRED) {
        PyErr_SetString(PyExc_RuntimeError, "session in use by another thread");
        return -1;
    }
    return 0;
}

static void
conn_unlock(SessionObject *self)
{
    PyThread_release_lock(self->lock);
}

#define END_OP(c) conn_unlock(c)
#define BEGIN_OP(c, on_closed) \
    do { \
        if (conn_lock(c) < 0) return NULL; \
        if (!(c)->open) { \
            END_OP(c); \
            on_closed; \
        } \
    } while (0)

static PyObject *
session_query(SessionObject *self, PyObject *arg)
{
    const char *q = PyUnicode_AsUTF8(arg);
    int r;
    if (q == NULL) {
        return NULL;
    }
    BEGIN_OP(self, return PyErr_Format(PyExc_ValueError, "closed"));
    Py_BEGIN_ALLOW_THREADS
    r = lib_conn_query(&self->conn, q);
    Py_END_ALLOW_THREADS
    END_OP(self);
    return PyLong_FromLong(r);
}

static PyObject *
session_ping(SessionObject *self, PyObject *unused)
{
    int r;
    if (conn_lock(self) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    r = self->open ? lib_conn_query(&self->conn, "select 1") : -1;
    Py_END_ALLOW_THREADS
    conn_unlock(self);
    return PyBool_FromLong(r == 0);
}

static PyObject *
session_close(SessionObject *self, PyObject *unused)
{
    BEGIN_OP(self, Py_RETURN_NONE);
    Py_BEGIN_ALLOW_THREADS
    lib_conn_close(&self->conn);
    Py_END_ALLOW_THREADS
    self->open = 0;
    END_OP(self);
    Py_RETURN_NONE;
}

/* a module function that makes a session: the object is its own until it is returned */
static PyObject *
module_connect(PyObject *module, PyObject *arg)
{
    const char *dsn = PyUnicode_AsUTF8(arg);
    SessionObject *s;
    if (dsn == NULL) {
        return NULL;
    }
    s = NEW_SESSION();
    if (s == NULL) {
        return NULL;
    }
    s->lock = PyThread_allocate_lock();
    Py_BEGIN_ALLOW_THREADS
    s->open = lib_conn_open(&s->conn, dsn) == 0;
    Py_END_ALLOW_THREADS
    return (PyObject *)s;
}

static PyMethodDef session_methods[] = {
    {"query", (PyCFunction)session_query, METH_O, NULL},
    {"ping", (PyCFunction)session_ping, METH_NOARGS, NULL},
    {"close", (PyCFunction)session_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "lockwrappers.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_methods = session_methods,
};

static PyMethodDef module_methods[] = {
    {"connect", (PyCFunction)module_connect, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef lockwrappers_module = {
    PyModuleDef_HEAD_INIT, .m_name = "lockwrappers", .m_methods = module_methods, .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit_lockwrappers(void)
{
    return PyModuleDef_Init(&lockwrappers_module);
}
// expect-none
