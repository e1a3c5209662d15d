/*
 * store_pg.c -- the PostgreSQL backend of sp_store (STAMPEDE_WITH_PG).
 *
 * Same schema and behaviour as store_sqlite.c, built for volume:
 *   - the event table is partitioned by day of exch_ts_ns (RANGE
 *     partitions event_pYYYYMMDD, created on demand inside the batch's
 *     transaction, so a rolled-back batch leaves no stray partition);
 *   - a batch is bulk-loaded with COPY ... FROM STDIN (FORMAT binary) into
 *     a session-local staging table, then moved with
 *     INSERT ... SELECT ... ON CONFLICT DO NOTHING, which makes re-ingest
 *     idempotent on the natural key (the primary key, which includes the
 *     partition key exch_ts_ns as PostgreSQL requires);
 *   - queries stream rows in single-row mode with binary results, so a
 *     large result is never held in memory and no integer is re-parsed;
 *   - the LIQUIDATION rows that were new (all of them on the COPY fast
 *     path; the RETURNING rows of the staging path's INSERT) are rolled up
 *     per minute in C (rollup.c: the notional is computed once, by
 *     sp_event_liq_notional, not re-implemented in SQL), COPYed into a
 *     session-local liq_stage table and merged into liq_minute with one
 *     INSERT ... ON CONFLICT DO UPDATE, in the append's transaction.
 * One append = one transaction (BEGIN ... COMMIT); the server makes it
 * durable at COMMIT.  Errors map SQLSTATE classes to sp_err and carry
 * the server's message; passwords never appear in messages.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "stampede/alloc.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"
#include "store/store_int.h"

#define DAY_NS 86400000000000ll

typedef struct pg_impl {
    PGconn *c;
    char label[160]; /* host:port/db for messages */
    int64_t *days;   /* days (since epoch) whose partition is known to exist */
    size_t ndays;    /* committed entries of days */
    size_t npending; /* entries after ndays created in the open transaction */
    size_t capdays;  /* capacity of days */
    int in_txn;      /* a transaction is open */
    sp_buf copy;     /* the binary COPY payload of one slice */
} pg_impl;

/* Migration i (0-based) brings a database from version i to i + 1 (see store_sqlite.c). */
static const char *const migrations[] = {
    /* 1: symbols, the day-partitioned event table keyed by the natural key */
    "CREATE TABLE symbol(id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE event(kind SMALLINT NOT NULL, symbol_id INTEGER NOT NULL,"
    " exch_ts_ns BIGINT NOT NULL, venue SMALLINT NOT NULL, sub SMALLINT NOT NULL,"
    " k1 BIGINT NOT NULL, k2 BIGINT NOT NULL, flags SMALLINT NOT NULL,"
    " local_ts_ns BIGINT NOT NULL, px BIGINT NOT NULL, qty BIGINT NOT NULL,"
    " aux0 BIGINT NOT NULL, aux1 BIGINT NOT NULL, aux2 BIGINT NOT NULL,"
    " PRIMARY KEY(kind, symbol_id, exch_ts_ns, venue, sub, k1, k2))"
    " PARTITION BY RANGE (exch_ts_ns);"
    "CREATE TABLE schema_version(version INTEGER NOT NULL);",
    /* 2: the audit trail of ingest runs */
    "CREATE TABLE ingest_run(id BIGSERIAL PRIMARY KEY, at_ns BIGINT NOT NULL,"
    " source TEXT NOT NULL, decoded BIGINT NOT NULL, inserted BIGINT NOT NULL,"
    " rejected BIGINT NOT NULL);",
    /* 3: per-minute liquidation roll-ups (filled from the stored events by backfill()) */
    "CREATE TABLE liq_minute(minute BIGINT NOT NULL, venue SMALLINT NOT NULL,"
    " symbol_id INTEGER NOT NULL, side SMALLINT NOT NULL, count BIGINT NOT NULL,"
    " notional BIGINT NOT NULL, largest BIGINT NOT NULL, largest_ns BIGINT NOT NULL,"
    " first_ns BIGINT NOT NULL, slots0 BIGINT NOT NULL, slots1 BIGINT NOT NULL,"
    " bad BIGINT NOT NULL, PRIMARY KEY(minute, venue, symbol_id, side));",
};

/*
 * Merge the staged cells into liq_minute (sp__store_roll_merge in SQL):
 * a sum that leaves int64 keeps the old notional and counts the cell's
 * events as bad instead of failing the batch.
 */
#define PG_SUM_FITS                                                                      \
    "(liq_minute.notional::numeric + excluded.notional BETWEEN -9223372036854775808 AND" \
    " 9223372036854775807)"
#define PG_NEW_LARGEST                                                                     \
    "(excluded.largest > liq_minute.largest OR (excluded.largest = liq_minute.largest AND" \
    " excluded.largest_ns < liq_minute.largest_ns))"
static const char *const rollup_sql =
    "INSERT INTO liq_minute SELECT * FROM liq_stage"
    " ON CONFLICT (minute, venue, symbol_id, side) DO UPDATE SET"
    " count = liq_minute.count + excluded.count,"
    " notional = CASE WHEN " PG_SUM_FITS " THEN liq_minute.notional + excluded.notional"
    "  ELSE liq_minute.notional END,"
    " bad = liq_minute.bad + CASE WHEN " PG_SUM_FITS " THEN excluded.bad ELSE excluded.count END,"
    " largest = CASE WHEN " PG_NEW_LARGEST " THEN excluded.largest ELSE liq_minute.largest END,"
    " largest_ns = CASE WHEN " PG_NEW_LARGEST " THEN excluded.largest_ns"
    "  ELSE liq_minute.largest_ns END,"
    " first_ns = least(liq_minute.first_ns, excluded.first_ns),"
    " slots0 = liq_minute.slots0 | excluded.slots0, slots1 = liq_minute.slots1 | excluded.slots1";

_Static_assert(SP_COUNTOF(migrations) == SP_STORE_SCHEMA_VERSION,
               "one PostgreSQL migration per schema version");

/* The SQL of migration `version` (1-based), for the upgrade tests; NULL if none. */
const char *sp__store_pg_migration(int version)
{
    if (version < 1 || version > (int)SP_COUNTOF(migrations))
        return NULL;
    return migrations[version - 1];
}

/* SQLSTATE → sp_err (PostgreSQL docs, Appendix A "Error Codes"). */
static sp_err map_state(const char *st)
{
    if (st == NULL)
        return SP_ECONN; /* no server answer: the connection broke */
    if (strcmp(st, "53100") == 0)
        return SP_EIO; /* disk_full */
    if (strncmp(st, "53", 2) == 0)
        return SP_ENOMEM; /* insufficient resources */
    if (strcmp(st, "55P03") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "40001") == 0)
        return SP_EBUSY; /* lock_not_available, deadlock, serialization */
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0)
        return SP_ECONN; /* connection exception, admin shutdown */
    if (strcmp(st, "25006") == 0)
        return SP_EINVAL; /* read_only_sql_transaction */
    return SP_EIO;
}

/* Copy s without its trailing newline(s) into out. */
static void one_line(const char *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s", s ? s : "");
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

/* Fill d from result r (may be NULL: the connection's error) and return the sp_err. */
static sp_err fail(pg_impl *m, PGresult *r, sp_diag *d, const char *what)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    char msg[200];
    one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(m->c), msg, sizeof(msg));
    if (msg[0] == '\0')
        one_line(PQerrorMessage(m->c), msg, sizeof(msg));
    sp_err e = map_state(st);
    return sp_diag_set(d, e, "postgres %s: %s: %s%s%s", m->label, what, msg,
                       st ? " [SQLSTATE " : "", st ? "]" : "");
}

/* Run sql without parameters; OK when it returns commands or rows. */
static sp_err run(pg_impl *m, const char *sql, sp_diag *d, const char *what)
{
    PGresult *r = PQexec(m->c, sql);
    ExecStatusType t = PQresultStatus(r);
    sp_err e = SP_OK;
    if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
        e = fail(m, r, d, what);
    PQclear(r);
    return e;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs ("relation exists, skipping") are not errors */
}

/* Read the version under the advisory lock; 0 for an empty database. */
static sp_err read_version(pg_impl *m, int *version, sp_diag *d)
{
    PGresult *r = PQexec(m->c, "SELECT to_regclass('schema_version') IS NOT NULL,"
                               " to_regclass('event') IS NOT NULL OR"
                               " to_regclass('symbol') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        sp_err e = fail(m, r, d, "reading the schema");
        PQclear(r);
        return e;
    }
    int has_version = PQgetvalue(r, 0, 0)[0] == 't';
    int has_other = PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if (!has_version) {
        *version = 0;
        if (has_other)
            return sp_diag_set(d, SP_ESCHEMA,
                               "postgres %s: not a stampede database (tables event/symbol "
                               "exist without schema_version)",
                               m->label);
        return SP_OK;
    }
    r = PQexec(m->c, "SELECT max(version) FROM schema_version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQgetisnull(r, 0, 0)) {
        sp_err e =
            PQresultStatus(r) != PGRES_TUPLES_OK
                ? fail(m, r, d, "reading schema_version")
                : sp_diag_set(d, SP_ESCHEMA, "postgres %s: schema_version is empty", m->label);
        PQclear(r);
        return e;
    }
    int64_t v = 0;
    const char *txt = PQgetvalue(r, 0, 0);
    sp_err e = sp_dec_parse(txt, strlen(txt), 0, &v, NULL);
    PQclear(r);
    if (e != SP_OK || v < 0 || v > 1000000)
        return sp_diag_set(d, SP_ESCHEMA, "postgres %s: bad schema_version", m->label);
    *version = (int)v;
    return SP_OK;
}

static sp_err backfill(sp_store *s, pg_impl *m, sp_diag *d);

/* Bring the schema to SP_STORE_SCHEMA_VERSION in one transaction, serialised by an advisory lock.
 */
static sp_err migrate(sp_store *s, pg_impl *m, unsigned flags, sp_diag *d)
{
    sp_err e = run(m, "BEGIN", d, "starting the schema check");
    if (e != SP_OK)
        return e;
    /* 0x73746d70 = "stmp": one schema upgrade at a time per database */
    if ((e = run(m, "SELECT pg_advisory_xact_lock(1937010032)", d, "locking the schema")) != SP_OK)
        goto out_rollback;
    int v = 0;
    if ((e = read_version(m, &v, d)) != SP_OK)
        goto out_rollback;
    s->opened_version = v;
    if (v > SP_STORE_SCHEMA_VERSION) {
        e = sp_diag_set(d, SP_ESCHEMA,
                        "postgres %s: schema version %d is newer than this stampede's %d; "
                        "use a newer stampede",
                        m->label, v, SP_STORE_SCHEMA_VERSION);
        goto out_rollback;
    }
    if (v < SP_STORE_SCHEMA_VERSION && (flags & SP_STORE_READONLY)) {
        e = sp_diag_set(d, v == 0 ? SP_ENOTFOUND : SP_ESCHEMA,
                        v == 0 ? "postgres %s: no stampede database here (opened read-only)"
                               : "postgres %s: schema version %d needs an upgrade; open it "
                                 "writable once",
                        m->label, v);
        goto out_rollback;
    }
    for (int i = v; i < SP_STORE_SCHEMA_VERSION; i++) {
        if ((e = run(m, migrations[i], d, "applying a schema migration")) != SP_OK)
            goto out_rollback;
    }
    if (v >= 1 && v < 3 && (e = backfill(s, m, d)) != SP_OK)
        goto out_rollback;
    if (v < SP_STORE_SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof(sql),
                 "DELETE FROM schema_version; INSERT INTO schema_version VALUES(%d)",
                 SP_STORE_SCHEMA_VERSION);
        if ((e = run(m, sql, d, "recording the schema version")) != SP_OK)
            goto out_rollback;
    }
    return run(m, "COMMIT", d, "committing the schema");

out_rollback:
    PQclear(PQexec(m->c, "ROLLBACK"));
    return e;
}

static void pg_close(sp_store *s)
{
    pg_impl *m = s->impl;
    if (m == NULL)
        return;
    if (m->c)
        PQfinish(m->c);
    sp_free(m->days);
    sp_buf_fini(&m->copy);
    sp_free(m);
    s->impl = NULL;
}

static sp_err pg_open(sp_store *s, const char *target, unsigned flags, sp_diag *d)
{
    pg_impl *m = sp_calloc(1, sizeof(*m));
    if (m == NULL)
        return sp_diag_set(d, SP_ENOMEM, "postgres: out of memory");
    s->impl = m;
    sp_buf_init(&m->copy, (size_t)SP_STORE_SLICE * 256 + 64);
    m->c = PQconnectdb(target);
    if (m->c == NULL) {
        pg_close(s);
        return sp_diag_set(d, SP_ENOMEM, "postgres: out of memory");
    }
    if (PQstatus(m->c) != CONNECTION_OK) {
        char msg[200];
        one_line(PQerrorMessage(m->c), msg, sizeof(msg));
        sp_diag_set(d, SP_ECONN, "postgres: cannot connect: %s", msg);
        pg_close(s);
        return SP_ECONN;
    }
    snprintf(m->label, sizeof(m->label), "%s:%s/%s", PQhost(m->c), PQport(m->c), PQdb(m->c));
    PQsetNoticeProcessor(m->c, quiet_notice, NULL);
    sp_err e = migrate(s, m, flags, d);
    if (e == SP_OK && (flags & SP_STORE_READONLY))
        e = run(m, "SET default_transaction_read_only = on", d, "setting read-only");
    else if (e == SP_OK)
        e = run(m,
                "CREATE TEMP TABLE IF NOT EXISTS event_stage (LIKE event)"
                " ON COMMIT DELETE ROWS",
                d, "creating the staging table");
    if (e == SP_OK && !(flags & SP_STORE_READONLY))
        e = run(m,
                "CREATE TEMP TABLE IF NOT EXISTS liq_stage (LIKE liq_minute)"
                " ON COMMIT DELETE ROWS",
                d, "creating the roll-up staging table");
    if (e != SP_OK) {
        pg_close(s);
        return e;
    }
    return SP_OK;
}

static sp_err pg_begin(sp_store *s, sp_diag *d)
{
    pg_impl *m = s->impl;
    sp_err e = run(m, "BEGIN", d, "starting a transaction");
    m->in_txn = e == SP_OK;
    m->npending = 0;
    return e;
}

static void pg_rollback(sp_store *s)
{
    pg_impl *m = s->impl;
    if (m->in_txn)
        PQclear(PQexec(m->c, "ROLLBACK"));
    m->in_txn = 0;
    m->npending = 0; /* partitions created in the transaction are gone */
}

static sp_err pg_commit(sp_store *s, sp_diag *d)
{
    pg_impl *m = s->impl;
    PGresult *r = PQexec(m->c, "COMMIT");
    /* a failed transaction answers COMMIT with ROLLBACK: check the tag too */
    sp_err e = SP_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        e = fail(m, r, d, "committing a batch");
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        e = sp_diag_set(d, SP_EIO, "postgres %s: the batch was rolled back", m->label);
    PQclear(r);
    m->in_txn = 0;
    if (e == SP_OK)
        m->ndays += m->npending;
    m->npending = 0;
    return e;
}

static sp_err pg_symbol_put(sp_store *s, const char *name, uint32_t *id, sp_diag *d)
{
    pg_impl *m = s->impl;
    const char *params[1] = {name};
    PGresult *r = PQexecParams(m->c,
                               "WITH ins AS (INSERT INTO symbol(name) VALUES($1)"
                               " ON CONFLICT (name) DO NOTHING RETURNING id)"
                               " SELECT id FROM ins UNION ALL"
                               " SELECT id FROM symbol WHERE name = $1 LIMIT 1",
                               1, NULL, params, NULL, NULL, 0);
    sp_err e = SP_OK;
    int64_t v = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        e = fail(m, r, d, "adding a symbol");
    } else {
        const char *txt = PQgetvalue(r, 0, 0);
        e = sp_dec_parse(txt, strlen(txt), 0, &v, NULL);
        if (e != SP_OK || v <= 0 || v > (int64_t)SP_STORE_SYMBOL_ID_MAX)
            e = sp_diag_set(d, SP_ERANGE, "postgres %s: symbol id '%s' out of range", m->label,
                            txt);
    }
    PQclear(r);
    if (e == SP_OK)
        *id = (uint32_t)v;
    return e;
}

static sp_err pg_symbols(sp_store *s, sp_store_sym_fn fn, sp_diag *d)
{
    pg_impl *m = s->impl;
    PGresult *r = PQexec(m->c, "SELECT id, name FROM symbol ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        sp_err e = fail(m, r, d, "reading symbols");
        PQclear(r);
        return e;
    }
    sp_err e = SP_OK;
    for (int i = 0; i < PQntuples(r) && e == SP_OK; i++) {
        int64_t id = 0;
        const char *txt = PQgetvalue(r, i, 0);
        if (sp_dec_parse(txt, strlen(txt), 0, &id, NULL) != SP_OK || id <= 0 ||
            id > (int64_t)SP_STORE_SYMBOL_ID_MAX) {
            e = sp_diag_set(d, SP_ESCHEMA, "postgres %s: bad symbol row (id %s)", m->label, txt);
            break;
        }
        if ((e = fn(s, (uint32_t)id, PQgetvalue(r, i, 1))) != SP_OK)
            sp_diag_set(d, e, "postgres %s: symbol '%s': %s", m->label, PQgetvalue(r, i, 1),
                        sp_strerror(e));
    }
    PQclear(r);
    return e;
}

/* ---- partitions ------------------------------------------------------------ */

static int64_t day_of(int64_t ts_ns)
{
    int64_t q = ts_ns / DAY_NS;
    return (ts_ns % DAY_NS < 0) ? q - 1 : q; /* floor */
}

static int day_known(const pg_impl *m, int64_t day)
{
    for (size_t i = 0; i < m->ndays + m->npending; i++)
        if (m->days[i] == day)
            return 1;
    return 0;
}

/* Create the partition of `day` (in the open transaction) and remember it as pending. */
static sp_err ensure_day(pg_impl *m, int64_t day, sp_diag *d)
{
    if (day_known(m, day))
        return SP_OK;
    size_t used = m->ndays + m->npending;
    if (used == m->capdays) {
        size_t ncap = m->capdays ? m->capdays * 2 : 64;
        int64_t *n = sp_reallocarray(m->days, ncap, sizeof(*n));
        if (n == NULL)
            return sp_diag_set(d, SP_ENOMEM, "postgres: out of memory");
        m->days = n;
        m->capdays = ncap;
    }
    int y, mo, dd;
    sp_days_to_date(day, &y, &mo, &dd);
    char sql[256];
    /* day * DAY_NS cannot overflow for a day computed from an int64 ns value, except the last */
    long long lo = (long long)(day * DAY_NS);
    const char *hi_txt = day >= INT64_MAX / DAY_NS ? "MAXVALUE" : NULL;
    char hi_buf[32];
    if (hi_txt == NULL) {
        snprintf(hi_buf, sizeof(hi_buf), "%lld", (long long)((day + 1) * DAY_NS));
        hi_txt = hi_buf;
    }
    const char *lo_txt = day <= INT64_MIN / DAY_NS - 1 ? "MINVALUE" : NULL;
    char lo_buf[32];
    if (lo_txt == NULL) {
        snprintf(lo_buf, sizeof(lo_buf), "%lld", lo);
        lo_txt = lo_buf;
    }
    snprintf(sql, sizeof(sql),
             "CREATE TABLE IF NOT EXISTS event_p%04d%02d%02d PARTITION OF event"
             " FOR VALUES FROM (%s) TO (%s)",
             y, mo, dd, lo_txt, hi_txt);
    sp_err e = run(m, sql, d, "creating a day partition");
    if (e == SP_OK)
        m->days[m->ndays + m->npending++] = day;
    return e;
}

/* ---- binary COPY ----------------------------------------------------------- */

static void put_be(char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (char)(v & 0xffu);
        v >>= 8;
    }
}

/* Append one field (int32 length + big-endian value of `bytes` bytes). */
static char *field(char *p, int64_t v, int bytes)
{
    put_be(p, (uint64_t)bytes, 4);
    put_be(p + 4, (uint64_t)v, bytes);
    return p + 4 + bytes;
}

/* Bytes of the binary COPY header: signature, flags, header extension length. */
#define COPY_HEADER 19

/*
 * Start a binary COPY stream in m->copy (PostgreSQL docs, COPY "Binary
 * Format") with room for nrows tuples of per_row bytes and the trailer;
 * the header is written.  OUT: *start, where the stream begins (the first
 * tuple goes at *start + COPY_HEADER).
 */
static sp_err copy_begin(pg_impl *m, size_t nrows, size_t per_row, char **start, sp_diag *d)
{
    static const char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0'};
    sp_buf_reset(&m->copy);
    char *p;
    sp_err e = sp_buf_reserve(&m->copy, COPY_HEADER + nrows * per_row + 2, &p);
    if (e != SP_OK)
        return sp_diag_set(d, e, "postgres: COPY buffer: %s", sp_strerror(e));
    memcpy(p, sig, 11);
    memset(p + 11, 0, 8); /* flags, header extension length */
    *start = p;
    return SP_OK;
}

/* End the COPY stream begun at start whose tuples end at p: the trailer (-1), then commit. */
static void copy_end(pg_impl *m, const char *start, char *p)
{
    put_be(p, 0xffffu, 2);
    sp_buf_commit(&m->copy, (size_t)(p + 2 - start));
}

/* The binary COPY stream of rows (PostgreSQL docs, COPY "Binary Format"). */
static sp_err build_copy(pg_impl *m, const sp_store_row *rows, size_t n, sp_diag *d)
{
    /* 14 fields: 4 x int2 (6 bytes), 1 x int4 (8), 9 x int8 (12), + 2 for the count */
    char *start = NULL;
    sp_err e = copy_begin(m, n, 2 + 4 * 6 + 8 + 9 * 12, &start, d);
    if (e != SP_OK)
        return e;
    char *p = start + COPY_HEADER;
    for (size_t i = 0; i < n; i++) {
        const sp_event *ev = &rows[i].ev;
        put_be(p, 14, 2);
        p += 2;
        p = field(p, ev->kind, 2);
        p = field(p, ev->symbol_id, 4);
        p = field(p, ev->exch_ts_ns, 8);
        p = field(p, ev->venue, 2);
        p = field(p, ev->sub, 2);
        p = field(p, rows[i].k1, 8);
        p = field(p, rows[i].k2, 8);
        p = field(p, ev->flags, 2);
        p = field(p, ev->local_ts_ns, 8);
        p = field(p, ev->px, 8);
        p = field(p, ev->qty, 8);
        p = field(p, ev->aux[0], 8);
        p = field(p, ev->aux[1], 8);
        p = field(p, ev->aux[2], 8);
    }
    copy_end(m, start, p);
    return SP_OK;
}

/*
 * Run a COPY ... FROM STDIN with the payload in m->copy.  *dup (may be
 * NULL) is set when it failed on a unique violation (SQLSTATE 23505).
 */
static sp_err copy_into(pg_impl *m, const char *sql, int *dup, sp_diag *d)
{
    if (dup)
        *dup = 0;
    PGresult *r = PQexec(m->c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        sp_err e = fail(m, r, d, "starting COPY");
        PQclear(r);
        return e;
    }
    PQclear(r);
    if (PQputCopyData(m->c, m->copy.data, (int)m->copy.len) != 1 || PQputCopyEnd(m->c, NULL) != 1)
        return fail(m, NULL, d, "sending COPY data");
    sp_err e = SP_OK;
    r = PQgetResult(m->c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (dup && st && strcmp(st, "23505") == 0)
            *dup = 1;
        e = fail(m, r, d, "COPY");
    }
    PQclear(r);
    while ((r = PQgetResult(m->c)) != NULL)
        PQclear(r);
    return e;
}

static int64_t get_int(const PGresult *r, int row, int col)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    int len = PQgetlength(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < len; i++)
        v = (v << 8) | p[i];
    if (len == 2)
        return (int16_t)(uint16_t)v;
    if (len == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* The liquidation of row i whose columns venue, symbol_id, exch_ts_ns, flags, px, qty, aux0..2
 * start at column c0 (the roll-up backfill and the batch insert read the same nine). */
static void liq_from_row(const PGresult *r, int i, int c0, sp_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = SP_EV_LIQUIDATION;
    ev->venue = (uint8_t)get_int(r, i, c0);
    ev->symbol_id = (uint32_t)get_int(r, i, c0 + 1);
    ev->exch_ts_ns = get_int(r, i, c0 + 2);
    ev->flags = (uint8_t)get_int(r, i, c0 + 3);
    ev->px = get_int(r, i, c0 + 4);
    ev->qty = get_int(r, i, c0 + 5);
    ev->aux[0] = get_int(r, i, c0 + 6);
    ev->aux[1] = get_int(r, i, c0 + 7);
    ev->aux[2] = get_int(r, i, c0 + 8);
}

/* The binary COPY stream of the roll-up cells of s->roll (columns of liq_minute). */
static sp_err build_roll_copy(sp_store *s, pg_impl *m, sp_diag *d)
{
    /* 12 fields: 2 x int2 (6 bytes), 1 x int4 (8), 9 x int8 (12), + 2 for the count */
    char *start = NULL;
    sp_err e = copy_begin(m, s->roll.n, 2 + 2 * 6 + 8 + 9 * 12, &start, d);
    if (e != SP_OK)
        return e;
    char *p = start + COPY_HEADER;
    for (size_t i = 0; i < s->roll.n; i++) {
        const sp_store_liq_minute *c = &s->roll.cell[i];
        put_be(p, 12, 2);
        p += 2;
        p = field(p, c->minute, 8);
        p = field(p, c->venue, 2);
        p = field(p, c->symbol_id, 4);
        p = field(p, c->sell, 2);
        p = field(p, (int64_t)c->count, 8);
        p = field(p, c->notional, 8);
        p = field(p, c->largest, 8);
        p = field(p, c->largest_ns, 8);
        p = field(p, c->first_ns, 8);
        p = field(p, (int64_t)c->slots[0], 8);
        p = field(p, (int64_t)c->slots[1], 8);
        p = field(p, (int64_t)c->bad, 8);
    }
    copy_end(m, start, p);
    return SP_OK;
}

/* Merge the cells of s->roll into liq_minute (inside the open transaction). */
static sp_err flush_roll(sp_store *s, pg_impl *m, sp_diag *d)
{
    if (s->roll.n == 0)
        return SP_OK;
    sp_err e = build_roll_copy(s, m, d);
    if (e == SP_OK)
        e = run(m, "DELETE FROM liq_stage", d, "clearing the roll-up staging table");
    if (e == SP_OK)
        e = copy_into(m, "COPY liq_stage FROM STDIN (FORMAT binary)", NULL, d);
    if (e == SP_OK)
        e = run(m, rollup_sql, d, "updating the liquidation roll-up");
    sp__store_roll_reset(&s->roll);
    return e;
}

/*
 * Migration 3 on a database that has events: build liq_minute from the
 * stored LIQUIDATION rows through a cursor, SP_STORE_SLICE rows a fetch,
 * in the migration's transaction.
 */
static sp_err backfill(sp_store *s, pg_impl *m, sp_diag *d)
{
    sp_err e = run(m,
                   "CREATE TEMP TABLE IF NOT EXISTS liq_stage (LIKE liq_minute)"
                   " ON COMMIT DELETE ROWS",
                   d, "creating the roll-up staging table");
    if (e == SP_OK)
        e = run(m,
                "DECLARE sp_backfill NO SCROLL CURSOR FOR SELECT e.venue::int8,"
                " e.symbol_id::int8, e.exch_ts_ns, e.flags::int8, e.px, e.qty, e.aux0, e.aux1,"
                " e.aux2, y.name FROM event e LEFT JOIN symbol y ON y.id = e.symbol_id"
                " WHERE e.kind = 4",
                d, "reading liquidations for the roll-up");
    char fetch[64];
    snprintf(fetch, sizeof(fetch), "FETCH %u FROM sp_backfill", (unsigned)SP_STORE_SLICE);
    sp__store_roll_reset(&s->roll);
    while (e == SP_OK) {
        PGresult *r = PQexecParams(m->c, fetch, 0, NULL, NULL, NULL, NULL, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            e = fail(m, r, d, "reading liquidations for the roll-up");
            PQclear(r);
            break;
        }
        int nt = PQntuples(r);
        for (int i = 0; i < nt && e == SP_OK; i++) {
            sp_event ev;
            liq_from_row(r, i, 0, &ev);
            const char *name = PQgetisnull(r, i, 9) ? NULL : PQgetvalue(r, i, 9);
            if ((e = sp__store_roll_add(&s->roll, &ev, name)) != SP_OK)
                sp_diag_set(d, e, "postgres: out of memory building the roll-up");
        }
        PQclear(r);
        if (e == SP_OK)
            e = flush_roll(s, m, d);
        if (nt == 0)
            break;
    }
    if (e == SP_OK)
        e = run(m, "CLOSE sp_backfill", d, "closing the roll-up cursor");
    sp__store_roll_reset(&s->roll);
    return e;
}

static sp_err pg_insert(sp_store *s, const sp_store_row *rows, size_t n, uint64_t *inserted,
                        sp_diag *d)
{
    pg_impl *m = s->impl;
    sp_err e = SP_OK;
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t day = day_of(rows[i].ev.exch_ts_ns);
        if (day != last && (e = ensure_day(m, day, d)) != SP_OK)
            return e;
        last = day;
    }
    if ((e = build_copy(m, rows, n, d)) != SP_OK)
        return e;
    /*
     * Fast path: COPY straight into event under a savepoint.  New data (the
     * usual ingest) goes in with one pass; if any key is already there the
     * COPY fails with unique_violation (23505), the savepoint undoes it and
     * the batch takes the staging path, which skips the present keys.
     */
    if ((e = run(m, "SAVEPOINT sp_copy", d, "setting a savepoint")) != SP_OK)
        return e;
    int dup = 0;
    e = copy_into(m, "COPY event FROM STDIN (FORMAT binary)", &dup, d);
    if (e == SP_OK) {
        if ((e = run(m, "RELEASE SAVEPOINT sp_copy", d, "releasing a savepoint")) != SP_OK)
            return e;
        sp__store_roll_reset(&s->roll);
        for (size_t i = 0; i < n && e == SP_OK; i++) {
            if (rows[i].ev.kind == SP_EV_LIQUIDATION)
                e = sp__store_roll_add(&s->roll, &rows[i].ev,
                                       sp__store_symbol_name(s, rows[i].ev.symbol_id));
        }
        if (e != SP_OK)
            return sp_diag_set(d, e, "postgres: out of memory (roll-up)");
        if ((e = flush_roll(s, m, d)) != SP_OK)
            return e;
        *inserted = n;
        return SP_OK;
    }
    if (!dup)
        return e;
    sp_diag_clear(d); /* expected: some keys are present; not an error */
    if ((e = run(m, "ROLLBACK TO SAVEPOINT sp_copy", d, "rolling back a savepoint")) != SP_OK)
        return e;
    if ((e = run(m, "TRUNCATE event_stage", d, "clearing the staging table")) != SP_OK)
        return e;
    if ((e = copy_into(m, "COPY event_stage FROM STDIN (FORMAT binary)", NULL, d)) != SP_OK)
        return e;
    /* the new rows' liquidations, then (kind -1) how many rows were new */
    PGresult *r = PQexecParams(
        m->c,
        "WITH ins AS (INSERT INTO event SELECT * FROM event_stage ON CONFLICT DO NOTHING"
        " RETURNING kind, venue, symbol_id, exch_ts_ns, flags, px, qty, aux0, aux1, aux2)"
        " SELECT kind::int8, venue::int8, symbol_id::int8, exch_ts_ns, flags::int8, px, qty,"
        " aux0, aux1, aux2 FROM ins WHERE kind = 4"
        " UNION ALL SELECT -1::int8, count(*), 0::int8, 0::int8, 0::int8, 0::int8, 0::int8,"
        " 0::int8, 0::int8, 0::int8 FROM ins",
        0, NULL, NULL, NULL, NULL, 1);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        e = fail(m, r, d, "moving the batch into event");
        PQclear(r);
        return e;
    }
    sp__store_roll_reset(&s->roll);
    int64_t total = -1;
    for (int i = 0; i < PQntuples(r) && e == SP_OK; i++) {
        if (get_int(r, i, 0) == -1) {
            total = get_int(r, i, 1);
            continue;
        }
        sp_event ev;
        liq_from_row(r, i, 1, &ev);
        if ((e = sp__store_roll_add(&s->roll, &ev, sp__store_symbol_name(s, ev.symbol_id))) !=
            SP_OK)
            sp_diag_set(d, e, "postgres: out of memory (roll-up)");
    }
    PQclear(r);
    if (e == SP_OK && total < 0)
        e = sp_diag_set(d, SP_EIO, "postgres %s: no row count from the INSERT", m->label);
    if (e == SP_OK)
        e = flush_roll(s, m, d);
    if (e == SP_OK)
        *inserted = (uint64_t)total;
    return e;
}

/* ---- read ----------------------------------------------------------------- */

/* Send "SELECT cols FROM event WHERE ... tail" with binary results. */
static sp_err send_filtered(pg_impl *m, const char *cols, const sp_store_q *q, const char *tail,
                            int single_row, sp_diag *d)
{
    sp_buf sql;
    int64_t params[8];
    int np = 0;
    sp_buf_init(&sql, 4096);
    sp_err e = sp_buf_printf(&sql, "SELECT %s FROM event", cols);
    if (e == SP_OK)
        e = sp__store_where(q, &sql, 1, params, &np);
    if (e == SP_OK)
        e = sp_buf_puts(&sql, tail);
    if (e != SP_OK) {
        sp_buf_fini(&sql);
        return sp_diag_set(d, e, "postgres: building a query: %s", sp_strerror(e));
    }
    char txt[8][24];
    const char *vals[8];
    for (int i = 0; i < np; i++) {
        snprintf(txt[i], sizeof(txt[i]), "%lld", (long long)params[i]);
        vals[i] = txt[i];
    }
    int ok = PQsendQueryParams(m->c, sql.data, np, NULL, vals, NULL, NULL, 1);
    sp_buf_fini(&sql);
    if (!ok)
        return fail(m, NULL, d, "sending a query");
    if (single_row)
        PQsetSingleRowMode(m->c);
    return SP_OK;
}

static sp_err drain(pg_impl *m, sp_err e, sp_diag *d, const char *what)
{
    PGresult *r;
    while ((r = PQgetResult(m->c)) != NULL) {
        ExecStatusType t = PQresultStatus(r);
        if (e == SP_OK && t != PGRES_TUPLES_OK && t != PGRES_SINGLE_TUPLE && t != PGRES_COMMAND_OK)
            e = fail(m, r, d, what);
        PQclear(r);
    }
    return e;
}

static sp_err pg_query(sp_store *s, const sp_store_q *q, sp_store_raw_fn fn, sp_diag *d)
{
    pg_impl *m = s->impl;
    char tail[96] = " ORDER BY exch_ts_ns, symbol_id, venue, sub, k1, k2";
    if (q->f->limit > 0) {
        size_t l = strlen(tail);
        snprintf(tail + l, sizeof(tail) - l, " LIMIT %llu", (unsigned long long)q->f->limit);
    }
    sp_err e = send_filtered(
        m, "kind, venue, sub, flags, symbol_id, exch_ts_ns, local_ts_ns, px, qty, aux0, aux1, aux2",
        q, tail, 1, d);
    if (e != SP_OK)
        return e;
    PGresult *r;
    while (e == SP_OK && (r = PQgetResult(m->c)) != NULL) {
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_SINGLE_TUPLE) {
            sp_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.kind = (uint8_t)get_int(r, 0, 0);
            ev.venue = (uint8_t)get_int(r, 0, 1);
            ev.sub = (uint8_t)get_int(r, 0, 2);
            ev.flags = (uint8_t)get_int(r, 0, 3);
            ev.symbol_id = (uint32_t)get_int(r, 0, 4);
            ev.exch_ts_ns = get_int(r, 0, 5);
            ev.local_ts_ns = get_int(r, 0, 6);
            ev.px = get_int(r, 0, 7);
            ev.qty = get_int(r, 0, 8);
            ev.aux[0] = get_int(r, 0, 9);
            ev.aux[1] = get_int(r, 0, 10);
            ev.aux[2] = get_int(r, 0, 11);
            e = fn(s, &ev);
        } else if (t != PGRES_TUPLES_OK) {
            e = fail(m, r, d, "reading events");
        }
        PQclear(r);
    }
    /* a callback stop leaves rows in flight: cancel them and drain */
    if (e != SP_OK) {
        PGcancel *c = PQgetCancel(m->c);
        if (c) {
            char err[64];
            PQcancel(c, err, sizeof(err));
            PQfreeCancel(c);
        }
        drain(m, SP_ESTATE, NULL, "cancelling");
        return e;
    }
    return drain(m, e, d, "reading events");
}

static sp_err pg_count(sp_store *s, const sp_store_q *q, uint64_t *n, sp_diag *d)
{
    pg_impl *m = s->impl;
    sp_err e = send_filtered(m, "count(*)", q, "", 0, d);
    if (e != SP_OK)
        return e;
    PGresult *r = PQgetResult(m->c);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        *n = (uint64_t)get_int(r, 0, 0);
    else
        e = fail(m, r, d, "counting events");
    PQclear(r);
    return drain(m, e, d, "counting events");
}

static sp_err pg_summary(sp_store *s, sp_store_summary_fn fn, void *ctx, sp_diag *d)
{
    pg_impl *m = s->impl;
    PGresult *r = PQexecParams(
        m->c,
        "SELECT e.kind::int8, coalesce(y.name, ''), count(*), min(e.exch_ts_ns),"
        " max(e.exch_ts_ns) FROM event e LEFT JOIN symbol y ON y.id = e.symbol_id"
        " GROUP BY e.kind, e.symbol_id, y.name ORDER BY e.kind, coalesce(y.name, '') COLLATE \"C\"",
        0, NULL, NULL, NULL, NULL, 1);
    sp_err e = SP_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        e = fail(m, r, d, "reading the summary");
    for (int i = 0; e == SP_OK && i < PQntuples(r); i++)
        e = fn(ctx, (unsigned)get_int(r, i, 0), PQgetvalue(r, i, 1), (uint64_t)get_int(r, i, 2),
               get_int(r, i, 3), get_int(r, i, 4));
    PQclear(r);
    return e;
}

static sp_err pg_liq_minutes(sp_store *s, const sp_store_q *q, sp_store_liq_raw_fn fn, sp_diag *d)
{
    pg_impl *m = s->impl;
    sp_buf sql;
    sp_buf_init(&sql, 1024);
    char txt[4][24];
    const char *vals[4];
    int np = 2;
    snprintf(txt[0], sizeof(txt[0]), "%lld", (long long)q->from_min);
    snprintf(txt[1], sizeof(txt[1]), "%lld", (long long)q->to_min);
    sp_err e = sp_buf_puts(&sql, "SELECT minute, venue::int8, symbol_id::int8, side::int8, count,"
                                 " notional, largest, largest_ns, first_ns, slots0, slots1, bad"
                                 " FROM liq_minute WHERE minute >= $1 AND minute < $2");
    if (e == SP_OK && q->f->venue != 0) {
        snprintf(txt[np], sizeof(txt[np]), "%u", q->f->venue);
        np++;
        e = sp_buf_printf(&sql, " AND venue = $%d", np);
    }
    if (e == SP_OK && q->f->symbol != NULL) {
        snprintf(txt[np], sizeof(txt[np]), "%u", (unsigned)q->symbol_id);
        np++;
        e = sp_buf_printf(&sql, " AND symbol_id = $%d", np);
    }
    if (e == SP_OK)
        e = sp_buf_puts(&sql, " ORDER BY minute, venue, symbol_id, side");
    if (e == SP_OK && q->f->limit > 0)
        e = sp_buf_printf(&sql, " LIMIT %llu", (unsigned long long)q->f->limit);
    if (e != SP_OK) {
        sp_buf_fini(&sql);
        return sp_diag_set(d, e, "postgres: building a query: %s", sp_strerror(e));
    }
    for (int i = 0; i < np; i++)
        vals[i] = txt[i];
    PGresult *r = PQexecParams(m->c, sql.data, np, NULL, vals, NULL, NULL, 1);
    sp_buf_fini(&sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        e = fail(m, r, d, "reading the roll-up");
        PQclear(r);
        return e;
    }
    for (int i = 0; e == SP_OK && i < PQntuples(r); i++) {
        sp_store_liq_minute c;
        memset(&c, 0, sizeof(c));
        c.minute = get_int(r, i, 0);
        c.venue = (uint8_t)get_int(r, i, 1);
        c.symbol_id = (uint32_t)get_int(r, i, 2);
        c.sell = (uint8_t)get_int(r, i, 3);
        c.count = (uint64_t)get_int(r, i, 4);
        c.notional = get_int(r, i, 5);
        c.largest = get_int(r, i, 6);
        c.largest_ns = get_int(r, i, 7);
        c.first_ns = get_int(r, i, 8);
        c.slots[0] = (uint64_t)get_int(r, i, 9);
        c.slots[1] = (uint64_t)get_int(r, i, 10);
        c.bad = (uint64_t)get_int(r, i, 11);
        e = fn(s, &c);
    }
    PQclear(r);
    return e;
}

static sp_err pg_log_ingest(sp_store *s, const char *source, uint64_t decoded, uint64_t inserted,
                            uint64_t rejected, int64_t at_ns, sp_diag *d)
{
    pg_impl *m = s->impl;
    char v[4][24];
    snprintf(v[0], sizeof(v[0]), "%lld", (long long)at_ns);
    snprintf(v[1], sizeof(v[1]), "%llu", (unsigned long long)decoded);
    snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)inserted);
    snprintf(v[3], sizeof(v[3]), "%llu", (unsigned long long)rejected);
    const char *params[5] = {v[0], source, v[1], v[2], v[3]};
    PGresult *r = PQexecParams(m->c,
                               "INSERT INTO ingest_run(at_ns, source, decoded, inserted, rejected)"
                               " VALUES($1, $2, $3, $4, $5)",
                               5, NULL, params, NULL, NULL, 0);
    sp_err e = PQresultStatus(r) == PGRES_COMMAND_OK ? SP_OK : fail(m, r, d, "logging the ingest");
    PQclear(r);
    return e;
}

const sp_store_ops sp__store_pg_ops = {
    "postgres", pg_open,   pg_close, pg_begin, pg_commit,  pg_rollback,   pg_symbol_put,
    pg_symbols, pg_insert, pg_query, pg_count, pg_summary, pg_log_ingest, pg_liq_minutes,
};
