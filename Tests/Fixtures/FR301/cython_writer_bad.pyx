# cython: language_level=3, freethreading_compatible=True
# A Cython extension type whose write() grows its output buffer with PyMem_Realloc while
# getvalue() copies out of it on another thread: nothing serializes the methods of a shared
# Writer once the module declares free-threading support.
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.string cimport memcpy

cdef class Writer:
    cdef char *buf
    cdef size_t length
    cdef size_t capacity

    def __cinit__(self):
        self.buf = <char *>PyMem_Malloc(64)
        self.capacity = 64
        self.length = 0

    def __dealloc__(self):
        PyMem_Free(self.buf)
        self.buf = NULL

    cdef int _grow(self, size_t n) except -1:
        cdef char *fresh = <char *>PyMem_Realloc(self.buf, n)   # expect: FR301 {{`Writer._grow` frees `Writer.buf` while `Writer.write()`, `Writer.getvalue()`, `Writer.first()` may read it}}
        if fresh == NULL:
            raise MemoryError()
        self.buf = fresh
        self.capacity = n
        return 0

    def write(self, bytes data):
        cdef size_t n = len(data)
        if self.length + n > self.capacity:
            self._grow(2 * (self.length + n))
        memcpy(self.buf + self.length, <char *>data, n)
        self.length += n

    def getvalue(self):
        return PyBytes_FromStringAndSize(self.buf, self.length)   # expect-note: thread A {{`Writer.getvalue()` reads `self.buf`}}

    def first(self):
        if self.buf == NULL:
            return None
        return self.buf[0]   # expect-note: thread A {{`Writer.first()` reads `self.buf`}}
