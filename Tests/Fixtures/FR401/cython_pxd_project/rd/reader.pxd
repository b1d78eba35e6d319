# The extension type's C attributes are declared here, its methods in reader.pyx.
cdef class Reader:
    cdef char *buf
    cdef size_t size
