/* raceext.buffer: a growable byte buffer with a checksum computed without the GIL, in a buggy and
 * a fixed form. The module keeps the GIL: releasing it is what lets resize() run meanwhile.
 *
 * Buffer      (buggy): checksum() reads self->buf inside Py_BEGIN_ALLOW_THREADS while resize() on
 *                      another thread reallocates it. freerace reports FR401.
 * SafeBuffer  (fixed): checksum() copies the bytes into a private block while it still holds the
 *                      GIL and only sums the copy without it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
} BufferObject;

static uint32_t
adler32(const unsigned char *p, Py_ssize_t n)
{
    uint32_t a = 1, b = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

static PyObject *
buffer_resize(BufferObject *self, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n < 0) {
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_ValueError, "negative size");
    }
    char *fresh = PyMem_Realloc(self->buf, n ? n : 1);
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    if (n > self->len) {
        memset(fresh + self->len, 0, n - self->len);
    }
    self->buf = fresh;
    self->len = n;
    Py_RETURN_NONE;
}

/* Buffer.checksum(): the buggy form */
static PyObject *
buffer_checksum(BufferObject *self, PyObject *unused)
{
    uint32_t sum;
    Py_BEGIN_ALLOW_THREADS
    sum = adler32((const unsigned char *)self->buf, self->len);    /* resize() may free buf */
    Py_END_ALLOW_THREADS
    return PyLong_FromUnsignedLong(sum);
}

/* SafeBuffer.checksum(): the fixed form */
static PyObject *
safebuffer_checksum(BufferObject *self, PyObject *unused)
{
    Py_ssize_t n = self->len;
    unsigned char *copy = PyMem_Malloc(n ? n : 1);
    if (copy == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(copy, self->buf, n);         /* still holding the GIL */
    uint32_t sum;
    Py_BEGIN_ALLOW_THREADS
    sum = adler32(copy, n);
    Py_END_ALLOW_THREADS
    PyMem_Free(copy);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
buffer_getvalue(BufferObject *self, PyObject *unused)
{
    return PyBytes_FromStringAndSize(self->buf, self->len);
}

static void
buffer_dealloc(BufferObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyMem_Free(self->buf);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef buffer_methods[] = {
    {"resize", (PyCFunction)buffer_resize, METH_O, NULL},
    {"checksum", (PyCFunction)buffer_checksum, METH_NOARGS, NULL},
    {"getvalue", (PyCFunction)buffer_getvalue, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef safebuffer_methods[] = {
    {"resize", (PyCFunction)buffer_resize, METH_O, NULL},
    {"checksum", (PyCFunction)safebuffer_checksum, METH_NOARGS, NULL},
    {"getvalue", (PyCFunction)buffer_getvalue, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot buffer_slots[] = {
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, buffer_dealloc},
    {Py_tp_methods, buffer_methods},
    {0, NULL},
};

static PyType_Slot safebuffer_slots[] = {
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, buffer_dealloc},
    {Py_tp_methods, safebuffer_methods},
    {0, NULL},
};

static PyType_Spec buffer_spec = {
    .name = "raceext.buffer.Buffer",
    .basicsize = sizeof(BufferObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = buffer_slots,
};

static PyType_Spec safebuffer_spec = {
    .name = "raceext.buffer.SafeBuffer",
    .basicsize = sizeof(BufferObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = safebuffer_slots,
};

static int
buffer_exec(PyObject *m)
{
    PyType_Spec *specs[] = {&buffer_spec, &safebuffer_spec};
    for (size_t i = 0; i < 2; i++) {
        PyObject *t = PyType_FromModuleAndSpec(m, specs[i], NULL);
        if (t == NULL || PyModule_AddType(m, (PyTypeObject *)t) < 0) {
            Py_XDECREF(t);
            return -1;
        }
        Py_DECREF(t);
    }
    return 0;
}

static PyModuleDef_Slot buffer_module_slots[] = {
    {Py_mod_exec, buffer_exec},
    {0, NULL},
};

static struct PyModuleDef buffer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "raceext.buffer",
    .m_size = 0,
    .m_slots = buffer_module_slots,
};

PyMODINIT_FUNC
PyInit_buffer(void)
{
    return PyModuleDef_Init(&buffer_module);
}
