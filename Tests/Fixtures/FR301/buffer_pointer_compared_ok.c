/* Readers that do not use the freed buffer. `grow()` frees `buf` inside a critical section, and
 * the other methods take none, but none of them reads through the buffer of a shared object:
 *   - `overlaps()` only compares buffer addresses, through a macro of this file (the shape of
 *     bitarray's buffers_overlap): a pointer value is not a use of the memory;
 *   - `fresh_sizes()` reads the buffers of objects it created itself and keeps in a dict it
 *     created: no other thread can reach them.
 * Both were reported before freerace read local macros and items of fresh containers. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
} BlobObject;

static PyTypeObject Blob_Type;

#define IN_BUF(o, p)  ((o)->buf <= (p) && (p) < (o)->buf + (o)->len)

static PyObject *
blob_grow(BlobObject *self, PyObject *unused)
{
    int ok = 0;
    Py_BEGIN_CRITICAL_SECTION(self);
    char *fresh = PyMem_Malloc(self->len * 2 + 1);
    if (fresh != NULL) {
        PyMem_Free(self->buf);                  // expect-none
        self->buf = fresh;
        self->len = self->len * 2 + 1;
        ok = 1;
    }
    Py_END_CRITICAL_SECTION();
    if (!ok) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

static PyObject *
blob_overlaps(BlobObject *self, PyObject *arg)
{
    BlobObject *other = (BlobObject *)arg;
    if (IN_BUF(self, other->buf) || IN_BUF(other, self->buf)) {   // expect-none
        Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

static BlobObject *
new_blob(Py_ssize_t n)
{
    BlobObject *b = PyObject_New(BlobObject, &Blob_Type);
    if (b == NULL) {
        return NULL;
    }
    b->buf = PyMem_Calloc(n + 1, 1);
    b->len = n;
    return b;
}

static PyObject *
blob_fresh_sizes(BlobObject *self, PyObject *unused)
{
    PyObject *dict = PyDict_New();
    PyObject *key, *value;
    Py_ssize_t pos = 0, total = 0;
    if (dict == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < 3; i++) {
        BlobObject *b = new_blob(i);
        if (b == NULL || PyDict_SetItem(dict, PyLong_FromSsize_t(i), (PyObject *)b) < 0) {
            Py_XDECREF(b);
            Py_DECREF(dict);
            return NULL;
        }
        Py_DECREF(b);
    }
    while (PyDict_Next(dict, &pos, &key, &value)) {
        BlobObject *b = (BlobObject *)value;
        total += b->buf[0] == 0;                // expect-none
    }
    Py_DECREF(dict);
    return PyLong_FromSsize_t(total);
}

static PyMethodDef blob_methods[] = {
    {"grow", (PyCFunction)blob_grow, METH_NOARGS, NULL},
    {"overlaps", (PyCFunction)blob_overlaps, METH_O, NULL},
    {"fresh_sizes", (PyCFunction)blob_fresh_sizes, METH_NOARGS, NULL},
    {NULL}
};

static PyTypeObject Blob_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fixture.Blob",
    .tp_basicsize = sizeof(BlobObject),
    .tp_methods = blob_methods,
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef blobmodule = {PyModuleDef_HEAD_INIT, "blob", NULL, 0, NULL, module_slots};
