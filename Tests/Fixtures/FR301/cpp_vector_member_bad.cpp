// A C++ extension type whose object holds a std::vector of references: `append` may reallocate
// the element buffer while `get` and `count` read it (index, copy) on another thread, with no lock.
// The class is the object's implementation (a pimpl): its members are the object's state.
#include <Python.h>
#include <vector>

class Registry {
public:
    std::vector<PyObject *> items;

    void add(PyObject *o) {
        Py_INCREF(o);
        items.push_back(o);   // expect: FR301 {{`Registry::add` frees `Registry.items` while `Registry.get()`, `Registry.count()` may read it}}  expect-note: thread B {{`Registry.append()` → `Registry::add` frees `Registry.items` (push_back())}}
    }
    PyObject *at(Py_ssize_t i) { return items[i]; }   // expect-note: thread A {{`Registry.get()` uses `items` in `Registry::at`}}
    Py_ssize_t count();
};

typedef struct {
    PyObject_HEAD
    Registry *reg;
} RegistryObject;

Py_ssize_t Registry::count() {
    std::vector<PyObject *> copy = this->items;   // expect-note: thread A {{`Registry.count()` uses `this->items` in `Registry::count`}}
    return (Py_ssize_t)copy.size();
}

static PyObject *
registry_append(RegistryObject *self, PyObject *o)
{
    self->reg->add(o);
    Py_RETURN_NONE;
}

static PyObject *
registry_get(RegistryObject *self, PyObject *arg)
{
    PyObject *o = self->reg->at(PyLong_AsSsize_t(arg));
    return Py_NewRef(o);
}

static PyObject *
registry_len(RegistryObject *self, PyObject *unused)
{
    return PyLong_FromSsize_t(self->reg->count());
}

static PyMethodDef registry_methods[] = {
    {"append", (PyCFunction)registry_append, METH_O, NULL},
    {"get", (PyCFunction)registry_get, METH_O, NULL},
    {"count", (PyCFunction)registry_len, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RegistryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "registry.Registry",
    .tp_basicsize = sizeof(RegistryObject),
    .tp_methods = registry_methods,
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static PyModuleDef registrymodule = {PyModuleDef_HEAD_INIT, "registry", NULL, 0, NULL, slots};
