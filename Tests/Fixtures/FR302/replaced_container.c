/* Whether a container field is mutable is decided by what the program does to it. Replacing it
 * with Py_XSETREF drops the old dict and every item in it: a borrow from the old one dangles.
 * A dict built once, published into the field and never changed again (cffi's struct field
 * tables, NumPy's descr->fields) cannot lose its items, so borrowing from it is fine. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *cache;    /* dict, replaced wholesale by reset() */
    PyObject *layout;   /* dict, built on first use and never modified afterwards */
} TableObject;

static PyObject *
cache_get(TableObject *self, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(self->cache, key);   // expect: FR302 {{`v` is borrowed from shared `self->cache`}}
    return Py_XNewRef(v);
}

static PyObject *
cache_reset(TableObject *self, PyObject *unused)
{
    PyObject *fresh = PyDict_New();
    if (fresh == NULL) {
        return NULL;
    }
    Py_XSETREF(self->cache, fresh);             // expect-note: thread B {{`Table.reset()` (Py_XSETREF(self->cache) in `cache_reset`) can replace or remove items}}
                                                // expect@-1: FR301 {{`cache_reset` replaces `TableObject.cache` and drops the old object}}
    Py_RETURN_NONE;
}

static PyObject *
build_layout(void)
{
    PyObject *d = PyDict_New();
    if (d != NULL && PyDict_SetItemString(d, "x", Py_None) < 0) {
        Py_CLEAR(d);
    }
    return d;
}

static PyObject *
layout_get(TableObject *self, PyObject *key)
{
    if (self->layout == NULL) {
        self->layout = build_layout();      /* one-time publication; nothing mutates it later */
        if (self->layout == NULL) {
            return NULL;
        }
    }
    PyObject *v = PyDict_GetItemWithError(self->layout, key);   // expect-none
    return Py_XNewRef(v);
}

/* Per-call encoder state, as in JSON encoders: `dict` is the caller's object. */
typedef struct {
    PyObject *dict;
    Py_ssize_t pos;
} EncoderState;

static int
encoder_next(EncoderState *st, PyObject **key, PyObject **value)
{
    return PyDict_Next(st->dict, &st->pos, key, value);   // expect: FR302 {{iterates shared dict `st->dict` with PyDict_Next}}  expect-note: thread B {{any other thread holding a reference}}
}

static PyObject *
encode_dict(PyObject *module, PyObject *arg)
{
    EncoderState st;
    st.dict = arg;
    st.pos = 0;
    PyObject *key, *value;
    Py_ssize_t n = 0;
    while (encoder_next(&st, &key, &value)) {
        n += PyObject_Length(value);
    }
    return PyLong_FromSsize_t(n);
}

/* A module-level table replaced by a setter that drops the old one first. */
static PyObject *aliases;

static PyObject *
set_aliases(PyObject *module, PyObject *arg)
{
    Py_XDECREF(aliases);                // expect-note: thread B {{`set_aliases()` (Py_XDECREF(aliases)}}
    aliases = Py_NewRef(arg);           // expect: FR303 {{`set_aliases` assigns static `aliases` without a lock}}
    Py_RETURN_NONE;
}

static PyObject *
alias_of(PyObject *module, PyObject *name)
{
    PyObject *v = PyDict_GetItemWithError(aliases, name);  // expect: FR302 {{`v` is borrowed from shared `aliases`}}
    return Py_XNewRef(v);
}

static PyMethodDef module_methods[] = {
    {"encode", encode_dict, METH_O, NULL},
    {"set_aliases", set_aliases, METH_O, NULL},
    {"alias_of", alias_of, METH_O, NULL},
    {NULL}
};

static PyMethodDef table_methods[] = {
    {"get", (PyCFunction)cache_get, METH_O, NULL},
    {"reset", (PyCFunction)cache_reset, METH_NOARGS, NULL},
    {"layout", (PyCFunction)layout_get, METH_O, NULL},
    {NULL}
};

static PyType_Slot table_slots[] = {
    {Py_tp_methods, table_methods},
    {0, NULL}
};

static PyType_Spec table_spec = {"fixture.Table", sizeof(TableObject), 0, Py_TPFLAGS_DEFAULT, table_slots};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef tablemodule = {PyModuleDef_HEAD_INIT, "table", NULL, 0, module_methods, module_slots};
/root/.pyenv/libexec/pyenv-hooks: line 24: enable: cannot open shared object /root/.pyenv/libexec/pyenv-realpath.dylib: /root/.pyenv/libexec/pyenv-realpath.dylib: cannot open shared object file: No such file or directory
