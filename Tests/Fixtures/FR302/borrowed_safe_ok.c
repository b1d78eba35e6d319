/* Borrowing done right: local fresh containers, tuples, PyDict_Next under a critical section on
 * the dict, and the strong-reference replacements. */
// expect-none
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *items;
    PyObject *index;
    PyObject *ref;
} HolderObject;

static PyObject *
local_list_ok(PyObject *module, PyObject *unused)
{
    PyObject *list = PyList_New(1);
    if (list == NULL) {
        return NULL;
    }
    PyList_SET_ITEM(list, 0, PyLong_FromLong(1));
    PyObject *first = PyList_GetItem(list, 0);     /* nobody else can see `list` yet */
    PyObject *res = PyObject_Repr(first);
    Py_DECREF(list);
    return res;
}

static PyObject *
local_dict_ok(PyObject *module, PyObject *key)
{
    PyObject *d = PyDict_New();
    if (d == NULL || PyDict_SetItem(d, key, Py_None) < 0) {
        Py_XDECREF(d);
        return NULL;
    }
    PyObject *v = Py_XNewRef(PyDict_GetItem(d, key));
    Py_DECREF(d);
    return v;
}

static PyObject *
tuple_ok(PyObject *module, PyObject *args)
{
    return PyObject_Repr(PyTuple_GetItem(args, 0));   /* tuples are immutable */
}

static PyObject *
iterate_locked_ok(HolderObject *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0, n = 0;
    Py_BEGIN_CRITICAL_SECTION(self->index);
    while (PyDict_Next(self->index, &pos, &key, &value)) {
        n++;
    }
    Py_END_CRITICAL_SECTION();
    return PyLong_FromSsize_t(n);
}

static PyObject *
first_item_ref_ok(HolderObject *self, PyObject *unused)
{
    PyObject *item = PyList_GetItemRef(self->items, 0);
    if (item == NULL) {
        return NULL;
    }
    PyObject *res = PyObject_Repr(item);
    Py_DECREF(item);
    return res;
}

static PyObject *
lookup_ref_ok(HolderObject *self, PyObject *key)
{
    PyObject *v = NULL;
    if (PyDict_GetItemRef(self->index, key, &v) < 0) {
        return NULL;
    }
    return v ? v : Py_NewRef(Py_None);
}

static PyObject *
weak_ref_ok(HolderObject *self, PyObject *unused)
{
    PyObject *obj = NULL;
    if (PyWeakref_GetRef(self->ref, &obj) < 0) {
        return NULL;
    }
    PyObject *res = PyObject_Repr(obj);
    Py_XDECREF(obj);
    return res;
}

static PyObject *
holder_clear(HolderObject *self, PyObject *unused)
{
    PyDict_Clear(self->index);
    if (PyList_SetSlice(self->items, 0, PyList_GET_SIZE(self->items), NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef holder_methods[] = {
    {"iterate", (PyCFunction)iterate_locked_ok, METH_NOARGS, NULL},
    {"first_item", (PyCFunction)first_item_ref_ok, METH_NOARGS, NULL},
    {"lookup", (PyCFunction)lookup_ref_ok, METH_O, NULL},
    {"weak", (PyCFunction)weak_ref_ok, METH_NOARGS, NULL},
    {"clear", (PyCFunction)holder_clear, METH_NOARGS, NULL},
    {NULL}
};

static PyType_Slot holder_slots[] = {
    {Py_tp_methods, holder_methods},
    {0, NULL}
};

static PyType_Spec holder_spec = {"fixture.Holder", sizeof(HolderObject), 0, Py_TPFLAGS_DEFAULT, holder_slots};

static PyMethodDef module_methods[] = {
    {"local_list", local_list_ok, METH_NOARGS, NULL},
    {"local_dict", local_dict_ok, METH_O, NULL},
    {"tuple_first", tuple_ok, METH_VARARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef holdermodule = {PyModuleDef_HEAD_INIT, "holder", NULL, 0, module_methods, module_slots};
