/* Single-phase init declaring free-threading with PyUnstable_Module_SetGIL; a getter reads a
 * buffer that a setter frees and replaces. */
#include <Python.h>

typedef struct {
    PyObject_HEAD
    double *samples;
    Py_ssize_t n;
} SeriesObject;

static PyObject *
series_get_first(SeriesObject *self, void *closure)
{
    if (self->n == 0) {
        Py_RETURN_NONE;
    }
    return PyFloat_FromDouble(self->samples[0]);      // expect-note: thread A {{`Series.first` uses `self->samples`}}
}

static int
series_set_first(SeriesObject *self, PyObject *value, void *closure)
{
    double *fresh = PyMem_Malloc(sizeof(double));
    if (fresh == NULL) {
        return -1;
    }
    fresh[0] = PyFloat_AsDouble(value);
    PyMem_Free(self->samples);                  // expect: FR301 {{`series_set_first` frees `SeriesObject.samples`}}  expect-note: thread B {{`Series.first = …` frees}}
    self->samples = fresh;
    self->n = 1;
    return 0;
}

static PyGetSetDef series_getset[] = {
    {"first", (getter)series_get_first, (setter)series_set_first, NULL, NULL},
    {NULL}
};

static PyTypeObject Series_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    "fixture.Series",               /* tp_name */
    sizeof(SeriesObject),           /* tp_basicsize */
    0,                              /* tp_itemsize */
    0,                              /* tp_dealloc */
    0,                              /* tp_vectorcall_offset */
    0,                              /* tp_getattr */
    0,                              /* tp_setattr */
    0,                              /* tp_as_async */
    0,                              /* tp_repr */
    0,                              /* tp_as_number */
    0,                              /* tp_as_sequence */
    0,                              /* tp_as_mapping */
    0,                              /* tp_hash */
    0,                              /* tp_call */
    0,                              /* tp_str */
    0,                              /* tp_getattro */
    0,                              /* tp_setattro */
    0,                              /* tp_as_buffer */
    Py_TPFLAGS_DEFAULT,             /* tp_flags */
    0,                              /* tp_doc */
    0,                              /* tp_traverse */
    0,                              /* tp_clear */
    0,                              /* tp_richcompare */
    0,                              /* tp_weaklistoffset */
    0,                              /* tp_iter */
    0,                              /* tp_iternext */
    0,                              /* tp_methods */
    0,                              /* tp_members */
    series_getset,                  /* tp_getset */
};

static struct PyModuleDef seriesmodule = {
    PyModuleDef_HEAD_INIT, "series", NULL, -1, NULL,
};

PyMODINIT_FUNC
PyInit_series(void)
{
    PyObject *m = PyModule_Create(&seriesmodule);
    if (m == NULL) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);
#endif
    if (PyType_Ready(&Series_Type) < 0) {
        return NULL;
    }
    return m;
}
