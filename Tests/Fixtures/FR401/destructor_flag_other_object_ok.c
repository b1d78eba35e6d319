/* A call named like a destructor on one object's field, followed by a constant stored into a
 * field of *another* local object, is not a destroy-then-mark-closed: the flag must belong to
 * the object whose handle was destroyed. Here tree_release() gets doc->tree only to restore it,
 * and ctx->profile = 1 marks the new context, not the document. */
// expect-none
#include <Python.h>

typedef struct tree tree;
typedef struct ctx { int profile; } ctx;
extern void tree_release(tree *t, tree *fake);
extern tree *tree_fake(tree *t);
extern ctx *ctx_new(tree *t);
extern long tree_walk(tree *t);

typedef struct {
    PyObject_HEAD
    tree *tree;
} DocObject;

static PyObject *
doc_transform(DocObject *self, PyObject *arg)
{
    DocObject *doc = (DocObject *)arg;
    tree *fake = tree_fake(doc->tree);
    ctx *c = ctx_new(fake);
    if (c == NULL) {
        tree_release(doc->tree, fake);
        return PyErr_NoMemory();
    }
    c->profile = 1;
    tree_release(doc->tree, fake);
    Py_RETURN_NONE;
}

static PyObject *
doc_count(DocObject *self, PyObject *unused)
{
    long n;
    Py_BEGIN_ALLOW_THREADS
    n = tree_walk(self->tree);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

static PyMethodDef doc_methods[] = {
    {"transform", (PyCFunction)doc_transform, METH_O, NULL},
    {"count", (PyCFunction)doc_count, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DocType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "doc.Doc",
    .tp_basicsize = sizeof(DocObject),
    .tp_methods = doc_methods,
};
