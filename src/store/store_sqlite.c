/*
 * store_sqlite.c -- the SQLite backend of sp_store (the embedded default).
 *
 * One database file in WAL mode: a reader (SP_STORE_READONLY) sees every
 * committed batch while one writer appends.  Each append is one
 * BEGIN IMMEDIATE ... COMMIT transaction, so a batch is all there or not
 * at all even if the process is killed (the WAL is replayed or ignored on
 * the next open).  With the default synchronous=NORMAL a committed batch
 * survives the death of the process; ?sync=full also survives power loss.
 *
 * Events live in a WITHOUT ROWID table whose primary key is the natural
 * key in the order the analytics queries use it (kind, symbol, time, ...):
 * the key both serves those queries and makes re-ingest idempotent
 * (INSERT OR IGNORE), with a single B-tree per row.  Each append slice
 * is put in key order first (sort_rows: a stable bucket pass by (kind,
 * symbol), rows of one key keep the slice's order, so the first one still
 * wins), then goes in with one INSERT OR IGNORE ... SELECT from the
 * table-valued function sp_rows, which reads the rows straight from the
 * slice: no per-value bind, no per-chunk statement reset, and consecutive
 * rows land on the same B-tree pages.  Exactly the LIQUIDATION rows that
 * were new feed the per-minute roll-up (rollup.c): a slice's liquidations
 * (in slice order) go in under a savepoint; when all were new they all
 * count, else the savepoint is rolled back and they go again through the
 * same INSERT with RETURNING, which yields only the inserted rows.  The
 * slice's cells are aggregated in C and merged into liq_minute with one
 * INSERT ... SELECT ... FROM sp_cells ... ON CONFLICT DO UPDATE before the
 * slice returns, inside the append's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "store/store_int.h"

/*
 * Most distinct (kind, symbol) pairs in a slice that sort_rows buckets;
 * a slice with more is sorted by qsort alone.
 */
#define SORT_GROUPS 1024u
_Static_assert(2 * SORT_GROUPS <= 2048, "a slot takes 11 bits of sort_rows' used[]");

/* One (kind, symbol) bucket of sort_rows. */
typedef struct sort_group {
    uint64_t key;   /* group_key(), 0 = empty slot */
    uint32_t count; /* rows in the bucket */
    uint32_t pos;   /* next free place of the bucket in the output */
} sort_group;

typedef struct sqlite_impl {
    sqlite3 *db;
    char *path;                 /* the file, for messages */
    sqlite3_stmt *bulk;         /* INSERT OR IGNORE ... SELECT ... FROM sp_rows(?1) */
    sqlite3_stmt *symput;       /* INSERT OR IGNORE INTO symbol */
    sqlite3_stmt *symget;       /* SELECT id FROM symbol WHERE name = ? */
    sqlite3_stmt *rollup;       /* UPSERT of one liq_minute cell */
    sqlite3_stmt *bulkliq;      /* bulk with RETURNING of the inserted rows' roll-up fields */
    const sp_store_row **order; /* the slice's rows in key order (sqlite_insert) */
    const sp_store_row **tmp;   /* scratch of sort_rows, cap_order entries */
    size_t cap_order;           /* entries of order and tmp */
    sort_group group[2 * SORT_GROUPS]; /* sort_rows' hash of (kind, symbol) */
    uint64_t used[SORT_GROUPS];        /* its slots in use: (kind, symbol) << 11 | slot */
} sqlite_impl;

static const char *const event_cols =
    "kind, symbol_id, exch_ts_ns, venue, sub, k1, k2, flags, local_ts_ns, px, qty, "
    "aux0, aux1, aux2";

/*
 * The migrations, in order; migration i (0-based) brings a database from
 * version i to i + 1.  Never edit a shipped migration: append one.
 */
static const char *const migrations[] = {
    /* 1: symbols, events keyed by their natural key, the version table */
    "CREATE TABLE symbol(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE event(kind INTEGER NOT NULL, symbol_id INTEGER NOT NULL,"
    " exch_ts_ns INTEGER NOT NULL, venue INTEGER NOT NULL, sub INTEGER NOT NULL,"
    " k1 INTEGER NOT NULL, k2 INTEGER NOT NULL, flags INTEGER NOT NULL,"
    " local_ts_ns INTEGER NOT NULL, px INTEGER NOT NULL, qty INTEGER NOT NULL,"
    " aux0 INTEGER NOT NULL, aux1 INTEGER NOT NULL, aux2 INTEGER NOT NULL,"
    " PRIMARY KEY(kind, symbol_id, exch_ts_ns, venue, sub, k1, k2)) WITHOUT ROWID;"
    "CREATE TABLE schema_version(version INTEGER NOT NULL);",
    /* 2: the audit trail of ingest runs */
    "CREATE TABLE ingest_run(id INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL,"
    " source TEXT NOT NULL, decoded INTEGER NOT NULL, inserted INTEGER NOT NULL,"
    " rejected INTEGER NOT NULL);",
    /*
     * 3: per-minute liquidation roll-ups (filled from the stored events by
     * backfill() in the same transaction)
     */
    "CREATE TABLE liq_minute(minute INTEGER NOT NULL, venue INTEGER NOT NULL,"
    " symbol_id INTEGER NOT NULL, side INTEGER NOT NULL, count INTEGER NOT NULL,"
    " notional INTEGER NOT NULL, largest INTEGER NOT NULL, largest_ns INTEGER NOT NULL,"
    " first_ns INTEGER NOT NULL, slots0 INTEGER NOT NULL, slots1 INTEGER NOT NULL,"
    " bad INTEGER NOT NULL,"
    " PRIMARY KEY(minute, venue, symbol_id, side)) WITHOUT ROWID;",
};

/*
 * Merge the cells of a slice (sp_cells, below) into liq_minute, each as
 * sp__store_roll_merge does (the WHERE 1 keeps the parser from reading
 * ON CONFLICT as a join constraint).  SQLite
 * turns an overflowing integer sum into a REAL: typeof() catches that, the
 * old sum is kept and the cell's events are counted as bad instead.
 */
static const char *const rollup_sql =
    "INSERT INTO liq_minute(minute, venue, symbol_id, side, count, notional, largest,"
    " largest_ns, first_ns, slots0, slots1, bad) SELECT minute, venue, symbol_id, side, count,"
    " notional, largest, largest_ns, first_ns, slots0, slots1, bad FROM sp_cells(?1) WHERE 1"
    " ON CONFLICT(minute, venue, symbol_id, side) DO UPDATE SET"
    " count = count + excluded.count,"
    " notional = CASE WHEN typeof(notional + excluded.notional) = 'integer'"
    "  THEN notional + excluded.notional ELSE notional END,"
    " bad = bad + CASE WHEN typeof(notional + excluded.notional) = 'integer'"
    "  THEN excluded.bad ELSE excluded.count END,"
    " largest = CASE WHEN excluded.largest > largest OR (excluded.largest = largest AND"
    "  excluded.largest_ns < largest_ns) THEN excluded.largest ELSE largest END,"
    " largest_ns = CASE WHEN excluded.largest > largest OR (excluded.largest = largest AND"
    "  excluded.largest_ns < largest_ns) THEN excluded.largest_ns ELSE largest_ns END,"
    " first_ns = min(first_ns, excluded.first_ns),"
    " slots0 = slots0 | excluded.slots0, slots1 = slots1 | excluded.slots1";

_Static_assert(SP_COUNTOF(migrations) == SP_STORE_SCHEMA_VERSION,
               "one SQLite migration per schema version");

/* The SQL of migration `version` (1-based), for the upgrade tests; NULL if none. */
const char *sp__store_sqlite_migration(int version)
{
    if (version < 1 || version > (int)SP_COUNTOF(migrations))
        return NULL;
    return migrations[version - 1];
}

static sp_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return SP_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SP_EBUSY;
    case SQLITE_NOMEM:
        return SP_ENOMEM;
    case SQLITE_NOTADB:
        return SP_ESCHEMA;
    case SQLITE_TOOBIG:
        return SP_ETOOBIG;
    default:
        return SP_EIO; /* IOERR, FULL, READONLY, CANTOPEN, PERM, CORRUPT, ... */
    }
}

/* Fill d from the connection's last error and return the mapped sp_err. */
static sp_err fail(sqlite_impl *m, int rc, sp_diag *d, const char *what)
{
    sp_err e = map_rc(rc);
    const char *why = m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc);
    const char *hint = "";
    if ((rc & 0xff) == SQLITE_FULL)
        hint = " (disk full?)";
    else if ((rc & 0xff) == SQLITE_IOERR)
        hint = " (disk full, file size limit, or a failing device?)";
    else if ((rc & 0xff) == SQLITE_BUSY)
        hint = " (another process holds the lock; raise ?busy_ms= or retry)";
    else if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_CANTOPEN)
        hint = " (check the file and directory permissions)";
    return sp_diag_set(d, e, "sqlite:%s: %s: %s [%s]%s", m->path, what, why, sqlite3_errstr(rc),
                       hint);
}

/* The liquidation in the current row of st, whose columns 0..8 are venue, symbol_id, exch_ts_ns,
 * flags, px, qty, aux0..2 (the roll-up backfill and the batch insert read the same nine). */
static void liq_from_row(sqlite3_stmt *st, sp_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = SP_EV_LIQUIDATION;
    ev->venue = (uint8_t)sqlite3_column_int64(st, 0);
    ev->symbol_id = (uint32_t)sqlite3_column_int64(st, 1);
    ev->exch_ts_ns = sqlite3_column_int64(st, 2);
    ev->flags = (uint8_t)sqlite3_column_int64(st, 3);
    ev->px = sqlite3_column_int64(st, 4);
    ev->qty = sqlite3_column_int64(st, 5);
    ev->aux[0] = sqlite3_column_int64(st, 6);
    ev->aux[1] = sqlite3_column_int64(st, 7);
    ev->aux[2] = sqlite3_column_int64(st, 8);
}

static int exec(sqlite_impl *m, const char *sql)
{
    return sqlite3_exec(m->db, sql, NULL, NULL, NULL);
}

/* The version in schema_version, 0 for an empty database.  SP_ESCHEMA for a foreign one. */
static sp_err read_version(sqlite_impl *m, int *version, sp_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(m->db,
                                "SELECT (SELECT count(*) FROM sqlite_master),"
                                " (SELECT count(*) FROM sqlite_master"
                                "  WHERE type = 'table' AND name = 'schema_version')",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "reading the schema");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return fail(m, rc, d, "reading the schema");
    }
    int64_t objects = sqlite3_column_int64(st, 0);
    int64_t has_version = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (objects == 0) {
        *version = 0;
        return SP_OK;
    }
    if (has_version == 0)
        return sp_diag_set(d, SP_ESCHEMA,
                           "sqlite:%s: not a stampede database (no schema_version table)", m->path);
    rc = sqlite3_prepare_v2(m->db, "SELECT max(version) FROM schema_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "reading schema_version");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW || sqlite3_column_type(st, 0) != SQLITE_INTEGER) {
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
            return fail(m, rc, d, "reading schema_version");
        return sp_diag_set(d, SP_ESCHEMA, "sqlite:%s: schema_version is empty", m->path);
    }
    *version = (int)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return SP_OK;
}

/* ---- sp_rows, sp_cells: C arrays as table-valued functions --------------- */

/*
 * The eponymous virtual tables sp_rows(p) and sp_cells(p) yield the
 * entries of a C array: sp_rows the rows of an sp_store_row pointer array,
 * sp_cells the roll-up cells of an sp_store_liq_minute array.  p is a
 * slice_arg bound with sqlite3_bind_pointer(..., tag) (the pointer type
 * tag keeps SQL text from forging one).  One INSERT ... SELECT ... FROM
 * sp_rows(?1) then writes a whole slice in one statement step, one
 * INSERT ... SELECT ... FROM sp_cells(?1) ... ON CONFLICT DO UPDATE merges
 * all the cells of a slice: no sqlite3_bind_int64 per value and no
 * statement reset per row or per few rows.  Measured with callgrind on
 * bench_store (2*10^5 events): the binds were 13% of the instructions of
 * an append; on bench_analytics (3*10^4 liquidations) the UPSERT per cell
 * was 47%.
 */
typedef struct slice_arg {
    const void *p; /* borrowed: sp_store_row *const * (sp_rows) or sp_store_liq_minute * */
    size_t n;      /* entries of p */
} slice_arg;

/* What one of the two tables yields. */
typedef struct slice_kind {
    const char *decl; /* the declared table: the columns, then the hidden argument p */
    const char *tag;  /* the pointer type of p */
    int ncols;        /* visible columns (p is column ncols) */
} slice_kind;

static const slice_kind rows_kind = {
    "CREATE TABLE x(kind, symbol_id, exch_ts_ns, venue, sub, k1, k2, flags, local_ts_ns, px, qty,"
    " aux0, aux1, aux2, p HIDDEN)",
    "sp_rows", 14};

static const slice_kind cells_kind = {
    "CREATE TABLE x(minute, venue, symbol_id, side, count, notional, largest, largest_ns, first_ns,"
    " slots0, slots1, bad, p HIDDEN)",
    "sp_cells", 12};

typedef struct slice_vtab {
    sqlite3_vtab base; /* must come first (SQLite casts) */
    const slice_kind *k;
} slice_vtab;

typedef struct slice_cursor {
    sqlite3_vtab_cursor base; /* must come first (SQLite casts) */
    const slice_kind *k;
    const slice_arg *arg; /* NULL until xFilter */
    size_t i;             /* current entry */
} slice_cursor;

static int slice_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **out, char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    const slice_kind *k = aux;
    int rc = sqlite3_declare_vtab(db, k->decl);
    if (rc != SQLITE_OK)
        return rc;
    slice_vtab *v = sp_calloc(1, sizeof(*v));
    if (v == NULL)
        return SQLITE_NOMEM;
    v->k = k;
    *out = &v->base;
    return SQLITE_OK;
}

static int slice_disconnect(sqlite3_vtab *v)
{
    sp_free(v);
    return SQLITE_OK;
}

/* Only a plan with p = ? is usable: without its argument the table has nothing to yield. */
static int slice_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    const slice_kind *k = ((const slice_vtab *)v)->k;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn == k->ncols && c->op == SQLITE_INDEX_CONSTRAINT_EQ && c->usable) {
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1.0;
            info->estimatedRows = SP_STORE_SLICE;
            return SQLITE_OK;
        }
    }
    return SQLITE_CONSTRAINT;
}

static int slice_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    slice_cursor *c = sp_calloc(1, sizeof(*c));
    if (c == NULL)
        return SQLITE_NOMEM;
    c->k = ((const slice_vtab *)v)->k;
    *out = &c->base;
    return SQLITE_OK;
}

static int slice_close(sqlite3_vtab_cursor *cur)
{
    sp_free(cur);
    return SQLITE_OK;
}

static int slice_filter(sqlite3_vtab_cursor *cur, int idx, const char *idx_str, int argc,
                        sqlite3_value **argv)
{
    (void)idx;
    (void)idx_str;
    slice_cursor *c = (slice_cursor *)cur;
    c->arg = argc == 1 ? sqlite3_value_pointer(argv[0], c->k->tag) : NULL;
    c->i = 0;
    return SQLITE_OK;
}

static int slice_next(sqlite3_vtab_cursor *cur)
{
    ((slice_cursor *)cur)->i++;
    return SQLITE_OK;
}

static int slice_eof(sqlite3_vtab_cursor *cur)
{
    const slice_cursor *c = (const slice_cursor *)cur;
    return c->arg == NULL || c->i >= c->arg->n;
}

/* Column col of row r, in event_cols order. */
static int64_t row_value(const sp_store_row *r, int col)
{
    switch (col) {
    case 0:
        return r->ev.kind;
    case 1:
        return r->ev.symbol_id;
    case 2:
        return r->ev.exch_ts_ns;
    case 3:
        return r->ev.venue;
    case 4:
        return r->ev.sub;
    case 5:
        return r->k1;
    case 6:
        return r->k2;
    case 7:
        return r->ev.flags;
    case 8:
        return r->ev.local_ts_ns;
    case 9:
        return r->ev.px;
    case 10:
        return r->ev.qty;
    case 11:
        return r->ev.aux[0];
    case 12:
        return r->ev.aux[1];
    default:
        return r->ev.aux[2];
    }
}

/* Column col of cell c, in liq_minute's column order (unsigned fields as their int64 bits). */
static int64_t cell_value(const sp_store_liq_minute *c, int col)
{
    switch (col) {
    case 0:
        return c->minute;
    case 1:
        return c->venue;
    case 2:
        return c->symbol_id;
    case 3:
        return c->sell;
    case 4:
        return (int64_t)c->count;
    case 5:
        return c->notional;
    case 6:
        return c->largest;
    case 7:
        return c->largest_ns;
    case 8:
        return c->first_ns;
    case 9:
        return (int64_t)c->slots[0];
    case 10:
        return (int64_t)c->slots[1];
    default:
        return (int64_t)c->bad;
    }
}

/*
 * xColumn of sp_rows and of sp_cells: one function each, so the per-value
 * call does not test which table it serves (a shared one cost 1.2% more
 * instructions per append, callgrind of bench_store).  Column ncols is
 * the argument p, which the plan omits, so it is never read.
 */
static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const slice_cursor *c = (const slice_cursor *)cur;
    sqlite3_result_int64(ctx, row_value(((const sp_store_row *const *)c->arg->p)[c->i], col));
    return SQLITE_OK;
}

static int cells_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const slice_cursor *c = (const slice_cursor *)cur;
    sqlite3_result_int64(ctx, cell_value((const sp_store_liq_minute *)c->arg->p + c->i, col));
    return SQLITE_OK;
}

static int slice_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((const slice_cursor *)cur)->i;
    return SQLITE_OK;
}

/* Eponymous-only (xCreate NULL): they exist in every connection they are registered with, no DDL.
 */
#define SLICE_MODULE(column)                                                                       \
    {                                                                                              \
        .iVersion = 0, .xCreate = NULL, .xConnect = slice_connect, .xBestIndex = slice_best_index, \
        .xDisconnect = slice_disconnect, .xDestroy = slice_disconnect, .xOpen = slice_open,        \
        .xClose = slice_close, .xFilter = slice_filter, .xNext = slice_next, .xEof = slice_eof,    \
        .xColumn = (column), .xRowid = slice_rowid,                                                \
    }
static const sqlite3_module rows_module = SLICE_MODULE(rows_column);
static const sqlite3_module cells_module = SLICE_MODULE(cells_column);

/* Bind n entries at p to st's ?1 as a slice_arg of kind k (valid until st is reset). */
static void bind_slice(sqlite3_stmt *st, slice_arg *arg, const slice_kind *k, const void *p,
                       size_t n)
{
    arg->p = p;
    arg->n = n;
    sqlite3_bind_pointer(st, 1, arg, k->tag, NULL);
}

/* Merge the cells of s->roll into liq_minute (inside the open transaction). */
static sp_err flush_roll(sp_store *s, sqlite_impl *m, sp_diag *d)
{
    if (s->roll.n == 0)
        return SP_OK;
    if (m->rollup == NULL) {
        int rc =
            sqlite3_prepare_v3(m->db, rollup_sql, -1, SQLITE_PREPARE_PERSISTENT, &m->rollup, NULL);
        if (rc != SQLITE_OK)
            return fail(m, rc, d, "preparing the roll-up");
    }
    slice_arg arg;
    bind_slice(m->rollup, &arg, &cells_kind, s->roll.cell, s->roll.n);
    int rc = sqlite3_step(m->rollup);
    sqlite3_reset(m->rollup);
    sqlite3_clear_bindings(m->rollup);
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "updating the liquidation roll-up");
    sp__store_roll_reset(&s->roll);
    return SP_OK;
}

/*
 * Migration 3 on a database that has events: build liq_minute from the
 * stored LIQUIDATION rows (their symbol names give the COIN-M contract
 * value), in the migration's transaction.
 */
static sp_err backfill(sp_store *s, sqlite_impl *m, sp_diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        m->db,
        "SELECT e.venue, e.symbol_id, e.exch_ts_ns, e.flags, e.px, e.qty, e.aux0, e.aux1,"
        " e.aux2, y.name FROM event e LEFT JOIN symbol y ON y.id = e.symbol_id WHERE e.kind = ?",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "reading liquidations for the roll-up");
    sqlite3_bind_int64(st, 1, SP_EV_LIQUIDATION);
    sp_err e = SP_OK;
    sp__store_roll_reset(&s->roll);
    while (e == SP_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sp_event ev;
        liq_from_row(st, &ev);
        const char *name = (const char *)sqlite3_column_text(st, 9);
        e = sp__store_roll_add(&s->roll, &ev, name);
        if (e != SP_OK)
            sp_diag_set(d, e, "sqlite:%s: out of memory building the roll-up", m->path);
        else if (s->roll.n >= SP_STORE_SLICE)
            e = flush_roll(s, m, d);
    }
    if (e == SP_OK && rc != SQLITE_DONE)
        e = fail(m, rc, d, "reading liquidations for the roll-up");
    sqlite3_finalize(st);
    if (e == SP_OK)
        e = flush_roll(s, m, d);
    sp__store_roll_reset(&s->roll);
    return e;
}

/* Bring the schema to SP_STORE_SCHEMA_VERSION in one transaction. */
static sp_err migrate(sp_store *s, sqlite_impl *m, unsigned flags, sp_diag *d)
{
    int v = 0;
    sp_err e = read_version(m, &v, d);
    if (e != SP_OK)
        return e;
    s->opened_version = v;
    if (v > SP_STORE_SCHEMA_VERSION)
        return sp_diag_set(d, SP_ESCHEMA,
                           "sqlite:%s: schema version %d is newer than this stampede's %d; "
                           "use a newer stampede",
                           m->path, v, SP_STORE_SCHEMA_VERSION);
    if (v == SP_STORE_SCHEMA_VERSION)
        return SP_OK;
    if (flags & SP_STORE_READONLY)
        return sp_diag_set(d, v == 0 ? SP_ENOTFOUND : SP_ESCHEMA,
                           v == 0 ? "sqlite:%s: no stampede database here (opened read-only)"
                                  : "sqlite:%s: schema version %d needs an upgrade; open it "
                                    "writable once (e.g. stampede ingest)",
                           m->path, v);
    int rc = exec(m, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "locking for the schema upgrade");
    /* another process may have migrated between our read and the lock */
    if ((e = read_version(m, &v, d)) != SP_OK)
        goto out_rollback;
    for (int i = v; i < SP_STORE_SCHEMA_VERSION; i++) {
        rc = exec(m, migrations[i]);
        if (rc != SQLITE_OK) {
            e = fail(m, rc, d, "applying a schema migration");
            goto out_rollback;
        }
    }
    if (v >= 1 && v < 3 && (e = backfill(s, m, d)) != SP_OK)
        goto out_rollback;
    char sql[96];
    snprintf(sql, sizeof(sql), "DELETE FROM schema_version; INSERT INTO schema_version VALUES(%d)",
             SP_STORE_SCHEMA_VERSION);
    if ((rc = exec(m, sql)) != SQLITE_OK || (rc = exec(m, "COMMIT")) != SQLITE_OK) {
        e = fail(m, rc, d, "recording the schema version");
        goto out_rollback;
    }
    return SP_OK;

out_rollback:
    if (!sqlite3_get_autocommit(m->db))
        exec(m, "ROLLBACK");
    return e;
}

static sp_err prepare(sqlite_impl *m, const char *sql, sqlite3_stmt **st, sp_diag *d)
{
    int rc = sqlite3_prepare_v3(m->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    return rc == SQLITE_OK ? SP_OK : fail(m, rc, d, "preparing a statement");
}

static sp_err prepare_writes(sqlite_impl *m, sp_diag *d)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO event(%s) SELECT %s FROM sp_rows(?1)",
             event_cols, event_cols);
    sp_err e = prepare(m, sql, &m->bulk, d);
    if (e != SP_OK)
        return e;
    size_t l = strlen(sql);
    snprintf(sql + l, sizeof(sql) - l,
             " RETURNING venue, symbol_id, exch_ts_ns, flags, px, qty, aux0, aux1, aux2");
    if ((e = prepare(m, sql, &m->bulkliq, d)) != SP_OK)
        return e;
    if ((e = prepare(m, "INSERT OR IGNORE INTO symbol(name) VALUES(?)", &m->symput, d)) != SP_OK)
        return e;
    return SP_OK;
}

static void sqlite_close(sp_store *s)
{
    sqlite_impl *m = s->impl;
    if (m == NULL)
        return;
    sqlite3_finalize(m->bulk);
    sqlite3_finalize(m->symput);
    sqlite3_finalize(m->symget);
    sqlite3_finalize(m->rollup);
    sqlite3_finalize(m->bulkliq);
    sp_free(m->order);
    sp_free(m->tmp);
    if (m->db) {
        if (!sqlite3_get_autocommit(m->db))
            exec(m, "ROLLBACK");
        sqlite3_close_v2(m->db);
    }
    sp_free(m->path);
    sp_free(m);
    s->impl = NULL;
}

static sp_err sqlite_open(sp_store *s, const char *target, unsigned flags, sp_diag *d)
{
    sqlite_impl *m = sp_calloc(1, sizeof(*m));
    if (m == NULL)
        return sp_diag_set(d, SP_ENOMEM, "sqlite: out of memory");
    s->impl = m;
    const char *q = strchr(target, '?');
    m->path = q ? sp_strndup(target, (size_t)(q - target)) : sp_strdup(target);
    if (m->path == NULL) {
        sqlite_close(s);
        return sp_diag_set(d, SP_ENOMEM, "sqlite: out of memory");
    }
    char vfs[64] = "", sync[16] = "normal", busy[16] = "5000";
    if (q) {
        sp__store_uri_param(q + 1, "vfs", vfs, sizeof(vfs));
        sp__store_uri_param(q + 1, "sync", sync, sizeof(sync));
        sp__store_uri_param(q + 1, "busy_ms", busy, sizeof(busy));
    }
    int64_t busy_ms = 0;
    sp_err e = sp_dec_parse(busy, strlen(busy), 0, &busy_ms, NULL);
    if (e != SP_OK || busy_ms < 0 || busy_ms > 3600000 ||
        (strcmp(sync, "full") && strcmp(sync, "normal") && strcmp(sync, "off"))) {
        sp_diag_set(d, SP_EINVAL,
                    "sqlite:%s: bad URI parameter (busy_ms=0..3600000, "
                    "sync=full|normal|off)",
                    m->path);
        sqlite_close(s);
        return SP_EINVAL;
    }
    if ((flags & SP_STORE_READONLY) && vfs[0] == '\0' && access(m->path, F_OK) != 0) {
        sp_diag_set(d, SP_ENOTFOUND, "sqlite:%s: no such store file (opened read-only)", m->path);
        sqlite_close(s);
        return SP_ENOTFOUND;
    }
    int oflags = (flags & SP_STORE_READONLY) ? SQLITE_OPEN_READONLY
                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(m->path, &m->db, oflags | SQLITE_OPEN_NOMUTEX, vfs[0] ? vfs : NULL);
    if (rc != SQLITE_OK) {
        e = fail(m, rc, d, "cannot open");
        goto out_close;
    }
    sqlite3_extended_result_codes(m->db, 1);
    sqlite3_busy_timeout(m->db, (int)busy_ms);
    /* before migrate(): the roll-up backfill of migration 3 writes through sp_cells */
    if ((rc = sqlite3_create_module_v2(m->db, "sp_rows", &rows_module, (void *)&rows_kind, NULL)) !=
            SQLITE_OK ||
        (rc = sqlite3_create_module_v2(m->db, "sp_cells", &cells_module, (void *)&cells_kind,
                                       NULL)) != SQLITE_OK) {
        e = fail(m, rc, d, "registering sp_rows / sp_cells");
        goto out_close;
    }
    /* SQLite silently falls back to read-only on a write-protected file: refuse that */
    if (!(flags & SP_STORE_READONLY) && sqlite3_db_readonly(m->db, "main") == 1) {
        e = sp_diag_set(d, SP_EIO,
                        "sqlite:%s: the file is read-only (check its permissions, or open the "
                        "store read-only)",
                        m->path);
        goto out_close;
    }
    if (!(flags & SP_STORE_READONLY)) {
        /*
         * 16 KiB pages (only takes effect on a new file) and a 64 MiB page
         * cache: fewer B-tree splits and interior-page misses on bulk ingest
         * (bench_store).  WAL: readers never block the writer; NORMAL sync
         * is durable against a crash of the process.  secure_delete off:
         * Debian builds SQLite with SECURE_DELETE, which zeroes the space
         * every B-tree rebalance frees; the store never deletes events, and
         * the zeroing cost 1.4% of the instructions of an append (callgrind,
         * bench_store 2*10^5).  64 KiB pages saved another 0.8% but cost 2%
         * more bytes per event, so the page size stays.
         */
        if ((rc = exec(m, "PRAGMA page_size=16384; PRAGMA cache_size=-65536;"
                          " PRAGMA secure_delete=OFF")) != SQLITE_OK) {
            e = fail(m, rc, d, "setting the page cache");
            goto out_close;
        }
        if ((rc = exec(m, "PRAGMA journal_mode=WAL")) != SQLITE_OK) {
            e = fail(m, rc, d, "switching to WAL");
            goto out_close;
        }
        char pragma[48];
        snprintf(pragma, sizeof(pragma), "PRAGMA synchronous=%s", sync);
        if ((rc = exec(m, pragma)) != SQLITE_OK) {
            e = fail(m, rc, d, "setting synchronous");
            goto out_close;
        }
    }
    if ((e = migrate(s, m, flags, d)) != SP_OK)
        goto out_close;
    if (!(flags & SP_STORE_READONLY) && (e = prepare_writes(m, d)) != SP_OK)
        goto out_close;
    if ((e = prepare(m, "SELECT id FROM symbol WHERE name = ?", &m->symget, d)) != SP_OK)
        goto out_close;
    return SP_OK;

out_close:
    sqlite_close(s);
    return e;
}

static sp_err sqlite_begin(sp_store *s, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    int rc = exec(m, "BEGIN IMMEDIATE");
    return rc == SQLITE_OK ? SP_OK : fail(m, rc, d, "starting a transaction");
}

static void sqlite_rollback(sp_store *s)
{
    sqlite_impl *m = s->impl;
    if (!sqlite3_get_autocommit(m->db))
        exec(m, "ROLLBACK");
}

static sp_err sqlite_commit(sp_store *s, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    int rc = exec(m, "COMMIT");
    if (rc == SQLITE_OK)
        return SP_OK;
    sp_err e = fail(m, rc, d, "committing a batch");
    sqlite_rollback(s);
    return e;
}

static sp_err sqlite_symbol_put(sp_store *s, const char *name, uint32_t *id, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    sqlite3_bind_text(m->symput, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(m->symput);
    sqlite3_reset(m->symput);
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "adding a symbol");
    sqlite3_bind_text(m->symget, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(m->symget);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(m->symget, 0) : 0;
    sqlite3_reset(m->symget);
    if (rc != SQLITE_ROW)
        return fail(m, rc, d, "reading a symbol id");
    if (v <= 0 || v > (int64_t)SP_STORE_SYMBOL_ID_MAX)
        return sp_diag_set(d, SP_ERANGE, "sqlite:%s: symbol id %lld out of range", m->path,
                           (long long)v);
    *id = (uint32_t)v;
    return SP_OK;
}

static sp_err sqlite_symbols(sp_store *s, sp_store_sym_fn fn, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(m->db, "SELECT id, name FROM symbol ORDER BY id", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "reading symbols");
    sp_err e = SP_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (id <= 0 || id > (int64_t)SP_STORE_SYMBOL_ID_MAX || name == NULL) {
            e = sp_diag_set(d, SP_ESCHEMA, "sqlite:%s: bad symbol row (id %lld)", m->path,
                            (long long)id);
            break;
        }
        if ((e = fn(s, (uint32_t)id, name)) != SP_OK) {
            sp_diag_set(d, e, "sqlite:%s: symbol '%s': %s", m->path, name, sp_strerror(e));
            break;
        }
    }
    if (e == SP_OK && rc != SQLITE_DONE)
        e = fail(m, rc, d, "reading symbols");
    sqlite3_finalize(st);
    return e;
}

/* Insert the n rows of row, skipping present keys.  OUT: *got += new. */
static sp_err insert_rows(sqlite_impl *m, const sp_store_row *const *row, size_t n, uint64_t *got,
                          sp_diag *d)
{
    slice_arg arg;
    bind_slice(m->bulk, &arg, &rows_kind, row, n);
    int rc = sqlite3_step(m->bulk);
    sqlite3_reset(m->bulk);
    sqlite3_clear_bindings(m->bulk);
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "inserting events");
    *got += (uint64_t)sqlite3_changes64(m->db);
    return SP_OK;
}

/*
 * Insert the n LIQUIDATION rows of row; add the new ones (the RETURNING
 * rows) to the roll-up.  OUT: *got += new.
 */
static sp_err insert_liq_rows(sp_store *s, sqlite_impl *m, const sp_store_row *const *row, size_t n,
                              uint64_t *got, sp_diag *d)
{
    sqlite3_stmt *st = m->bulkliq;
    slice_arg arg;
    bind_slice(st, &arg, &rows_kind, row, n);
    sp_err e = SP_OK;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (e != SP_OK)
            continue; /* run the statement to its end before reporting */
        sp_event ev;
        liq_from_row(st, &ev);
        (*got)++;
        e = sp__store_roll_add(&s->roll, &ev, sp__store_symbol_name(s, ev.symbol_id));
        if (e != SP_OK)
            sp_diag_set(d, e, "sqlite:%s: out of memory (roll-up)", m->path);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "inserting liquidations");
    return e;
}

/* Add ev (a row known to be new) to the slice's roll-up. */
static sp_err roll_row(sp_store *s, sqlite_impl *m, const sp_event *ev, sp_diag *d)
{
    sp_err e = sp__store_roll_add(&s->roll, ev, sp__store_symbol_name(s, ev->symbol_id));
    return e == SP_OK ? SP_OK : sp_diag_set(d, e, "sqlite:%s: out of memory (roll-up)", m->path);
}

/*
 * The LIQUIDATION rows of a slice, liq[0..nliq) in the caller's order.
 * Optimistic pass under a savepoint: the plain bulk insert; if every row
 * was new (the usual ingest) they all go to the roll-up.  Otherwise
 * (re-ingest, duplicates in the slice) the pass is rolled back and redone
 * with RETURNING, which names the new rows.  RETURNING always cost ~1.5 us
 * a row (bench_analytics, when it ran on every 32-row chunk).
 */
static sp_err insert_liqs(sp_store *s, sqlite_impl *m, const sp_store_row *const *liq, size_t nliq,
                          uint64_t *got, sp_diag *d)
{
    int rc = exec(m, "SAVEPOINT sp_liq");
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "setting a savepoint");
    uint64_t fresh_n = 0;
    sp_err e = insert_rows(m, liq, nliq, &fresh_n, d);
    if (e == SP_OK && fresh_n == nliq) {
        for (size_t i = 0; i < nliq && e == SP_OK; i++)
            e = roll_row(s, m, &liq[i]->ev, d);
        *got += fresh_n;
    } else if (e == SP_OK) {
        if ((rc = exec(m, "ROLLBACK TO sp_liq")) != SQLITE_OK)
            e = fail(m, rc, d, "rolling back a savepoint");
        else
            e = insert_liq_rows(s, m, liq, nliq, got, d);
    }
    /* on error the caller's ROLLBACK of the transaction undoes everything */
    if (e == SP_OK && (rc = exec(m, "RELEASE sp_liq")) != SQLITE_OK)
        e = fail(m, rc, d, "releasing a savepoint");
    return e;
}

/* Key order of two rows (the event table's PRIMARY KEY order), then their place in the slice. */
static int row_cmp(const sp_store_row *a, const sp_store_row *b)
{
    if (a->ev.kind != b->ev.kind)
        return a->ev.kind < b->ev.kind ? -1 : 1;
    if (a->ev.symbol_id != b->ev.symbol_id)
        return a->ev.symbol_id < b->ev.symbol_id ? -1 : 1;
    if (a->ev.exch_ts_ns != b->ev.exch_ts_ns)
        return a->ev.exch_ts_ns < b->ev.exch_ts_ns ? -1 : 1;
    if (a->ev.venue != b->ev.venue)
        return a->ev.venue < b->ev.venue ? -1 : 1;
    if (a->ev.sub != b->ev.sub)
        return a->ev.sub < b->ev.sub ? -1 : 1;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    if (a->k2 != b->k2)
        return a->k2 < b->k2 ? -1 : 1;
    /* equal keys keep the slice order: the first one is the row INSERT OR IGNORE keeps */
    return a < b ? -1 : a > b;
}

static int row_ptr_cmp(const void *a, const void *b)
{
    return row_cmp(*(const sp_store_row *const *)a, *(const sp_store_row *const *)b);
}

/* The (kind, symbol) bucket of r, never 0. */
static uint64_t group_key(const sp_store_row *r)
{
    return (1ull << 63) | ((uint64_t)r->ev.kind << 32) | r->ev.symbol_id;
}

/* The hash slot of key in m->group (open addressing, linear probing). */
static uint32_t group_slot(const sqlite_impl *m, uint64_t key)
{
    uint32_t mask = 2 * SORT_GROUPS - 1;
    uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
    while (m->group[i].key != 0 && m->group[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Sort a[0..n) by row_cmp.  Feeds arrive in time order per (kind,
 * symbol) but interleave the pairs, so a stable bucket pass by (kind,
 * symbol) usually leaves each bucket sorted already; only an unsorted
 * bucket is handed to qsort.  A plain qsort of the slice cost ~510
 * instructions a row (callgrind of bench_store, 32768-row slices), the
 * bucket pass well under a tenth of that.
 */
static void sort_rows(sqlite_impl *m, const sp_store_row **a, size_t n)
{
    memset(m->group, 0, sizeof(m->group));
    uint32_t nused = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = group_key(a[i]);
        uint32_t slot = group_slot(m, key);
        if (m->group[slot].key == 0) {
            if (nused == SORT_GROUPS) {
                qsort(a, n, sizeof(*a), row_ptr_cmp);
                return;
            }
            m->group[slot].key = key;
            /* kind and symbol take 40 bits, the slot 11: sorting these sorts the keys */
            m->used[nused++] = (key & 0xFFFFFFFFFFull) << 11 | slot;
        }
        m->group[slot].count++;
    }
    qsort(m->used, nused, sizeof(m->used[0]), u64_cmp);
    uint32_t pos = 0;
    for (uint32_t g = 0; g < nused; g++) {
        sort_group *b = &m->group[m->used[g] & (2 * SORT_GROUPS - 1)];
        b->pos = pos;
        pos += b->count;
    }
    for (size_t i = 0; i < n; i++)
        m->tmp[m->group[group_slot(m, group_key(a[i]))].pos++] = a[i];
    memcpy(a, m->tmp, n * sizeof(*a));
    for (uint32_t g = 0, start = 0; g < nused; g++) {
        uint32_t cnt = m->group[m->used[g] & (2 * SORT_GROUPS - 1)].count;
        for (uint32_t i = start + 1; i < start + cnt; i++) {
            if (row_cmp(a[i - 1], a[i]) > 0) {
                qsort(a + start, cnt, sizeof(*a), row_ptr_cmp);
                break;
            }
        }
        start += cnt;
    }
}

static sp_err sqlite_insert(sp_store *s, const sp_store_row *rows, size_t n, uint64_t *inserted,
                            sp_diag *d)
{
    sqlite_impl *m = s->impl;
    uint64_t got = 0;
    sp_err e = SP_OK;
    sp__store_roll_reset(&s->roll);
    if (m->cap_order < n) {
        const sp_store_row **o = sp_reallocarray(m->order, n, sizeof(*o));
        if (o != NULL)
            m->order = o;
        const sp_store_row **t = o ? sp_reallocarray(m->tmp, n, sizeof(*t)) : NULL;
        if (t == NULL)
            return sp_diag_set(d, SP_ENOMEM, "sqlite:%s: out of memory", m->path);
        m->tmp = t;
        m->cap_order = n;
    }
    /*
     * order[0..nrow): the other rows, sorted by key; order[n - nliq..n):
     * the liquidations in slice order (the roll-up sums them in that order).
     */
    const sp_store_row **order = m->order;
    size_t nrow = 0, nliq = 0;
    int sorted = 1;
    for (size_t i = 0; i < n; i++) {
        const sp_store_row *r = &rows[i];
        if (r->ev.kind == SP_EV_LIQUIDATION) {
            order[n - 1 - nliq++] = r;
            continue;
        }
        if (nrow > 0 && sorted && row_cmp(order[nrow - 1], r) > 0)
            sorted = 0;
        order[nrow++] = r;
    }
    if (!sorted)
        sort_rows(m, order, nrow);
    for (size_t i = 0; i < nliq / 2; i++) {
        const sp_store_row *t = order[n - nliq + i];
        order[n - nliq + i] = order[n - 1 - i];
        order[n - 1 - i] = t;
    }
    if (nrow > 0)
        e = insert_rows(m, order, nrow, &got, d);
    if (e == SP_OK && nliq > 0)
        e = insert_liqs(s, m, order + n - nliq, nliq, &got, d);
    if (e == SP_OK)
        e = flush_roll(s, m, d);
    if (e != SP_OK) {
        sp__store_roll_reset(&s->roll);
        return e;
    }
    *inserted = got;
    return SP_OK;
}

/* Prepare "SELECT <cols> FROM event WHERE ... <tail>" and bind the filter. */
static sp_err prepare_filtered(sqlite_impl *m, const char *cols, const sp_store_q *q,
                               const char *tail, sqlite3_stmt **st, sp_diag *d)
{
    sp_buf sql;
    int64_t params[8];
    int np = 0;
    sp_buf_init(&sql, 4096);
    sp_err e = sp_buf_printf(&sql, "SELECT %s FROM event", cols);
    if (e == SP_OK)
        e = sp__store_where(q, &sql, 0, params, &np);
    if (e == SP_OK)
        e = sp_buf_puts(&sql, tail);
    if (e != SP_OK) {
        sp_buf_fini(&sql);
        return sp_diag_set(d, e, "sqlite:%s: building a query: %s", m->path, sp_strerror(e));
    }
    int rc = sqlite3_prepare_v2(m->db, sql.data, -1, st, NULL);
    sp_buf_fini(&sql);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "preparing a query");
    for (int i = 0; i < np; i++)
        sqlite3_bind_int64(*st, i + 1, params[i]);
    return SP_OK;
}

static sp_err sqlite_query(sp_store *s, const sp_store_q *q, sp_store_raw_fn fn, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    char tail[96] = " ORDER BY exch_ts_ns, symbol_id, venue, sub, k1, k2";
    if (q->f->limit > 0) {
        size_t l = strlen(tail);
        snprintf(tail + l, sizeof(tail) - l, " LIMIT %llu", (unsigned long long)q->f->limit);
    }
    sqlite3_stmt *st = NULL;
    sp_err e = prepare_filtered(
        m, "kind, venue, sub, flags, symbol_id, exch_ts_ns, local_ts_ns, px, qty, aux0, aux1, aux2",
        q, tail, &st, d);
    if (e != SP_OK)
        return e;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sp_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.kind = (uint8_t)sqlite3_column_int64(st, 0);
        ev.venue = (uint8_t)sqlite3_column_int64(st, 1);
        ev.sub = (uint8_t)sqlite3_column_int64(st, 2);
        ev.flags = (uint8_t)sqlite3_column_int64(st, 3);
        ev.symbol_id = (uint32_t)sqlite3_column_int64(st, 4);
        ev.exch_ts_ns = sqlite3_column_int64(st, 5);
        ev.local_ts_ns = sqlite3_column_int64(st, 6);
        ev.px = sqlite3_column_int64(st, 7);
        ev.qty = sqlite3_column_int64(st, 8);
        ev.aux[0] = sqlite3_column_int64(st, 9);
        ev.aux[1] = sqlite3_column_int64(st, 10);
        ev.aux[2] = sqlite3_column_int64(st, 11);
        if ((e = fn(s, &ev)) != SP_OK)
            break;
    }
    if (e == SP_OK && rc != SQLITE_DONE)
        e = fail(m, rc, d, "reading events");
    sqlite3_finalize(st);
    return e;
}

static sp_err sqlite_count(sp_store *s, const sp_store_q *q, uint64_t *n, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    sqlite3_stmt *st = NULL;
    sp_err e = prepare_filtered(m, "count(*)", q, "", &st, d);
    if (e != SP_OK)
        return e;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = (uint64_t)sqlite3_column_int64(st, 0);
    else
        e = fail(m, rc, d, "counting events");
    sqlite3_finalize(st);
    return e;
}

static sp_err sqlite_summary(sp_store *s, sp_store_summary_fn fn, void *ctx, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        m->db,
        "SELECT e.kind, coalesce(y.name, ''), count(*), min(e.exch_ts_ns), max(e.exch_ts_ns)"
        " FROM event e LEFT JOIN symbol y ON y.id = e.symbol_id"
        " GROUP BY e.kind, e.symbol_id ORDER BY e.kind, 2",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "preparing the summary");
    sp_err e = SP_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = fn(ctx, (unsigned)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
               (uint64_t)sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
               sqlite3_column_int64(st, 4));
        if (e != SP_OK)
            break;
    }
    if (e == SP_OK && rc != SQLITE_DONE)
        e = fail(m, rc, d, "reading the summary");
    sqlite3_finalize(st);
    return e;
}

static sp_err sqlite_liq_minutes(sp_store *s, const sp_store_q *q, sp_store_liq_raw_fn fn,
                                 sp_diag *d)
{
    sqlite_impl *m = s->impl;
    sp_buf sql;
    sp_buf_init(&sql, 1024);
    sp_err e = sp_buf_puts(&sql, "SELECT minute, venue, symbol_id, side, count, notional, largest,"
                                 " largest_ns, first_ns, slots0, slots1, bad FROM liq_minute"
                                 " WHERE minute >= ? AND minute < ?");
    if (e == SP_OK && q->f->venue != 0)
        e = sp_buf_puts(&sql, " AND venue = ?3");
    if (e == SP_OK && q->f->symbol != NULL)
        e = sp_buf_puts(&sql, " AND symbol_id = ?4");
    if (e == SP_OK)
        e = sp_buf_puts(&sql, " ORDER BY minute, venue, symbol_id, side");
    if (e == SP_OK && q->f->limit > 0)
        e = sp_buf_printf(&sql, " LIMIT %llu", (unsigned long long)q->f->limit);
    if (e != SP_OK) {
        sp_buf_fini(&sql);
        return sp_diag_set(d, e, "sqlite:%s: building a query: %s", m->path, sp_strerror(e));
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(m->db, sql.data, -1, &st, NULL);
    sp_buf_fini(&sql);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "preparing a roll-up query");
    sqlite3_bind_int64(st, 1, q->from_min);
    sqlite3_bind_int64(st, 2, q->to_min);
    if (q->f->venue != 0)
        sqlite3_bind_int64(st, 3, q->f->venue);
    if (q->f->symbol != NULL)
        sqlite3_bind_int64(st, 4, q->symbol_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sp_store_liq_minute c;
        memset(&c, 0, sizeof(c));
        c.minute = sqlite3_column_int64(st, 0);
        c.venue = (uint8_t)sqlite3_column_int64(st, 1);
        c.symbol_id = (uint32_t)sqlite3_column_int64(st, 2);
        c.sell = (uint8_t)sqlite3_column_int64(st, 3);
        c.count = (uint64_t)sqlite3_column_int64(st, 4);
        c.notional = sqlite3_column_int64(st, 5);
        c.largest = sqlite3_column_int64(st, 6);
        c.largest_ns = sqlite3_column_int64(st, 7);
        c.first_ns = sqlite3_column_int64(st, 8);
        c.slots[0] = (uint64_t)sqlite3_column_int64(st, 9);
        c.slots[1] = (uint64_t)sqlite3_column_int64(st, 10);
        c.bad = (uint64_t)sqlite3_column_int64(st, 11);
        if ((e = fn(s, &c)) != SP_OK)
            break;
    }
    if (e == SP_OK && rc != SQLITE_DONE)
        e = fail(m, rc, d, "reading the roll-up");
    sqlite3_finalize(st);
    return e;
}

static sp_err sqlite_log_ingest(sp_store *s, const char *source, uint64_t decoded,
                                uint64_t inserted, uint64_t rejected, int64_t at_ns, sp_diag *d)
{
    sqlite_impl *m = s->impl;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(m->db,
                                "INSERT INTO ingest_run(at_ns, source, decoded, inserted, rejected)"
                                " VALUES(?, ?, ?, ?, ?)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "logging the ingest");
    sqlite3_bind_int64(st, 1, at_ns);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)decoded);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)inserted);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)rejected);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SP_OK : fail(m, rc, d, "logging the ingest");
}

const sp_store_ops sp__store_sqlite_ops = {
    "sqlite",        sqlite_open,       sqlite_close,      sqlite_begin,       sqlite_commit,
    sqlite_rollback, sqlite_symbol_put, sqlite_symbols,    sqlite_insert,      sqlite_query,
    sqlite_count,    sqlite_summary,    sqlite_log_ingest, sqlite_liq_minutes,
};
