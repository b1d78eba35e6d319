/* A new object's member is first set to a shared default (a static the module replaces under its
 * own rules), then overwritten with the caller's value. Overwriting the member writes the new
 * object, not the static its old value came from: no unlocked write of `default_codec` here. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *codec;
} Reader;

static PyTypeObject Reader_Type;
static PyObject *default_codec;

static PyObject *
reader_new_with(PyObject *module, PyObject *codec)
{
    Reader *r = PyObject_New(Reader, &Reader_Type);
    if (r == NULL) {
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(module);
    r->codec = default_codec;
    Py_XINCREF(r->codec);
    Py_END_CRITICAL_SECTION();
    if (codec != Py_None) {
        Py_XDECREF(r->codec);
        r->codec = Py_NewRef(codec);                // expect-none
    }
    return (PyObject *)r;
}

static PyObject *
set_default_codec(PyObject *module, PyObject *codec)
{
    PyObject *old;
    Py_BEGIN_CRITICAL_SECTION(module);
    old = default_codec;
    default_codec = Py_NewRef(codec);
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

static void
reader_dealloc(Reader *self)
{
    Py_XDECREF(self->codec);
    PyObject_Free(self);
}

static PyTypeObject Reader_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "codecs2.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

static PyMethodDef methods[] = {
    {"reader_new_with", reader_new_with, METH_O, NULL},
    {"set_default_codec", set_default_codec, METH_O, NULL},
    {NULL},
};
static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef codecs2_module = {
    PyModuleDef_HEAD_INIT, "codecs2", NULL, 0, methods, slots,
};
PyMODINIT_FUNC PyInit_codecs2(void) { return PyModuleDef_Init(&codecs2_module); }
