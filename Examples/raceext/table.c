/* raceext.table: a tiny open-addressing table, in a buggy and a fixed form.
 *
 * Table       (buggy): resize() frees the entry array while get() and the iterator read it
 *                      without a critical section. freerace reports FR301.
 * SafeTable   (fixed): every entry point takes Py_BEGIN_CRITICAL_SECTION on the table.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject *key;
    PyObject *value;
} entry_t;

typedef struct {
    PyObject_HEAD
    Py_ssize_t size;
    Py_ssize_t used;
    entry_t *entries;
} TableObject;

typedef struct {
    PyObject_HEAD
    TableObject *table;
    Py_ssize_t pos;
} TableIterObject;

/* The fixed variant has the same layout. */
typedef struct {
    PyObject_HEAD
    Py_ssize_t size;
    Py_ssize_t used;
    entry_t *entries;
} SafeTableObject;

typedef struct {
    PyObject_HEAD
    SafeTableObject *table;
    Py_ssize_t pos;
} SafeTableIterObject;

static int
table_resize(TableObject *self)
{
    entry_t *old = self->entries;
    Py_ssize_t oldsize = self->size;
    entry_t *fresh = PyMem_Calloc((size_t)oldsize * 2, sizeof(entry_t));
    if (fresh == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < oldsize; i++) {
        fresh[i] = old[i];
    }
    self->entries = fresh;
    self->size = oldsize * 2;
    PyMem_Free(old);
    return 0;
}

static PyObject *
table_add(TableObject *self, PyObject *args)
{
    PyObject *key, *value;
    if (!PyArg_ParseTuple(args, "OO", &key, &value)) {
        return NULL;
    }
    if (self->used == self->size && table_resize(self) < 0) {
        return NULL;
    }
    self->entries[self->used].key = Py_NewRef(key);
    self->entries[self->used].value = Py_NewRef(value);
    self->used++;
    Py_RETURN_NONE;
}

static PyObject *
table_get(TableObject *self, PyObject *key)
{
    for (Py_ssize_t i = 0; i < self->used; i++) {
        entry_t *e = &self->entries[i];
        if (e->key == key) {
            return Py_NewRef(e->value);
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
tableiter_next(TableIterObject *it)
{
    TableObject *t = it->table;
    if (it->pos >= t->used) {
        return NULL;
    }
    return Py_NewRef(t->entries[it->pos++].key);
}

/* The fixed variant: the same operations under the table's critical section. */

static int
safetable_resize(SafeTableObject *self)
{
    entry_t *old = self->entries;
    entry_t *fresh = PyMem_Calloc((size_t)self->size * 2, sizeof(entry_t));
    if (fresh == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(fresh, old, (size_t)self->size * sizeof(entry_t));
    self->entries = fresh;
    self->size *= 2;
    PyMem_Free(old);    /* callers hold the critical section: no reader can be inside `old` */
    return 0;
}

static PyObject *
safetable_add(SafeTableObject *self, PyObject *args)
{
    PyObject *key, *value, *result = NULL;
    if (!PyArg_ParseTuple(args, "OO", &key, &value)) {
        return NULL;
    }
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->used < self->size || safetable_resize(self) == 0) {
        self->entries[self->used].key = Py_NewRef(key);
        self->entries[self->used].value = Py_NewRef(value);
        self->used++;
        result = Py_None;
    }
    Py_END_CRITICAL_SECTION();
    return Py_XNewRef(result);
}

static PyObject *
safetable_get(SafeTableObject *self, PyObject *key)
{
    PyObject *result = Py_None;
    Py_BEGIN_CRITICAL_SECTION(self);
    for (Py_ssize_t i = 0; i < self->used; i++) {
        if (self->entries[i].key == key) {
            result = self->entries[i].value;
            break;
        }
    }
    Py_INCREF(result);
    Py_END_CRITICAL_SECTION();
    return result;
}

static PyObject *
safetableiter_next(SafeTableIterObject *it)
{
    PyObject *key = NULL;
    Py_BEGIN_CRITICAL_SECTION(it->table);
    if (it->pos < it->table->used) {
        key = Py_NewRef(it->table->entries[it->pos++].key);
    }
    Py_END_CRITICAL_SECTION();
    return key;
}

static void
table_dealloc(TableObject *self)
{
    for (Py_ssize_t i = 0; i < self->used; i++) {
        Py_XDECREF(self->entries[i].key);
        Py_XDECREF(self->entries[i].value);
    }
    PyMem_Free(self->entries);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void
safetable_dealloc(SafeTableObject *self)
{
    for (Py_ssize_t i = 0; i < self->used; i++) {
        Py_XDECREF(self->entries[i].key);
        Py_XDECREF(self->entries[i].value);
    }
    PyMem_Free(self->entries);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef table_methods[] = {
    {"add", (PyCFunction)table_add, METH_VARARGS, NULL},
    {"get", (PyCFunction)table_get, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef safetable_methods[] = {
    {"add", (PyCFunction)safetable_add, METH_VARARGS, NULL},
    {"get", (PyCFunction)safetable_get, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot table_slots[] = {
    {Py_tp_dealloc, table_dealloc},
    {Py_tp_methods, table_methods},
    {0, NULL},
};

static PyType_Spec table_spec = {
    .name = "raceext.Table",
    .basicsize = sizeof(TableObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = table_slots,
};

static PyType_Slot safetable_slots[] = {
    {Py_tp_dealloc, safetable_dealloc},
    {Py_tp_methods, safetable_methods},
    {0, NULL},
};

static PyType_Spec safetable_spec = {
    .name = "raceext.SafeTable",
    .basicsize = sizeof(SafeTableObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = safetable_slots,
};

static PyType_Slot tableiter_slots[] = {
    {Py_tp_iternext, tableiter_next},
    {0, NULL},
};

static PyType_Spec tableiter_spec = {
    .name = "raceext.TableIter",
    .basicsize = sizeof(TableIterObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = tableiter_slots,
};

static PyType_Slot safetableiter_slots[] = {
    {Py_tp_iternext, safetableiter_next},
    {0, NULL},
};

static PyType_Spec safetableiter_spec = {
    .name = "raceext.SafeTableIter",
    .basicsize = sizeof(SafeTableIterObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = safetableiter_slots,
};

static int
table_exec(PyObject *m)
{
    PyType_Spec *specs[] = {&table_spec, &safetable_spec, &tableiter_spec, &safetableiter_spec};
    for (size_t i = 0; i < 4; i++) {
        PyObject *t = PyType_FromModuleAndSpec(m, specs[i], NULL);
        if (t == NULL || PyModule_AddType(m, (PyTypeObject *)t) < 0) {
            Py_XDECREF(t);
            return -1;
        }
        Py_DECREF(t);
    }
    return 0;
}

static PyModuleDef_Slot table_module_slots[] = {
    {Py_mod_exec, table_exec},
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef table_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "raceext.table",
    .m_size = 0,
    .m_slots = table_module_slots,
};

PyMODINIT_FUNC
PyInit_table(void)
{
    return PyModuleDef_Init(&table_module);
}
