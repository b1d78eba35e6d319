# cython: language_level=3
# expect-none
# Without a free-threading declaration the GIL serializes these methods: the realloc in write()
# and the copy in getvalue() never overlap (FR301 is about GIL-free modules).
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.bytes cimport PyBytes_FromStringAndSize

cdef class Writer:
    cdef char *buf
    cdef size_t length

    def write(self, size_t n):
        self.buf = <char *>PyMem_Realloc(self.buf, n)
        self.length = n

    def getvalue(self):
        return PyBytes_FromStringAndSize(self.buf, self.length)
