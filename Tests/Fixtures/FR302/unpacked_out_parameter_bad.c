/* A helper unpacks the argument tuple by hand and hands the caller's object back through an
 * out-parameter; another helper walks it with PyDict_Next and keeps the borrowed key and value
 * across calls that run Python code. Another thread holding the same dict can delete from it
 * meanwhile and free them. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *table;
} BagObject;

static Py_ssize_t
parse_source(PyObject *args, PyObject **psource)
{
    if (PyTuple_GET_SIZE(args) != 1) {
        *psource = NULL;
        return -1;
    }
    *psource = Py_NewRef(PyTuple_GET_ITEM(args, 0));
    return 0;
}

static int
absorb_dict(BagObject *self, PyObject *src)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(src, &pos, &key, &value)) {   // expect: FR302 {{iterates shared dict `src` with PyDict_Next outside a critical section}}
        PyObject *name = PyObject_Str(key);
        if (name == NULL || PyDict_SetItem(self->table, name, value) < 0) {
            Py_XDECREF(name);
            return -1;
        }
        Py_DECREF(name);
    }
    return 0;
}

static PyObject *
bag_absorb(BagObject *self, PyObject *args)
{
    PyObject *src = NULL;
    if (parse_source(args, &src) < 0) {
        return NULL;
    }
    if (PyDict_CheckExact(src) && absorb_dict(self, src) < 0) {
        Py_DECREF(src);
        return NULL;
    }
    Py_DECREF(src);
    Py_RETURN_NONE;
}

static PyMethodDef bag_methods[] = {
    {"absorb", (PyCFunction)bag_absorb, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Bag_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bag.Bag",
    .tp_basicsize = sizeof(BagObject),
    .tp_methods = bag_methods,
};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef bag_module = {PyModuleDef_HEAD_INIT, "bag", NULL, 0, NULL, slots};
PyMODINIT_FUNC PyInit_bag(void) { return PyModuleDef_Init(&bag_module); }
