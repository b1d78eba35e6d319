/* A slice copies part of the buffer into a new object: the constructor takes ownership of the
 * pointer it is given, frees it when the new object cannot be made, and duplicates it first when
 * asked to (Pillow's path_new shape). Passed `self->xy + 2 * lo`, a pointer into the middle of
 * the buffer, it frees only its own copy: nothing frees `self->xy` while readers run. */
// expect-none
#include <Python.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    double *xy;
} PathObject;

static PyTypeObject Path_Type;

static PathObject *
path_new(Py_ssize_t count, double *xy, int duplicate)
{
    if (duplicate) {
        double *copy = PyMem_Malloc(count * 2 * sizeof(double));
        if (copy == NULL) {
            return NULL;
        }
        memcpy(copy, xy, count * 2 * sizeof(double));
        xy = copy;
    }
    PathObject *path = PyObject_New(PathObject, &Path_Type);
    if (path == NULL) {
        PyMem_Free(xy);
        return NULL;
    }
    path->count = count;
    path->xy = xy;
    return path;
}

static PyObject *
path_slice(PathObject *self, Py_ssize_t lo, Py_ssize_t hi)
{
    if (lo < 0) {
        lo = 0;
    }
    if (hi > self->count) {
        hi = self->count;
    }
    if (hi < lo) {
        hi = lo;
    }
    return (PyObject *)path_new(hi - lo, self->xy + 2 * lo, 1);
}

static PyObject *
path_first_x(PathObject *self, PyObject *unused)
{
    if (self->count == 0) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(self->xy[0]);
}

static PySequenceMethods path_as_sequence = {
    .was_sq_slice = (void *)path_slice,
};

static PyMethodDef path_methods[] = {
    {"first_x", (PyCFunction)path_first_x, METH_NOARGS, NULL},
    {NULL}
};

static void
path_dealloc(PathObject *self)
{
    PyMem_Free(self->xy);
    PyObject_Free(self);
}

static PyTypeObject Path_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fixture.Path",
    .tp_basicsize = sizeof(PathObject),
    .tp_dealloc = (destructor)path_dealloc,
    .tp_as_sequence = &path_as_sequence,
    .tp_methods = path_methods,
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef pathmodule = {PyModuleDef_HEAD_INIT, "path", NULL, 0, NULL, slots};
