# profiler.collector: a Cython stack collector, in a buggy and a fixed form.
#
# collect_all_stacks()  (buggy): takes every thread's frame with _PyThread_CurrentFrames() and
#                       follows f_back/f_code from the sampling thread while those threads keep
#                       running: a frame can be popped and reused under the walk (the shape of
#                       dd-trace-py's profiler crash). freerace reports FR201.
# collect_own_stack()   (fixed): walks only the calling thread's own stack, from sys._getframe().
import sys

from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF

cdef extern from "Python.h":
    PyObject* _PyThread_CurrentFrames()


cdef list stack_of(object frame, int max_depth):
    """(filename, function, line) for `frame` and its callers, innermost first."""
    cdef list stack = []
    while frame is not None and len(stack) < max_depth:
        code = frame.f_code
        stack.append((code.co_filename, code.co_name, frame.f_lineno))
        frame = frame.f_back
    return stack


cpdef dict collect_all_stacks(int max_depth=64):
    cdef dict frames = <dict>_PyThread_CurrentFrames()
    Py_DECREF(frames)    # the cast took its own reference to the new dict
    cdef dict stacks = {}
    for thread_id, frame in frames.items():
        stacks[thread_id] = stack_of(frame, max_depth)
    return stacks


cpdef list collect_own_stack(int max_depth=64):
    return stack_of(sys._getframe(), max_depth)
