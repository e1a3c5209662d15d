/*
 * test_store_rollup.c -- the per-minute liquidation roll-ups (liq_minute,
 * schema version 3), run once on SQLite (ctest test_store_rollup) and once
 * on a real PostgreSQL 15 (test_store_rollup_pg, through
 * tests/integration/pg_server.sh, which sets SP_TEST_PG_URI).
 *
 * The oracle is a recomputation from the events read back from the store
 * (sp_store_query), with a plain linear search over cells written here:
 * it shares only sp_event_liq_notional with the store.  Covers: equality
 * after batches with duplicates (within and across batches), idempotent
 * re-append, a rolled-back batch, the upgrade of a version-2 database,
 * the filter semantics (venue, symbol, limit, unaligned bounds), overflow
 * flagging, and allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/store_int.h"
#include "test_store_util.h"
#include "testalloc.h"

#define T0      1770336000000000000ll /* 2026-02-06 00:00 UTC */
#define MIN_NS  60000000000ll
#define NAMES   4
#define MAXCELL 4096

static const char *const names[NAMES] = {"BTCUSDT", "ETHUSDT", "BTCUSD_PERP", "ETHUSD_PERP"};

typedef tsu_fx fx;

static int setup(void **state)
{
    *state = tsu_fx_new("rollup", names, NAMES);
    return *state != NULL ? 0 : -1;
}

/*
 * Liquidation i of a deterministic stream: Binance USD-M / COIN-M, Bybit
 * and OKX, both sides, notionals from aux2 or price x qty, several events
 * per 500 ms slot, spread over `minutes` minutes from T0 (some before the
 * epoch minute boundary tests use negative offsets: none here).
 */
static sp_event liq_event(uint64_t i, int64_t minutes)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    static const uint8_t venues[4] = {SP_VENUE_BINANCE_UM, SP_VENUE_BINANCE_CM, SP_VENUE_BYBIT,
                                      SP_VENUE_OKX};
    e.kind = SP_EV_LIQUIDATION;
    e.venue = venues[(x >> 7) % 4];
    e.symbol_id = e.venue == SP_VENUE_BINANCE_CM ? 3 + (uint32_t)((x >> 11) & 1)
                                                 : 1 + (uint32_t)((x >> 11) & 1);
    e.exch_ts_ns = T0 + (int64_t)((x >> 13) % (uint64_t)(minutes * 60000)) * 1000000;
    e.local_ts_ns = e.exch_ts_ns + 7;
    e.flags = (uint8_t)((x >> 3) & SP_EVF_SELL);
    e.px = 6000000000000 + (int64_t)((x >> 20) % 1000) * 100000000;
    e.qty = (int64_t)((x >> 30) % 100000) * 1000 + 1000;
    if (e.venue == SP_VENUE_BINANCE_CM)
        e.qty = (int64_t)((x >> 30) % 50) + 1; /* contracts */
    e.aux[0] = (x & 4) ? e.px - 5000 : 0;
    e.aux[1] = (x & 8) ? e.qty / 2 : 0;
    e.aux[2] = (x & 16) && e.venue == SP_VENUE_OKX ? (int64_t)(x >> 40) : 0;
    return e;
}

/* ---- the oracle: cells recomputed from the stored events -------------------- */

typedef struct cell {
    char sym[32];
    sp_store_liq_minute c;
} cell;

typedef struct cells {
    cell *v;
    size_t n;
} cells;

static cell *find_cell(cells *t, uint8_t venue, const char *sym, uint8_t sell, int64_t minute)
{
    for (size_t i = 0; i < t->n; i++) {
        cell *c = &t->v[i];
        if (c->c.venue == venue && c->c.sell == sell && c->c.minute == minute &&
            strcmp(c->sym, sym) == 0)
            return c;
    }
    return NULL;
}

static sp_err oracle_row(void *ctx, const sp_event *ev, const char *symbol)
{
    cells *t = ctx;
    if (ev->kind != SP_EV_LIQUIDATION)
        return SP_OK;
    int64_t minute = ev->exch_ts_ns / MIN_NS;
    if (ev->exch_ts_ns < 0 && minute * MIN_NS != ev->exch_ts_ns)
        minute--;
    uint8_t sell = ev->flags & SP_EVF_SELL ? 1 : 0;
    cell *c = find_cell(t, ev->venue, symbol, sell, minute);
    if (c == NULL) {
        if (t->n == MAXCELL)
            return SP_ETOOBIG;
        c = &t->v[t->n++];
        memset(c, 0, sizeof(*c));
        snprintf(c->sym, sizeof(c->sym), "%s", symbol);
        c->c.venue = ev->venue;
        c->c.sell = sell;
        c->c.minute = minute;
        c->c.largest = INT64_MIN;
        c->c.first_ns = INT64_MAX;
    }
    int64_t nt = 0, sum = 0;
    c->c.count++;
    if (sp_event_liq_notional(ev, symbol, &nt) != SP_OK ||
        __builtin_add_overflow(c->c.notional, nt, &sum)) {
        c->c.bad++;
    } else {
        c->c.notional = sum;
        if (nt > c->c.largest || (nt == c->c.largest && ev->exch_ts_ns < c->c.largest_ns)) {
            c->c.largest = nt;
            c->c.largest_ns = ev->exch_ts_ns;
        }
    }
    if (ev->exch_ts_ns < c->c.first_ns)
        c->c.first_ns = ev->exch_ts_ns;
    int64_t slot = (ev->exch_ts_ns - minute * MIN_NS) / 500000000;
    c->c.slots[slot / 64] |= UINT64_C(1) << (slot % 64);
    return SP_OK;
}

typedef struct got {
    cells *want;
    size_t rows;
    int64_t last_minute;
} got;

static sp_err check_row(void *ctx, const sp_store_liq_minute *r, const char *symbol)
{
    got *g = ctx;
    assert_true(r->minute >= g->last_minute); /* key order */
    g->last_minute = r->minute;
    cell *c = find_cell(g->want, r->venue, symbol, r->sell, r->minute);
    if (c == NULL)
        fail_msg("roll-up row %s venue %u minute %lld not in the events", symbol, r->venue,
                 (long long)r->minute);
    assert_int_equal(r->count, c->c.count);
    assert_int_equal(r->notional, c->c.notional);
    assert_int_equal(r->bad, c->c.bad);
    assert_int_equal(r->largest, c->c.largest);
    assert_int_equal(r->largest_ns, c->c.largest_ns);
    assert_int_equal(r->first_ns, c->c.first_ns);
    assert_int_equal(r->slots[0], c->c.slots[0]);
    assert_int_equal(r->slots[1], c->c.slots[1]);
    assert_true(r->slots[1] >> (SP_STORE_LIQ_SLOTS - 64) == 0);
    g->rows++;
    return SP_OK;
}

/* Assert liq_minute == the cells recomputed from every stored event; returns the rows. */
static size_t assert_rollup_matches(sp_store *s)
{
    cells want = {calloc(MAXCELL, sizeof(cell)), 0};
    assert_non_null(want.v);
    sp_diag d = {0};
    assert_int_equal(sp_store_query(s, NULL, oracle_row, &want, &d), SP_OK);
    got g = {&want, 0, INT64_MIN};
    assert_int_equal(sp_store_liq_minutes(s, NULL, check_row, &g, &d), SP_OK);
    assert_int_equal(g.rows, want.n);
    free(want.v);
    return g.rows;
}

static void append_stream(fx *f, uint64_t first, size_t n, int64_t minutes, uint64_t *inserted)
{
    sp_event *ev = calloc(n, sizeof(*ev));
    assert_non_null(ev);
    for (size_t i = 0; i < n; i++)
        ev[i] = liq_event(first + i, minutes);
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, n, f->syms, inserted, &d), SP_OK);
    free(ev);
}

/* ---- tests ------------------------------------------------------------------ */

typedef struct snap {
    sp_store_liq_minute r[MAXCELL];
    size_t n;
} snap;

static sp_err snap_row(void *ctx, const sp_store_liq_minute *r, const char *symbol)
{
    (void)symbol;
    snap *s = ctx;
    if (s->n == MAXCELL)
        return SP_ETOOBIG;
    s->r[s->n++] = *r;
    return SP_OK;
}

static void test_rollup_equals_events(void **state)
{
    fx *f = *state;
    uint64_t ins = 0;
    append_stream(f, 0, 3000, 20, &ins);
    assert_int_equal(ins, 3000);
    /* overlapping batch: 1000 present, 1000 new; plus in-batch duplicates */
    sp_event ev[2100];
    for (size_t i = 0; i < 2000; i++)
        ev[i] = liq_event(2000 + i, 20);
    for (size_t i = 2000; i < 2100; i++) {
        ev[i] = ev[i - 2000 + 1000]; /* a copy of a new one, received later */
        ev[i].local_ts_ns += 99;
    }
    /* non-liquidation rows in the same batch are not rolled up */
    ev[5] = tsu_event(5, 4, 1);
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 2100, f->syms, &ins, &d), SP_OK);
    assert_int_equal(ins, 1001); /* 1000 liquidations and the depth update */
    size_t rows = assert_rollup_matches(f->s);
    assert_true(rows > 100);
    /* the COIN-M contract value came from the symbol name (BTCUSD* = US$ 100) */
    sp_event cm = liq_event(1, 20);
    cm.venue = SP_VENUE_BINANCE_CM;
    cm.symbol_id = 3;
    cm.aux[1] = 0;
    cm.aux[2] = 0;
    cm.qty = 7;
    cm.exch_ts_ns = T0 - 1; /* alone in the minute before T0 */
    assert_int_equal(sp_store_append(f->s, &cm, 1, f->syms, &ins, &d), SP_OK);
    sp_store_filter flt = {0};
    flt.has_to = 1;
    flt.to_ns = T0;
    snap *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(sp_store_liq_minutes(f->s, &flt, snap_row, a, &d), SP_OK);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->r[0].minute, T0 / MIN_NS - 1);
    assert_int_equal(a->r[0].notional, 700);
    assert_int_equal(a->r[0].slots[1], UINT64_C(1) << (119 - 64)); /* the last 500 ms slot */
    free(a);
    assert_rollup_matches(f->s);
}

static void test_reappend_is_idempotent(void **state)
{
    fx *f = *state;
    uint64_t ins = 0;
    append_stream(f, 100, 1500, 10, &ins);
    snap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    sp_diag d = {0};
    assert_int_equal(sp_store_liq_minutes(f->s, NULL, snap_row, a, &d), SP_OK);
    append_stream(f, 100, 1500, 10, &ins);
    assert_int_equal(ins, 0);
    append_stream(f, 600, 500, 10, &ins); /* a sub-range, again */
    assert_int_equal(ins, 0);
    assert_int_equal(sp_store_liq_minutes(f->s, NULL, snap_row, b, &d), SP_OK);
    assert_int_equal(a->n, b->n);
    assert_memory_equal(a->r, b->r, a->n * sizeof(a->r[0]));
    assert_rollup_matches(f->s);
    free(a);
    free(b);
}

static void test_failed_batch_leaves_no_rollup(void **state)
{
    fx *f = *state;
    sp_event ev[300];
    for (size_t i = 0; i < 300; i++)
        ev[i] = liq_event(i, 5);
    ev[299].symbol_id = 77; /* not in the symbol table: the batch fails */
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 300, f->syms, NULL, &d), SP_EINVAL);
    snap *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(sp_store_liq_minutes(f->s, NULL, snap_row, a, &d), SP_OK);
    assert_int_equal(a->n, 0);
    free(a);
}

static void test_upgrade_from_v2_builds_rollup(void **state)
{
    fx *f = *state;
    uint64_t ins = 0;
    append_stream(f, 0, 2500, 30, &ins);
    sp_store_close(f->s);
    f->s = NULL;
    /* make it the database version 2 wrote: migrations 1 and 2, no roll-up table */
    tsu_raw_sql(f, "DROP TABLE liq_minute; UPDATE schema_version SET version = 2");
    sp_diag d = {0};
    assert_int_equal(sp_store_open(f->uri, SP_STORE_READONLY, &f->s, &d), SP_ESCHEMA);
    assert_int_equal(sp_store_open(f->uri, 0, &f->s, &d), SP_OK);
    assert_int_equal(sp_store_opened_version(f->s), 2);
    assert_true(assert_rollup_matches(f->s) > 100);
    /* and it keeps being maintained */
    append_stream(f, 2400, 400, 30, &ins);
    assert_int_equal(ins, 300);
    assert_rollup_matches(f->s);
}

static sp_err count_rows(void *ctx, const sp_store_liq_minute *r, const char *symbol)
{
    (void)symbol;
    uint64_t *n = ctx;
    *n += r->count;
    return SP_OK;
}

static void test_filters_and_bounds(void **state)
{
    fx *f = *state;
    uint64_t ins = 0;
    append_stream(f, 0, 4000, 10, &ins);
    sp_diag d = {0};
    for (int mode = 0; mode < 4; mode++) {
        sp_store_filter flt = {0};
        flt.has_from = flt.has_to = 1;
        flt.from_ns = T0 + 2 * MIN_NS;
        flt.to_ns = T0 + 7 * MIN_NS;
        if (mode == 1)
            flt.venue = SP_VENUE_BYBIT;
        if (mode == 2)
            flt.symbol = "ETHUSDT";
        uint64_t events = 0, rolled = 0;
        assert_int_equal(sp_store_count(f->s, &flt, &events, &d), SP_OK);
        if (mode == 3) {
            /* unaligned bounds select the minutes that START in [from, to) */
            sp_store_filter un = flt;
            un.from_ns -= 1; /* minute 1 does not start at or after from - 1: same minutes */
            un.to_ns += 1;   /* minute 7 starts before to + 1: one more minute */
            uint64_t more = 0;
            flt.to_ns += MIN_NS;
            assert_int_equal(sp_store_count(f->s, &flt, &more, &d), SP_OK);
            assert_int_equal(sp_store_liq_minutes(f->s, &un, count_rows, &rolled, &d), SP_OK);
            assert_int_equal(rolled, more);
            continue;
        }
        assert_int_equal(sp_store_liq_minutes(f->s, &flt, count_rows, &rolled, &d), SP_OK);
        assert_true(events > 0);
        assert_int_equal(rolled, events);
    }
    /* limit, a kind other than liquidations, an unknown symbol, an empty range */
    sp_store_filter flt = {0};
    flt.limit = 3;
    snap *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(sp_store_liq_minutes(f->s, &flt, snap_row, a, &d), SP_OK);
    assert_int_equal(a->n, 3);
    flt.limit = 0;
    flt.kind = SP_EV_TRADE;
    assert_int_equal(sp_store_liq_minutes(f->s, &flt, snap_row, a, &d), SP_OK);
    flt.kind = 0;
    flt.symbol = "NOPE";
    assert_int_equal(sp_store_liq_minutes(f->s, &flt, snap_row, a, &d), SP_OK);
    flt.symbol = NULL;
    flt.has_from = flt.has_to = 1;
    flt.from_ns = T0 + 5;
    flt.to_ns = T0 + 6;
    assert_int_equal(sp_store_liq_minutes(f->s, &flt, snap_row, a, &d), SP_OK);
    assert_int_equal(a->n, 3);
    free(a);
}

static sp_err stop_at_two(void *ctx, const sp_store_liq_minute *r, const char *symbol)
{
    (void)r;
    (void)symbol;
    return ++*(int *)ctx == 2 ? SP_ERANGE : SP_OK;
}

static void test_overflow_is_flagged_and_callback_stops(void **state)
{
    fx *f = *state;
    sp_event ev[3];
    for (int i = 0; i < 3; i++) {
        ev[i] = liq_event((uint64_t)i, 1);
        ev[i].venue = SP_VENUE_OKX;
        ev[i].symbol_id = 1;
        ev[i].flags = 0;
        ev[i].exch_ts_ns = T0 + i;
        ev[i].aux[2] = INT64_MAX / 2 + 1; /* two of them overflow the sum */
    }
    ev[2].aux[2] = 0;
    ev[2].px = INT64_MAX; /* px x qty / 1e8 overflows: no notional */
    ev[2].aux[0] = 0;
    ev[2].qty = INT64_MAX;
    ev[2].aux[1] = 0;
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 2, f->syms, NULL, &d), SP_OK);
    assert_int_equal(sp_store_append(f->s, ev + 2, 1, f->syms, NULL, &d), SP_OK);
    snap *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    assert_int_equal(sp_store_liq_minutes(f->s, NULL, snap_row, a, &d), SP_OK);
    assert_int_equal(a->n, 1);
    assert_int_equal(a->r[0].count, 3);
    assert_int_equal(a->r[0].bad, 2);
    assert_int_equal(a->r[0].notional, INT64_MAX / 2 + 1);
    assert_rollup_matches(f->s);
    /* two different minutes, the callback stops at the second */
    append_stream(f, 0, 200, 5, NULL);
    int k = 0;
    assert_int_equal(sp_store_liq_minutes(f->s, NULL, stop_at_two, &k, &d), SP_ERANGE);
    assert_int_equal(k, 2);
    free(a);
}

/* ---- allocation failures -------------------------------------------------- */

/* (opened by tsu_fx_enomem) append 600 liquidations, read the roll-up back */
static sp_err append_rollup(sp_store *s, sp_symtab *syms, void *ctx)
{
    (void)ctx;
    sp_diag d = {0};
    sp_event ev[600];
    for (size_t i = 0; i < 600; i++)
        ev[i] = liq_event(i, 3);
    sp_err rc = sp_store_append(s, ev, 600, syms, NULL, &d);
    uint64_t n = 0;
    if (rc == SP_OK)
        rc = sp_store_liq_minutes(s, NULL, count_rows, &n, &d);
    if (rc == SP_OK && n != 600)
        rc = SP_EINVAL;
    return rc;
}

static void test_enomem_append_rollup(void **state)
{
    fx *f = *state;
    assert_true(tsu_fx_enomem(f, append_rollup, NULL, 300) > 5);
    assert_non_null(f->s);
    assert_rollup_matches(f->s); /* no failed attempt left a partial roll-up */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollup_equals_events, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_reappend_is_idempotent, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_leaves_no_rollup, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v2_builds_rollup, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_bounds, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_overflow_is_flagged_and_callback_stops, setup,
                                        tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_enomem_append_rollup, setup, tsu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
