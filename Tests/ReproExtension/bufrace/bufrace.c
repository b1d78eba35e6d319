/* bufrace: our own tiny extension for the repro end-to-end test (not a rule fixture).
 *
 * Buffer.checksum() releases the GIL and scans self->buf while Buffer.resize() may reallocate
 * it on another thread: a use-after-free even with the GIL (FR401). Every byte of the buffer
 * holds `fill`; a scan that meets another byte read freed memory (the debug allocator fills
 * freed blocks with 0xDD), and checksum() reports that as corruption.
 *
 * SafeBuffer.checksum() copies the buffer before releasing the GIL: no race.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    unsigned char *buf;
    Py_ssize_t len;
    unsigned char fill;
} BufferObject;

static int
buffer_init(BufferObject *self, PyObject *args, PyObject *kwds)
{
    Py_ssize_t n = 1 << 16;
    if (!PyArg_ParseTuple(args, "|n", &n)) {
        return -1;
    }
    self->fill = 0x5A;
    self->buf = PyMem_Malloc(n);
    if (self->buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(self->buf, self->fill, n);
    self->len = n;
    return 0;
}

static void
buffer_dealloc(BufferObject *self)
{
    PyMem_Free(self->buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
buffer_resize(BufferObject *self, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n <= 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "size must be positive");
        }
        return NULL;
    }
    unsigned char *fresh = PyMem_Malloc(n);
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    memset(fresh, self->fill, n);
    unsigned char *old = self->buf;
    self->buf = fresh;
    self->len = n;
    PyMem_Free(old);
    Py_RETURN_NONE;
}

static PyObject *
buffer_checksum(BufferObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < self->len; i++) {
        unsigned char b = self->buf[i];
        if (b != self->fill) {
            bad = i;
            break;
        }
        sum += b;
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_RuntimeError, "corrupted buffer: byte %zd is not the fill value (read freed memory)", bad);
        return NULL;
    }
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
safebuffer_checksum(BufferObject *self, PyObject *unused)
{
    Py_ssize_t n = self->len;
    unsigned char fill = self->fill;
    unsigned char *copy = PyMem_Malloc(n);
    if (copy == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(copy, self->buf, n);      /* copied while holding the GIL */
    unsigned long sum = 0;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        if (copy[i] != fill) {
            bad = i;
            break;
        }
        sum += copy[i];
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(copy);
    if (bad >= 0) {
        PyErr_Format(PyExc_RuntimeError, "corrupted buffer: byte %zd is not the fill value", bad);
        return NULL;
    }
    return PyLong_FromUnsignedLong(sum);
}

static PyMethodDef buffer_methods[] = {
    {"resize", (PyCFunction)buffer_resize, METH_O, "Reallocate the buffer."},
    {"checksum", (PyCFunction)buffer_checksum, METH_NOARGS, "Sum the bytes with the GIL released."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef safebuffer_methods[] = {
    {"resize", (PyCFunction)buffer_resize, METH_O, "Reallocate the buffer."},
    {"checksum", (PyCFunction)safebuffer_checksum, METH_NOARGS, "Sum a private copy with the GIL released."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Buffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bufrace.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)buffer_init,
    .tp_dealloc = (destructor)buffer_dealloc,
    .tp_methods = buffer_methods,
};

static PyTypeObject SafeBuffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bufrace.SafeBuffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)buffer_init,
    .tp_dealloc = (destructor)buffer_dealloc,
    .tp_methods = safebuffer_methods,
};

static struct PyModuleDef bufrace_module = {
    PyModuleDef_HEAD_INIT, "bufrace", "FR401 end-to-end test extension.", -1, NULL,
};

PyMODINIT_FUNC
PyInit_bufrace(void)
{
    if (PyType_Ready(&Buffer_Type) < 0 || PyType_Ready(&SafeBuffer_Type) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&bufrace_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Buffer", (PyObject *)&Buffer_Type) < 0 ||
        PyModule_AddObjectRef(m, "SafeBuffer", (PyObject *)&SafeBuffer_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
