# cython: language_level=3
# A Cython extension type wrapping a C library session handle. close() destroys the handle with
# a library call and sets the attribute to NULL, the way C code marks a pointer dead; query()
# hands the same handle to the library inside `with nogil:`. While query() runs without the GIL,
# another thread can call close(): the library call then works on a destroyed session.

cdef extern from *:
    """
    typedef struct session session;
    static session *session_open(const char *dsn) { return 0; }
    static int session_run(session *s, const char *q) { return 0; }
    static void session_destroy(session *s) { }
    """
    ctypedef struct session:
        pass
    session *session_open(const char *dsn)
    int session_run(session *s, const char *q) nogil
    void session_destroy(session *s) nogil

cdef class SessionConnection:
    cdef session *handle

    def __cinit__(self, bytes dsn):
        self.handle = session_open(dsn)

    def query(self, bytes q):
        cdef const char *text = q
        cdef int rc
        with nogil:                                     # expect-note: thread A {{releases the GIL here (with nogil)}}
            rc = session_run(self.handle, text)         # expect: FR401 {{`SessionConnection.query` reads `SessionConnection.handle` with the GIL released while `SessionConnection.close()` may free it}}
        return rc

    def close(self):
        if self.handle != NULL:
            with nogil:
                session_destroy(self.handle)            # expect-note: thread B {{a library destructor (the pointer is set to NULL after it)}}
            self.handle = NULL
