/* freerace-options: --target free-threaded
 * expect-none
 * A member whose type is a typedef of a pointer (`typedef struct image_s *Image;`) points to
 * memory outside the object: it is not a struct embedded by value, so `self->im->rows` is a
 * field of the image struct, not of the object (its own rules, not FR301's per-object model). */
#include <Python.h>

typedef struct image_s { char *rows; int height; } *Image;

typedef struct {
    PyObject_HEAD
    Image im;
} ImageObject;

static PyObject *image_grow(ImageObject *self, PyObject *unused)
{
    char *rows = PyMem_Realloc(self->im->rows, 2 * self->im->height);
    if (rows == NULL)
        return PyErr_NoMemory();
    self->im->rows = rows;
    self->im->height *= 2;
    Py_RETURN_NONE;
}

static PyObject *image_first(ImageObject *self, PyObject *unused)
{
    return PyLong_FromLong(self->im->rows[0]);
}

static PyMethodDef image_methods[] = {
    {"grow", (PyCFunction)image_grow, METH_NOARGS, NULL},
    {"first", (PyCFunction)image_first, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ImageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "i.Image",
    .tp_basicsize = sizeof(ImageObject),
    .tp_methods = image_methods,
};
