# cython: language_level=3, freethreading_compatible=True
# A descriptor caching values in a dict held by the instance it is read from: the dict is
# the caller's object (an attribute of an argument), so another thread can evict or replace
# the entry between PyDict_GetItem and the return, which increfs the borrowed value too late.
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject

cdef extern from "Python.h":
    PyObject* PyObject_CallOneArg(object callable, object arg) except NULL
    int PyDict_SetItem(object d, object key, PyObject* value) except -1
    void Py_DECREF(PyObject*)


cdef class memo_slot:
    cdef object compute
    cdef object key

    def __init__(self, compute, key):
        self.compute = compute
        self.key = key

    def __get__(self, inst, owner):
        if inst is None:
            return self
        cdef dict table = inst._memo
        cdef PyObject* hit = PyDict_GetItem(table, self.key)   # expect: FR302 {{`hit` is borrowed from shared `table` with PyDict_GetItem}}
        if hit == NULL:
            hit = PyObject_CallOneArg(self.compute, inst)
            PyDict_SetItem(table, self.key, hit)
            Py_DECREF(hit)
        return <object>hit


def lookup(mapping, key):
    cdef PyObject* v = PyDict_GetItem(mapping, key)   # expect: FR302 {{`v` is borrowed from shared `mapping` with PyDict_GetItem}}
    if v == NULL:
        return None
    return <object>v
