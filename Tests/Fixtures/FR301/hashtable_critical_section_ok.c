/* The same table with Py_BEGIN_CRITICAL_SECTION at every entry point: quiet. */
// expect-none
#include <Python.h>

typedef struct { PyObject *key; PyObject *value; } slot_t;

typedef struct {
    PyObject_HEAD
    Py_ssize_t size;
    Py_ssize_t used;
    slot_t *slots;
} HashObject;

typedef struct {
    PyObject_HEAD
    HashObject *owner;
    Py_ssize_t index;
} HashIterObject;

static int
hash_grow(HashObject *self)
{
    slot_t *old = self->slots;
    slot_t *bigger = PyMem_Calloc(self->size * 2, sizeof(slot_t));
    if (bigger == NULL) {
        return -1;
    }
    memcpy(bigger, old, self->size * sizeof(slot_t));
    self->slots = bigger;
    self->size *= 2;
    PyMem_Free(old);
    return 0;
}

static PyObject *
hash_insert_ok(HashObject *self, PyObject *args)
{
    PyObject *k, *v, *res = NULL;
    if (!PyArg_ParseTuple(args, "OO", &k, &v)) {
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->used < self->size || hash_grow(self) == 0) {
        self->slots[self->used].key = Py_NewRef(k);
        self->slots[self->used++].value = Py_NewRef(v);
        res = Py_None;
    }
    Py_END_CRITICAL_SECTION();
    return Py_XNewRef(res);
}

static PyObject *
hash_lookup_ok(HashObject *self, PyObject *key)
{
    PyObject *res = Py_None;
    Py_BEGIN_CRITICAL_SECTION(self);
    for (Py_ssize_t i = 0; i < self->used; i++) {
        if (self->slots[i].key == key) {
            res = self->slots[i].value;
            break;
        }
    }
    Py_INCREF(res);
    Py_END_CRITICAL_SECTION();
    return res;
}

static PyObject *
hashiter_next_ok(HashIterObject *it)
{
    PyObject *res = NULL;
    Py_BEGIN_CRITICAL_SECTION(it->owner);
    if (it->index < it->owner->used) {
        res = Py_NewRef(it->owner->slots[it->index++].key);
    }
    Py_END_CRITICAL_SECTION();
    return res;
}

static PyMethodDef hash_methods[] = {
    {"insert", (PyCFunction)hash_insert_ok, METH_VARARGS, NULL},
    {"lookup", (PyCFunction)hash_lookup_ok, METH_O, NULL},
    {NULL}
};

static PyType_Slot hash_slots[] = {
    {Py_tp_methods, hash_methods},
    {0, 0},
};

static PyType_Spec hash_spec = {"fixture.Hash", sizeof(HashObject), 0, Py_TPFLAGS_DEFAULT, hash_slots};

static PyType_Slot hashiter_slots[] = {
    {Py_tp_iternext, hashiter_next_ok},
    {0, 0},
};

static PyType_Spec hashiter_spec = {"fixture.HashIter", sizeof(HashIterObject), 0, Py_TPFLAGS_DEFAULT, hashiter_slots};

static PyModuleDef_Slot module_slots[] = {
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fixture", NULL, 0, NULL, module_slots};
