/* Pointers into a caller's buffer that no view pins, used with the GIL released. A pointer from
 * PyObject_GetBuffer is valid while the Py_buffer is held: the exporter (a bytearray) refuses to
 * resize meanwhile. Released at once (or taken with the old PyObject_AsReadBuffer, which releases
 * its view before it returns), nothing stops another thread from calling `b.extend(...)` or
 * `b.clear()` while the released region still reads the old memory. */
#include <Python.h>
#include <stddef.h>

typedef struct {
    const char *data;
    Py_ssize_t len;
} Blob;

typedef struct {
    Py_buffer views[2];
    int count;
} ViewHolder;

extern long sink_store(int fd, const Blob *b);
extern long sink_store_pair(int fd, const Blob *key, const Blob *value);
extern long sink_send(int fd, const char *p, Py_ssize_t n);

typedef struct {
    PyObject_HEAD
    int fd;
} SinkObject;

/* the view ends before the caller uses the pointer */
static int
blob_from_object(Blob *out, PyObject *obj)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    out->data = view.buf;
    out->len = view.len;
    PyBuffer_Release(&view);                                 // expect-note: thread B {{`blob_from_object` ends the view with `PyBuffer_Release(&view)` while `out->data` still points into it}}
    return 0;
}

static PyObject *
sink_write(SinkObject *self, PyObject *arg)
{
    Blob b;
    long n;
    if (blob_from_object(&b, arg) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS                                   // expect-note: thread A {{`sink_write` releases the GIL here}}
    n = sink_send(self->fd, b.data, b.len);                  // expect: FR401 {{`sink_write` uses `b.data` with the GIL released, a pointer into an object's buffer whose view ended in `blob_from_object`}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

/* keyword tables: each argument is parsed into a member at its offset in the caller's struct */
typedef struct {
    const char *name;
    size_t offset;
} ArgSpec;

static int
parse_blob_arg(const ArgSpec *spec, PyObject *value, void *out)
{
    char *dst = (char *)out + spec->offset;
    return blob_from_object((Blob *)dst, value);
}

static int
parse_blob_args(const ArgSpec *specs, int n, PyObject *args, void *out)
{
    for (int i = 0; i < n; i++) {
        if (parse_blob_arg(specs + i, PyTuple_GET_ITEM(args, i), out) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
sink_put(SinkObject *self, PyObject *args)
{
    struct put_args {
        Blob key;
        Blob value;
        SinkObject *peer;
    } a = {{NULL, 0}, {NULL, 0}, NULL};
    static const ArgSpec specs[] = {
        {"key", offsetof(struct put_args, key)},
        {"value", offsetof(struct put_args, value)},
    };
    long n;
    if (parse_blob_args(specs, 2, args, &a) < 0) {
        return NULL;
    }
    a.peer = self;
    Py_BEGIN_ALLOW_THREADS
    /* `a.peer` is not a buffer: only the Blob members hold the unpinned pointers */
    n = sink_store_pair(a.peer->fd, &a.key, &a.value);       // expect-note: thread A {{`Sink.put()` also uses `a.key` with the GIL released}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

/* the old buffer API never keeps a view */
static PyObject *
sink_write_old(SinkObject *self, PyObject *arg)
{
    const void *p = NULL;
    Py_ssize_t len = 0;
    long n;
    if (PyObject_AsReadBuffer(arg, &p, &len) < 0) {          // expect-note: thread B {{`sink_write_old` takes the pointer with `PyObject_AsReadBuffer(arg, &p, &len)`, which releases its view before it returns}}
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    n = sink_send(self->fd, p, len);                         // expect: FR401 {{`sink_write_old` uses `p` with the GIL released}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

/* the view released in the same function, before the region that reads a copy of its pointer */
static PyObject *
sink_write_early_release(SinkObject *self, PyObject *arg)
{
    Py_buffer view;
    const char *p;
    long n;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    p = view.buf;
    PyBuffer_Release(&view);
    Py_BEGIN_ALLOW_THREADS
    n = sink_send(self->fd, p, view.len);                    // expect: FR401 {{`sink_write_early_release` uses `p` with the GIL released}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

/* a helper that pins into a holder when given one: passing NULL takes its release-at-once path */
static int
blob_from_object_held(Blob *out, PyObject *obj, ViewHolder *holder)
{
    if (holder != NULL && holder->count < 2) {
        Py_buffer *view = &holder->views[holder->count];
        if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0) {
            return -1;
        }
        holder->count++;
        out->data = view->buf;
        out->len = view->len;
        return 0;
    }
    Py_buffer tmp;
    if (PyObject_GetBuffer(obj, &tmp, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    out->data = tmp.buf;
    out->len = tmp.len;
    PyBuffer_Release(&tmp);
    return 0;
}

static PyObject *
sink_write_no_holder(SinkObject *self, PyObject *arg)
{
    Blob b;
    long n;
    if (blob_from_object_held(&b, arg, NULL) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    n = sink_store(self->fd, &b);                            // expect: FR401 {{`sink_write_no_holder` uses `b` with the GIL released, a pointer into an object's buffer whose view ended in `blob_from_object_held`}}
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

static PyMethodDef sink_methods[] = {
    {"write", (PyCFunction)sink_write, METH_O, NULL},
    {"put", (PyCFunction)sink_put, METH_VARARGS, NULL},
    {"write_old", (PyCFunction)sink_write_old, METH_O, NULL},
    {"write_early_release", (PyCFunction)sink_write_early_release, METH_O, NULL},
    {"write_no_holder", (PyCFunction)sink_write_no_holder, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SinkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pins.Sink",
    .tp_basicsize = sizeof(SinkObject),
    .tp_methods = sink_methods,
};
