/* Each borrowed-reference API on a shared container (an object field, a global, a parameter)
 * in a module that declares free-threading support. */
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
    PyObject *item = PyList_GetItem(self->items, 0);   // expect: FR302 {{`item` is borrowed from shared `self->items` with PyList_GetItem}}  expect-note: thread A {{borrowed from `self->items`}}
    if (item == NULL) {
        return NULL;
    }
    return PyObject_Repr(item);                        // expect-note: thread A {{`item` is used here}}
}

static PyObject *
first_item_macro_bad(HolderObject *self, PyObject *unused)
{
    return Py_NewRef(PyList_GET_ITEM(self->items, 0));    // expect: FR302 {{PyList_GET_ITEM returns a reference borrowed from shared `self->items`}}
}

static PyObject *
lookup_bad(HolderObject *self, PyObject *key)
{
    PyObject *v = PyDict_GetItem(self->index, key);    // expect: FR302 {{with PyDict_GetItem}}
    return Py_XNewRef(v);
}

static PyObject *
lookup_err_bad(HolderObject *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(self->index, key);   // expect: FR302 {{PyDict_GetItemWithError}}
    return Py_XNewRef(v);
}

static PyObject *
lookup_str_bad(HolderObject *self, PyObject *unused)
{
    PyObject *v = PyDict_GetItemString(self->index, "name");  // expect: FR302 {{PyDict_GetItemString}}
    return Py_XNewRef(v);
}

static PyObject *
setdefault_bad(HolderObject *self, PyObject *key)
{
    PyObject *v = PyDict_SetDefault(self->index, key, Py_None);   // expect: FR302 {{PyDict_SetDefault}}
    return Py_XNewRef(v);
}

static PyObject *
iterate_bad(HolderObject *self, PyObject *unused)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    Py_ssize_t n = 0;
    while (PyDict_Next(self->index, &pos, &key, &value)) {   // expect: FR302 {{iterates shared dict `self->index` with PyDict_Next outside a critical section}}
        n += PyObject_IsTrue(value);
    }
    return PyLong_FromSsize_t(n);
}

static PyObject *
weak_bad(HolderObject *self, PyObject *unused)
{
    PyObject *obj = PyWeakref_GetObject(self->ref);    // expect: FR302 {{PyWeakref_GetObject}}
    return PyObject_Repr(obj);
}

static PyObject *
weak_macro_bad(HolderObject *self, PyObject *unused)
{
    return PyObject_Repr(PyWeakref_GET_OBJECT(self->ref));   // expect: FR302 {{PyWeakref_GET_OBJECT}}
}

static PyObject *
cell_bad(HolderObject *self, PyObject *unused)
{
    return PyObject_Repr(PyCell_GET(self->cell));   // expect: FR302 {{PyCell_GET}}
}

static PyObject *
addmodule_bad(PyObject *module, PyObject *unused)
{
    PyObject *m = PyImport_AddModule("__main__");   // expect: FR302 {{borrowed from shared `sys.modules` with PyImport_AddModule}}
    return PyObject_GetAttrString(m, "__dict__");
}

static PyObject *
registry_lookup_bad(PyObject *module, PyObject *name)
{
    PyObject *v = PyDict_GetItem(registry, name);   // expect: FR302 {{borrowed from shared `registry`}}
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
    PyObject *first = PyList_GetItem(list, 0);    // expect: FR302 {{borrowed from shared `list`}}
    return Py_XNewRef(first);
}

static PyObject *
holder_clear(HolderObject *self, PyObject *unused)
{
    if (PyList_SetSlice(self->items, 0, PyList_GET_SIZE(self->items), NULL) < 0) {
        return NULL;
    }
    PyDict_Clear(self->index);
    Py_CLEAR(self->ref);                   // expect: FR301 {{`holder_clear` replaces `HolderObject.ref` and drops the old object}}
    Py_CLEAR(self->cell);                  // expect: FR301 {{`holder_clear` replaces `HolderObject.cell`}}
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
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef holdermodule = {PyModuleDef_HEAD_INIT, "holder", NULL, 0, module_methods, module_slots};
