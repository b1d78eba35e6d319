/* freerace-options: --target free-threaded
 * A matcher whose state struct is embedded by value in the object: match() grows the state's
 * backtrack stack through helpers that only see `stack_t *`, while peek() reads it on another
 * thread. The stack belongs to the object (`Matcher.state.stack.items`). */
#include <Python.h>

typedef struct { char *items; size_t size, cap; } stack_t;
typedef struct { stack_t stack; int pos; } state_t;

typedef struct {
    PyObject_HEAD
    state_t state;
} Matcher;

static int stack_push(stack_t *s, char c)
{
    if (s->size == s->cap) {
        char *items = PyMem_Realloc(s->items, 2 * s->cap + 1);   // expect-note: thread B {{the memory is released here}}
        if (items == NULL)
            return -1;
        s->items = items;
        s->cap = 2 * s->cap + 1;
    }
    s->items[s->size++] = c;
    return 0;
}

static PyObject *matcher_match(Matcher *self, PyObject *arg)
{
    state_t *state = &self->state;
    if (stack_push(&state->stack, 'x') < 0)   // expect: FR301 {{`matcher_match` frees `Matcher.state.stack.items` while `Matcher.match()`, `Matcher.peek()` may read it}}
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *matcher_peek(Matcher *self, PyObject *unused)
{
    if (self->state.stack.size == 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(self->state.stack.items[0]);   // expect-note: thread A {{`Matcher.peek()` uses `self->state.stack.items`}}
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
    .tp_methods = matcher_methods,
};
