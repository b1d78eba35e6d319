/* Included by buffer.h, which defines buffer_append: this header alone never sees the macro's
 * definition, only its use. */

static inline int buffer_put_byte(out_buffer *b, unsigned char c)
{
    buffer_append(b, &c, 1);
}
