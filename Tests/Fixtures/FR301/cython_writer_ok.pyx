# cython: language_level=3, freethreading_compatible=True
# expect-none
# The same Writer made safe: every method that grows or reads the buffer holds the object's
# critical section (`@cython.critical_section`, or `with cython.critical_section(self)`), or a
# lock object that both sides take. The buffer is made in __cinit__ (no other thread has the
# object yet) and freed only in __dealloc__ (no method runs on an object being deallocated).
cimport cython
from cpython.mem cimport PyMem_Malloc, PyMem_Realloc, PyMem_Free
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.string cimport memcpy
import threading

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
        cdef char *fresh = <char *>PyMem_Realloc(self.buf, n)
        if fresh == NULL:
            raise MemoryError()
        self.buf = fresh
        self.capacity = n
        return 0

    @cython.critical_section
    def write(self, bytes data):
        cdef size_t n = len(data)
        if self.length + n > self.capacity:
            self._grow(2 * (self.length + n))
        memcpy(self.buf + self.length, <char *>data, n)
        self.length += n

    @cython.critical_section
    def getvalue(self):
        return PyBytes_FromStringAndSize(self.buf, self.length)

    def first(self):
        with cython.critical_section(self):
            return self.buf[0]


cdef class Buffer:
    cdef char *data
    cdef size_t size
    cdef object _lock

    def __cinit__(self):
        self.data = <char *>PyMem_Malloc(16)
        self.size = 16

    def __init__(self, size_t size):
        self._lock = threading.Lock()
        # an initializer works on an object no other thread has yet
        self.data = <char *>PyMem_Realloc(self.data, size)
        self.size = size

    def __dealloc__(self):
        PyMem_Free(self.data)

    def resize(self, size_t size):
        with self._lock:
            self.data = <char *>PyMem_Realloc(self.data, size)
            self.size = size

    def tobytes(self):
        with self._lock:
            return PyBytes_FromStringAndSize(self.data, self.size)
