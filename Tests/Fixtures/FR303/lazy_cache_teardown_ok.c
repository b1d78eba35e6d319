/* A lazily initialized static that only the module's teardown releases. Two threads racing
 * through the initialization at worst leak one reference (benign: nothing is freed while in
 * use), and m_free runs at finalization, when no other thread calls into the module. */
#include <Python.h>

static PyObject *decimal_type;

static PyObject *
to_decimal(PyObject *module, PyObject *arg)
{
    if (decimal_type == NULL) {
        PyObject *mod = PyImport_ImportModule("decimal");
        if (mod == NULL) {
            return NULL;
        }
        decimal_type = PyObject_GetAttrString(mod, "Decimal");   // expect-none
        Py_DECREF(mod);
        if (decimal_type == NULL) {
            return NULL;
        }
    }
    return PyObject_CallOneArg(decimal_type, arg);
}

static void
conv_free(void *module)
{
    Py_CLEAR(decimal_type);
}

static PyMethodDef methods[] = {{"to_decimal", to_decimal, METH_O, NULL}, {NULL}};
static PyModuleDef_Slot slots[] = {{Py_mod_gil, Py_MOD_GIL_NOT_USED}, {0, NULL}};
static struct PyModuleDef conv_module = {
    PyModuleDef_HEAD_INIT, "conv", NULL, 0, methods, slots, NULL, NULL, conv_free,
};
PyMODINIT_FUNC PyInit_conv(void) { return PyModuleDef_Init(&conv_module); }
