/*
 * store_int.h -- private interface between store.c (URI dispatch, symbol
 * translation, natural keys) and the backends (store_sqlite.c,
 * store_pg.c).
 *
 * A backend implements sp_store_ops.  store.c owns the transaction
 * protocol of an append: begin, put the unknown symbols, insert the
 * translated rows (with their natural keys, computed once here so both
 * backends agree), commit; rollback on any failure.
 */
#ifndef STAMPEDE_STORE_INT_H
#define STAMPEDE_STORE_INT_H

#include "stampede/buf.h"
#include "stampede/limits.h"
#include "stampede/store.h"

/* One row as the backends write it: the event plus its natural key. */
typedef struct sp_store_row {
    sp_event ev; /* symbol_id already translated to the store's id */
    int64_t k1;  /* natural key part 1 (sp_store_natural_key) */
    int64_t k2;  /* natural key part 2 */
} sp_store_row;

/* The filter with the symbol name resolved to the store's id. */
typedef struct sp_store_q {
    const sp_store_filter *f; /* the caller's filter (never NULL here) */
    uint32_t symbol_id;       /* store id when f->symbol, else 0 */
    int64_t from_min;         /* roll-up queries: first minute (minutes since the epoch) */
    int64_t to_min;           /* roll-up queries: end minute, exclusive */
} sp_store_q;

/*
 * The per-minute liquidation roll-up of one append slice (rollup.c): the
 * cells of the LIQUIDATION rows the backend actually inserted, keyed by
 * (venue, symbol, side, minute), merged into liq_minute by the backend
 * before the slice's insert returns (same transaction as the rows).
 * cell[0..n) are dense; idx is an open-addressing index (cell + 1).
 */
typedef struct sp_store_roll {
    sp_store_liq_minute *cell; /* the cells of the slice */
    size_t n;                  /* cells in use */
    size_t cap;                /* capacity of cell */
    uint32_t *idx;             /* hash index, icap entries, 0 = empty */
    size_t icap;               /* power of two, >= 2 * cap */
} sp_store_roll;

/* Backend callback for one stored symbol (id, name). */
typedef sp_err (*sp_store_sym_fn)(sp_store *s, uint32_t id, const char *name);

/* Raw row callback of a backend query: store.c adds the symbol name. */
typedef sp_err (*sp_store_raw_fn)(sp_store *s, const sp_event *ev);

/* Raw roll-up row callback of a backend: store.c adds the symbol name. */
typedef sp_err (*sp_store_liq_raw_fn)(sp_store *s, const sp_store_liq_minute *row);

typedef struct sp_store_ops {
    const char *name;
    /* Open the database at target (after the scheme), migrate, fill s->impl. */
    sp_err (*open)(sp_store *s, const char *target, unsigned flags, sp_diag *d);
    void (*close)(sp_store *s);
    sp_err (*begin)(sp_store *s, sp_diag *d);
    sp_err (*commit)(sp_store *s, sp_diag *d);
    void (*rollback)(sp_store *s);
    /* Inside a transaction: the id of name, adding it if new.  OUT: *id. */
    sp_err (*symbol_put)(sp_store *s, const char *name, uint32_t *id, sp_diag *d);
    /* Call fn for every stored symbol (to refresh the name table). */
    sp_err (*symbols)(sp_store *s, sp_store_sym_fn fn, sp_diag *d);
    /* Inside a transaction: insert rows, skipping present keys.  OUT: *inserted. */
    sp_err (*insert)(sp_store *s, const sp_store_row *rows, size_t n, uint64_t *inserted,
                     sp_diag *d);
    sp_err (*query)(sp_store *s, const sp_store_q *q, sp_store_raw_fn fn, sp_diag *d);
    sp_err (*count)(sp_store *s, const sp_store_q *q, uint64_t *n, sp_diag *d);
    sp_err (*summary)(sp_store *s, sp_store_summary_fn fn, void *ctx, sp_diag *d);
    sp_err (*log_ingest)(sp_store *s, const char *source, uint64_t decoded, uint64_t inserted,
                         uint64_t rejected, int64_t at_ns, sp_diag *d);
    /* liq_minute rows of q (q->from_min, q->to_min, venue, symbol) in key order. */
    sp_err (*liq_minutes)(sp_store *s, const sp_store_q *q, sp_store_liq_raw_fn fn, sp_diag *d);
} sp_store_ops;

struct sp_store {
    const sp_store_ops *ops; /* the backend */
    void *impl;              /* backend state */
    unsigned flags;          /* SP_STORE_* */
    int opened_version;      /* schema version found on open (0 = new database) */
    sp_symtab *names;        /* names of stored symbols (local ids) */
    uint32_t *db_of_local;   /* store id of names' local id i (index i), 0 = unknown */
    uint32_t cap_local;      /* entries of db_of_local */
    uint32_t *local_of_db;   /* local id of store id i, 0 = unknown */
    uint32_t cap_db;         /* entries of local_of_db */
    sp_store_row *rows;      /* scratch batch of translated rows */
    size_t cap_rows;         /* entries of rows */
    sp_store_roll roll;      /* roll-up cells of the slice being inserted */
    /* query plumbing */
    sp_store_row_fn user_fn;     /* the caller's row callback during a query */
    void *user_ctx;              /* its context */
    sp_store_liq_fn user_liq_fn; /* the caller's roll-up callback during a query */
};

/*
 * Limits of the store (candidates for limits.h; overridable with -D).
 * Most symbol ids a store accepts (ids may be sparse after failed
 * transactions), and rows per append slice (translated and inserted in
 * one go, one COPY on PostgreSQL; bounds the scratch memory of an append:
 * 80 bytes a row, plus 168 bytes a row of COPY buffer on PostgreSQL).
 * 32768 rather than 4096 saved ~20% of PostgreSQL ingest time (A/B of
 * bench_store at 3 x 10^5 events, 2 runs each).
 */
#ifndef SP_STORE_SYMBOL_ID_MAX
#define SP_STORE_SYMBOL_ID_MAX (SP_SYMTAB_MAX * 4u)
#endif
#ifndef SP_STORE_SLICE
#define SP_STORE_SLICE 32768u
#endif

/* The name of store symbol id (reloading the table once if unknown); "" for 0, "?" if none. */
const char *sp__store_symbol_name(sp_store *s, uint32_t id);

/* ---- roll-ups (rollup.c) ---- */

/* Forget the cells (keeps the memory). */
void sp__store_roll_reset(sp_store_roll *r);

/* Release the memory of r. */
void sp__store_roll_fini(sp_store_roll *r);

/*
 * Add one inserted LIQUIDATION event (store symbol id) to its cell; symbol
 * is its name (for the COIN-M contract value of sp_event_liq_notional).
 * An event whose notional cannot be computed, or that would overflow the
 * cell's sum, is counted in count and bad but not in notional / largest.
 * SP_ENOMEM.
 */
sp_err sp__store_roll_add(sp_store_roll *r, const sp_event *ev, const char *symbol);

/*
 * Merge cell c into *into (same key): counts and bad add, notional adds
 * with an overflow check (an overflow adds c's events to bad and keeps
 * into's notional), largest keeps the bigger (the earlier on a tie),
 * first_ns the smaller, slots OR.
 */
void sp__store_roll_merge(sp_store_liq_minute *into, const sp_store_liq_minute *c);

/* The UTC minute of ts_ns (floor) and the 500 ms slot (0..119) within it. */
int64_t sp__store_minute_of(int64_t ts_ns, unsigned *slot);

/* Record (id, name) in s's name table (backends call this on load). */
sp_err sp__store_remember_symbol(sp_store *s, uint32_t id, const char *name);

/*
 * Append to sql the WHERE clause of q (" WHERE ..." or nothing) with
 * placeholders "?" (dollar = 0) or "$n" numbered from *np + 1 (dollar = 1),
 * and the values to bind to params[*np...] (at most 6).  OUT: *np.
 */
sp_err sp__store_where(const sp_store_q *q, sp_buf *sql, int dollar, int64_t *params, int *np);

/* Parse the value of query parameter key in a URI tail "?a=1&b=2" into out. */
int sp__store_uri_param(const char *query, const char *key, char *out, size_t cap);

/* The SQL of schema migration `version` (1-based) of a backend, NULL if none (upgrade tests). */
const char *sp__store_sqlite_migration(int version);
const char *sp__store_pg_migration(int version);

extern const sp_store_ops sp__store_sqlite_ops;
#ifdef STAMPEDE_HAVE_PG
extern const sp_store_ops sp__store_pg_ops;
#endif

#endif /* STAMPEDE_STORE_INT_H */
