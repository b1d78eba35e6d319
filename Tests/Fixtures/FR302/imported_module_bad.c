/* The shapes of imported_module_ok.c where nothing but `sys.modules` holds the borrowed module:
 * the function imported another module (a name that only starts like the package, not the
 * package), or imported it without keeping the result, or imported it after the borrow. */
#include <Python.h>

static PyObject *getter;

static PyObject *
other_module(PyObject *module, PyObject *unused)
{
    PyObject *m = PyImport_ImportModule("pk");
    PyObject *sub = PyImport_AddModule("pkg.tasks");   // expect: FR302 {{borrowed from shared `sys.modules` with PyImport_AddModule}}
    getter = PyObject_GetAttrString(sub, "current_task");
    Py_XDECREF(m);
    Py_RETURN_NONE;
}

static PyObject *
import_discarded(PyObject *module, PyObject *unused)
{
    PyImport_ImportModule("json");
    PyObject *m = PyImport_AddModule("json");   // expect: FR302 {{borrowed from shared `sys.modules` with PyImport_AddModule}}
    return PyObject_GetAttrString(m, "dumps");
}

static PyObject *
import_after(PyObject *module, PyObject *unused)
{
    PyObject *m = PyImport_AddModule("json");   // expect: FR302 {{borrowed from shared `sys.modules` with PyImport_AddModule}}
    PyObject *r = PyObject_GetAttrString(m, "dumps");
    PyObject *held = PyImport_ImportModule("json");
    Py_XDECREF(held);
    return r;
}

static PyMethodDef module_methods[] = {
    {"other_module", other_module, METH_NOARGS, NULL},
    {"import_discarded", import_discarded, METH_NOARGS, NULL},
    {"import_after", import_after, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef importedmodule = {PyModuleDef_HEAD_INIT, "imported", NULL, 0, module_methods, module_slots};

PyMODINIT_FUNC PyInit_imported(void) { return PyModuleDef_Init(&importedmodule); }
