/* Shapes of GIL-released regions that hid real races:
 * - an early-exit `Py_BLOCK_THREADS; return` inside the region takes the GIL back for its own
 *   block only: the loop after it still runs without the GIL;
 * - a critical section is suspended while its thread has released the GIL: it orders nothing
 *   inside Py_BEGIN_ALLOW_THREADS;
 * - a library destructor (an external call on a field that is set to NULL right after) frees;
 * - a free with the GIL released races with readers that hold the GIL. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    char *buf;
    Py_ssize_t len;
} ReaderObject;

static Py_ssize_t
reader_scan(ReaderObject *self, char *out)
{
    Py_ssize_t i;
    PyThreadState *_save;
    Py_UNBLOCK_THREADS
    for (i = 0; i < self->len; i++) {
        if (i >= 64) {
            Py_BLOCK_THREADS
            PyErr_SetString(PyExc_ValueError, "too long");
            return -1;
        }
        out[i] = self->buf[i];          // expect: FR401 {{`reader_scan` reads `ReaderObject.buf` with the GIL released}}
    }
    Py_BLOCK_THREADS
    return i;
}

static PyObject *
reader_read(ReaderObject *self, PyObject *unused)
{
    char out[64];
    Py_ssize_t n = reader_scan(self, out);
    if (n < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize(out, n);
}

static PyObject *
reader_grow(ReaderObject *self, PyObject *unused)
{
    char *nb = PyMem_Realloc(self->buf, self->len * 2 + 1);
    if (nb == NULL) {
        return PyErr_NoMemory();
    }
    self->buf = nb;
    self->len = self->len * 2 + 1;
    Py_RETURN_NONE;
}

/* The critical section taken around the region does not hold inside it. */
typedef struct {
    PyObject_HEAD
    char *data;
    size_t size;
} DecoderObject;

extern void engine_scan(const char *data, size_t size);

static PyObject *
decoder_feed(DecoderObject *self, PyObject *arg)
{
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    Py_BEGIN_CRITICAL_SECTION(self);
    if (self->size < (size_t)n) {
        char *fresh = PyMem_Malloc(n);
        if (fresh != NULL) {
            PyMem_Free(self->data);
            self->data = fresh;
            self->size = n;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    engine_scan(self->data, self->size);   // expect: FR401 {{`decoder_feed` reads `DecoderObject.data` with the GIL released}}
    Py_END_ALLOW_THREADS
    Py_END_CRITICAL_SECTION();
    Py_RETURN_NONE;
}

/* A client library's result freed with the GIL released, read by other methods holding it. */
typedef struct result result_t;
extern result_t *lib_exec(void *conn, const char *query);
extern void lib_result_free(result_t *res);
extern int lib_result_rows(const result_t *res);

typedef struct {
    PyObject_HEAD
    void *conn;
    result_t *res;
} CursorObject;

static PyObject *
cursor_execute(CursorObject *self, PyObject *query)
{
    const char *q = PyUnicode_AsUTF8(query);
    if (q == NULL) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    lib_result_free(self->res);         // expect: FR401 {{`cursor_execute` frees `CursorObject.res` with the GIL released while `Cursor.rowcount` may read it}}
    self->res = NULL;
    self->res = lib_exec(self->conn, q);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *
cursor_rowcount(CursorObject *self, void *closure)
{
    if (self->res == NULL) {
        return PyLong_FromLong(-1);
    }
    return PyLong_FromLong(lib_result_rows(self->res));
}

/* Quiet: the result is freed after the GIL is taken back. */
typedef struct {
    PyObject_HEAD
    void *conn;
    result_t *res;
} SafeCursorObject;

static PyObject *
safe_execute(SafeCursorObject *self, PyObject *query)
{
    const char *q = PyUnicode_AsUTF8(query);
    result_t *fresh;
    if (q == NULL) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    fresh = lib_exec(self->conn, q);
    Py_END_ALLOW_THREADS
    lib_result_free(self->res);         // expect-none
    self->res = NULL;
    self->res = fresh;
    Py_RETURN_NONE;
}

static PyObject *
safe_rowcount(SafeCursorObject *self, void *closure)
{
    return PyLong_FromLong(self->res == NULL ? -1 : lib_result_rows(self->res));
}

static PyMethodDef reader_methods[] = {
    {"read", (PyCFunction)reader_read, METH_NOARGS, NULL},
    {"grow", (PyCFunction)reader_grow, METH_NOARGS, NULL},
    {NULL},
};
static PyMethodDef decoder_methods[] = {
    {"feed", (PyCFunction)decoder_feed, METH_O, NULL},
    {NULL},
};
static PyMethodDef cursor_methods[] = {
    {"execute", (PyCFunction)cursor_execute, METH_O, NULL},
    {NULL},
};
static PyGetSetDef cursor_getset[] = {
    {"rowcount", (getter)cursor_rowcount, NULL, NULL, NULL},
    {NULL},
};
static PyMethodDef safe_methods[] = {
    {"execute", (PyCFunction)safe_execute, METH_O, NULL},
    {NULL},
};
static PyGetSetDef safe_getset[] = {
    {"rowcount", (getter)safe_rowcount, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject Reader_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = "detached.Reader",
    .tp_basicsize = sizeof(ReaderObject), .tp_methods = reader_methods};
static PyTypeObject Decoder_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = "detached.Decoder",
    .tp_basicsize = sizeof(DecoderObject), .tp_methods = decoder_methods};
static PyTypeObject Cursor_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = "detached.Cursor",
    .tp_basicsize = sizeof(CursorObject), .tp_methods = cursor_methods, .tp_getset = cursor_getset};
static PyTypeObject SafeCursor_Type = {PyVarObject_HEAD_INIT(NULL, 0) .tp_name = "detached.SafeCursor",
    .tp_basicsize = sizeof(SafeCursorObject), .tp_methods = safe_methods, .tp_getset = safe_getset};

static struct PyModuleDef detached_module = {PyModuleDef_HEAD_INIT, "detached", NULL, -1, NULL};

PyMODINIT_FUNC
PyInit_detached(void)
{
    return PyModule_Create(&detached_module);
}
