/* expect-none
 * PyImport_AddModule after the same function imported the module, or the package that imports
 * it, and kept the result: the import returned a strong reference to the module (or to the
 * package, which binds the submodule as an attribute), so the borrowed module does not live by
 * its `sys.modules` entry alone and another thread removing that entry does not free it. */
#include <Python.h>

static PyObject *pkg_module;
static PyObject *getter;

static PyObject *
enable(PyObject *module, PyObject *unused)
{
    if (pkg_module == NULL) {
        pkg_module = PyImport_ImportModule("pkg");
        if (pkg_module == NULL) {
            return NULL;
        }
        PyObject *sub = PyImport_AddModule("pkg.tasks");
        getter = PyObject_GetAttrString(sub, "current_task");
    }
    Py_RETURN_NONE;
}

static PyObject *
same_module(PyObject *module, PyObject *unused)
{
    PyObject *m = PyImport_ImportModule("json");
    if (m == NULL) {
        return NULL;
    }
    PyObject *again = PyImport_AddModule("json");
    PyObject *r = PyObject_GetAttrString(again, "dumps");
    Py_DECREF(m);
    return r;
}

static PyMethodDef module_methods[] = {
    {"enable", enable, METH_NOARGS, NULL},
    {"same_module", same_module, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef importedmodule = {PyModuleDef_HEAD_INIT, "imported", NULL, 0, module_methods, module_slots};

PyMODINIT_FUNC PyInit_imported(void) { return PyModuleDef_Init(&importedmodule); }
