# cython: language_level=3, freethreading_compatible=True
# The shape of cython_object_attribute_ok.pyx with a C attribute: a C handle handed to a library
# function named like a destructor, with the statement marked closed right after, ends that
# memory, and another thread's `describe()` may still read it.

cdef extern from *:
    """
    static void lib_stmt_close(char *name) { (void)name; }
    static int lib_stmt_kind(char *name) { return name[0]; }
    """
    void lib_stmt_close(char *name)
    int lib_stmt_kind(char *name)

cdef class Statement:
    cdef char *name
    cdef bint closed

    def describe(self):
        return lib_stmt_kind(self.name)


cdef class Protocol:
    cdef object transport

    def close_statement(self, Statement state):
        lib_stmt_close(state.name)                  # expect: FR301 {{`Protocol.close_statement` frees `Statement.name` while `Statement.describe()`}}
        state.closed = True
