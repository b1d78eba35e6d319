# A Cython stack collector in the shape of dd-trace-py's: frames of all threads are taken with
# _PyThread_CurrentFrames() and walked by a helper in another module.
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF

from profiler_project import walker

cdef extern from "<Python.h>":
    PyObject* _PyThread_CurrentFrames()


cdef collect_frames():
    cdef dict running = <dict>_PyThread_CurrentFrames()    # expect: FR201 {{`collect_frames` dereferences other threads' frames from _PyThread_CurrentFrames()}}
    Py_DECREF(running)
    return tuple((tid, frame) for tid, frame in running.items())


class Collector(object):
    def collect(self):
        samples = []
        for tid, frame in collect_frames():
            samples.append(walker.frame_to_stack(frame, 64))
        return samples
