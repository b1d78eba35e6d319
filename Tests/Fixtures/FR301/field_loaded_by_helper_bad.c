/* The same helper shape without the lock: the helper given the field's address (`PyObject **`)
 * loads and increfs it with no critical section, so a reader can load the old object just before
 * a setter on another thread drops its last reference. The use is reported where the helper
 * dereferences the pointer. A helper that only stores through the address (an out-parameter)
 * does not read the field. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *target;
    PyObject *label;
} HandleObject;

static PyObject *
take_ref(PyObject **place)
{
    PyObject *v = *place;                // expect-note: thread A {{`Handle.get()` uses `*place` in `take_ref`, no critical section or lock held}}
    Py_XINCREF(v);
    return v;
}

static PyObject *
handle_get(HandleObject *self, PyObject *unused)
{
    PyObject *v = take_ref(&self->target);
    if (v == NULL) {
        Py_RETURN_NONE;
    }
    return v;
}

static PyObject *
handle_set(HandleObject *self, PyObject *value)
{
    Py_BEGIN_CRITICAL_SECTION(self);
    Py_XSETREF(self->target, Py_NewRef(value));   // expect: FR301 {{`handle_set` replaces `HandleObject.target` and drops the old object}}
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

static void
put_ref(PyObject **place, PyObject *value)
{
    *place = value;
}

static PyObject *
handle_relabel(HandleObject *self, PyObject *value)
{
    PyObject *old;
    Py_BEGIN_CRITICAL_SECTION(self);
    old = self->label;
    put_ref(&self->label, Py_NewRef(value));
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);                     // expect-none
    Py_RETURN_NONE;
}

static PyMethodDef handle_methods[] = {
    {"get", (PyCFunction)handle_get, METH_NOARGS, NULL},
    {"set", (PyCFunction)handle_set, METH_O, NULL},
    {"relabel", (PyCFunction)handle_relabel, METH_O, NULL},
    {NULL},
};

static PyType_Slot handle_slots[] = {{Py_tp_methods, handle_methods}, {0, NULL}};
static PyType_Spec handle_spec = {"handles.Handle", sizeof(HandleObject), 0, Py_TPFLAGS_DEFAULT, handle_slots};

static PyModuleDef_Slot handles_module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef handles_module = {PyModuleDef_HEAD_INIT, "handles", NULL, 0, NULL, handles_module_slots};

PyMODINIT_FUNC
PyInit_handles(void)
{
    return PyModuleDef_Init(&handles_module);
}
