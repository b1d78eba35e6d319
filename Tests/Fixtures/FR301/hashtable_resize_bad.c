/* A free-threading hash table whose resize frees the entry array while readers and an
 * iterator use it without a critical section: the multidict shape. */
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

static void
slots_free(slot_t *s)
{
    PyMem_Free(s);                                  // expect-note: thread B {{the memory is released here}}
}

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
    slots_free(old);    // expect: FR301 {{`hash_grow` frees `HashObject.slots`}}  expect-note: thread B {{frees `HashObject.slots` (via `slots_free`}}
    return 0;
}

static PyObject *
hash_insert_bad(HashObject *self, PyObject *args)
{
    PyObject *k, *v;
    if (!PyArg_ParseTuple(args, "OO", &k, &v)) {
        return NULL;
    }
    if (self->used == self->size && hash_grow(self) < 0) {
        return NULL;
    }
    self->slots[self->used].key = Py_NewRef(k);
    self->slots[self->used++].value = Py_NewRef(v);
    Py_RETURN_NONE;
}

static Py_ssize_t
lookup(HashObject *self, PyObject *key)
{
    for (Py_ssize_t i = 0; i < self->used; i++) {
        if (self->slots[i].key == key) {            // expect-note: thread A {{`Hash.lookup()` uses `self->slots` in `lookup`, no critical section}}
            return i;
        }
    }
    return -1;
}

static PyObject *
hash_lookup_bad(HashObject *self, PyObject *key)
{
    Py_ssize_t i = lookup(self, key);
    if (i < 0) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(self->slots[i].value);
}

static PyObject *
hashiter_next_bad(HashIterObject *it)
{
    if (it->index >= it->owner->used) {
        return NULL;
    }
    return Py_NewRef(it->owner->slots[it->index++].key);  // expect-note: thread A {{keeps its position into the buffer}}
}

static void
hash_dealloc(HashObject *self)
{
    PyMem_Free(self->slots);     /* last reference: not a race */
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef hash_methods[] = {
    {"insert", (PyCFunction)hash_insert_bad, METH_VARARGS, NULL},
    {"lookup", (PyCFunction)hash_lookup_bad, METH_O, NULL},
    {NULL}
};

static PyType_Slot hash_slots[] = {
    {Py_tp_dealloc, hash_dealloc},
    {Py_tp_methods, hash_methods},
    {0, 0},
};

static PyType_Spec hash_spec = {"fixture.Hash", sizeof(HashObject), 0, Py_TPFLAGS_DEFAULT, hash_slots};

static PyType_Slot hashiter_slots[] = {
    {Py_tp_iternext, hashiter_next_bad},
    {0, 0},
};

static PyType_Spec hashiter_spec = {"fixture.HashIter", sizeof(HashIterObject), 0, Py_TPFLAGS_DEFAULT, hashiter_slots};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fixture", NULL, 0, NULL, module_slots};
