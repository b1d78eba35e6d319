/* Argument Clinic style (generated in real projects): the method table names the method
 * through an object-like macro, and the function through _PyCFunction_CAST. */
PyDoc_STRVAR(stream_Decoder_decode__doc__, "decode($self, data, /)\n--\n\nDecode a chunk.");

#define STREAM_DECODER_DECODE_METHODDEF    \
    {"decode", _PyCFunction_CAST(stream_Decoder_decode), METH_O, stream_Decoder_decode__doc__},

static PyObject *
stream_Decoder_decode_impl(DecoderObject *self, Py_buffer *data);

static PyObject *
stream_Decoder_decode(DecoderObject *self, PyObject *arg)
{
    PyObject *return_value = NULL;
    Py_buffer data = {NULL, NULL};
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) != 0) {
        goto exit;
    }
    return_value = stream_Decoder_decode_impl(self, &data);
exit:
    if (data.obj) {
       PyBuffer_Release(&data);
    }
    return return_value;
}
