/* A shared empty-node singleton, created lazily and handed out by a getter that increfs it: every
 * caller gets a new reference of its own. Dropping that reference (Py_DECREF, or Py_SETREF on the
 * member of a new node that took it over) never drops the reference the static keeps, so the
 * racy lazy initialization can at worst leak one node: benign, not a lifetime bug. Only the
 * module's teardown releases the static. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t size;
    PyObject *items[4];
} Node;

static PyTypeObject Node_Type;
static Node *empty_node;

static Node *
node_new(Py_ssize_t size)
{
    if (size == 0 && empty_node != NULL) {
        Py_INCREF(empty_node);
        return empty_node;
    }
    Node *node = PyObject_New(Node, &Node_Type);
    if (node == NULL) {
        return NULL;
    }
    node->size = size;
    for (Py_ssize_t i = 0; i < 4; i++) {
        node->items[i] = NULL;
    }
    if (size == 0 && empty_node == NULL) {
        empty_node = node;                          // expect-none
        Py_INCREF(empty_node);
    }
    return node;
}

static Node *
node_with_child(Node *child)
{
    Node *parent = node_new(1);
    if (parent == NULL) {
        return NULL;
    }
    parent->items[0] = (PyObject *)child;
    Py_INCREF(child);
    return parent;
}

static PyObject *
tree_insert(PyObject *module, PyObject *item)
{
    Node *empty = node_new(0);
    if (empty == NULL) {
        return NULL;
    }
    Node *parent = node_with_child(empty);
    Py_DECREF(empty);                               // expect-none
    if (parent == NULL) {
        return NULL;
    }
    Node *leaf = node_new(0);
    if (leaf == NULL) {
        Py_DECREF(parent);
        return NULL;
    }
    parent->items[1] = (PyObject *)leaf;
    Py_SETREF(parent->items[1], Py_NewRef(item));   // expect-none
    return (PyObject *)parent;
}

static void
node_dealloc(Node *self)
{
    for (Py_ssize_t i = 0; i < 4; i++) {
        Py_XDECREF(self->items[i]);
    }
    PyObject_Free(self);
}

static PyTypeObject Node_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "trees.Node",
    .tp_basicsize = sizeof(Node),
    .tp_dealloc = (destructor)node_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

static void
trees_free(void *module)
{
    Py_CLEAR(empty_node);
}

static PyMethodDef methods[] = {{"tree_insert", tree_insert, METH_O, NULL}, {NULL}};
static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef trees_module = {
    PyModuleDef_HEAD_INIT, "trees", NULL, 0, methods, slots, NULL, NULL, trees_free,
};
PyMODINIT_FUNC PyInit_trees(void) { return PyModuleDef_Init(&trees_module); }
