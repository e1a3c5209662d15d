/*
 * buf.c -- bounded growable byte buffer (see buf.h).
 *
 * Growth doubles the capacity, clamped to the ceiling plus the NUL byte.
 * Every failing call leaves the buffer exactly as it was.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "stampede/alloc.h"
#include "stampede/buf.h"
#include "stampede/limits.h"

void sp_buf_init(sp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SP_BUF_DEFAULT_MAX;
}

/* Ensure room for n more bytes plus the NUL. */
static sp_err grow(sp_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return SP_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return SP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = sp_realloc(b->data, cap);
    if (p == NULL)
        return SP_ENOMEM;
    b->data = p;
    b->cap = cap;
    return SP_OK;
}

sp_err sp_buf_append(sp_buf *b, const void *p, size_t n)
{
    sp_err rc = grow(b, n);
    if (rc != SP_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SP_OK;
}

sp_err sp_buf_puts(sp_buf *b, const char *s)
{
    return sp_buf_append(b, s, strlen(s));
}

sp_err sp_buf_putc(sp_buf *b, char c)
{
    return sp_buf_append(b, &c, 1);
}

sp_err sp_buf_vprintf(sp_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return SP_EINVAL;
    sp_err rc = grow(b, (size_t)n);
    if (rc != SP_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return SP_OK;
}

sp_err sp_buf_printf(sp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_err rc = sp_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

sp_err sp_buf_reserve(sp_buf *b, size_t n, char **out)
{
    sp_err rc = grow(b, n);
    if (rc != SP_OK)
        return rc;
    *out = b->data + b->len;
    return SP_OK;
}

void sp_buf_commit(sp_buf *b, size_t n)
{
    if (SP_NEVER(b->len + n + 1 > b->cap))
        return;
    b->len += n;
    b->data[b->len] = '\0';
}

void sp_buf_reset(sp_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void sp_buf_fini(sp_buf *b)
{
    sp_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
