# cython: language_level=3
# freerace-options: --target free-threaded
# An encoder whose output buffer is a C struct embedded in the object (`cdef out_buffer out`):
# encode() grows it through a C helper in buffer.h while getvalue() copies out of the old
# `self.out.buf` on another thread. The memory belongs to the Encoder object.
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.bytes cimport PyBytes_FromStringAndSize

cdef extern from "buffer.h":
    struct out_buffer:
        char *buf
        size_t length
        size_t capacity
    int buffer_write(out_buffer *b, const char *data, size_t n) except -1
    int buffer_put_byte(out_buffer *b, unsigned char c) except -1

cdef class Encoder:
    cdef out_buffer out
    cdef object default

    def __cinit__(self):
        self.out.buf = <char *>PyMem_Malloc(256)
        self.out.capacity = 256
        self.out.length = 0

    def __dealloc__(self):
        PyMem_Free(self.out.buf)
        self.out.buf = NULL

    cdef int _encode(self, object o) except -1:
        cdef bytes b
        if o is None:
            buffer_put_byte(&self.out, 0xc0)   # expect: FR301 {{`Encoder._encode` frees `Encoder.out.buf` while `Encoder.encode()`, `Encoder.getvalue()` may read it}}
        else:
            b = bytes(o)
            buffer_write(&self.out, b, len(b))
        return 0

    def encode(self, object o):
        self._encode(o)

    def getvalue(self):
        return PyBytes_FromStringAndSize(self.out.buf, self.out.length)   # expect-note: thread A {{`Encoder.getvalue()` reads `self.out.buf`}}

    def clear(self):
        self.out.length = 0
