/*
 * buf.h -- bounded growable byte buffer.
 *
 * An sp_buf grows by doubling up to a ceiling given at init; an append
 * that would pass the ceiling returns SP_ETOOBIG and leaves the buffer as
 * it was (curl's dynbuf "toobig" rule).  The content is always followed
 * by a NUL byte that is not counted in len, so text can be read in place.
 * The buffer is mutated in place: the sp_buf pointer stays valid, only
 * b->data may move on growth.
 */
#ifndef STAMPEDE_BUF_H
#define STAMPEDE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

/* Caller-allocated. */
typedef struct sp_buf {
    char *data; /* read-only: content, NUL-terminated; NULL until first append */
    size_t len; /* read-only: bytes of content */
    size_t cap; /* private: bytes allocated */
    size_t max; /* private: ceiling on len */
} sp_buf;

/* Initialise b with a ceiling of max bytes (0 = SP_BUF_DEFAULT_MAX).  Allocates nothing. */
SP_API void sp_buf_init(sp_buf *b, size_t max);

/* Append n bytes.  SP_OK, SP_ETOOBIG (b unchanged) or SP_ENOMEM (b unchanged). */
SP_API sp_err sp_buf_append(sp_buf *b, const void *p, size_t n);

/* Append a NUL-terminated string. */
SP_API sp_err sp_buf_puts(sp_buf *b, const char *s);

/* Append one byte. */
SP_API sp_err sp_buf_putc(sp_buf *b, char c);

/* Append printf-formatted text.  On error b is unchanged. */
SP_API sp_err sp_buf_printf(sp_buf *b, const char *fmt, ...) SP_PRINTF(2, 3);
SP_API sp_err sp_buf_vprintf(sp_buf *b, const char *fmt, va_list ap);

/* Make room for n more bytes without changing len.  OUT: *out, where they go. */
SP_API sp_err sp_buf_reserve(sp_buf *b, size_t n, char **out);

/* Mark n reserved bytes as written (n <= the room reserved). */
SP_API void sp_buf_commit(sp_buf *b, size_t n);

/* Empty the buffer, keeping its memory. */
SP_API void sp_buf_reset(sp_buf *b);

/* Free the memory; b may be reused after sp_buf_init. */
SP_API void sp_buf_fini(sp_buf *b);

SP_END_DECLS

#endif /* STAMPEDE_BUF_H */
