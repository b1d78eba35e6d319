/* A GIL-free module that imports `json` on first use into a static, and resets it later. */
#include <Python.h>

static PyObject *json_module;

static PyObject *
dumps_bad(PyObject *module, PyObject *obj)
{
    if (json_module == NULL) {                              // expect-note: thread A {{checks `json_module` here}}
        json_module = PyImport_ImportModule("json");        // expect: FR303 {{`dumps_bad` lazily initializes static `json_module` without a lock}}
        if (json_module == NULL) {
            return NULL;
        }
    }
    return PyObject_CallMethod(json_module, "dumps", "O", obj);
}

static PyObject *
reset_bad(PyObject *module, PyObject *unused)
{
    Py_CLEAR(json_module);                                  // expect: FR303 {{`reset_bad` assigns static `json_module` without a lock}}
    Py_RETURN_NONE;
}

static PyObject *
cached_type(PyObject *module, PyObject *unused)
{
    static PyObject *ordered_dict = NULL;                   /* a function-level static is shared too */
    if (ordered_dict == NULL) {
        PyObject *collections = PyImport_ImportModule("collections");
        if (collections == NULL) {
            return NULL;
        }
        /* nothing ever releases it: two threads racing here at worst leak one reference (benign) */
        ordered_dict = PyObject_GetAttrString(collections, "OrderedDict");   // expect-none
        Py_DECREF(collections);
    }
    return Py_XNewRef(ordered_dict);
}

static PyMethodDef methods[] = {
    {"dumps", dumps_bad, METH_O, NULL},
    {"reset", reset_bad, METH_NOARGS, NULL},
    {"cached_type", cached_type, METH_NOARGS, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef lazymodule = {PyModuleDef_HEAD_INIT, "lazy", NULL, 0, methods, slots};
