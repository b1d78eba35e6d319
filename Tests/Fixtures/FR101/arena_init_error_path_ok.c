/* A module that maps executable memory at init and unmaps it on an error path before it is
 * published anywhere: no other thread can be inside it. */
// expect-none
#include <Python.h>
#include <sys/mman.h>

typedef int (*kernel_fn)(int);
static kernel_fn kernel;

static int
jit_exec(PyObject *module)
{
    size_t size = 4096;
    char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        return -1;
    }
    if (emit_kernel(mem, size) < 0) {
        munmap(mem, size);
        return -1;
    }
    kernel = (kernel_fn)mem;
    return 0;
}

static PyObject *
jit_run(PyObject *module, PyObject *arg)
{
    return PyLong_FromLong(kernel(PyLong_AsLong(arg)));
}

static PyMethodDef methods[] = {
    {"run", jit_run, METH_O, NULL},
    {NULL}
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, jit_exec},
    {0, NULL}
};

static PyModuleDef jitmod = {PyModuleDef_HEAD_INIT, "jitmod", NULL, 0, methods, slots};
