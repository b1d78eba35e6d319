/* A growable output buffer embedded by value in a Cython extension type. buffer_write()
 * reallocates b->buf: the object's memory, reached through `&self.out`. */
#include <Python.h>
#include <string.h>

typedef struct out_buffer {
    char *buf;
    size_t length;
    size_t capacity;
} out_buffer;

static inline int buffer_write(out_buffer *b, const char *data, size_t n)
{
    char *buf = b->buf;
    size_t cap = b->capacity;
    if (b->length + n > cap) {
        cap = (b->length + n) * 2;
        buf = (char *)PyMem_Realloc(buf, cap);      // expect-note: thread B {{the memory is released here}}
        if (buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    memcpy(buf + b->length, data, n);
    b->buf = buf;
    b->capacity = cap;
    b->length += n;
    return 0;
}

/* the template's functions append through this macro, defined here and used there */
#define buffer_append(user, data, len) \
        return buffer_write(user, (const char *)data, len)

#include "buffer_template.h"
