/*
 * test_store_util.c -- the store test helpers declared in test_store_util.h:
 * a fresh database per test (SQLite temp file, or a new PostgreSQL database
 * when SP_TEST_PG_URI is set), the fixture on it, deterministic events and
 * the liquidation builder and raw SQL on the test database (cmocka asserts).
 */
#include "test_store_util.h"

#include <setjmp.h>
#include <string.h>
#include <stdarg.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testalloc.h"

#ifdef STAMPEDE_HAVE_PG
#include <libpq-fe.h>
#endif

/* The PostgreSQL server under test, or NULL for SQLite. */
const char *tsu_pg_base(void)
{
    const char *b = getenv("SP_TEST_PG_URI");
    return b && *b ? b : NULL;
}

#ifdef STAMPEDE_HAVE_PG
static void tsu_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Run one SQL command on database db of the test server; 0 on success. */
int tsu_pg_exec(const char *db, const char *sql)
{
    char uri[512];
    snprintf(uri, sizeof(uri), "%s/%s", tsu_pg_base(), db);
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQsetNoticeProcessor(c, tsu_quiet, NULL);
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "tsu_pg_exec(%s): %s", sql, PQerrorMessage(c));
        PQclear(r);
    } else {
        fprintf(stderr, "tsu_pg_exec: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}
#endif

/*
 * Wait (at most 20 s) until no session but ours is connected to the store
 * at uri.  After a writer is killed, PostgreSQL may still be finishing the
 * COMMIT its backend had received: until that backend ends, two reads can
 * straddle the commit and disagree.  A no-op for SQLite (the writer is
 * gone with its process).  0 when idle, -1 on timeout or error.
 */
int tsu_wait_writers_gone(const char *uri)
{
    if (strncmp(uri, "postgres", 8) != 0)
        return 0;
#ifdef STAMPEDE_HAVE_PG
    PGconn *c = PQconnectdb(uri);
    int rc = -1;
    for (int i = 0; i < 2000 && PQstatus(c) == CONNECTION_OK; i++) {
        PGresult *r = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                "current_database() AND pid <> pg_backend_pid()");
        int busy = PQresultStatus(r) != PGRES_TUPLES_OK || strcmp(PQgetvalue(r, 0, 0), "0") != 0;
        PQclear(r);
        if (!busy) {
            rc = 0;
            break;
        }
        usleep(10000);
    }
    PQfinish(c);
    return rc;
#else
    return -1;
#endif
}

/*
 * A URI for a new, empty store named after tag, written to uri.  Returns
 * 0, or -1 (message on stderr) when the backend cannot provide one.
 * dir receives the temp directory for SQLite ("" for PostgreSQL).
 */
int tsu_fresh_uri(const char *tag, char *uri, size_t cap, char *dir, size_t dircap)
{
    static unsigned seq;
    seq++;
    dir[0] = '\0';
    if (tsu_pg_base() != NULL) {
#ifdef STAMPEDE_HAVE_PG
        char db[96], sql[256];
        snprintf(db, sizeof(db), "sp_%s_%u_%u", tag, (unsigned)getpid(), seq);
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
        if (tsu_pg_exec("postgres", sql) != 0)
            return -1;
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
        if (tsu_pg_exec("postgres", sql) != 0)
            return -1;
        snprintf(uri, cap, "%s/%s", tsu_pg_base(), db);
        snprintf(dir, dircap, "%s", db);
        return 0;
#else
        fprintf(stderr, "SP_TEST_PG_URI set but this build has no PostgreSQL\n");
        return -1;
#endif
    }
    snprintf(dir, dircap, "/tmp/sp_store_%s_XXXXXX", tag);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(uri, cap, "sqlite:%s/t.db", dir);
    return 0;
}

/* Remove what tsu_fresh_uri made. */
void tsu_cleanup(const char *dir)
{
    if (dir[0] == '\0')
        return;
    if (tsu_pg_base() != NULL) {
#ifdef STAMPEDE_HAVE_PG
        char sql[400];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dir);
        tsu_pg_exec("postgres", sql);
#endif
        return;
    }
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

/*
 * Event i of a deterministic stream over nsym symbols of syms (ids
 * 1..nsym): trades with ids, depth updates (bid and ask), klines and
 * funding, one per millisecond from 2026-02-06.  batch is stored in
 * aux[2] of trades so tests can tell which batch a row came from.
 */
sp_event tsu_event(uint64_t i, uint32_t nsym, int64_t batch)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    uint64_t x = i * 0x9E3779B97F4A7C15ull;
    e.symbol_id = (uint32_t)(i % nsym) + 1;
    e.venue = SP_VENUE_BINANCE_UM;
    e.exch_ts_ns = 1770336000000000000ll + (int64_t)(i / 4) * 1000000;
    e.local_ts_ns = e.exch_ts_ns + 1500000;
    switch (i % 4) {
    case 0:
    case 1:
        e.kind = SP_EV_TRADE;
        e.px = 6000000000000 + (int64_t)(x % 100000000);
        e.qty = (int64_t)(x >> 40) + 1;
        e.aux[0] = (int64_t)i + 1; /* trade id */
        e.aux[2] = batch;
        e.flags = (uint8_t)(x & SP_EVF_SELL);
        break;
    case 2:
        e.kind = SP_EV_DEPTH_UPDATE;
        e.px = 6000000000000 + (int64_t)(i % 1000) * 10000000;
        e.qty = (int64_t)(x % 5000000000);
        e.aux[0] = (int64_t)i;
        e.aux[1] = (int64_t)i + 3;
        e.flags = (uint8_t)((i / 4) & 1);
        break;
    default:
        e.kind = SP_EV_KLINE;
        e.sub = 1; /* 1m */
        e.px = 6100000000000 - (int64_t)i;
        e.qty = (int64_t)i * 1000;
        e.aux[0] = e.px + 5;
        e.aux[1] = e.px + 100;
        e.aux[2] = e.px - 100;
        e.flags = SP_EVF_CLOSED;
        break;
    }
    return e;
}

/* A symbol table holding SYM1 .. SYMn (ids 1..n). */
sp_symtab *tsu_symtab(uint32_t n)
{
    sp_symtab *t = NULL;
    if (sp_symtab_new(&t) != SP_OK)
        return NULL;
    for (uint32_t k = 1; k <= n; k++) {
        char name[32];
        uint32_t id;
        int len = snprintf(name, sizeof(name), "SYM%u", k);
        if (sp_symtab_intern(t, name, (size_t)len, &id) != SP_OK) {
            sp_symtab_free(t);
            return NULL;
        }
    }
    return t;
}

sp_symtab *tsu_symtab_of(const char *const *names, size_t n)
{
    sp_symtab *t = NULL;
    if (sp_symtab_new(&t) != SP_OK)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t id;
        if (sp_symtab_intern(t, names[i], strlen(names[i]), &id) != SP_OK) {
            sp_symtab_free(t);
            return NULL;
        }
    }
    return t;
}

tsu_fx *tsu_fx_new(const char *tag, const char *const *names, size_t n)
{
    tsu_fx *f = calloc(1, sizeof(*f));
    if (f == NULL || tsu_fresh_uri(tag, f->uri, sizeof(f->uri), f->dir, sizeof(f->dir)) != 0) {
        free(f);
        return NULL;
    }
    f->syms = names != NULL ? tsu_symtab_of(names, n) : tsu_symtab((uint32_t)n);
    sp_diag d = {0};
    if (f->syms == NULL || sp_store_open(f->uri, 0, &f->s, &d) != SP_OK) {
        fprintf(stderr, "open %s: %s\n", f->uri, d.msg);
        tsu_fx_free(f);
        return NULL;
    }
    return f;
}

void tsu_fx_free(tsu_fx *f)
{
    if (f == NULL)
        return;
    sp_store_close(f->s);
    sp_symtab_free(f->syms);
    tsu_cleanup(f->dir);
    free(f);
}

int tsu_fx_teardown(void **state)
{
    tsu_fx_free(*state);
    return 0;
}

void tsu_raw_sql(const tsu_fx *f, const char *sql)
{
    if (tsu_pg_base() != NULL) {
#ifdef STAMPEDE_HAVE_PG
        assert_int_equal(tsu_pg_exec(f->dir, sql), 0);
#endif
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->uri + strlen("sqlite:"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

typedef struct fx_enomem {
    const tsu_fx *f;
    sp_err (*body)(sp_store *s, sp_symtab *syms, void *ctx);
    void *ctx;
} fx_enomem;

static sp_err fx_enomem_step(void *ctx)
{
    fx_enomem *e = ctx;
    sp_store *s = NULL;
    sp_diag d = {0};
    sp_err rc = sp_store_open(e->f->uri, 0, &s, &d);
    if (rc != SP_OK)
        return rc;
    rc = e->body(s, e->f->syms, e->ctx);
    sp_store_close(s);
    return rc;
}

uint64_t tsu_fx_enomem(tsu_fx *f, sp_err (*body)(sp_store *s, sp_symtab *syms, void *ctx),
                       void *ctx, uint64_t max_steps)
{
    sp_store_close(f->s);
    f->s = NULL;
    fx_enomem e = {f, body, ctx};
    uint64_t steps = sp_test_enomem_loop(fx_enomem_step, &e, max_steps);
    sp_diag d = {0};
    if (sp_store_open(f->uri, 0, &f->s, &d) != SP_OK)
        f->s = NULL;
    return steps;
}

sp_event tsu_liq(uint8_t venue, uint32_t sym, int64_t ts, bool sell, int64_t notional)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    e.kind = SP_EV_LIQUIDATION;
    e.venue = venue;
    e.symbol_id = sym;
    e.exch_ts_ns = ts;
    e.flags = sell ? SP_EVF_SELL : 0;
    e.aux[2] = notional;
    return e;
}
