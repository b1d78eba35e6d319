# cython: language_level=3, freethreading_compatible=True
# The fixed shapes: a strong reference from PyDict_GetItemRef, and a dict built in the
# function itself, which no other thread can see yet.
# expect-none
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject

cdef extern from "Python.h":
    int PyDict_GetItemRef(object d, object key, PyObject** result) except -1
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
        cdef PyObject* hit
        if PyDict_GetItemRef(table, self.key, &hit) == 0:
            hit = PyObject_CallOneArg(self.compute, inst)
            PyDict_SetItem(table, self.key, hit)
        value = <object>hit
        Py_DECREF(hit)
        return value


def first_of_fresh(key):
    cdef dict d = {}
    d[key] = 1
    cdef PyObject* v = PyDict_GetItem(d, key)
    return <object>v
