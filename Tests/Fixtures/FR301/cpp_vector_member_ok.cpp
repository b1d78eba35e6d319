// The same extension type with its vector guarded by a member mutex: `std::lock_guard`,
// `std::unique_lock` and a project guard class whose constructor locks hold it to the end of scope.
// expect-none
#include <Python.h>
#include <mutex>
#include <vector>

class Guard {
public:
    explicit Guard(std::mutex &m) : m_(m) { m_.lock(); }
    ~Guard() { m_.unlock(); }
private:
    std::mutex &m_;
};

class Registry {
public:
    std::vector<PyObject *> items;
    std::mutex mutex;

    void add(PyObject *o) {
        std::lock_guard<std::mutex> guard(mutex);
        Py_INCREF(o);
        items.push_back(o);
    }
    PyObject *at(Py_ssize_t i) {
        std::unique_lock<std::mutex> lock(this->mutex);
        return items[i];
    }
    Py_ssize_t count();
};

typedef struct {
    PyObject_HEAD
    Registry *reg;
} RegistryObject;

Py_ssize_t Registry::count() {
    Guard guard(mutex);
    std::vector<PyObject *> copy = this->items;
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
