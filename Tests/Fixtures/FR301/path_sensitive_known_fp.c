/* Known false positives from the corpus audit, kept so a fix shows up as a passing test.
 * Both need path sensitivity freerace does not have yet.
 *
 * 1. Type-check dispatch (bitarray's extend): `vec_extend()` takes a critical section on both
 *    objects when the argument is a Vec and only then reads its buffer; the helper
 *    `extend_generic()` (called with no lock, on a private temporary) reaches `extend_vec()` only
 *    when `Vec_Check(obj)` holds, which the caller already ruled out; the analysis does not know.
 * 2. A free on the branch where the pointer was freshly made (bitarray's decode, Pillow's
 *    path_new): `table_from()` frees `tree` only when it built it, never the object's own. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *items;
    Py_ssize_t n;
} VecObject;

static PyTypeObject Vec_Type;
#define Vec_Check(o) PyObject_TypeCheck(o, &Vec_Type)

static int
vec_resize(VecObject *self, Py_ssize_t n)
{
    char *fresh = PyMem_Malloc(n + 1);
    if (fresh == NULL) {
        return -1;
    }
    if (self->n > 0) {
        memcpy(fresh, self->items, self->n < n ? self->n : n);
    }
    PyMem_Free(self->items);                    // todo-none: FR301 (the unlocked path reaches extend_vec only if Vec_Check holds, which its caller ruled out)
    self->items = fresh;
    self->n = n;
    return 0;
}

static int
extend_vec(VecObject *self, VecObject *other)
{
    Py_ssize_t old = self->n, add = other->n;
    if (vec_resize(self, old + add) < 0) {
        return -1;
    }
    memcpy(self->items + old, other->items, add);
    return 0;
}

static int
extend_generic(VecObject *self, PyObject *obj)
{
    if (Vec_Check(obj)) {
        return extend_vec(self, (VecObject *)obj);
    }
    Py_ssize_t n = PyObject_Length(obj);
    return n < 0 ? -1 : vec_resize(self, self->n + n);
}

static PyObject *
vec_extend(VecObject *self, PyObject *obj)
{
    int r;
    if (Vec_Check(obj)) {
        Py_BEGIN_CRITICAL_SECTION2(self, obj);
        r = extend_vec(self, (VecObject *)obj);
        Py_END_CRITICAL_SECTION2();
    }
    else {
        /* Convert outside the lock into a private Vec, then append it under the lock. */
        VecObject *tmp = PyObject_New(VecObject, &Vec_Type);
        if (tmp == NULL) {
            return NULL;
        }
        tmp->items = NULL;
        tmp->n = 0;
        r = extend_generic(tmp, obj);
        if (r == 0) {
            Py_BEGIN_CRITICAL_SECTION(self);
            r = extend_vec(self, tmp);
            Py_END_CRITICAL_SECTION();
        }
        Py_DECREF(tmp);
    }
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

typedef struct node { struct node *next; } node;

typedef struct {
    PyObject_HEAD
    node *tree;
} TreeObject;

static PyTypeObject Tree_Type;
#define Tree_Check(o) PyObject_TypeCheck(o, &Tree_Type)

static void
tree_delete(node *t)
{
    while (t != NULL) {
        node *next = t->next;
        PyMem_Free(t);
        t = next;
    }
}

static node *
get_tree(PyObject *obj)
{
    if (Tree_Check(obj)) {
        return ((TreeObject *)obj)->tree;
    }
    return PyMem_Calloc(1, sizeof(node));
}

static PyObject *
table_from(VecObject *self, PyObject *obj)
{
    node *tree = get_tree(obj);
    if (tree == NULL) {
        return NULL;
    }
    Py_ssize_t n = 0;
    for (node *t = tree; t != NULL; t = t->next) {
        n++;
    }
    if (!Tree_Check(obj)) {
        tree_delete(tree);                      // todo-none: FR301 (frees only a tree built here, never TreeObject.tree)
    }
    return PyLong_FromSsize_t(n);
}

static PyObject *
tree_depth(TreeObject *self, PyObject *unused)
{
    Py_ssize_t n = 0;
    for (node *t = self->tree; t != NULL; t = t->next) {
        n++;
    }
    return PyLong_FromSsize_t(n);
}

static PyMethodDef vec_methods[] = {
    {"extend", (PyCFunction)vec_extend, METH_O, NULL},
    {"table_from", (PyCFunction)table_from, METH_O, NULL},
    {NULL}
};

static PyMethodDef tree_methods[] = {
    {"depth", (PyCFunction)tree_depth, METH_NOARGS, NULL},
    {NULL}
};

static PyTypeObject Vec_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "fixture.Vec",
    .tp_basicsize = sizeof(VecObject),
    .tp_methods = vec_methods,
};

static PyTypeObject Tree_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "fixture.Tree",
    .tp_basicsize = sizeof(TreeObject),
    .tp_methods = tree_methods,
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static PyModuleDef vecmodule = {PyModuleDef_HEAD_INIT, "vec", NULL, 0, NULL, module_slots};
