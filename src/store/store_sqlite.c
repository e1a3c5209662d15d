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
 * (INSERT OR IGNORE), with a single B-tree per row.  Rows go in through
 * prepared multi-row INSERT statements (SP_SQLITE_ROWS rows per statement)
 * to spread the per-statement cost.  Exactly the LIQUIDATION rows that
 * were new feed the per-minute roll-up (rollup.c): a slice's liquidations
 * go in under a savepoint; when all were new they all count, else the
 * savepoint is rolled back and they go again through the multi-row
 * INSERT OR IGNORE ... RETURNING, which yields only the inserted rows.  The
 * slice's cells are aggregated in C and merged into liq_minute with one
 * prepared UPSERT per cell before the slice returns, inside the append's
 * transaction.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "store/store_int.h"

/* Rows bound per multi-row INSERT; 14 columns each, far below SQLite's 32766 parameters. */
#define SP_SQLITE_ROWS 32
#define NCOLS          14

typedef struct sqlite_impl {
    sqlite3 *db;
    char *path;           /* the file, for messages */
    sqlite3_stmt *ins1;   /* INSERT OR IGNORE of one row */
    sqlite3_stmt *insn;   /* INSERT OR IGNORE of SP_SQLITE_ROWS rows */
    sqlite3_stmt *symput; /* INSERT OR IGNORE INTO symbol */
    sqlite3_stmt *symget; /* SELECT id FROM symbol WHERE name = ? */
    sqlite3_stmt *rollup; /* UPSERT of one liq_minute cell */
    sqlite3_stmt *insliq; /* insn with RETURNING of the inserted rows' roll-up fields */
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
 * Merge one cell into liq_minute (sp__store_roll_merge in SQL).  SQLite
 * turns an overflowing integer sum into a REAL: typeof() catches that, the
 * old sum is kept and the cell's events are counted as bad instead.
 */
static const char *const rollup_sql =
    "INSERT INTO liq_minute(minute, venue, symbol_id, side, count, notional, largest,"
    " largest_ns, first_ns, slots0, slots1, bad) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"
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
    sqlite3_stmt *st = m->rollup;
    for (size_t i = 0; i < s->roll.n; i++) {
        const sp_store_liq_minute *c = &s->roll.cell[i];
        sqlite3_bind_int64(st, 1, c->minute);
        sqlite3_bind_int64(st, 2, c->venue);
        sqlite3_bind_int64(st, 3, c->symbol_id);
        sqlite3_bind_int64(st, 4, c->sell);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)c->count);
        sqlite3_bind_int64(st, 6, c->notional);
        sqlite3_bind_int64(st, 7, c->largest);
        sqlite3_bind_int64(st, 8, c->largest_ns);
        sqlite3_bind_int64(st, 9, c->first_ns);
        sqlite3_bind_int64(st, 10, (sqlite3_int64)c->slots[0]);
        sqlite3_bind_int64(st, 11, (sqlite3_int64)c->slots[1]);
        sqlite3_bind_int64(st, 12, (sqlite3_int64)c->bad);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return fail(m, rc, d, "updating the liquidation roll-up");
    }
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
    sp_buf sql;
    sp_buf_init(&sql, 1u << 16);
    sp_err e = sp_buf_printf(&sql, "INSERT OR IGNORE INTO event(%s) VALUES", event_cols);
    for (int r = 0; e == SP_OK && r < SP_SQLITE_ROWS; r++)
        e = sp_buf_puts(&sql,
                        r ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (e != SP_OK) {
        sp_buf_fini(&sql);
        return sp_diag_set(d, e, "sqlite:%s: out of memory", m->path);
    }
    e = prepare(m, sql.data, &m->insn, d);
    if (e == SP_OK)
        e = sp_buf_puts(&sql, " RETURNING venue, symbol_id, exch_ts_ns, flags, px, qty, aux0,"
                              " aux1, aux2");
    if (e == SP_OK)
        e = prepare(m, sql.data, &m->insliq, d);
    sp_buf_fini(&sql);
    if (e != SP_OK)
        return e;
    char one[256];
    snprintf(one, sizeof(one),
             "INSERT OR IGNORE INTO event(%s) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", event_cols);
    if ((e = prepare(m, one, &m->ins1, d)) != SP_OK)
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
    sqlite3_finalize(m->ins1);
    sqlite3_finalize(m->insn);
    sqlite3_finalize(m->symput);
    sqlite3_finalize(m->symget);
    sqlite3_finalize(m->rollup);
    sqlite3_finalize(m->insliq);
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
         * is durable against a crash of the process.
         */
        if ((rc = exec(m, "PRAGMA page_size=16384; PRAGMA cache_size=-65536")) != SQLITE_OK) {
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

static void bind_row(sqlite3_stmt *st, int base, const sp_store_row *r)
{
    const sp_event *ev = &r->ev;
    sqlite3_bind_int64(st, base + 1, ev->kind);
    sqlite3_bind_int64(st, base + 2, ev->symbol_id);
    sqlite3_bind_int64(st, base + 3, ev->exch_ts_ns);
    sqlite3_bind_int64(st, base + 4, ev->venue);
    sqlite3_bind_int64(st, base + 5, ev->sub);
    sqlite3_bind_int64(st, base + 6, r->k1);
    sqlite3_bind_int64(st, base + 7, r->k2);
    sqlite3_bind_int64(st, base + 8, ev->flags);
    sqlite3_bind_int64(st, base + 9, ev->local_ts_ns);
    sqlite3_bind_int64(st, base + 10, ev->px);
    sqlite3_bind_int64(st, base + 11, ev->qty);
    sqlite3_bind_int64(st, base + 12, ev->aux[0]);
    sqlite3_bind_int64(st, base + 13, ev->aux[1]);
    sqlite3_bind_int64(st, base + 14, ev->aux[2]);
}

/* Insert the SP_SQLITE_ROWS rows of pend with the multi-row statement.  OUT: *got += new. */
static sp_err insert_many(sqlite_impl *m, const sp_store_row *const *pend, uint64_t *got,
                          sp_diag *d)
{
    for (size_t r = 0; r < SP_SQLITE_ROWS; r++)
        bind_row(m->insn, (int)r * NCOLS, pend[r]);
    int rc = sqlite3_step(m->insn);
    sqlite3_reset(m->insn);
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "inserting events");
    *got += (uint64_t)sqlite3_changes(m->db);
    return SP_OK;
}

/*
 * Insert the SP_SQLITE_ROWS LIQUIDATION rows of pend; add the new ones
 * (the RETURNING rows) to the roll-up.  OUT: *got += new.
 */
static sp_err insert_liq_many(sp_store *s, sqlite_impl *m, const sp_store_row *const *pend,
                              uint64_t *got, sp_diag *d)
{
    sqlite3_stmt *st = m->insliq;
    for (size_t r = 0; r < SP_SQLITE_ROWS; r++)
        bind_row(st, (int)r * NCOLS, pend[r]);
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
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "inserting liquidations");
    return e;
}

/* Insert one row.  OUT: *fresh = the row was new. */
static sp_err insert_one(sqlite_impl *m, const sp_store_row *row, int *fresh, sp_diag *d)
{
    bind_row(m->ins1, 0, row);
    int rc = sqlite3_step(m->ins1);
    sqlite3_reset(m->ins1);
    if (rc != SQLITE_DONE)
        return fail(m, rc, d, "inserting events");
    *fresh = sqlite3_changes(m->db) > 0;
    return SP_OK;
}

/* Add ev (a row known to be new) to the slice's roll-up. */
static sp_err roll_row(sp_store *s, sqlite_impl *m, const sp_event *ev, sp_diag *d)
{
    sp_err e = sp__store_roll_add(&s->roll, ev, sp__store_symbol_name(s, ev->symbol_id));
    return e == SP_OK ? SP_OK : sp_diag_set(d, e, "sqlite:%s: out of memory (roll-up)", m->path);
}

/*
 * The LIQUIDATION rows of a slice.  Optimistic pass under a savepoint:
 * plain multi-row inserts; if every row was new (the usual ingest) they
 * all go to the roll-up.  Otherwise (re-ingest, duplicates in the slice)
 * the pass is rolled back and redone with RETURNING, which names the new
 * rows.  RETURNING on every chunk cost ~1.5 us a row (bench_analytics).
 */
static sp_err insert_liqs(sp_store *s, sqlite_impl *m, const sp_store_row *rows, size_t n,
                          size_t nliq, uint64_t *got, sp_diag *d)
{
    const sp_store_row *pl[SP_SQLITE_ROWS];
    int rc = exec(m, "SAVEPOINT sp_liq");
    if (rc != SQLITE_OK)
        return fail(m, rc, d, "setting a savepoint");
    sp_err e = SP_OK;
    uint64_t fresh_n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t nl = 0;
        for (size_t i = 0; i < n && e == SP_OK; i++) {
            if (rows[i].ev.kind != SP_EV_LIQUIDATION)
                continue;
            pl[nl++] = &rows[i];
            if (nl < SP_SQLITE_ROWS)
                continue;
            nl = 0;
            e = pass == 0 ? insert_many(m, pl, &fresh_n, d) : insert_liq_many(s, m, pl, got, d);
        }
        for (size_t i = 0; i < nl && e == SP_OK; i++) {
            int fresh = 0;
            if ((e = insert_one(m, pl[i], &fresh, d)) != SP_OK)
                break;
            if (pass == 0) {
                fresh_n += (uint64_t)fresh;
            } else if (fresh) {
                (*got)++;
                e = roll_row(s, m, &pl[i]->ev, d);
            }
        }
        if (e != SP_OK)
            break;
        if (pass == 0 && fresh_n == nliq) {
            for (size_t i = 0; i < n && e == SP_OK; i++)
                if (rows[i].ev.kind == SP_EV_LIQUIDATION)
                    e = roll_row(s, m, &rows[i].ev, d);
            *got += fresh_n;
            break;
        }
        if (pass == 0 && (rc = exec(m, "ROLLBACK TO sp_liq")) != SQLITE_OK) {
            e = fail(m, rc, d, "rolling back a savepoint");
            break;
        }
    }
    /* on error the caller's ROLLBACK of the transaction undoes everything */
    if (e == SP_OK && (rc = exec(m, "RELEASE sp_liq")) != SQLITE_OK)
        e = fail(m, rc, d, "releasing a savepoint");
    return e;
}

static sp_err sqlite_insert(sp_store *s, const sp_store_row *rows, size_t n, uint64_t *inserted,
                            sp_diag *d)
{
    sqlite_impl *m = s->impl;
    uint64_t got = 0;
    const sp_store_row *pend[SP_SQLITE_ROWS];
    size_t np = 0, nliq = 0;
    sp_err e = SP_OK;
    sp__store_roll_reset(&s->roll);
    for (size_t i = 0; i < n && e == SP_OK; i++) {
        const sp_store_row *r = &rows[i];
        if (r->ev.kind == SP_EV_LIQUIDATION) {
            nliq++;
            continue;
        }
        pend[np++] = r;
        if (np == SP_SQLITE_ROWS) {
            e = insert_many(m, pend, &got, d);
            np = 0;
        }
    }
    for (size_t i = 0; i < np && e == SP_OK; i++) {
        int fresh = 0;
        e = insert_one(m, pend[i], &fresh, d);
        got += (uint64_t)fresh;
    }
    if (e == SP_OK && nliq > 0)
        e = insert_liqs(s, m, rows, n, nliq, &got, d);
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
