/* freerace-options: --target free-threaded
 * expect-none
 * The same matcher with a lock in its state, taken by both methods through small helpers: one
 * tries the lock and, when it is busy, releases the GIL and waits for it (two acquire calls on
 * one lock are one lock wrapper). The lock is taken only when it exists, and the initializer
 * creates it. */
#include <Python.h>

typedef struct { char *items; size_t size, cap; } stack_t;
typedef struct { stack_t stack; int pos; PyThread_type_lock lock; } state_t;

typedef struct {
    PyObject_HEAD
    state_t state;
} Matcher;

static int stack_push(stack_t *s, char c)
{
    if (s->size == s->cap) {
        char *items = PyMem_Realloc(s->items, 2 * s->cap + 1);
        if (items == NULL)
            return -1;
        s->items = items;
        s->cap = 2 * s->cap + 1;
    }
    s->items[s->size++] = c;
    return 0;
}

static void acquire_state_lock(PyObject *owner, state_t *state)
{
    if (state->lock) {
        Py_INCREF(owner);
        if (!PyThread_acquire_lock(state->lock, 0)) {
            Py_BEGIN_ALLOW_THREADS
            PyThread_acquire_lock(state->lock, 1);
            Py_END_ALLOW_THREADS
        }
    }
}

static void release_state_lock(PyObject *owner, state_t *state)
{
    if (state->lock) {
        PyThread_release_lock(state->lock);
        Py_DECREF(owner);
    }
}

static int matcher_init(Matcher *self, PyObject *args, PyObject *kwds)
{
    self->state.lock = PyThread_allocate_lock();
    return self->state.lock == NULL ? -1 : 0;
}

static PyObject *matcher_match(Matcher *self, PyObject *arg)
{
    state_t *state = &self->state;
    acquire_state_lock((PyObject *)self, state);
    if (stack_push(&state->stack, 'x') < 0) {
        release_state_lock((PyObject *)self, state);
        return NULL;
    }
    release_state_lock((PyObject *)self, state);
    Py_RETURN_NONE;
}

static PyObject *matcher_peek(Matcher *self, PyObject *unused)
{
    state_t *state = &self->state;
    PyObject *r;
    acquire_state_lock((PyObject *)self, state);
    r = PyLong_FromLong(state->stack.size ? state->stack.items[0] : 0);
    release_state_lock((PyObject *)self, state);
    return r;
}

static PyMethodDef matcher_methods[] = {
    {"match", (PyCFunction)matcher_match, METH_O, NULL},
    {"peek", (PyCFunction)matcher_peek, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MatcherType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "m.Matcher",
    .tp_basicsize = sizeof(Matcher),
    .tp_init = (initproc)matcher_init,
    .tp_methods = matcher_methods,
};
