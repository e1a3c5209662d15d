/*
 * store.h -- durable storage of sp_event records (DESIGN §4, issue 7).
 *
 * An sp_store is one open database holding events and the symbol names
 * they refer to.  Two backends share one schema and one behaviour:
 *
 *   sqlite:PATH          the embedded default (WAL, one transaction per
 *                        batch); "sqlite:stampede.db" when no URI is given.
 *                        Query parameters: ?busy_ms=N (wait for a lock, ms;
 *                        default 5000), ?vfs=NAME (an SQLite VFS registered
 *                        by the caller, used by the I/O-error tests),
 *                        ?sync=full|normal|off (default normal).
 *   postgres://... or    PostgreSQL through libpq (only when the library was
 *   postgresql://...     built with STAMPEDE_WITH_PG; SP_EUNSUPPORTED
 *                        otherwise).  The URI is a libpq connection URI.
 *
 * Invariants the store keeps, whatever the backend:
 *   - Idempotence.  Every event has a natural key (venue, kind, symbol,
 *     sub, exchange time and up to two kind-specific values, see
 *     docs/internals/store.md); storing an event whose key is present
 *     does nothing, so re-ingesting the same file leaves counts unchanged.
 *   - Atomic batches.  sp_store_append() is one transaction: when it
 *     returns SP_OK the whole batch is durable (committed), when it fails
 *     or the process dies none of it is visible.
 *   - Versioned schema.  A schema_version table records the version; an
 *     older database is upgraded on open (in a transaction), a newer one
 *     is refused with SP_ESCHEMA.
 *   - Roll-ups.  Every LIQUIDATION event new to the store is also added,
 *     in the same transaction, to its per-minute cell of the liq_minute
 *     table (venue, symbol, side, UTC minute: count, notional, largest,
 *     500 ms slot bitmap), so a day's liquidation report reads 1,440 x
 *     groups rows instead of every event (sp_store_liq_minutes).  A
 *     re-appended (present) event adds nothing; an upgrade from version 2
 *     builds the roll-ups from the events already stored.
 *   - Symbols.  Events carry a 32-bit symbol id of the caller's sp_symtab;
 *     the store persists the names beside the events under its own ids
 *     and translates on append.  Query results carry the store's ids and
 *     the name.
 *
 * An sp_store handle is not thread-safe; open one per thread.  Several
 * processes may open the same database: SQLite serialises writers (a
 * reader opened with SP_STORE_READONLY sees committed batches while an
 * ingest writes), PostgreSQL handles concurrency itself.
 */
#ifndef STAMPEDE_STORE_H
#define STAMPEDE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/symtab.h"

SP_BEGIN_DECLS

/* The URI used when the caller gives none. */
#define SP_STORE_DEFAULT_URI "sqlite:stampede.db"

/*
 * The schema version this library writes (see docs/internals/store.md):
 * 1 events and symbols, 2 ingest_run, 3 liq_minute (liquidation roll-ups).
 */
#define SP_STORE_SCHEMA_VERSION 3

/* Flags of sp_store_open. */
#define SP_STORE_READONLY                                          \
    0x01u /* never write; the database must exist (PostgreSQL: the \
            session runs with default_transaction_read_only) */

typedef struct sp_store sp_store;

/* ---- open and close ------------------------------------------------------ */

/*
 * The natural key of ev beyond (kind, symbol, exch_ts_ns, venue, sub): the
 * two per-kind parts k1, k2 (docs/internals/store.md, "Natural key").  Two
 * events with equal keys are one event to the store; the bus derives its
 * de-duplication ids from the same key.
 */
SP_API void sp_store_natural_key(const sp_event *ev, int64_t *k1, int64_t *k2);

/*
 * Open (creating it if needed, unless SP_STORE_READONLY) the store at uri
 * and bring its schema to SP_STORE_SCHEMA_VERSION.  OUT: *out, freed with
 * sp_store_close.  d (may be NULL) says what failed.  Returns SP_OK,
 * SP_EINVAL (malformed URI or unknown scheme), SP_EUNSUPPORTED (postgres
 * URI in a build without PG), SP_EIO (cannot open or write the file, disk
 * full, read-only file), SP_ENOTFOUND (SP_STORE_READONLY and no store
 * there), SP_ECONN (server unreachable), SP_EBUSY (locked past the busy
 * timeout), SP_ESCHEMA (written by a newer stampede, or not
 * a stampede database), SP_ENOMEM.
 */
SP_API sp_err sp_store_open(const char *uri, unsigned flags, sp_store **out, sp_diag *d);

/* Close s and free everything it holds; NULL is a no-op. */
SP_API void sp_store_close(sp_store *s);

/* "sqlite" or "postgres" (static string). */
SP_API const char *sp_store_backend(const sp_store *s);

/* The schema version found on disk when s was opened (before any upgrade). */
SP_API int sp_store_opened_version(const sp_store *s);

/* ---- write --------------------------------------------------------------- */

/*
 * Store n events in one transaction.  Each ev[i].symbol_id is an id of
 * syms (0 = no symbol); syms may be NULL only if every symbol_id is 0.
 * Events whose natural key is already stored are skipped (not an error).
 * OUT: *inserted (may be NULL) = events that were new.  On any error
 * nothing of the batch is stored.  Returns SP_OK, SP_EINVAL (a symbol id
 * unknown to syms, or a read-only store), SP_EIO (disk full, I/O error),
 * SP_EBUSY (locked past the busy timeout), SP_ECONN, SP_ENOMEM.
 */
SP_API sp_err sp_store_append(sp_store *s, const sp_event *ev, size_t n, const sp_symtab *syms,
                              uint64_t *inserted, sp_diag *d);

/*
 * Record one ingest run of a source (file) in the ingest_run table:
 * the events decoded, the events that were new and the records rejected.
 * For the audit trail of `stampede ingest`.  Errors as sp_store_append.
 */
SP_API sp_err sp_store_log_ingest(sp_store *s, const char *source, uint64_t decoded,
                                  uint64_t inserted, uint64_t rejected, sp_diag *d);

/* ---- read ---------------------------------------------------------------- */

/* What a query selects.  Zero-initialise, then set what you need. */
typedef struct sp_store_filter {
    unsigned kind;      /* sp_event_kind, 0 = every kind */
    unsigned venue;     /* sp_venue, 0 = every venue */
    const char *symbol; /* symbol name (borrowed), NULL = every symbol */
    int64_t from_ns;    /* exch_ts_ns >= from_ns (ns UTC) when has_from */
    int64_t to_ns;      /* exch_ts_ns < to_ns (ns UTC) when has_to */
    int has_from;       /* non-zero: apply from_ns */
    int has_to;         /* non-zero: apply to_ns */
    uint64_t limit;     /* at most this many rows, 0 = no limit */
} sp_store_filter;

/*
 * Called once per matching event, in (exch_ts_ns, symbol id, venue, sub,
 * key) order.  ev->symbol_id is the store's id; symbol is its name
 * (borrowed, valid during the call; "" when symbol_id is 0).  Returning
 * anything but SP_OK stops the query, which then returns that value.
 */
typedef sp_err (*sp_store_row_fn)(void *ctx, const sp_event *ev, const char *symbol);

/*
 * Run the query f (NULL = everything) and call fn for each event.  A
 * symbol the store has never seen matches nothing (SP_OK, no call).
 * Returns SP_OK, the callback's error, SP_EIO, SP_EBUSY, SP_ECONN,
 * SP_ENOMEM.
 */
SP_API sp_err sp_store_query(sp_store *s, const sp_store_filter *f, sp_store_row_fn fn, void *ctx,
                             sp_diag *d);

/* Count the events f selects (f->limit is ignored).  OUT: *n. */
SP_API sp_err sp_store_count(sp_store *s, const sp_store_filter *f, uint64_t *n, sp_diag *d);

/*
 * One row of a per-(kind, symbol) summary: how many events and their
 * time span.  symbol is borrowed and valid during the callback.
 */
typedef sp_err (*sp_store_summary_fn)(void *ctx, unsigned kind, const char *symbol, uint64_t n,
                                      int64_t min_ts_ns, int64_t max_ts_ns);

/* Call fn once per (kind, symbol) present, ordered by kind then symbol name. */
SP_API sp_err sp_store_summary(sp_store *s, sp_store_summary_fn fn, void *ctx, sp_diag *d);

/* ---- liquidation roll-ups ------------------------------------------------ */

/* Minutes of a roll-up cell and 500 ms slots per minute (the bitmap's width). */
#define SP_STORE_LIQ_MINUTE_NS INT64_C(60000000000)
#define SP_STORE_LIQ_SLOT_NS   INT64_C(500000000)
#define SP_STORE_LIQ_SLOTS     120

/*
 * One liq_minute row: the LIQUIDATION events of one venue, symbol and
 * side with exch_ts_ns in [minute * 60 s, (minute + 1) * 60 s) UTC.
 */
typedef struct sp_store_liq_minute {
    int64_t minute;     /* UTC minutes since the epoch (floor of exch_ts_ns / 60 s) */
    uint32_t symbol_id; /* the store's symbol id (the callback also gets the name) */
    uint8_t venue;      /* sp_venue */
    uint8_t sell;       /* 1: the forced orders sell (longs liquidated, SP_EVF_SELL), else 0 */
    uint64_t count;     /* events (including bad ones) */
    int64_t notional;   /* sum of sp_event_liq_notional, quote, scale 1e-8, exact */
    int64_t largest;    /* largest single notional, scale 1e-8 (INT64_MIN if none) */
    int64_t largest_ns; /* exch time of the largest (the earliest on a tie) */
    int64_t first_ns;   /* exch time of the cell's earliest event */
    uint64_t slots[2];  /* bit j of slots[j / 64], j < 120: an event in 500 ms slot j */
    uint64_t bad;       /* events whose notional overflowed (SP_EOVERFLOW): not in notional */
} sp_store_liq_minute;

/*
 * Called once per roll-up row, in (minute, venue, symbol id, sell) order;
 * symbol is the name (borrowed, valid during the call).  Returning
 * anything but SP_OK stops the query, which then returns that value.
 */
typedef sp_err (*sp_store_liq_fn)(void *ctx, const sp_store_liq_minute *row, const char *symbol);

/*
 * Stream the liquidation roll-up rows that f selects (NULL = all):
 * f->venue, f->symbol and f->limit apply as for sp_store_query; f->kind
 * must be 0 or SP_EV_LIQUIDATION (anything else selects nothing).  Time
 * bounds select whole minutes: a row is returned when its minute STARTS in
 * [from_ns, to_ns).  With minute-aligned bounds the rows hold exactly the
 * events of [from_ns, to_ns); with unaligned ones the partial first and
 * last minutes are not exact -- a caller that needs an unaligned window
 * reads events (sp_store_query) instead.  Returns SP_OK, the callback's
 * error, SP_EIO, SP_EBUSY, SP_ECONN, SP_ENOMEM.  Not thread-safe (per
 * handle, like every call here).
 */
SP_API sp_err sp_store_liq_minutes(sp_store *s, const sp_store_filter *f, sp_store_liq_fn fn,
                                   void *ctx, sp_diag *d);

SP_END_DECLS

#endif /* STAMPEDE_STORE_H */
