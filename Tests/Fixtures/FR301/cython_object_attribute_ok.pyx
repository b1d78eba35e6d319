# cython: language_level=3, freethreading_compatible=True
# expect-none
# A method named like a destructor (`_close`) given an attribute declared with a Python type
# (`str`, `object`) and followed by a flag store is not a library destroying a handle: the
# attribute holds a reference, which a call cannot end (a protocol sending "close statement"
# for a statement's name, then marking the statement closed).

cdef class Statement:
    cdef readonly str name
    cdef object params
    cdef bint closed

    def __cinit__(self, str name):
        self.name = name
        self.params = None
        self.closed = False

    def describe(self):
        return self.name.upper()

    def values(self):
        return list(self.params)


cdef class Protocol:
    cdef object transport

    cdef _close(self, str name, object params):
        self.transport.write(name.encode())

    def close_statement(self, Statement state):
        self._close(state.name, state.params)
        state.closed = True
