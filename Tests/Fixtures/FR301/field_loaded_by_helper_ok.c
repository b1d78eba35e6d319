/* A field replaced under the object's critical section and read only through a helper that is
 * given the field's address (`PyObject **`): the helper loads the field and takes its strong
 * reference inside the same critical section, so a reader can never hold the old object after
 * the replacement released it. The load is where the helper dereferences the pointer, under the
 * helper's own lock, not where the caller writes `&self->value`. */
// expect-none
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *value;
    PyObject *fallback;
} SlotObject;

static PyObject *
load_ref(PyObject *owner, PyObject **place)
{
    PyObject *v;
    Py_BEGIN_CRITICAL_SECTION(owner);
    v = *place;
    Py_XINCREF(v);
    Py_END_CRITICAL_SECTION();
    return v;
}

static PyObject *
slot_value(SlotObject *self)
{
    return load_ref((PyObject *)self, &self->value);
}

static PyObject *
slot_get(SlotObject *self, PyObject *unused)
{
    PyObject *v = slot_value(self);
    if (v == NULL) {
        Py_RETURN_NONE;
    }
    return v;
}

static PyObject *
slot_describe(SlotObject *self, PyObject *unused)
{
    PyObject *v = load_ref((PyObject *)self, &self->fallback);
    if (v == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *r = PyObject_Repr(v);
    Py_DECREF(v);
    return r;
}

/* A helper given the address of the caller's own variable reads that variable, not the field:
 * here a strong reference the caller took under the critical section. */
static PyObject *
repr_of(PyObject **place)
{
    PyObject *v = *place;
    if (v == NULL) {
        return PyUnicode_FromString("<empty>");
    }
    return PyObject_Repr(v);
}

static PyObject *
slot_repr(SlotObject *self, PyObject *unused)
{
    PyObject *v;
    Py_BEGIN_CRITICAL_SECTION(self);
    v = Py_XNewRef(self->value);
    Py_END_CRITICAL_SECTION();
    PyObject *r = repr_of(&v);
    Py_XDECREF(v);
    return r;
}

static PyObject *
slot_set(SlotObject *self, PyObject *value)
{
    Py_INCREF(value);
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->value, value);
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static PyObject *
slot_set_fallback(SlotObject *self, PyObject *value)
{
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->fallback, Py_NewRef(value));
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static PyMethodDef slot_methods[] = {
    {"get", (PyCFunction)slot_get, METH_NOARGS, NULL},
    {"describe", (PyCFunction)slot_describe, METH_NOARGS, NULL},
    {"repr", (PyCFunction)slot_repr, METH_NOARGS, NULL},
    {"set", (PyCFunction)slot_set, METH_O, NULL},
    {"set_fallback", (PyCFunction)slot_set_fallback, METH_O, NULL},
    {NULL},
};

static PyType_Slot slot_slots[] = {{Py_tp_methods, slot_methods}, {0, NULL}};
static PyType_Spec slot_spec = {"slots.Slot", sizeof(SlotObject), 0, Py_TPFLAGS_DEFAULT, slot_slots};

static PyModuleDef_Slot slots_module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef slots_module = {PyModuleDef_HEAD_INIT, "slots", NULL, 0, NULL, slots_module_slots};

PyMODINIT_FUNC
PyInit_slots(void)
{
    return PyModuleDef_Init(&slots_module);
}
