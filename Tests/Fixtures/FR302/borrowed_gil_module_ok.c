/* The borrowing code in a module that keeps the GIL: FR302 stays quiet. */
// expect-none
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *items;   /* list */
    PyObject *index;   /* dict */
    PyObject *ref;     /* weakref */
    PyObject *cell;
} HolderObject;

static PyObject *registry;   /* dict shared by all threads */

static PyObject *
first_item_bad(HolderObject *self, PyObject *unused)
{
    PyObject *item = PyList_GetItem(self->items, 0);
    if (item == NULL) {
        return NULL;
    }
    return PyObject_Repr(item);
}

static PyObject *
first_item_macro_bad(HolderObject *self, PyObject *unused)
{
    return Py_NewRef(PyList_GET_ITEM(self->items, 0));
}

static PyObject *
lookup_bad(HolderObject *self, PyObject *key)
{
    PyObject *v = PyDict_GetItem(self->index, key);
    return Py_XNewRef(v);
}

static PyObject *
lookup_err_bad(HolderObject *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(self->index, key);
    return Py_XNewRef(v);
}

static PyObject *
lookup_str_bad(HolderObject *self, PyObject *unused)
{
    PyObject *v = PyDict_GetItemString(self->index, "name");
    return Py_XNewRef(v);
}

static PyObject *
setdefault_bad(HolderObject *self, PyObject *key)
{
    PyObject *v = PyDict_SetDefault(self->index, key, Py_None);
    return Py_XNewRef(v);
}

static PyObject *
iterate_bad(HolderObject *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    Py_ssize_t n = 0;
    while (PyDict_Next(self->index, &pos, &key, &value)) {
        n += PyObject_IsTrue(value);
    }
    return PyLong_FromSsize_t(n);
}

static PyObject *
weak_bad(HolderObject *self, PyObject *unused)
{
    PyObject *obj = PyWeakref_GetObject(self->ref);
    return PyObject_Repr(obj);
}

static PyObject *
weak_macro_bad(HolderObject *self, PyObject *unused)
{
    return PyObject_Repr(PyWeakref_GET_OBJECT(self->ref));
}

static PyObject *
cell_bad(HolderObject *self, PyObject *unused)
{
    return PyObject_Repr(PyCell_GET(self->cell));
}

static PyObject *
addmodule_bad(PyObject *module, PyObject *unused)
{
    PyObject *m = PyImport_AddModule("__main__");
    return PyObject_GetAttrString(m, "__dict__");
}

static PyObject *
registry_lookup_bad(PyObject *module, PyObject *name)
{
    PyObject *v = PyDict_GetItem(registry, name);
    return Py_XNewRef(v);
}

static PyObject *
registry_add(PyObject *module, PyObject *args)
{
    PyObject *name, *value;
    if (!PyArg_ParseTuple(args, "OO", &name, &value)) {
        return NULL;
    }
    if (PyDict_SetItem(registry, name, value) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
param_first_bad(PyObject *module, PyObject *list)
{
    PyObject *first = PyList_GetItem(list, 0);
    return Py_XNewRef(first);
}

static PyObject *
holder_clear(HolderObject *self, PyObject *unused)
{
    if (PyList_SetSlice(self->items, 0, PyList_GET_SIZE(self->items), NULL) < 0) {
        return NULL;
    }
    PyDict_Clear(self->index);
    Py_CLEAR(self->ref);
    Py_CLEAR(self->cell);
    Py_RETURN_NONE;
}

static PyMethodDef holder_methods[] = {
    {"first_item", (PyCFunction)first_item_bad, METH_NOARGS, NULL},
    {"first_item_macro", (PyCFunction)first_item_macro_bad, METH_NOARGS, NULL},
    {"lookup", (PyCFunction)lookup_bad, METH_O, NULL},
    {"lookup_err", (PyCFunction)lookup_err_bad, METH_O, NULL},
    {"lookup_str", (PyCFunction)lookup_str_bad, METH_NOARGS, NULL},
    {"setdefault", (PyCFunction)setdefault_bad, METH_O, NULL},
    {"iterate", (PyCFunction)iterate_bad, METH_NOARGS, NULL},
    {"weak", (PyCFunction)weak_bad, METH_NOARGS, NULL},
    {"weak_macro", (PyCFunction)weak_macro_bad, METH_NOARGS, NULL},
    {"cell", (PyCFunction)cell_bad, METH_NOARGS, NULL},
    {"clear", (PyCFunction)holder_clear, METH_NOARGS, NULL},
    {NULL}
};

static PyType_Slot holder_slots[] = {
    {Py_tp_methods, holder_methods},
    {0, NULL}
};

static PyType_Spec holder_spec = {"fixture.Holder", sizeof(HolderObject), 0, Py_TPFLAGS_DEFAULT, holder_slots};

static PyMethodDef module_methods[] = {
    {"add_main", addmodule_bad, METH_NOARGS, NULL},
    {"registry_lookup", registry_lookup_bad, METH_O, NULL},
    {"registry_add", registry_add, METH_VARARGS, NULL},
    {"param_first", param_first_bad, METH_O, NULL},
    {NULL}
};

static PyModuleDef_Slot module_slots[] = {
    {0, NULL}
};

static PyModuleDef holdermodule = {PyModuleDef_HEAD_INIT, "holder", NULL, 0, module_methods, module_slots};
