/* The free list of freelist_bad.c kept per thread (`_Thread_local`): a block given back goes to
 * the list of the thread that frees it, and only that thread takes it again. */
// expect-none
#include <Python.h>
#include <string.h>

union block {
    char data[64];
    union block *next;
};

static _Thread_local union block *free_blocks = NULL;

static void
block_free(void *p)
{
    union block *b = (union block *)p;
    b->next = free_blocks;
    free_blocks = b;
}

static void *
block_alloc(void)
{
    union block *b;
    if (free_blocks == NULL)
        return PyMem_Malloc(sizeof(union block));
    b = free_blocks;
    free_blocks = b->next;
    return b->data;
}

typedef struct {
    PyObject_HEAD
    char *buf;
} BufferObject;

static void
buffer_dealloc(BufferObject *self)
{
    block_free(self->buf);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
make_buffer(PyObject *module, PyObject *unused)
{
    char *p = block_alloc();
    if (p == NULL)
        return PyErr_NoMemory();
    memset(p, 0, 64);
    return PyLong_FromVoidPtr(p);
}

static PyMethodDef methods[] = {{"make_buffer", make_buffer, METH_NOARGS, NULL}, {NULL}};

static PyTypeObject Buffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "freelist.Buffer",
    .tp_basicsize = sizeof(BufferObject),
    .tp_dealloc = (destructor)buffer_dealloc,
};

static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef freelist_module = {PyModuleDef_HEAD_INIT, "freelist", NULL, 0, methods, slots};
PyMODINIT_FUNC PyInit_freelist(void) { return PyModuleDef_Init(&freelist_module); }
