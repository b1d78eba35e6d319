/* A buffer object whose checksum() reads self->buf with the GIL released while resize() can
 * reallocate it: a race even with the GIL (no free-threading declaration here). */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
} BufObject;

static PyObject *
checksum_bad(BufObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    Py_ssize_t n = self->len;
    Py_BEGIN_ALLOW_THREADS                                  // expect-note: thread A {{releases the GIL here}}
    for (Py_ssize_t i = 0; i < n; i++) {
        sum += (unsigned char)self->buf[i];                 // expect: FR401 {{`checksum_bad` reads `BufObject.buf` with the GIL released while `Buf.resize()` may free it}}
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromUnsignedLong(sum);
}

static unsigned long
sum_bytes(BufObject *self)
{
    unsigned long s = 0;
    for (Py_ssize_t i = 0; i < self->len; i++) {
        s += (unsigned char)self->buf[i];                   // expect-note: thread A {{`Buf.checksum2()` → `sum_bytes` also uses `self->buf` with the GIL released}}
    }
    return s;
}

static PyObject *
checksum_helper_bad(BufObject *self, PyObject *unused)
{
    unsigned long sum;
    PyThreadState *ts = PyEval_SaveThread();
    sum = sum_bytes(self);
    PyEval_RestoreThread(ts);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
resize(BufObject *self, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n < 0) {
        return NULL;
    }
    char *fresh = PyMem_Realloc(self->buf, n);              // expect-note: thread B {{frees `BufObject.buf`}}
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    self->buf = fresh;
    self->len = n;
    Py_RETURN_NONE;
}

static PyMethodDef buf_methods[] = {
    {"checksum", (PyCFunction)checksum_bad, METH_NOARGS, NULL},
    {"checksum2", (PyCFunction)checksum_helper_bad, METH_NOARGS, NULL},
    {"resize", (PyCFunction)resize, METH_O, NULL},
    {NULL}
};

static PyTypeObject Buf_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fixture.Buf",
    .tp_basicsize = sizeof(BufObject),
    .tp_methods = buf_methods,
};
