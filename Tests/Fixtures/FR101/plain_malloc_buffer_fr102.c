/* The arena shape with a plain malloc'd buffer that is read, never executed: FR102, not FR101. */
#include <Python.h>

typedef struct pool {
    char *base;
    size_t used;
} pool_t;

static pool_t *pool;

static PyObject *
pool_peek(PyObject *module, PyObject *unused)
{
    if (pool == NULL) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize(pool->base, pool->used);   // expect-note: thread A {{uses `pool->base`}}
}

static PyObject *
pool_reset(PyObject *module, PyObject *unused)
{
    pool_t *cur = pool;
    pool = NULL;
    if (cur != NULL) {
        free(cur->base);                 // expect: FR102 {{`pool_reset` frees `pool.base`}}
        free(cur);
    }
    Py_RETURN_NONE;
}

static PyObject *
pool_fill(PyObject *module, PyObject *arg)
{
    pool_t *p = malloc(sizeof(pool_t));
    p->base = malloc(4096);
    p->used = 0;
    pool = p;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"peek", pool_peek, METH_NOARGS, NULL},
    {"reset", pool_reset, METH_NOARGS, NULL},
    {"fill", pool_fill, METH_O, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef poolmodule = {PyModuleDef_HEAD_INIT, "pool", NULL, 0, methods, slots};
