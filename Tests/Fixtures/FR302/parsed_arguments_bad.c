/* Objects unpacked from the argument tuple are the caller's, as shared as a METH_O argument:
 * another thread holding the same list can clear it while this one uses a borrowed item.
 * PySequence_Fast returns a list itself, so its item accessors borrow from that list. */
#include <Python.h>

static int
borrow_items(PyObject *ops, PyObject ***items)
{
    if (!PyList_Check(ops) && !PyTuple_Check(ops)) {
        return -1;
    }
    *items = PySequence_Fast_ITEMS(ops);   // expect: FR302 {{PySequence_Fast_ITEMS returns a reference borrowed from shared `ops`}}
    return (int)PySequence_Fast_GET_SIZE(ops);
}

static PyObject *
total(PyObject *module, PyObject *args)
{
    PyObject *ops, **items;
    if (!PyArg_ParseTuple(args, "O", &ops)) {
        return NULL;
    }
    int n = borrow_items(ops, &items);
    if (n < 0) {
        return PyErr_Format(PyExc_TypeError, "list or tuple expected");
    }
    PyObject *acc = PyLong_FromLong(0);
    for (int i = 0; i < n && acc != NULL; i++) {
        Py_SETREF(acc, PyNumber_Add(acc, items[i]));
    }
    return acc;
}

static PyObject *
first_repr(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"seq", NULL};
    PyObject *seq;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O", kwlist, &seq)) {
        return NULL;
    }
    PyObject *x = PyList_GetItem(seq, 0);   // expect: FR302 {{`x` is borrowed from shared `seq` with PyList_GetItem}}
    return x == NULL ? NULL : PyObject_Repr(x);
}

/* Quiet: a strong reference, and a list built here. */
static PyObject *
first_repr_ok(PyObject *module, PyObject *args)
{
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "O", &seq)) {
        return NULL;
    }
    PyObject *x = PyList_GetItemRef(seq, 0);   // expect-none
    if (x == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_Repr(x);
    Py_DECREF(x);
    return r;
}

static PyMethodDef methods[] = {
    {"total", total, METH_VARARGS, NULL},
    {"first_repr", (PyCFunction)(void (*)(void))first_repr, METH_VARARGS | METH_KEYWORDS, NULL},
    {"first_repr_ok", first_repr_ok, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef parsed_module = {PyModuleDef_HEAD_INIT, "parsed", NULL, 0, methods, slots};
PyMODINIT_FUNC PyInit_parsed(void) { return PyModuleDef_Init(&parsed_module); }
