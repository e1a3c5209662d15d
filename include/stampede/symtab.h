/*
 * symtab.h -- interned symbol names.
 *
 * Events carry a 32-bit symbol id instead of a string.  A symbol table
 * maps names ("BTCUSDT", "ETF:IBIT", "^NDX") to ids 1..n in the order
 * they were first seen, and back.  The store persists the table beside
 * the events.  Names are 1..SP_SYMBOL_MAX bytes of printable ASCII.
 * Not thread-safe; one table per pipeline.
 */
#ifndef STAMPEDE_SYMTAB_H
#define STAMPEDE_SYMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

typedef struct sp_symtab sp_symtab;

/* A new empty table.  OUT: *out.  SP_OK or SP_ENOMEM. */
SP_API sp_err sp_symtab_new(sp_symtab **out);

/* Free t and its names; NULL is a no-op. */
SP_API void sp_symtab_free(sp_symtab *t);

/*
 * The id of name[0..n), adding it if new.  OUT: *id (>= 1).
 * SP_EINVAL for an empty, too long or non-printable name; SP_ETOOBIG past
 * SP_SYMTAB_MAX symbols; SP_ENOMEM.
 */
SP_API sp_err sp_symtab_intern(sp_symtab *t, const char *name, size_t n, uint32_t *id);

/* The id of name[0..n) if present, else 0.  Never adds. */
SP_API uint32_t sp_symtab_find(const sp_symtab *t, const char *name, size_t n);

/* The name of id (borrowed; valid until sp_symtab_free), NULL if unknown. */
SP_API const char *sp_symtab_name(const sp_symtab *t, uint32_t id);

/* Number of symbols (the largest id). */
SP_API uint32_t sp_symtab_count(const sp_symtab *t);

SP_END_DECLS

#endif /* STAMPEDE_SYMTAB_H */
