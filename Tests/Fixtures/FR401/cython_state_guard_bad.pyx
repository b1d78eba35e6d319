# cython: language_level=3
# The shapes of cython_state_guard_ok.pyx without the guard: run() raises its flag, but close()
# does not test it (it tests another flag that run() never sets), so close() can destroy the
# handle while run()'s C loop uses it with the GIL released. A flag lowered again before the
# released region (`self._busy = 0` before `with nogil:`) guards nothing either.
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

    def run(self):
        cdef int err
        self._running = 1
        with nogil:
            err = engine_run(self.handle)       # expect: FR401 {{`Engine.run` reads `Engine.handle` with the GIL released while `Engine.close()` may free it}}
        self._running = 0
        return err

    def close(self):
        if self._closed == 1:
            return
        engine_close(self.handle)
        self._closed = 1


cdef class Worker:
    cdef engine_t *handle
    cdef int _busy
    cdef int _done

    def __cinit__(self):
        self.handle = engine_new()

    def work(self):
        cdef int err
        self._busy = 1
        self._busy = 0
        with nogil:
            err = engine_run(self.handle)       # expect: FR401 {{`Worker.work` reads `Worker.handle` with the GIL released while `Worker.stop()` may free it}}
        return err

    def stop(self):
        if self._busy == 1:
            raise RuntimeError("busy")
        engine_close(self.handle)
        self._done = 1
