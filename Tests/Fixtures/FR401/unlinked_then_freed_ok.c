/* A handle unlinked from the object while the GIL is held, then freed with the GIL released:
 * `db = self->db; self->db = NULL;` happens before the release, so a thread that holds the GIL
 * finds NULL and never loads the pointer being freed. (A reader that used the pointer inside
 * its own Py_BEGIN_ALLOW_THREADS would still race; none does here.) */
#include <Python.h>
#include <stdlib.h>

typedef struct { char *pages; size_t n; } db_t;

static void
db_free(db_t *d)
{
    free(d->pages);
    free(d);
}

typedef struct {
    PyObject_HEAD
    db_t *db;
} StoreObject;

static PyObject *
store_size(StoreObject *self, PyObject *unused)
{
    if (self->db == NULL) {
        PyErr_SetString(PyExc_ValueError, "closed");
        return NULL;
    }
    return PyLong_FromSize_t(self->db->n);
}

static PyObject *
store_close(StoreObject *self, PyObject *unused)
{
    db_t *db = self->db;
    self->db = NULL;
    if (db != NULL) {
        Py_BEGIN_ALLOW_THREADS
        db_free(db);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyMethodDef store_methods[] = {
    {"size", (PyCFunction)store_size, METH_NOARGS, NULL},
    {"close", (PyCFunction)store_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "unlinked.Store",
    .tp_basicsize = sizeof(StoreObject),
    .tp_methods = store_methods,
};
// expect-none
