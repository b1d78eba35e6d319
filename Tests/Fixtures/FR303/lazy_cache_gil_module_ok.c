/* The lazy cache in a module that keeps the GIL: the GIL serializes the check-and-set. */
// expect-none

static PyObject *json_module;

static PyObject *
dumps_bad(PyObject *module, PyObject *obj)
{
    if (json_module == NULL) {
        json_module = PyImport_ImportModule("json");
        if (json_module == NULL) {
            return NULL;
        }
    }
    return PyObject_CallMethod(json_module, "dumps", "O", obj);
}

static PyObject *
reset_bad(PyObject *module, PyObject *unused)
{
    Py_CLEAR(json_module);
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
        ordered_dict = PyObject_GetAttrString(collections, "OrderedDict");
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
    {0, NULL}
};

static PyModuleDef lazymodule = {PyModuleDef_HEAD_INIT, "lazy", NULL, 0, methods, slots};
