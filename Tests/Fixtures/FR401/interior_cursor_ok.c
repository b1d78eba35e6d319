/* The fixed form of interior_cursor_bad.c: `seek()` takes the reader's lock, so the refill
 * that reallocates `buf` cannot run while a decoder reads it through `pos` and `zs`. Cursor
 * fields that are only ever compared (`end - pos`) are no use of the buffer either. */
#include <Python.h>
#include <pythread.h>

typedef struct { const unsigned char *next_in; size_t avail_in; unsigned char *next_out; size_t avail_out; } stream_t;
extern int stream_inflate(stream_t *zs);
extern void stream_reset(stream_t *zs);

typedef struct {
    PyObject_HEAD
    unsigned char *buf;
    size_t cap;
    unsigned char *pos;
    unsigned char *end;
    stream_t zs;
    PyThread_type_lock lock;
} ReaderObject;

static int
reader_refill(ReaderObject *self)
{
    size_t left = (size_t)(self->end - self->pos);
    unsigned char *nb = PyMem_Realloc(self->buf, self->cap * 2);
    if (nb == NULL) {
        return -1;
    }
    self->buf = nb;
    self->cap *= 2;
    self->pos = self->buf;
    self->end = self->buf + left;
    return 0;
}

static Py_ssize_t
reader_decode(ReaderObject *self, unsigned char *out, size_t n)
{
    unsigned char *pos = self->pos;
    int rc;
    PyThreadState *_save;
    Py_UNBLOCK_THREADS
    self->zs.next_in = pos;
    self->zs.avail_in = (size_t)(self->end - pos);
    self->zs.next_out = out;
    self->zs.avail_out = n;
    rc = stream_inflate(&self->zs);
    Py_BLOCK_THREADS
    return rc < 0 ? -1 : (Py_ssize_t)(n - self->zs.avail_out);
}

static PyObject *
reader_read(ReaderObject *self, PyObject *arg)
{
    unsigned char out[256];
    Py_ssize_t got;
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    got = reader_decode(self, out, sizeof out);
    PyThread_release_lock(self->lock);
    if (got < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)out, got);
}

static PyObject *
reader_seek(ReaderObject *self, PyObject *arg)
{
    int rc;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(self->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
    stream_reset(&self->zs);
    rc = reader_refill(self);
    PyThread_release_lock(self->lock);
    if (rc < 0) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

static PyObject *
reader_remaining(ReaderObject *self, PyObject *unused)
{
    return PyLong_FromSize_t((size_t)(self->end - self->pos));
}

static PyMethodDef reader_methods[] = {
    {"read", (PyCFunction)reader_read, METH_O, NULL},
    {"seek", (PyCFunction)reader_seek, METH_O, NULL},
    {"remaining", (PyCFunction)reader_remaining, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cursorok.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_methods = reader_methods,
};
// expect-none
