/* A lock macro that tries the lock and, when it is busy, waits for it with the GIL released:
 * one acquisition, whichever branch took it. Early-exit paths release it and return; the code
 * after them still holds it. Every use and replacement of `unused_data` holds the lock. */
#include <Python.h>
#include <pythread.h>

#define ENTER_OBJ(obj) do {                        \
    if (!PyThread_acquire_lock((obj)->lock, 0)) {  \
        Py_BEGIN_ALLOW_THREADS                     \
        PyThread_acquire_lock((obj)->lock, 1);     \
        Py_END_ALLOW_THREADS                       \
    } } while (0)
#define LEAVE_OBJ(obj) PyThread_release_lock((obj)->lock);

typedef struct {
    PyObject_HEAD
    PyObject *unused_data;
    int ready;
    PyThread_type_lock lock;
} DecompObject;

static PyObject *
decomp_flush(DecompObject *self, PyObject *arg)
{
    ENTER_OBJ(self);
    if (!self->ready) {
        LEAVE_OBJ(self);
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    if (!PyBytes_Check(arg)) {
        LEAVE_OBJ(self);
        PyErr_SetString(PyExc_TypeError, "bytes expected");
        return NULL;
    }
    Py_SETREF(self->unused_data, Py_NewRef(arg));
    LEAVE_OBJ(self);
    Py_RETURN_NONE;
}

static PyObject *
decomp_get_unused(DecompObject *self, void *closure)
{
    PyObject *u;
    ENTER_OBJ(self);
    u = Py_NewRef(self->unused_data);
    LEAVE_OBJ(self);
    return u;
}

static PyMethodDef decomp_methods[] = {
    {"flush", (PyCFunction)decomp_flush, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef decomp_getset[] = {
    {"unused_data", (getter)decomp_get_unused, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject DecompType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "trywait.Decomp",
    .tp_basicsize = sizeof(DecompObject),
    .tp_methods = decomp_methods,
    .tp_getset = decomp_getset,
};

static PyModuleDef_Slot trywait_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL},
};

static struct PyModuleDef trywait_module = {
    PyModuleDef_HEAD_INIT, .m_name = "trywait", .m_slots = trywait_slots,
};

PyMODINIT_FUNC
PyInit_trywait(void)
{
    return PyModuleDef_Init(&trywait_module);
}
// expect-none
