# cython: language_level=3
# A Cython extension type whose checksum() hands self.buf to a C loop inside `with nogil:`
# while resize() can reallocate it on another thread: releasing the GIL lets the other method
# run, so this is a use-after-free with or without free-threading. close() is the mirror
# shape: it frees the buffer with the GIL released while other methods read it holding the GIL.
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdlib cimport free

cdef extern from *:
    """
    static unsigned long sum_bytes(const char *p, size_t n) {
        unsigned long s = 0;
        for (size_t i = 0; i < n; i++) s += (unsigned char)p[i];
        return s;
    }
    """
    unsigned long sum_bytes(const char *p, size_t n) nogil

cdef class Blob:
    cdef char *buf
    cdef size_t length

    def __cinit__(self, size_t n):
        self.buf = <char *>PyMem_Malloc(n)
        self.length = n

    def __dealloc__(self):
        PyMem_Free(self.buf)

    def checksum(self):
        cdef unsigned long s
        with nogil:                                         # expect-note: thread A {{releases the GIL here (with nogil)}}
            s = sum_bytes(self.buf, self.length)            # expect: FR401 {{`Blob.checksum` reads `Blob.buf` with the GIL released while `Blob.resize()` may free it}}
        return s

    def resize(self, size_t n):
        cdef char *fresh = <char *>PyMem_Realloc(self.buf, n)   # expect-note: thread B {{frees `Blob.buf`}}
        if fresh == NULL:
            raise MemoryError()
        self.buf = fresh
        self.length = n


cdef class Stream:
    cdef char *data
    cdef size_t size

    def close(self):
        with nogil:
            free(self.data)                                 # expect: FR401 {{`Stream.close` frees `Stream.data` with the GIL released while `Stream.read()` may read it}}
            self.data = NULL

    def read(self):
        return PyBytes_FromStringAndSize(self.data, self.size)   # expect-note: thread A {{reads `self.data` holding the GIL}}
