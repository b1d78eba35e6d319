/* Readers touch only a field written once at creation and freed in dealloc (the last
 * reference): nothing frees it while other threads can reach the object. */
// expect-none
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *label;        /* immutable after tp_new */
    Py_ssize_t hits;
} TagObject;

static PyObject *
tag_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    const char *label;
    if (!PyArg_ParseTuple(args, "s", &label)) {
        return NULL;
    }
    TagObject *self = (TagObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->label = PyMem_Malloc(strlen(label) + 1);
    strcpy(self->label, label);
    return (PyObject *)self;
}

static PyObject *
tag_label(TagObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyUnicode_FromString(self->label);
}

static PyObject *
tag_repr(TagObject *self)
{
    return PyUnicode_FromFormat("<Tag %s>", self->label);
}

static void
tag_dealloc(TagObject *self)
{
    PyMem_Free(self->label);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef tag_methods[] = {
    {"label", (PyCFunction)tag_label, METH_NOARGS, NULL},
    {NULL}
};

static PyType_Slot tag_slots[] = {
    {Py_tp_new, tag_new},
    {Py_tp_repr, tag_repr},
    {Py_tp_dealloc, tag_dealloc},
    {Py_tp_methods, tag_methods},
    {0, 0}
};

static PyType_Spec tag_spec = {
    .name = "fixture.Tag",
    .basicsize = sizeof(TagObject),
    .slots = tag_slots,
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef tagmodule = {PyModuleDef_HEAD_INIT, .m_name = "tag", .m_slots = slots};
