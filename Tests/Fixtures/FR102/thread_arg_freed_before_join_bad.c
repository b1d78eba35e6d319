/* A worker thread is started with a pointer to a job block; the object's dealloc cancels the
 * worker and frees the block without joining it first, so the worker can still be running inside
 * the freed memory (a cancelled thread stops only at its next cancellation point). */
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
    self->job = PyMem_Calloc(1, sizeof(job_t));
    if (self->job == NULL)
        return PyErr_NoMemory();
    pthread_mutex_init(&self->job->mutex, NULL);
    pthread_create(&self->thread, NULL, worker, self->job);
    Py_RETURN_NONE;
}

static void
task_dealloc(TaskObject *self)
{
    if (self->job != NULL) {
        pthread_cancel(self->thread);
        PyMem_Free(self->job);          // expect: FR102 {{`task_dealloc` frees `TaskObject.job` while the thread `worker` (started by pthread_create() in `task_start`) may still use it}}
    }
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
