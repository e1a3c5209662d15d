/*
 * error.c -- sp_err names and messages, and the sp_diag record.
 *
 * Both tables are generated from SP_ERR_MAP in error.h, so a code, its
 * name and its message can never drift apart.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stampede/error.h"

static const char *const err_messages[] = {
#define SP_ERR_MSG_(name, value, msg) [value] = msg,
    SP_ERR_MAP(SP_ERR_MSG_)
#undef SP_ERR_MSG_
};

static const char *const err_names[] = {
#define SP_ERR_NAME_(name, value, msg) [value] = "SP_" #name,
    SP_ERR_MAP(SP_ERR_NAME_)
#undef SP_ERR_NAME_
};

const char *sp_strerror(sp_err err)
{
    if ((unsigned)err < SP_COUNTOF(err_messages) && err_messages[err])
        return err_messages[err];
    return "unknown error";
}

const char *sp_errname(sp_err err)
{
    if ((unsigned)err < SP_COUNTOF(err_names) && err_names[err])
        return err_names[err];
    return "SP_E?";
}

void sp_diag_clear(sp_diag *d)
{
    if (d)
        memset(d, 0, sizeof(*d));
}

sp_err sp_diag_set(sp_diag *d, sp_err err, const char *fmt, ...)
{
    if (d == NULL)
        return err;
    d->code = err;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        d->msg[0] = '\0';
    return err;
}

void sp_diag_field(sp_diag *d, const char *field)
{
    if (d == NULL)
        return;
    if (field == NULL) {
        d->field[0] = '\0';
        return;
    }
    size_t n = strlen(field);
    if (n >= sizeof(d->field))
        n = sizeof(d->field) - 1;
    memcpy(d->field, field, n);
    d->field[n] = '\0';
}

char *sp_diag_format(const sp_diag *d, char *out, size_t cap)
{
    if (cap == 0)
        return out;
    out[0] = '\0';
    if (d == NULL)
        return out;
    size_t o = 0;
#define PUT(...)                                              \
    do {                                                      \
        if (o < cap) {                                        \
            int k_ = snprintf(out + o, cap - o, __VA_ARGS__); \
            if (k_ > 0)                                       \
                o += (size_t)k_;                              \
        }                                                     \
    } while (0)
    if (d->source)
        PUT("%s:", d->source);
    if (d->line)
        PUT("%llu:", (unsigned long long)d->line);
    if (d->column)
        PUT("%llu:", (unsigned long long)d->column);
    if (!d->line && d->offset)
        PUT("@%llu:", (unsigned long long)d->offset);
    if (o > 0)
        PUT(" ");
    if (d->field[0])
        PUT("%s: ", d->field);
    PUT("%s (%s)", d->msg[0] ? d->msg : sp_strerror(d->code), sp_errname(d->code));
#undef PUT
    return out;
}
