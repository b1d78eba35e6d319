/* Cursor fields into a buffer of the same object: `pos`/`end` point into `buf`, and the
 * embedded library stream `zs` is fed from `pos` (`zs.next_in = pos`). A decoder that releases
 * the GIL while the library reads through `&self->zs` reads `buf`; `seek()` on another thread
 * refills — reallocates — `buf` meanwhile, holding no lock the reader holds. */
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
    rc = stream_inflate(&self->zs);      // expect: FR401 {{`reader_decode` reads `ReaderObject.buf` with the GIL released while `Reader.seek()` may free it}}
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

/* takes no lock: that is the bug */
static PyObject *
reader_seek(ReaderObject *self, PyObject *arg)
{
    stream_reset(&self->zs);
    if (reader_refill(self) < 0) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

static PyMethodDef reader_methods[] = {
    {"read", (PyCFunction)reader_read, METH_O, NULL},
    {"seek", (PyCFunction)reader_seek, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cursor.Reader",
    .tp_basicsize = sizeof(ReaderObject),
    .tp_methods = reader_methods,
};
