/* Per-object locks taken only when they exist (`if (self->lock) …`), and created: one by a store
 * in tp_init (`self->lock = PyThread_allocate_lock()`), one by a helper given the field's address
 * (`lock_create(&self->lock)`). Both regions hold the lock: nothing to report. */
// expect-none
#include <Python.h>
#include <pythread.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
    PyThread_type_lock lock;
} CacheObject;

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
    PyThread_type_lock lock;
} PoolObject;

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

static int
cache_init(CacheObject *self, PyObject *args, PyObject *kwds)
{
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *
cache_checksum(CacheObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    cache_lock(self);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < self->len; i++) {
        sum += (unsigned char)self->buf[i];
    }
    Py_END_ALLOW_THREADS
    cache_unlock(self);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
cache_clear(CacheObject *self, PyObject *unused)
{
    cache_lock(self);
    PyMem_Free(self->buf);
    self->buf = NULL;
    self->len = 0;
    cache_unlock(self);
    Py_RETURN_NONE;
}

static int
lock_create(PyThread_type_lock *out)
{
    *out = PyThread_allocate_lock();
    return *out == NULL ? -1 : 0;
}

static void
pool_lock(PoolObject *self)
{
    if (self->lock != NULL) {
        PyThread_acquire_lock(self->lock, WAIT_LOCK);
    }
}

static void
pool_unlock(PoolObject *self)
{
    if (self->lock != NULL) {
        PyThread_release_lock(self->lock);
    }
}

static int
pool_init(PoolObject *self, PyObject *args, PyObject *kwds)
{
    return lock_create(&self->lock);
}

static PyObject *
pool_sum(PoolObject *self, PyObject *unused)
{
    unsigned long sum = 0;
    pool_lock(self);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < self->len; i++) {
        sum += (unsigned char)self->buf[i];
    }
    Py_END_ALLOW_THREADS
    pool_unlock(self);
    return PyLong_FromUnsignedLong(sum);
}

static PyObject *
pool_reset(PoolObject *self, PyObject *unused)
{
    pool_lock(self);
    PyMem_Free(self->buf);
    self->buf = NULL;
    self->len = 0;
    pool_unlock(self);
    Py_RETURN_NONE;
}

static PyMethodDef cache_methods[] = {
    {"checksum", (PyCFunction)cache_checksum, METH_NOARGS, NULL},
    {"clear", (PyCFunction)cache_clear, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef pool_methods[] = {
    {"sum", (PyCFunction)pool_sum, METH_NOARGS, NULL},
    {"reset", (PyCFunction)pool_reset, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "withlock.Cache",
    .tp_basicsize = sizeof(CacheObject),
    .tp_init = (initproc)cache_init,
    .tp_methods = cache_methods,
};

static PyTypeObject PoolType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "withlock.Pool",
    .tp_basicsize = sizeof(PoolObject),
    .tp_init = (initproc)pool_init,
    .tp_methods = pool_methods,
};
