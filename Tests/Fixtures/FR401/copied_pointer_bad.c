/* A pointer copied from the object before the GIL is released and used inside the released
 * region: the copy does not keep the memory alive. Another thread's `append()` reallocates the
 * object's buffer meanwhile and the loop reads the freed block. (A pointer loaded and used
 * entirely with the GIL held, or a copy of the data, is fine.) */
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    unsigned char *data;
    Py_ssize_t size;
} LogObject;

static PyObject *
log_digest(LogObject *self, PyObject *unused)
{
    const unsigned char *p = self->data;
    Py_ssize_t n = self->size;
    unsigned long h = 5381;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        h = h * 33 + p[i];              // expect: FR401 {{`log_digest` reads `LogObject.data` with the GIL released while `Log.append()` may free it}}
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromUnsignedLong(h);
}

/* the GIL is held while the copy is used: no other thread runs Python code meanwhile */
static PyObject *
log_first(LogObject *self, PyObject *unused)
{
    const unsigned char *p = self->data;
    if (self->size == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(p[0]);
}

/* the data is copied before the release: the region reads only its own memory */
static PyObject *
log_digest_copy(LogObject *self, PyObject *unused)
{
    Py_ssize_t n = self->size;
    unsigned char *copy = PyMem_Malloc(n ? n : 1);
    unsigned long h = 5381;
    if (copy == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(copy, self->data, n);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        h = h * 33 + copy[i];
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(copy);
    return PyLong_FromUnsignedLong(h);
}

static PyObject *
log_append(LogObject *self, PyObject *arg)
{
    long b = PyLong_AsLong(arg);
    unsigned char *nd;
    if (b == -1 && PyErr_Occurred()) {
        return NULL;
    }
    nd = PyMem_Realloc(self->data, self->size + 1);
    if (nd == NULL) {
        return PyErr_NoMemory();
    }
    nd[self->size] = (unsigned char)b;
    self->data = nd;
    self->size += 1;
    Py_RETURN_NONE;
}

static PyMethodDef log_methods[] = {
    {"digest", (PyCFunction)log_digest, METH_NOARGS, NULL},
    {"first", (PyCFunction)log_first, METH_NOARGS, NULL},
    {"digest_copy", (PyCFunction)log_digest_copy, METH_NOARGS, NULL},
    {"append", (PyCFunction)log_append, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LogType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "copied.Log",
    .tp_basicsize = sizeof(LogObject),
    .tp_methods = log_methods,
};
