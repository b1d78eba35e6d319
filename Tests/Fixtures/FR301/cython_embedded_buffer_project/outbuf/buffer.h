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

static inline int buffer_put_byte(out_buffer *b, unsigned char c)
{
    return buffer_write(b, (const char *)&c, 1);
}
