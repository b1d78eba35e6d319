/* raceext.registry: named objects kept in registration order, in a buggy and a fixed form.
 * The module declares Py_MOD_GIL_NOT_USED, so its methods run in parallel on free-threaded builds.
 *
 * Registry      (buggy): latest() and lookup() hold references borrowed with PyList_GetItem and
 *                        PyDict_GetItem while clear() on another thread can drop the last
 *                        reference to the item. freerace reports FR302.
 *               to_json() imports json on first use into the static `json_module` with no lock,
 *                        and reset_json() drops it: a thread can be calling dumps on the module
 *                        while another releases it. freerace reports FR303.
 * SafeRegistry  (fixed): the same object with PyList_GetItemRef / PyDict_GetItemRef, and
 *                        to_json() uses `json_dumps`, set once in the module's exec slot.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *items;    /* list: registered objects, oldest first */
    PyObject *names;    /* dict: name -> object */
} RegistryObject;

static PyObject *json_module;   /* buggy: imported lazily by Registry.to_json() */
static PyObject *json_dumps;    /* fixed: json.dumps, set in registry_exec() before any call */

static PyObject *
registry_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    RegistryObject *self = (RegistryObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->items = PyList_New(0);
    self->names = PyDict_New();
    if (self->items == NULL || self->names == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
registry_clear(RegistryObject *self, PyObject *unused)
{
    PyDict_Clear(self->names);
    if (PyList_SetSlice(self->items, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
registry_add(RegistryObject *self, PyObject *args)
{
    PyObject *name, *obj;
    if (!PyArg_ParseTuple(args, "UO", &name, &obj)) {
        return NULL;
    }
    if (PyDict_SetItem(self->names, name, obj) < 0 || PyList_Append(self->items, obj) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- Registry: the buggy readers ---- */

static PyObject *
registry_latest(RegistryObject *self, PyObject *unused)
{
    PyObject *obj = PyList_GetItem(self->items, PyList_Size(self->items) - 1);
    if (obj == NULL) {
        return NULL;
    }
    return PyObject_Repr(obj);      /* clear() may have freed `obj` by now */
}

static PyObject *
registry_lookup(RegistryObject *self, PyObject *name)
{
    PyObject *obj = PyDict_GetItem(self->names, name);
    if (obj == NULL) {
        Py_RETURN_NONE;
    }
    return PyObject_Repr(obj);
}

static PyObject *
registry_to_json(RegistryObject *self, PyObject *unused)
{
    if (json_module == NULL) {
        json_module = PyImport_ImportModule("json");
        if (json_module == NULL) {
            return NULL;
        }
    }
    return PyObject_CallMethod(json_module, "dumps", "O", self->names);
}

static PyObject *
registry_reset_json(RegistryObject *self, PyObject *unused)
{
    Py_CLEAR(json_module);    /* to_json() on another thread may be using it right now */
    Py_RETURN_NONE;
}

/* ---- SafeRegistry: the fixed readers ---- */

static PyObject *
saferegistry_latest(RegistryObject *self, PyObject *unused)
{
    PyObject *obj = PyList_GetItemRef(self->items, PyList_Size(self->items) - 1);
    if (obj == NULL) {
        return NULL;
    }
    PyObject *repr = PyObject_Repr(obj);
    Py_DECREF(obj);
    return repr;
}

static PyObject *
saferegistry_lookup(RegistryObject *self, PyObject *name)
{
    PyObject *obj;
    if (PyDict_GetItemRef(self->names, name, &obj) <= 0) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    PyObject *repr = PyObject_Repr(obj);
    Py_DECREF(obj);
    return repr;
}

static PyObject *
saferegistry_to_json(RegistryObject *self, PyObject *unused)
{
    return PyObject_CallOneArg(json_dumps, self->names);
}

static int
registry_traverse(RegistryObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->items);
    Py_VISIT(self->names);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void
registry_dealloc(RegistryObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_XDECREF(self->items);
    Py_XDECREF(self->names);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef registry_methods[] = {
    {"add", (PyCFunction)registry_add, METH_VARARGS, NULL},
    {"clear", (PyCFunction)registry_clear, METH_NOARGS, NULL},
    {"latest", (PyCFunction)registry_latest, METH_NOARGS, NULL},
    {"lookup", (PyCFunction)registry_lookup, METH_O, NULL},
    {"to_json", (PyCFunction)registry_to_json, METH_NOARGS, NULL},
    {"reset_json", (PyCFunction)registry_reset_json, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef saferegistry_methods[] = {
    {"add", (PyCFunction)registry_add, METH_VARARGS, NULL},
    {"clear", (PyCFunction)registry_clear, METH_NOARGS, NULL},
    {"latest", (PyCFunction)saferegistry_latest, METH_NOARGS, NULL},
    {"lookup", (PyCFunction)saferegistry_lookup, METH_O, NULL},
    {"to_json", (PyCFunction)saferegistry_to_json, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot registry_slots[] = {
    {Py_tp_new, registry_new},
    {Py_tp_traverse, registry_traverse},
    {Py_tp_dealloc, registry_dealloc},
    {Py_tp_methods, registry_methods},
    {0, NULL},
};

static PyType_Slot saferegistry_slots[] = {
    {Py_tp_new, registry_new},
    {Py_tp_traverse, registry_traverse},
    {Py_tp_dealloc, registry_dealloc},
    {Py_tp_methods, saferegistry_methods},
    {0, NULL},
};

static PyType_Spec registry_spec = {
    .name = "raceext.registry.Registry",
    .basicsize = sizeof(RegistryObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = registry_slots,
};

static PyType_Spec saferegistry_spec = {
    .name = "raceext.registry.SafeRegistry",
    .basicsize = sizeof(RegistryObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = saferegistry_slots,
};

static int
registry_exec(PyObject *m)
{
    PyObject *json = PyImport_ImportModule("json");
    if (json == NULL) {
        return -1;
    }
    json_dumps = PyObject_GetAttrString(json, "dumps");
    Py_DECREF(json);
    if (json_dumps == NULL) {
        return -1;
    }
    PyType_Spec *specs[] = {&registry_spec, &saferegistry_spec};
    for (size_t i = 0; i < 2; i++) {
        PyObject *t = PyType_FromModuleAndSpec(m, specs[i], NULL);
        if (t == NULL || PyModule_AddType(m, (PyTypeObject *)t) < 0) {
            Py_XDECREF(t);
            return -1;
        }
        Py_DECREF(t);
    }
    return 0;
}

static PyModuleDef_Slot registry_module_slots[] = {
    {Py_mod_exec, registry_exec},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef registry_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "raceext.registry",
    .m_size = 0,
    .m_slots = registry_module_slots,
};

PyMODINIT_FUNC
PyInit_registry(void)
{
    return PyModuleDef_Init(&registry_module);
}
