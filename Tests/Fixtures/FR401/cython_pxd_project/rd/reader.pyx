# cython: language_level=3
# Reader's attributes come from reader.pxd; Scanner inherits them. Scanner.scan() reads the
# inherited self.buf inside `with nogil:` while Reader.refill() frees it on another thread: the
# field is Reader's, whichever class's method touches it.
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memchr

cdef class Reader:
    def __dealloc__(self):
        PyMem_Free(self.buf)

    def refill(self, bytes data):
        cdef size_t n = len(data)
        PyMem_Free(self.buf)                                  # expect-note: thread B {{frees `Reader.buf`}}
        self.buf = <char *>PyMem_Malloc(n)
        self.size = n


cdef class Scanner(Reader):
    cdef size_t pos

    def scan(self, char c):
        cdef const void *hit
        with nogil:
            hit = memchr(self.buf, c, self.size)              # expect: FR401 {{`Scanner.scan` reads `Reader.buf` with the GIL released while `Reader.refill()` may free it}}
        return hit != NULL
