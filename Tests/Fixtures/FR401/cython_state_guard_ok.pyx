# cython: language_level=3
# expect-none
# A state guard: run() raises `self._running` (holding the GIL) before it hands the handle to a
# C loop inside `with nogil:`, and lowers it after; close() raises when the flag is set, before
# it destroys the handle, and marks itself closed (`self._closed`) before its own released
# region, which a second close() leaves on. The flag keeps the two phases apart as a lock would:
# the test and the store both run holding the GIL.
cdef extern from *:
    """
    typedef struct { int n; } engine_t;
    static engine_t *engine_new(void) { static engine_t e; return &e; }
    static int engine_run(engine_t *e) { return e->n; }
    static void engine_close(engine_t *e) { (void)e; }
    """
    ctypedef struct engine_t:
        int n
    engine_t *engine_new()
    int engine_run(engine_t *e) nogil
    void engine_close(engine_t *e)

cdef class Engine:
    cdef engine_t *handle
    cdef int _running
    cdef int _closed

    def __cinit__(self):
        self.handle = engine_new()
        self._running = 0
        self._closed = 0

    cdef _spin(self):
        cdef int err
        with nogil:
            err = engine_run(self.handle)
        return err

    def run(self):
        if self._closed == 1:
            raise RuntimeError("closed")
        if self._running == 1:
            raise RuntimeError("already running")
        self._running = 1
        try:
            self._spin()
        finally:
            self._running = 0

    def close(self):
        if self._running == 1:
            raise RuntimeError("cannot close a running engine")
        if self._closed:
            return
        self._closed = 1
        self._spin()
        engine_close(self.handle)
        self._closed = 1
