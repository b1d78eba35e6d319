/* The worker owns its job block: it frees it when it is done, and nothing else does. Handing
 * memory to a thread is a transfer here, not a share. */
// expect-none
#include <Python.h>
#include <pthread.h>

typedef struct {
    pthread_mutex_t mutex;
    int done;
    char *input;
    size_t size;
    long result;
} job_t;

static void *
worker(void *arg)
{
    job_t *job = (job_t *)arg;
    long sum = 0;
    for (size_t i = 0; i < job->size; i++)
        sum += job->input[i];
    pthread_mutex_lock(&job->mutex);
    job->result = sum;
    job->done = 1;
    pthread_mutex_unlock(&job->mutex);
    PyMem_RawFree(job->input);
    PyMem_RawFree(job);
    return NULL;
}

typedef struct {
    PyObject_HEAD
    pthread_t thread;
    job_t *job;
} TaskObject;

static PyObject *
task_start(TaskObject *self, PyObject *unused)
{
    job_t *job = PyMem_RawCalloc(1, sizeof(job_t));
    if (job == NULL)
        return PyErr_NoMemory();
    pthread_mutex_init(&job->mutex, NULL);
    self->job = job;
    pthread_create(&self->thread, NULL, worker, job);
    pthread_detach(self->thread);
    Py_RETURN_NONE;
}

static void
task_dealloc(TaskObject *self)
{
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef task_methods[] = {{"start", (PyCFunction)task_start, METH_NOARGS, NULL}, {NULL}};

static PyTypeObject Task_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tasks.Task",
    .tp_basicsize = sizeof(TaskObject),
    .tp_dealloc = (destructor)task_dealloc,
    .tp_methods = task_methods,
};

static struct PyModuleDef tasks_module = {PyModuleDef_HEAD_INIT, "tasks", NULL, 0, NULL};
PyMODINIT_FUNC PyInit_tasks(void) { return PyModuleDef_Init(&tasks_module); }
