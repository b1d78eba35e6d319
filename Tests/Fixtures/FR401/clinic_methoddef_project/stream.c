/* A decoder method reached only through an Argument Clinic METHODDEF macro. It appends the
 * input to the object's buffer (reallocating it), points a local input descriptor into that
 * buffer and hands the descriptor's address to a helper that decodes with the GIL released.
 * A second decode() on the same object reallocates the buffer under the first one: the
 * critical section around it is suspended while its thread has released the GIL. */
#include <Python.h>
#include <string.h>

typedef struct { const char *src; size_t size; size_t pos; } in_desc;
typedef struct lib_ctx lib_ctx;
extern size_t lib_decode(lib_ctx *ctx, in_desc *in);

typedef struct {
    PyObject_HEAD
    lib_ctx *ctx;
    char *input_buffer;
    size_t used;
} DecoderObject;

static size_t
run_detached(DecoderObject *self, in_desc *in)
{
    size_t n;
    Py_BEGIN_ALLOW_THREADS
    n = lib_decode(self->ctx, in);      // expect: FR401 {{`run_detached` reads `DecoderObject.input_buffer` with the GIL released while `Decoder.decode()` may free it}}
    Py_END_ALLOW_THREADS
    return n;
}

#include "clinic/stream.c.h"

static PyObject *
stream_Decoder_decode_impl(DecoderObject *self, Py_buffer *data)
{
    in_desc in;
    size_t n;
    char *nb;
    Py_BEGIN_CRITICAL_SECTION(self);
    nb = PyMem_Realloc(self->input_buffer, self->used + (size_t)data->len);
    if (nb == NULL) {
        Py_EXIT_CRITICAL_SECTION();
        return PyErr_NoMemory();
    }
    self->input_buffer = nb;
    memcpy(self->input_buffer + self->used, data->buf, (size_t)data->len);
    self->used += (size_t)data->len;
    in.src = self->input_buffer;
    in.size = self->used;
    in.pos = 0;
    n = run_detached(self, &in);
    Py_END_CRITICAL_SECTION();
    return PyLong_FromSize_t(n);
}

static PyMethodDef decoder_methods[] = {
    STREAM_DECODER_DECODE_METHODDEF
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "stream.Decoder",
    .tp_basicsize = sizeof(DecoderObject),
    .tp_methods = decoder_methods,
};
