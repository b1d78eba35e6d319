/* Buffer pointers that stay pinned while the GIL is released: the Py_buffer is released only
 * after the region, a helper keeps its views in a holder the caller passes and releases after
 * its call, the view is released early only on error paths that leave the function, the region
 * reads a private copy, or the unpinned pointer is used holding the GIL
 * (no other thread runs Python code then). Nothing to report. */
// expect-none
#include <Python.h>
#include <stddef.h>
#include <string.h>

typedef struct {
    const char *data;
    Py_ssize_t len;
} Blob;

typedef struct {
    Py_buffer views[2];
    int count;
} ViewHolder;

extern long sink_store(int fd, const Blob *b);
extern long sink_send(int fd, const char *p, Py_ssize_t n);

typedef struct {
    PyObject_HEAD
    int fd;
} SinkObject;

/* the view is held across the region and released after it */
static PyObject *
sink_write_pinned(SinkObject *self, PyObject *arg)
{
    Py_buffer view;
    const char *p;
    long n;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    p = view.buf;
    Py_BEGIN_ALLOW_THREADS
    n = sink_send(self->fd, p, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLong(n);
}

static void
holder_release(ViewHolder *holder)
{
    for (int i = 0; i < holder->count; i++) {
        PyBuffer_Release(&holder->views[i]);
    }
    holder->count = 0;
}

/* pins into the caller's holder when given one; releases at once only without it */
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

static int
parse_blob(Blob *out, PyObject *obj, ViewHolder *holder)
{
    return blob_from_object_held(out, obj, holder);
}

static PyObject *
sink_write_held(SinkObject *self, PyObject *arg)
{
    ViewHolder holder;
    Blob b;
    long n;
    holder.count = 0;
    if (parse_blob(&b, arg, &holder) < 0) {
        holder_release(&holder);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    n = sink_store(self->fd, &b);
    Py_END_ALLOW_THREADS
    holder_release(&holder);
    return PyLong_FromLong(n);
}

/* the view is released early only on paths that leave the function (`return`, `goto`): the
 * region after them still runs with the view held */
struct send_ctx {
    const char *buf;
    Py_ssize_t len;
    long result;
};

static void
send_ctx_run(SinkObject *self, struct send_ctx *ctx)
{
    Py_BEGIN_ALLOW_THREADS
    ctx->result = sink_send(self->fd, ctx->buf, ctx->len);
    Py_END_ALLOW_THREADS
}

static PyObject *
sink_write_checked(SinkObject *self, PyObject *arg)
{
    Py_buffer view;
    struct send_ctx ctx;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (self->fd < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "closed");
        return NULL;
    }
    if (view.len > 4096) {
        PyBuffer_Release(&view);
        goto fail;
    }
    ctx.buf = view.buf;
    ctx.len = view.len;
    send_ctx_run(self, &ctx);
    PyBuffer_Release(&view);
    return PyLong_FromLong(ctx.result);
fail:
    PyErr_SetString(PyExc_ValueError, "too long");
    return NULL;
}

/* a private copy is read in the region */
static PyObject *
sink_write_copy(SinkObject *self, PyObject *arg)
{
    Py_buffer view;
    char *copy;
    Py_ssize_t len;
    long n;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    len = view.len;
    copy = PyMem_Malloc(len ? len : 1);
    if (copy == NULL) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    memcpy(copy, view.buf, len);
    PyBuffer_Release(&view);
    Py_BEGIN_ALLOW_THREADS
    n = sink_send(self->fd, copy, len);
    Py_END_ALLOW_THREADS
    PyMem_Free(copy);
    return PyLong_FromLong(n);
}

/* the unpinned pointer is used holding the GIL: no other thread runs meanwhile */
static PyObject *
sink_first_byte(SinkObject *self, PyObject *arg)
{
    const void *p = NULL;
    Py_ssize_t len = 0;
    if (PyObject_AsReadBuffer(arg, &p, &len) < 0) {
        return NULL;
    }
    if (len == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromLong(((const unsigned char *)p)[0]);
}

/* parsed through a table into members at offsets: the region uses only the member that is not a
 * buffer (`a.peer`), the unpinned key is read holding the GIL */
typedef struct {
    const char *name;
    size_t offset;
} ArgSpec;

static int
blob_at_offset(const ArgSpec *spec, PyObject *value, void *out)
{
    char *dst = (char *)out + spec->offset;
    Blob *b = (Blob *)dst;
    Py_buffer tmp;
    if (PyObject_GetBuffer(value, &tmp, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    b->data = tmp.buf;
    b->len = tmp.len;
    PyBuffer_Release(&tmp);
    return 0;
}

static PyObject *
sink_tag(SinkObject *self, PyObject *arg)
{
    struct tag_args {
        Blob key;
        SinkObject *peer;
    } a = {{NULL, 0}, NULL};
    static const ArgSpec spec = {"key", offsetof(struct tag_args, key)};
    long n;
    if (blob_at_offset(&spec, arg, &a) < 0) {
        return NULL;
    }
    a.peer = self;
    Py_BEGIN_ALLOW_THREADS
    n = sink_send(a.peer->fd, NULL, 0);
    Py_END_ALLOW_THREADS
    if (n < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize(a.key.data, a.key.len);
}

static PyMethodDef sink_methods[] = {
    {"tag", (PyCFunction)sink_tag, METH_O, NULL},
    {"write_pinned", (PyCFunction)sink_write_pinned, METH_O, NULL},
    {"write_held", (PyCFunction)sink_write_held, METH_O, NULL},
    {"write_copy", (PyCFunction)sink_write_copy, METH_O, NULL},
    {"write_checked", (PyCFunction)sink_write_checked, METH_O, NULL},
    {"first_byte", (PyCFunction)sink_first_byte, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SinkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pins.Sink",
    .tp_basicsize = sizeof(SinkObject),
    .tp_methods = sink_methods,
};
