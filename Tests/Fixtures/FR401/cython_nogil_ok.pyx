# cython: language_level=3
# expect-none
# Safe shapes of the same extension types: the released region reads a copy made with the GIL
# held (a bytes object the region does not share); the buffer is freed only in __dealloc__ (no
# method runs on an object being deallocated); a lock object held on both sides (a
# threading.Lock or PyThread lock in a field) orders the free with the released region, which
# a critical section could not (it is suspended while the GIL is released); a read inside
# `with gil:` holds the GIL again.
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.bytes cimport PyBytes_FromStringAndSize
import threading

cdef extern from *:
    """
    static unsigned long sum_bytes(const char *p, size_t n) {
        unsigned long s = 0;
        for (size_t i = 0; i < n; i++) s += (unsigned char)p[i];
        return s;
    }
    """
    unsigned long sum_bytes(const char *p, size_t n) nogil

cdef class Frozen:
    cdef char *buf
    cdef size_t length

    def __cinit__(self, size_t n):
        self.buf = <char *>PyMem_Malloc(n)
        self.length = n

    def __dealloc__(self):
        PyMem_Free(self.buf)

    def checksum(self):
        cdef unsigned long s
        with nogil:
            s = sum_bytes(self.buf, self.length)
        return s


cdef class Guarded:
    cdef char *buf
    cdef size_t length
    cdef object _lock

    def __cinit__(self):
        self.buf = NULL
        self.length = 0

    def __init__(self):
        self._lock = threading.Lock()

    def __dealloc__(self):
        PyMem_Free(self.buf)

    def checksum(self):
        cdef unsigned long s
        with self._lock:
            with nogil:
                s = sum_bytes(self.buf, self.length)
        return s

    def copy_checksum(self):
        cdef bytes snapshot = PyBytes_FromStringAndSize(self.buf, self.length)
        cdef const char *p = snapshot
        cdef size_t n = len(snapshot)
        cdef unsigned long s
        with nogil:
            s = sum_bytes(p, n)
        return s

    def first_byte(self):
        cdef char c
        with nogil:
            with gil:
                c = self.buf[0]
        return c

    def resize(self, size_t n):
        with self._lock:
            self.buf = <char *>PyMem_Realloc(self.buf, n)
            self.length = n
