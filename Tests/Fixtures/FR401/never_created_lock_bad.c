/* A per-object lock that is taken only when it exists (`if (self->lock) …`) and that nothing in
 * the module ever creates: every `cache_lock(self)` is a no-op, so `clear()` frees the buffer
 * while `checksum()` reads it with the GIL released. (lock_wrappers_ok.c creates its lock with
 * PyThread_allocate_lock and is quiet.) */
#include <Python.h>
#include <pythread.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
    PyThread_type_lock lock;
} CacheObject;

static void
cache_lock(CacheObject *self)
{
    if (self->lock != NULL) {
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
    }
}

static void
cache_unlock(CacheObject *self)
{
    if (self->lock != NULL) {
        PyThread_release_lock(self->lock);
    }
}

static PyObject *
cache_checksum(CacheObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    cache_lock(self);                                        // expect-note: thread A {{`cache_checksum` takes `self->lock` (PyThread_acquire_lock), which nothing in the project creates: it holds nothing}}
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < self->len; i++) {
        sum += (unsigned char)self->buf[i];                  // expect: FR401 {{`cache_checksum` reads `CacheObject.buf` with the GIL released while `Cache.clear()` may free it}}
    }
    Py_END_ALLOW_THREADS
    cache_unlock(self);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
cache_clear(CacheObject *self, PyObject *unused)
{
    cache_lock(self);                                        // expect-note: thread B {{`cache_clear` takes `self->lock`}}
    PyMem_Free(self->buf);
    self->buf = NULL;
    self->len = 0;
    cache_unlock(self);
    Py_RETURN_NONE;
}

static void
cache_dealloc(CacheObject *self)
{
    PyMem_Free(self->buf);
    if (self->lock != NULL) {
        PyThread_free_lock(self->lock);
        self->lock = NULL;
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef cache_methods[] = {
    {"checksum", (PyCFunction)cache_checksum, METH_NOARGS, NULL},
    {"clear", (PyCFunction)cache_clear, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nolock.Cache",
    .tp_basicsize = sizeof(CacheObject),
    .tp_dealloc = (destructor)cache_dealloc,
    .tp_methods = cache_methods,
};
