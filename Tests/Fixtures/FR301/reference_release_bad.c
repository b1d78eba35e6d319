/* A field that holds a reference, replaced while other methods use it. In a free-threaded build
 * `set_target` can drop the last reference to the old target (Py_XSETREF, or the swap
 * `old = self->x; self->x = v; Py_DECREF(old)`) while a getter on another thread has just
 * loaded the old pointer and is about to incref or use it. The locked shapes stay quiet. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *target;
} ProxyObject;

static int
proxy_set_target(ProxyObject *self, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "cannot delete target");
        return -1;
    }
    Py_INCREF(value);
    Py_XSETREF(self->target, value);     // expect: FR301 {{`proxy_set_target` replaces `ProxyObject.target` and drops the old object}}
    return 0;                            // expect-note@-1: thread B {{drops the reference held in `ProxyObject.target` (Py_XSETREF)}}
}

static PyObject *
proxy_get_target(ProxyObject *self, void *closure)
{
    return Py_NewRef(self->target);      // expect-note: thread A {{`Proxy.target` uses `self->target` in `proxy_get_target`}}
}

static PyObject *
proxy_repr(ProxyObject *self)
{
    return PyUnicode_FromFormat("<Proxy of %R>", self->target);
}

static PyGetSetDef proxy_getset[] = {
    {"target", (getter)proxy_get_target, (setter)proxy_set_target, NULL, NULL},
    {NULL},
};

static PyType_Slot proxy_slots[] = {
    {Py_tp_getset, proxy_getset},
    {Py_tp_repr, proxy_repr},
    {0, NULL},
};

static PyType_Spec proxy_spec = {"refs.Proxy", sizeof(ProxyObject), 0, Py_TPFLAGS_DEFAULT, proxy_slots};

/* The swap spelled out, in a method. */
typedef struct {
    PyObject_HEAD
    PyObject *callback;
} HookObject;

static PyObject *
hook_replace(HookObject *self, PyObject *fn)
{
    PyObject *old = self->callback;
    self->callback = Py_NewRef(fn);
    Py_XDECREF(old);                     // expect: FR301 {{`hook_replace` replaces `HookObject.callback` and drops the old object}}
    Py_RETURN_NONE;
}

/* A new object's field, set before anyone else can see it: not shared. */
static PyTypeObject *Hook_Type;

static PyObject *
hook_clone(HookObject *self, PyObject *unused)
{
    HookObject *copy = PyObject_New(HookObject, Hook_Type);
    if (copy == NULL) {
        return NULL;
    }
    copy->callback = NULL;
    Py_XSETREF(copy->callback, Py_XNewRef(self->callback));   // expect-none
    return (PyObject *)copy;
}

static PyObject *
hook_fire(HookObject *self, PyObject *arg)
{
    return PyObject_CallOneArg(self->callback, arg);
}

/* The fixed shape: the swap and every load-and-incref under the object's critical section;
 * the old object is released after the section, when no reader can still load it. */
typedef struct {
    PyObject_HEAD
    PyObject *value;
} CellObject;

static PyObject *
cell_set(CellObject *self, PyObject *value)
{
    PyObject *old;
    Py_BEGIN_CRITICAL_SECTION(self);
    old = self->value;
    self->value = Py_NewRef(value);
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);                     // expect-none
    Py_RETURN_NONE;
}

static PyObject *
cell_get(CellObject *self, PyObject *unused)
{
    PyObject *v;
    Py_BEGIN_CRITICAL_SECTION(self);
    v = Py_XNewRef(self->value);
    Py_END_CRITICAL_SECTION();
    return v;
}

/* A balanced incref/decref of a loaded reference is not a release of the field. */
typedef struct {
    PyObject_HEAD
    PyObject *name;
} TagObject;

static PyObject *
tag_upper(TagObject *self, PyObject *unused)
{
    PyObject *n = self->name;
    Py_INCREF(n);
    PyObject *r = PyObject_CallMethod(n, "upper", NULL);
    Py_DECREF(n);                        // expect-none
    return r;
}

static PyObject *
tag_len(TagObject *self, PyObject *unused)
{
    return PyLong_FromSsize_t(PyObject_Length(self->name));
}

static PyMethodDef hook_methods[] = {
    {"replace", (PyCFunction)hook_replace, METH_O, NULL},
    {"fire", (PyCFunction)hook_fire, METH_O, NULL},
    {"clone", (PyCFunction)hook_clone, METH_NOARGS, NULL},
    {NULL},
};
static PyMethodDef cell_methods[] = {
    {"set", (PyCFunction)cell_set, METH_O, NULL},
    {"get", (PyCFunction)cell_get, METH_NOARGS, NULL},
    {NULL},
};
static PyMethodDef tag_methods[] = {
    {"upper", (PyCFunction)tag_upper, METH_NOARGS, NULL},
    {"len", (PyCFunction)tag_len, METH_NOARGS, NULL},
    {NULL},
};
static PyType_Slot hook_slots[] = {{Py_tp_methods, hook_methods}, {0, NULL}};
static PyType_Slot cell_slots[] = {{Py_tp_methods, cell_methods}, {0, NULL}};
static PyType_Slot tag_slots[] = {{Py_tp_methods, tag_methods}, {0, NULL}};
static PyType_Spec hook_spec = {"refs.Hook", sizeof(HookObject), 0, Py_TPFLAGS_DEFAULT, hook_slots};
static PyType_Spec cell_spec = {"refs.Cell", sizeof(CellObject), 0, Py_TPFLAGS_DEFAULT, cell_slots};
static PyType_Spec tag_spec = {"refs.Tag", sizeof(TagObject), 0, Py_TPFLAGS_DEFAULT, tag_slots};

static PyModuleDef_Slot refs_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef refs_module = {PyModuleDef_HEAD_INIT, "refs", NULL, 0, NULL, refs_slots};

PyMODINIT_FUNC
PyInit_refs(void)
{
    return PyModuleDef_Init(&refs_module);
}
