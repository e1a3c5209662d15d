/*
 * error.h -- the one error enum of stampede, and the diagnostic record.
 *
 * Every action returns an sp_err.  The values come from one X-macro list,
 * SP_ERR_MAP, and are never renumbered or reused: a retired value stays in
 * the list as SP_EOBSOLETE_<n>.  Business outcomes (an order rejected for
 * margin, a liquidation) are not errors; they are events with a banded
 * reason code (see event.h).
 *
 * Where an error needs to say *where* (a decoder, a parser, a command-line
 * flag), the callee fills a caller-owned sp_diag: the code, a message, and
 * the position (source name, line, column, byte offset, field).  There is
 * no hidden thread-local error state.
 */
#ifndef STAMPEDE_ERROR_H
#define STAMPEDE_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"

SP_BEGIN_DECLS

/* XX(name, value, message).  Append only; never renumber. */
#define SP_ERR_MAP(XX)                                              \
    XX(OK, 0, "success")                                            \
    XX(ENOMEM, 1, "out of memory")                                  \
    XX(EINVAL, 2, "invalid argument")                               \
    XX(EPARSE, 3, "malformed input")                                \
    XX(ERANGE, 4, "value out of range")                             \
    XX(EOVERFLOW, 5, "arithmetic overflow")                         \
    XX(EIO, 6, "input/output error")                                \
    XX(ETOOBIG, 7, "size limit exceeded")                           \
    XX(ENOTFOUND, 8, "not found")                                   \
    XX(EEXIST, 9, "already exists")                                 \
    XX(EUNSUPPORTED, 10, "not supported")                           \
    XX(ESTATE, 11, "operation not valid in the current state")      \
    XX(EDIVZERO, 12, "division by zero")                            \
    XX(EPRECISION, 13, "more decimal places than the scale allows") \
    XX(ETRUNCATED, 14, "truncated input")                           \
    XX(ESCHEMA, 15, "schema version mismatch")                      \
    XX(EBUSY, 16, "resource busy or locked")                        \
    XX(ETIMEOUT, 17, "timed out")                                   \
    XX(ECONN, 18, "connection failed")                              \
    XX(EUNKNOWN_KIND, 19, "unknown event or record type")           \
    XX(EGAP, 20, "sequence gap")

typedef enum sp_err {
#define SP_ERR_ENUM_(name, value, msg) SP_##name = value,
    SP_ERR_MAP(SP_ERR_ENUM_)
#undef SP_ERR_ENUM_
        SP_ERR_COUNT_ /* one past the last value; not an error code */
} sp_err;

/* A human-readable message for err ("arithmetic overflow"); never NULL. */
SP_API const char *sp_strerror(sp_err err);

/* The symbolic name of err ("SP_EOVERFLOW"); "SP_E?" for an unknown value. */
SP_API const char *sp_errname(sp_err err);

/* Largest message an sp_diag keeps (longer ones are cut, never overflowed). */
#define SP_DIAG_MSG_MAX   256
#define SP_DIAG_FIELD_MAX 48

/*
 * sp_diag -- what went wrong and where.  Caller-owned and caller-allocated;
 * zero-initialise it or call sp_diag_clear().  Position fields that do not
 * apply are 0 (line, column are 1-based when known; offset is the byte
 * offset from the start of the source).
 */
typedef struct sp_diag {
    sp_err code;                   /* the error, SP_OK when nothing failed */
    char msg[SP_DIAG_MSG_MAX];     /* one line, no trailing newline */
    const char *source;            /* borrowed name of the input (file, "argv", ...) or NULL */
    uint64_t line;                 /* 1-based line number, 0 if unknown */
    uint64_t column;               /* 1-based column (bytes), 0 if unknown */
    uint64_t offset;               /* byte offset from the start of the source */
    char field[SP_DIAG_FIELD_MAX]; /* name of the offending field or flag, "" if none */
} sp_diag;

/* Reset d to "no error".  d may be NULL (no-op). */
SP_API void sp_diag_clear(sp_diag *d);

/*
 * Record err in d with a printf-style message and return err, so a callee
 * can write `return sp_diag_set(d, SP_EPARSE, "bad digit '%c'", c);`.
 * d may be NULL (then only err is returned).  Position fields are kept.
 */
SP_API sp_err sp_diag_set(sp_diag *d, sp_err err, const char *fmt, ...) SP_PRINTF(3, 4);

/* Set the offending field name (cut to SP_DIAG_FIELD_MAX - 1).  d may be NULL. */
SP_API void sp_diag_field(sp_diag *d, const char *field);

/*
 * Format d as one line, "source:line:column: field: message (SP_EXXX)",
 * leaving out the parts that are unknown, into out (always NUL-terminated
 * when cap > 0).  Returns out.
 */
SP_API char *sp_diag_format(const sp_diag *d, char *out, size_t cap);

SP_END_DECLS

#endif /* STAMPEDE_ERROR_H */
