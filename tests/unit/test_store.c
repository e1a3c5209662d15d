/*
 * test_store.c -- the sp_store suite, run once on SQLite (ctest test_store)
 * and once on a real PostgreSQL 15 (ctest test_store_pg, through
 * tests/integration/pg_server.sh, which sets SP_TEST_PG_URI).
 *
 * Covers: open/create/reopen and the schema version, exact round trip of
 * every field, idempotent re-append (natural keys), filters, symbols
 * across handles, atomicity of a failing batch, read-only handles, URI
 * errors, summaries, and allocation failures in open/append/query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/store_int.h"
#include "test_store_util.h"
#include "testalloc.h"

typedef tsu_fx fx;

static int setup(void **state)
{
    *state = tsu_fx_new("suite", NULL, 5);
    return *state != NULL ? 0 : -1;
}

static void fill(sp_event *ev, size_t n, uint64_t first, int64_t batch)
{
    for (size_t i = 0; i < n; i++)
        ev[i] = tsu_event(first + i, 5, batch);
}

static uint64_t count_all(sp_store *s)
{
    uint64_t n = 0;
    sp_diag d = {0};
    assert_int_equal(sp_store_count(s, NULL, &n, &d), SP_OK);
    return n;
}

/* ---- round trip ------------------------------------------------------------ */

typedef struct collect {
    sp_event ev[512];
    char sym[512][32];
    size_t n;
} collect;

static sp_err collect_row(void *ctx, const sp_event *ev, const char *symbol)
{
    collect *c = ctx;
    if (c->n >= SP_COUNTOF(c->ev))
        return SP_ETOOBIG;
    c->ev[c->n] = *ev;
    snprintf(c->sym[c->n], sizeof(c->sym[0]), "%s", symbol);
    c->n++;
    return SP_OK;
}

static void test_open_sets_version(void **state)
{
    fx *f = *state;
    assert_int_equal(sp_store_opened_version(f->s), 0); /* a new database */
    sp_store_close(f->s);
    sp_diag d = {0};
    assert_int_equal(sp_store_open(f->uri, 0, &f->s, &d), SP_OK);
    assert_int_equal(sp_store_opened_version(f->s), SP_STORE_SCHEMA_VERSION);
    assert_string_equal(sp_store_backend(f->s), tsu_pg_base() ? "postgres" : "sqlite");
}

static void test_round_trip_exact(void **state)
{
    fx *f = *state;
    sp_event ev[64];
    fill(ev, 64, 0, 7);
    ev[0].px = INT64_MAX; /* extremes survive */
    ev[1].qty = INT64_MIN;
    ev[5].local_ts_ns = -1;
    uint64_t ins = 0;
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 64, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 64);
    collect *c = calloc(1, sizeof(*c));
    assert_int_equal(sp_store_query(f->s, NULL, collect_row, c, &d), SP_OK);
    assert_int_equal(c->n, 64);
    /* every stored event comes back bit for bit (ordered by time, symbol, ...) */
    for (size_t i = 0; i < 64; i++) {
        int found = 0;
        for (size_t j = 0; j < c->n && !found; j++) {
            sp_event want = ev[i];
            want.symbol_id = c->ev[j].symbol_id; /* the store's id */
            if (memcmp(&want, &c->ev[j], sizeof(want)) == 0) {
                char name[32];
                snprintf(name, sizeof(name), "SYM%u", ev[i].symbol_id);
                assert_string_equal(c->sym[j], name);
                found = 1;
            }
        }
        assert_true(found);
    }
    for (size_t j = 1; j < c->n; j++)
        assert_true(c->ev[j - 1].exch_ts_ns <= c->ev[j].exch_ts_ns);
    free(c);
}

static void test_reappend_is_idempotent(void **state)
{
    fx *f = *state;
    sp_event ev[400];
    fill(ev, 400, 0, 1);
    uint64_t ins = 0;
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 300, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 300);
    assert_int_equal(sp_store_append(f->s, ev, 300, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 0);
    assert_int_equal(count_all(f->s), 300);
    /* overlapping batch: only the 100 new ones go in, even with another batch tag */
    fill(ev, 400, 0, 1);
    assert_int_equal(sp_store_append(f->s, ev, 400, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 100);
    assert_int_equal(count_all(f->s), 400);
    /* through a second handle with a symbol table in another order */
    sp_symtab *t2 = NULL;
    assert_int_equal(sp_symtab_new(&t2), SP_OK);
    uint32_t id;
    for (int k = 5; k >= 1; k--) {
        char name[8];
        int len = snprintf(name, sizeof(name), "SYM%d", k);
        assert_int_equal(sp_symtab_intern(t2, name, (size_t)len, &id), SP_OK);
    }
    for (size_t i = 0; i < 400; i++)
        ev[i].symbol_id = 6 - ev[i].symbol_id; /* SYMk has id 6-k in t2 */
    sp_store *s2 = NULL;
    assert_int_equal(sp_store_open(f->uri, 0, &s2, &d), SP_OK);
    assert_int_equal(sp_store_append(s2, ev, 400, t2, &ins, &d), SP_OK);
    assert_int_equal(ins, 0);
    sp_store_close(s2);
    sp_symtab_free(t2);
    assert_int_equal(count_all(f->s), 400);
}

static void test_natural_keys_keep_distinct_events(void **state)
{
    fx *f = *state;
    sp_event base = tsu_event(2, 5, 0); /* a depth update */
    sp_event ev[8];
    for (int i = 0; i < 8; i++)
        ev[i] = base;
    ev[1].flags ^= SP_EVF_SELL;   /* same price, other side */
    ev[2].px += 1;                /* another level of the same update */
    ev[3].aux[1] += 1;            /* same level in the next update */
    ev[4].venue = SP_VENUE_BYBIT; /* another venue */
    ev[5].kind = SP_EV_KLINE;     /* kline 1m and 5m at the same open time */
    ev[5].sub = 1;
    ev[6] = ev[5];
    ev[6].sub = 3;
    ev[7] = base;
    ev[7].qty += 1; /* same key, new content: the first write wins */
    uint64_t ins = 0;
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 8, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 7);
    /* trades: two trades at the same ns with different ids, and id-less trades */
    sp_event t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = tsu_event(0, 5, 0);
        t[i].aux[0] = 100 + i;
    }
    t[2].aux[0] = t[3].aux[0] = 0; /* no id: key on content */
    t[3].qty += 1;
    assert_int_equal(sp_store_append(f->s, t, 4, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 4);
    assert_int_equal(sp_store_append(f->s, t, 4, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 0);
    assert_int_equal(count_all(f->s), 11);
}

static void test_filters(void **state)
{
    fx *f = *state;
    sp_event ev[200];
    fill(ev, 200, 0, 1);
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 200, f->syms, NULL, &d), SP_OK);
    size_t want_trade_sym2 = 0, want_window = 0;
    int64_t from = ev[40].exch_ts_ns, to = ev[120].exch_ts_ns;
    for (size_t i = 0; i < 200; i++) {
        if (ev[i].kind == SP_EV_TRADE && ev[i].symbol_id == 2)
            want_trade_sym2++;
        if (ev[i].kind == SP_EV_TRADE && ev[i].exch_ts_ns >= from && ev[i].exch_ts_ns < to)
            want_window++;
    }
    sp_store_filter q = {0};
    uint64_t n = 0;
    q.kind = SP_EV_TRADE;
    q.symbol = "SYM2";
    assert_int_equal(sp_store_count(f->s, &q, &n, &d), SP_OK);
    assert_int_equal(n, want_trade_sym2);
    q.symbol = NULL;
    q.has_from = q.has_to = 1;
    q.from_ns = from;
    q.to_ns = to;
    assert_int_equal(sp_store_count(f->s, &q, &n, &d), SP_OK);
    assert_int_equal(n, want_window);
    q.limit = 3;
    collect *c = calloc(1, sizeof(*c));
    assert_int_equal(sp_store_query(f->s, &q, collect_row, c, &d), SP_OK);
    assert_int_equal(c->n, 3);
    assert_true(c->ev[0].exch_ts_ns >= from);
    q = (sp_store_filter){0};
    q.symbol = "NOPE";
    assert_int_equal(sp_store_count(f->s, &q, &n, &d), SP_OK);
    assert_int_equal(n, 0);
    q.symbol = NULL;
    q.venue = SP_VENUE_OKX;
    assert_int_equal(sp_store_count(f->s, &q, &n, &d), SP_OK);
    assert_int_equal(n, 0);
    free(c);
}

static sp_err stop_after_two(void *ctx, const sp_event *ev, const char *symbol)
{
    (void)ev;
    (void)symbol;
    int *k = ctx;
    return ++*k == 2 ? SP_ERANGE : SP_OK;
}

static void test_callback_stops_query(void **state)
{
    fx *f = *state;
    sp_event ev[20];
    fill(ev, 20, 0, 1);
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 20, f->syms, NULL, &d), SP_OK);
    int k = 0;
    assert_int_equal(sp_store_query(f->s, NULL, stop_after_two, &k, &d), SP_ERANGE);
    assert_int_equal(k, 2);
    /* the handle is still usable */
    assert_int_equal(count_all(f->s), 20);
}

static void test_bad_symbol_rolls_back_whole_batch(void **state)
{
    fx *f = *state;
    enum { N = 2 * SP_STORE_SLICE + 5 }; /* three slices */
    static sp_event ev[N];
    fill(ev, N, 0, 1);
    ev[N - 1].symbol_id = 99; /* not in syms: found in the last slice */
    sp_diag d = {0};
    uint64_t ins = 5;
    assert_int_equal(sp_store_append(f->s, ev, N, f->syms, &ins, &d), SP_EINVAL);
    assert_int_equal(ins, 0);
    assert_non_null(strstr(d.msg, "99"));
    assert_int_equal(count_all(f->s), 0);
    /* and the store goes on: the same batch, fixed, goes in whole */
    ev[N - 1].symbol_id = 1;
    assert_int_equal(sp_store_append(f->s, ev, N, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, N);
    assert_int_equal(count_all(f->s), N);
}

static void test_symbols_across_handles(void **state)
{
    fx *f = *state;
    sp_diag d = {0};
    sp_store *r = NULL;
    assert_int_equal(sp_store_open(f->uri, SP_STORE_READONLY, &r, &d), SP_OK);
    sp_event ev[8];
    fill(ev, 8, 0, 1);
    assert_int_equal(sp_store_append(f->s, ev, 8, f->syms, NULL, &d), SP_OK);
    /* the reader was opened before SYM1.. existed: it learns them on demand */
    sp_store_filter q = {0};
    q.symbol = "SYM3";
    uint64_t n = 0;
    assert_int_equal(sp_store_count(r, &q, &n, &d), SP_OK);
    assert_true(n > 0);
    collect *c = calloc(1, sizeof(*c));
    assert_int_equal(sp_store_query(r, NULL, collect_row, c, &d), SP_OK);
    assert_int_equal(c->n, 8);
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(strncmp(c->sym[i], "SYM", 3), 0);
    /* a reader cannot write */
    assert_int_equal(sp_store_append(r, ev, 8, f->syms, NULL, &d), SP_EINVAL);
    assert_int_equal(sp_store_log_ingest(r, "x", 1, 1, 0, &d), SP_EINVAL);
    sp_store_close(r);
    free(c);
}

typedef struct sumctx {
    uint64_t total;
    unsigned rows;
    unsigned last_kind;
} sumctx;

static sp_err sum_row(void *ctx, unsigned kind, const char *symbol, uint64_t n, int64_t lo,
                      int64_t hi)
{
    sumctx *c = ctx;
    assert_true(kind >= c->last_kind);
    assert_true(lo <= hi);
    assert_int_equal(strncmp(symbol, "SYM", 3), 0);
    c->last_kind = kind;
    c->total += n;
    c->rows++;
    return SP_OK;
}

static void test_summary_and_log(void **state)
{
    fx *f = *state;
    sp_event ev[100];
    fill(ev, 100, 0, 1);
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 100, f->syms, NULL, &d), SP_OK);
    sumctx c = {0};
    assert_int_equal(sp_store_summary(f->s, sum_row, &c, &d), SP_OK);
    assert_int_equal(c.total, 100);
    assert_int_equal(c.rows, 15); /* trade, depth, kline x 5 symbols */
    sp_err rc = sp_store_log_ingest(f->s, "file.csv", 100, 100, 2, &d);
    if (rc != SP_OK)
        fail_msg("log_ingest: %s", d.msg);
}

static void test_uri_errors(void **state)
{
    (void)state;
    sp_store *s = NULL;
    sp_diag d = {0};
    assert_int_equal(sp_store_open("mysql://x", 0, &s, &d), SP_EINVAL);
    assert_non_null(strstr(d.msg, "unknown URI scheme"));
    assert_int_equal(sp_store_open("sqlite:", 0, &s, &d), SP_EINVAL);
    assert_int_equal(sp_store_open("sqlite:/tmp/x.db?busy_ms=abc", 0, &s, &d), SP_EINVAL);
    assert_int_equal(sp_store_open("sqlite:/nonexistent-dir/x/y.db", 0, &s, &d), SP_EIO);
    assert_non_null(strstr(d.msg, "/nonexistent-dir/x/y.db"));
    assert_int_equal(sp_store_open("sqlite:/tmp/sp-no-such.db", SP_STORE_READONLY, &s, &d),
                     SP_ENOTFOUND);
    assert_null(s);
#ifndef STAMPEDE_HAVE_PG
    assert_int_equal(sp_store_open("postgres://127.0.0.1/x", 0, &s, &d), SP_EUNSUPPORTED);
#else
    /* nothing listens on port 1: a clear connection error */
    assert_int_equal(sp_store_open("postgresql://127.0.0.1:1/x?connect_timeout=2", 0, &s, &d),
                     SP_ECONN);
#endif
}

static void test_newer_schema_refused(void **state)
{
    fx *f = *state;
    sp_event ev[4];
    fill(ev, 4, 0, 1);
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 4, f->syms, NULL, &d), SP_OK);
    sp_store_close(f->s);
    f->s = NULL;
    tsu_raw_sql(f, "UPDATE schema_version SET version = 99");
    assert_int_equal(sp_store_open(f->uri, 0, &f->s, &d), SP_ESCHEMA);
    assert_non_null(strstr(d.msg, "newer"));
    assert_int_equal(sp_store_open(f->uri, SP_STORE_READONLY, &f->s, &d), SP_ESCHEMA);
    assert_null(f->s);
    /* back to the current version: the data is intact */
    char back[64];
    snprintf(back, sizeof(back), "UPDATE schema_version SET version = %d", SP_STORE_SCHEMA_VERSION);
    tsu_raw_sql(f, back);
    assert_int_equal(sp_store_open(f->uri, 0, &f->s, &d), SP_OK);
    assert_int_equal(count_all(f->s), 4);
}

static void test_upgrade_from_v1(void **state)
{
    fx *f = *state;
    sp_store_close(f->s);
    f->s = NULL;
    /* rebuild the database as version 1 wrote it, with one symbol */
    tsu_raw_sql(f, "DROP TABLE liq_minute; DROP TABLE ingest_run; DROP TABLE event;"
                   " DROP TABLE symbol; DROP TABLE schema_version");
    const char *v1 = sp__store_sqlite_migration(1);
#ifdef STAMPEDE_HAVE_PG
    if (tsu_pg_base() != NULL)
        v1 = sp__store_pg_migration(1);
#endif
    tsu_raw_sql(f, v1);
    tsu_raw_sql(f, "INSERT INTO schema_version VALUES(1); INSERT INTO symbol(name) VALUES('SYM3')");
    sp_diag d = {0};
    assert_int_equal(sp_store_open(f->uri, SP_STORE_READONLY, &f->s, &d), SP_ESCHEMA);
    assert_non_null(strstr(d.msg, "needs an upgrade"));
    assert_int_equal(sp_store_open(f->uri, 0, &f->s, &d), SP_OK);
    assert_int_equal(sp_store_opened_version(f->s), 1);
    assert_int_equal(sp_store_log_ingest(f->s, "x.csv", 1, 1, 0, &d), SP_OK); /* v2's table */
    sp_event ev[40];
    fill(ev, 40, 0, 1);
    uint64_t ins = 0;
    assert_int_equal(sp_store_append(f->s, ev, 40, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 40);
    sp_store_close(f->s);
    assert_int_equal(sp_store_open(f->uri, 0, &f->s, &d), SP_OK);
    assert_int_equal(sp_store_opened_version(f->s), SP_STORE_SCHEMA_VERSION);
    assert_int_equal(count_all(f->s), 40);
}

/* ---- allocation failures -------------------------------------------------- */

/* (opened by tsu_fx_enomem) append, count, query */
static sp_err append_query(sp_store *s, sp_symtab *syms, void *ctx)
{
    (void)ctx;
    sp_diag d = {0};
    sp_event ev[16];
    fill(ev, 16, 1000, 3);
    uint64_t n = 0;
    sp_err rc = sp_store_append(s, ev, 16, syms, NULL, &d);
    if (rc == SP_OK)
        rc = sp_store_count(s, NULL, &n, &d);
    if (rc == SP_OK) {
        collect *col = calloc(1, sizeof(*col));
        rc = sp_store_query(s, NULL, collect_row, col, &d);
        free(col);
    }
    return rc;
}

static void test_enomem_open_append_query(void **state)
{
    fx *f = *state;
    assert_true(tsu_fx_enomem(f, append_query, NULL, 200) > 5);
    assert_non_null(f->s);
    assert_int_equal(count_all(f->s), 16); /* failed attempts stored nothing twice */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_sets_version, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_exact, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_reappend_is_idempotent, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_natural_keys_keep_distinct_events, setup,
                                        tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops_query, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_symbol_rolls_back_whole_batch, setup,
                                        tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_symbols_across_handles, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_summary_and_log, setup, tsu_fx_teardown),
        cmocka_unit_test(test_uri_errors),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_enomem_open_append_query, setup, tsu_fx_teardown),
    };
    return cmocka_run_group_tests_name(tsu_pg_base() ? "store (postgres)" : "store (sqlite)", tests,
                                       NULL, NULL);
}
