/* Working with the GIL released safely: a private copy, a pinned Py_buffer, or a lock that the
 * resizing method takes too. */
// expect-none
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
    PyMutex lock;
} BufObject;

static PyObject *
checksum_copy_ok(BufObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    Py_ssize_t n = self->len;
    char *copy = PyMem_Malloc(n);
    if (copy == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(copy, self->buf, n);           /* copied while holding the GIL */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        sum += (unsigned char)copy[i];
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(copy);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
checksum_pinned_ok(PyObject *module, PyObject *obj)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    unsigned long sum = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < view.len; i++) {
        sum += ((unsigned char *)view.buf)[i];
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
checksum_locked_ok(BufObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    PyMutex_Lock(&self->lock);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < self->len; i++) {
        sum += (unsigned char)self->buf[i];
    }
    Py_END_ALLOW_THREADS
    PyMutex_Unlock(&self->lock);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
resize_locked(BufObject *self, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    PyMutex_Lock(&self->lock);
    char *fresh = PyMem_Realloc(self->buf, n);
    if (fresh != NULL) {
        self->buf = fresh;
        self->len = n;
    }
    PyMutex_Unlock(&self->lock);
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

/* The GIL is released in one branch only: the other branch, which reads the buffer, runs with
 * the GIL held (the shape of NumPy's `if (!needs_api) NPY_BEGIN_THREADS;`). */
static PyObject *
first_byte_ok(BufObject *self, PyObject *unused)
{
    PyThreadState *save = NULL;
    int first = 0;
    if (self->len == 0) {
        save = PyEval_SaveThread();
    }
    else {
        first = (unsigned char)self->buf[0];   // expect-none
    }
    if (save != NULL) {
        PyEval_RestoreThread(save);
    }
    return PyLong_FromLong(first);
}

static PyMethodDef buf_methods[] = {
    {"first_byte", (PyCFunction)first_byte_ok, METH_NOARGS, NULL},
    {"checksum_copy", (PyCFunction)checksum_copy_ok, METH_NOARGS, NULL},
    {"checksum_locked", (PyCFunction)checksum_locked_ok, METH_NOARGS, NULL},
    {"resize", (PyCFunction)resize_locked, METH_O, NULL},
    {NULL}
};

static PyMethodDef module_methods[] = {
    {"checksum_pinned", checksum_pinned_ok, METH_O, NULL},
    {NULL}
};

static PyTypeObject Buf_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fixture.Buf",
    .tp_basicsize = sizeof(BufObject),
    .tp_methods = buf_methods,
};
