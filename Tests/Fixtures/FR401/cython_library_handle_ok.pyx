# cython: language_level=3
# The same session wrapper made safe: query() copies the handle and holds a lock object that
# close() also takes, so the handle cannot be destroyed while the library uses it; close() runs
# the destructor under the same lock.
from cpython.pythread cimport PyThread_type_lock, PyThread_allocate_lock, PyThread_acquire_lock, PyThread_release_lock, WAIT_LOCK

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

cdef class LockedSession:
    cdef session *handle
    cdef PyThread_type_lock lock

    def __cinit__(self, bytes dsn):
        self.lock = PyThread_allocate_lock()
        self.handle = session_open(dsn)

    def query(self, bytes q):
        cdef const char *text = q
        cdef int rc = -1
        with nogil:
            PyThread_acquire_lock(self.lock, WAIT_LOCK)
            if self.handle != NULL:
                rc = session_run(self.handle, text)     # expect-none
            PyThread_release_lock(self.lock)
        return rc

    def close(self):
        with nogil:
            PyThread_acquire_lock(self.lock, WAIT_LOCK)
            if self.handle != NULL:
                session_destroy(self.handle)
            self.handle = NULL
            PyThread_release_lock(self.lock)
