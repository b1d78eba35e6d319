/* NumPy audits every borrowed-reference call with a trailing marker (its
 * tools/ci/check_c_api_usage.py): `noqa: borrowed-ref OK` means the maintainers reviewed the
 * borrow as safe, and freerace stays quiet; `noqa: borrowed-ref - manual fix needed` marks a
 * known problem, which freerace still reports. So do our own `freerace: ignore[...]` comments. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *fields;   /* dict, replaced only by __setstate__ */
    PyObject *names;    /* list */
} DescrObject;

static PyObject *
field_reviewed(DescrObject *self, PyObject *key)
{
    PyObject *tup = PyDict_GetItem(self->fields, key);  // noqa: borrowed-ref OK      expect-none
    return Py_XNewRef(tup);
}

static PyObject *
name_needs_fix(DescrObject *self, PyObject *unused)
{
    PyObject *item = PyList_GET_ITEM(self->names, 0); // noqa: borrowed-ref - manual fix needed   expect: FR302 {{`item` is borrowed from shared `self->names`}}
    return Py_NewRef(item);
}

static PyObject *
field_own_suppression(DescrObject *self, PyObject *key)
{
    // freerace: ignore[FR302] fields is immutable once the type is ready
    PyObject *tup = PyDict_GetItem(self->fields, key);  // expect-none
    return Py_XNewRef(tup);
}

static PyObject *
descr_setstate(DescrObject *self, PyObject *state)
{
    Py_XSETREF(self->fields, Py_NewRef(state));    // expect: FR301 {{`descr_setstate` replaces `DescrObject.fields` and drops the old object}}
    Py_RETURN_NONE;
}

static PyObject *
descr_clear_names(DescrObject *self, PyObject *unused)
{
    if (PyList_SetSlice(self->names, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef descr_methods[] = {
    {"field", (PyCFunction)field_reviewed, METH_O, NULL},
    {"name", (PyCFunction)name_needs_fix, METH_NOARGS, NULL},
    {"field2", (PyCFunction)field_own_suppression, METH_O, NULL},
    {"__setstate__", (PyCFunction)descr_setstate, METH_O, NULL},
    {"clear_names", (PyCFunction)descr_clear_names, METH_NOARGS, NULL},
    {NULL}
};

static PyType_Slot descr_slots[] = {
    {Py_tp_methods, descr_methods},
    {0, NULL}
};

static PyType_Spec descr_spec = {"fixture.Descr", sizeof(DescrObject), 0, Py_TPFLAGS_DEFAULT, descr_slots};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef descrmodule = {PyModuleDef_HEAD_INIT, "descr", NULL, 0, NULL, module_slots};
