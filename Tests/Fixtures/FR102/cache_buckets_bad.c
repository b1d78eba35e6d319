/* A cache of small blocks kept in per-size buckets (an array of pointers per bucket): the
 * release function stores the block into its bucket instead of freeing it, the allocation
 * function takes the last one out. The buckets are global and the helpers get them through a
 * parameter; in a free-threaded build two threads race on `available`, so a block can be
 * handed to two owners, or taken while another thread still writes it back (and a block two
 * threads took can then be freed by one of them when its bucket is full). */
// freerace-options: --target free-threaded
#include <Python.h>

#define NBUCKETS 64
#define NSLOTS 8

typedef struct {
    size_t available;
    void *slots[NSLOTS];
} bucket;

static bucket small_cache[NBUCKETS];

static void *
cache_take(size_t n, bucket *cache)
{
    if (n < NBUCKETS && cache[n].available > 0) {
        return cache[n].slots[--(cache[n].available)];
    }
    return PyMem_Malloc(n);
}

static void
cache_release(void *p, size_t n, bucket *cache)
{
    if (p != NULL && n < NBUCKETS && cache[n].available < NSLOTS) {
        cache[n].slots[cache[n].available++] = p;   // expect: FR102 {{`cache_release` puts a block back on the free list `small_cache.slots` while}}
        return;
    }
    PyMem_Free(p);                                  // expect: FR102 {{`cache_release` frees `small_cache.slots`}}
}

typedef struct {
    PyObject_HEAD
    size_t size;
    char *data;
} ChunkObject;

static void
chunk_dealloc(ChunkObject *self)
{
    cache_release(self->data, self->size, small_cache);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
scratch_sum(PyObject *module, PyObject *arg)
{
    size_t n = PyLong_AsSize_t(arg);
    unsigned char *tmp = cache_take(n, small_cache);
    long total = 0;
    if (tmp == NULL)
        return PyErr_NoMemory();
    for (size_t i = 0; i < n; i++)
        total += tmp[i];
    cache_release(tmp, n, small_cache);
    return PyLong_FromLong(total);
}

static PyMethodDef methods[] = {{"scratch_sum", scratch_sum, METH_O, NULL}, {NULL}};

static PyTypeObject Chunk_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "cache.Chunk",
    .tp_basicsize = sizeof(ChunkObject),
    .tp_dealloc = (destructor)chunk_dealloc,
};

static struct PyModuleDef cache_module = {PyModuleDef_HEAD_INIT, "cache", NULL, 0, methods};
PyMODINIT_FUNC PyInit_cache(void) { return PyModuleDef_Init(&cache_module); }
