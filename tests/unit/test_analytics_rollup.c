/*
 * test_analytics_rollup.c -- the liquidation figures from the store's
 * per-minute roll-ups (sp_an_liq_from_rollups, the report's default for
 * minute-aligned windows) are identical to the event path
 * (sp_an_load + sp_an_liq_aggregate + sp_an_liq_traders, the oracle):
 * same groups and symbol ids, notionals, counts, largest with its time,
 * totals, and the traders estimate to the last bit.
 *
 * Data: a synthetic stream built to collide -- Binance 1000 ms slots
 * filled only through their second 500 ms half (so a missing fold of the
 * bit pairs would show), a saturated Bybit minute, many events per slot
 * (cells whose events exceed the estimate), equal notionals at equal
 * times across symbols and venues (the largest's tie-breaks), COIN-M
 * contract values, windows across a day boundary; then every file of the
 * shipped data/ tree decoded into a store, as `stampede ingest
 * --all-shipped` does.  Runs on SQLite (test_analytics_rollup) and on a
 * real PostgreSQL 15 (test_analytics_rollup_pg via pg_server.sh).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "stampede/analytics.h"
#include "stampede/feed.h"
#include "test_store_util.h"
#include "testharness.h"
#include "testalloc.h"

#define T0    1770336000000000000ll /* 2026-02-06 00:00 UTC */
#define SEC   1000000000ll
#define MINNS (60 * SEC)
#define HOUR  (60 * MINNS)

static const char *const names[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BTCUSD_PERP", "ETHUSD_PERP"};

typedef tsu_fx fx;

static int setup(void **state)
{
    *state = tsu_fx_new("anroll", names, SP_COUNTOF(names));
    return *state != NULL ? 0 : -1;
}

/* tsu_liq received 3 ns later, at a price of 60000 for a quantity of 1 */
static sp_event liq(uint8_t venue, uint32_t sym, int64_t ts, bool sell, int64_t notional)
{
    sp_event e = tsu_liq(venue, sym, ts, sell, notional);
    e.local_ts_ns = ts + 3;
    e.px = 6000000000000;
    e.qty = 100000000;
    return e;
}

/* The colliding stream described at the top; returns the events written to ev. */
static size_t make_stream(sp_event *ev, size_t cap)
{
    size_t n = 0;
    uint64_t x = 88172645463325252ull;
#define NEXT() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    /* 1: Binance BTCUSDT, minute T0+5: an event in the second half of every second */
    for (int s = 0; s < 60 && n < cap; s++)
        ev[n++] = liq(SP_VENUE_BINANCE_UM, 1, T0 + 5 * MINNS + s * SEC + 700000000, s & 1,
                      1000 * 100000000ll);
    /* 2: Bybit ETHUSDT, minute T0+6: every 500 ms slot (saturated) */
    for (int s = 0; s < 120 && n < cap; s++)
        ev[n++] = liq(SP_VENUE_BYBIT, 2, T0 + 6 * MINNS + s * 500000000ll + 1, false,
                      (int64_t)(s % 7 + 1) * 100000000);
    /* 3: equal notionals at equal times, several symbols and venues (tie-breaks) */
    for (int v = 0; v < 3 && n + 3 <= cap; v++) {
        static const uint8_t vs[3] = {SP_VENUE_OKX, SP_VENUE_BYBIT, SP_VENUE_BINANCE_UM};
        ev[n++] = liq(vs[v], 3, T0 + 9 * MINNS, true, 999999 * 100000000ll);
        ev[n++] = liq(vs[v], 2, T0 + 9 * MINNS, false, 999999 * 100000000ll);
        ev[n++] = liq(vs[v], 1, T0 + 9 * MINNS + 1, true, 999999 * 100000000ll);
    }
    /* 4: random traffic over [T0 - 1 h, T0 + 2 h), dense slots, COIN-M by price x qty */
    while (n < cap) {
        uint64_t r = NEXT();
        static const uint8_t vs[4] = {SP_VENUE_BINANCE_UM, SP_VENUE_BYBIT, SP_VENUE_OKX,
                                      SP_VENUE_BINANCE_CM};
        uint8_t venue = vs[r % 4];
        uint32_t sym = venue == SP_VENUE_BINANCE_CM ? 4 + (uint32_t)((r >> 3) & 1)
                                                    : 1 + (uint32_t)((r >> 3) % 3);
        int64_t minute = (int64_t)((r >> 8) % 180) - 60;
        int64_t slot = (int64_t)((r >> 20) % 40); /* 40 of 120 half-seconds: collisions */
        int64_t ts = T0 + minute * MINNS + slot * 1500000000ll + (int64_t)((r >> 30) % 500) * 1000;
        int64_t notional = (int64_t)((r >> 40) % 5000 + 1) * 1000000;
        sp_event e = liq(venue, sym, ts, (r >> 50) & 1, notional);
        if (venue == SP_VENUE_BINANCE_CM || ((r >> 52) & 3) == 0) {
            e.aux[2] = 0; /* price x qty, or contracts x face value */
            e.qty = venue == SP_VENUE_BINANCE_CM ? (int64_t)((r >> 54) % 30) + 1
                                                 : (int64_t)((r >> 54) % 1000) * 1000 + 7;
        }
        ev[n++] = e;
    }
#undef NEXT
    return n;
}

/* ---- the comparison ------------------------------------------------------ */

typedef struct figures {
    sp_an_liq_group g[64];
    size_t ng;
    sp_an_liq_total t;
    sp_an_traders tr;
    sp_err rc;
} figures;

/* Both paths over [from, to); syms of both start with `pre` interned; asserts equality. */
static void compare(sp_store *s, int64_t from, int64_t to, size_t cap, const char *pre)
{
    sp_diag d = {0};
    figures ev = {0}, ro = {0};
    sp_an_events e;
    sp_an_events_init(&e);
    sp_symtab *rsyms = NULL;
    assert_int_equal(sp_symtab_new(&e.syms), SP_OK);
    assert_int_equal(sp_symtab_new(&rsyms), SP_OK);
    uint32_t id;
    if (pre != NULL) {
        assert_int_equal(sp_symtab_intern(e.syms, pre, strlen(pre), &id), SP_OK);
        assert_int_equal(sp_symtab_intern(rsyms, pre, strlen(pre), &id), SP_OK);
    }
    sp_store_filter f = {0};
    f.kind = SP_EV_LIQUIDATION;
    f.has_from = f.has_to = 1;
    f.from_ns = from;
    f.to_ns = to;
    assert_int_equal(sp_an_load(s, &f, &e, &d), SP_OK);
    ev.rc = sp_an_liq_aggregate(e.ev, e.n, e.syms, from, to, ev.g, cap, &ev.ng, &ev.t);
    assert_int_equal(sp_an_liq_traders(e.ev, e.n, from, to, &ev.tr), SP_OK);
    ro.rc = sp_an_liq_from_rollups(s, from, to, rsyms, ro.g, cap, &ro.ng, &ro.t, &ro.tr, &d);
    assert_int_equal(ro.rc, ev.rc);
    if (ev.rc != SP_OK && ev.rc != SP_ETOOBIG) { /* no figures on an error */
        sp_symtab_free(rsyms);
        sp_an_events_fini(&e);
        return;
    }
    assert_int_equal(ro.ng, ev.ng);
    for (size_t i = 0; i < ev.ng; i++) {
        assert_int_equal(ro.g[i].venue, ev.g[i].venue);
        assert_int_equal(ro.g[i].long_side, ev.g[i].long_side);
        assert_int_equal(ro.g[i].symbol_id, ev.g[i].symbol_id);
        assert_string_equal(sp_symtab_name(rsyms, ro.g[i].symbol_id) ?: "",
                            sp_symtab_name(e.syms, ev.g[i].symbol_id) ?: "");
        assert_int_equal(ro.g[i].count, ev.g[i].count);
        assert_int_equal(ro.g[i].notional, ev.g[i].notional);
        assert_int_equal(ro.g[i].largest, ev.g[i].largest);
        assert_int_equal(ro.g[i].largest_ns, ev.g[i].largest_ns);
    }
    assert_int_equal(ro.t.count, ev.t.count);
    assert_int_equal(ro.t.count, e.n);
    assert_int_equal(ro.t.notional, ev.t.notional);
    assert_int_equal(ro.t.long_notional, ev.t.long_notional);
    assert_int_equal(ro.t.short_notional, ev.t.short_notional);
    assert_int_equal(ro.t.largest, ev.t.largest);
    assert_int_equal(ro.t.largest_ns, ev.t.largest_ns);
    assert_int_equal(ro.t.largest_symbol_id, ev.t.largest_symbol_id);
    assert_int_equal(ro.t.largest_venue, ev.t.largest_venue);
    assert_int_equal(ro.tr.counted, ev.tr.counted);
    assert_int_equal(ro.tr.observed, ev.tr.observed);
    assert_int_equal(ro.tr.saturated, ev.tr.saturated);
    assert_true(ro.tr.estimate == ev.tr.estimate); /* bit-identical, not near */
    assert_true(ro.tr.stderr_est == ev.tr.stderr_est);
    /* the same symbol tables came out */
    assert_int_equal(sp_symtab_count(rsyms), sp_symtab_count(e.syms));
    for (uint32_t i = 1; i <= sp_symtab_count(rsyms); i++)
        assert_string_equal(sp_symtab_name(rsyms, i), sp_symtab_name(e.syms, i));
    sp_symtab_free(rsyms);
    sp_an_events_fini(&e);
}

static void fill(fx *f, size_t n)
{
    sp_event *ev = calloc(n, sizeof(*ev));
    assert_non_null(ev);
    size_t k = make_stream(ev, n);
    sp_diag d = {0};
    /* in three batches, the middle one re-sent (duplicates add nothing) */
    assert_int_equal(sp_store_append(f->s, ev, k / 2, f->syms, NULL, &d), SP_OK);
    assert_int_equal(sp_store_append(f->s, ev + k / 3, k - k / 3, f->syms, NULL, &d), SP_OK);
    assert_int_equal(sp_store_append(f->s, ev, k / 2, f->syms, NULL, &d), SP_OK);
    free(ev);
}

static void test_synthetic_windows(void **state)
{
    fx *f = *state;
    fill(f, 6000);
    compare(f->s, T0 - HOUR, T0 + 2 * HOUR, 64, NULL);         /* everything */
    compare(f->s, T0, T0 + 2 * HOUR, 64, NULL);                /* across nothing: one day */
    compare(f->s, T0 - 10 * MINNS, T0 + 10 * MINNS, 64, NULL); /* across the day boundary */
    compare(f->s, T0 + 5 * MINNS, T0 + 7 * MINNS, 64, NULL);   /* the collision minutes */
    compare(f->s, T0 + 9 * MINNS, T0 + 10 * MINNS, 64, NULL);  /* the ties */
    compare(f->s, T0 - HOUR, T0 + 2 * HOUR, 64, "SOLUSDT");    /* a symbol known before */
    compare(f->s, T0 - HOUR, T0 + 2 * HOUR, 3, NULL);          /* groups cut to 3 */
    compare(f->s, T0 + 3 * HOUR, T0 + 4 * HOUR, 64, NULL);     /* empty */
    compare(f->s, T0 + 4 * HOUR, T0 + 3 * HOUR, 64, NULL);     /* reversed: empty */
    /* the saturated Bybit minute and the folded Binance pairs are really there */
    sp_an_liq_group g[64];
    size_t ng = 0;
    sp_an_liq_total t;
    sp_an_traders tr;
    sp_symtab *y = NULL;
    assert_int_equal(sp_symtab_new(&y), SP_OK);
    sp_diag d = {0};
    assert_int_equal(
        sp_an_liq_from_rollups(f->s, T0 + 5 * MINNS, T0 + 7 * MINNS, y, g, 64, &ng, &t, &tr, &d),
        SP_OK);
    assert_int_equal(tr.saturated, 2); /* Binance: 60 of 60 seconds; Bybit: 120 of 120 */
    /* unaligned windows are refused (the event path serves them) */
    assert_int_equal(sp_an_liq_from_rollups(f->s, T0 + 1, T0 + HOUR, y, g, 64, &ng, &t, &tr, &d),
                     SP_EINVAL);
    sp_symtab_free(y);
}

static void test_report_same_both_ways(void **state)
{
    fx *f = *state;
    fill(f, 3000);
    static sp_an_report a, b;
    sp_diag d = {0};
    sp_an_report_opts o = {.day_ns = T0, .liq_source = SP_AN_LIQ_EVENTS};
    assert_int_equal(sp_an_report_build(f->s, &o, &a, &d), SP_OK);
    o.liq_source = SP_AN_LIQ_ROLLUPS;
    assert_int_equal(sp_an_report_build(f->s, &o, &b, &d), SP_OK);
    assert_true(a.liq.count > 1000);
    b.opts.liq_source = a.opts.liq_source;
    assert_memory_equal(&a, &b, sizeof(a));
    /* the default (AUTO) takes the roll-ups for the aligned day */
    o.liq_source = SP_AN_LIQ_AUTO;
    assert_int_equal(sp_an_report_build(f->s, &o, &b, &d), SP_OK);
    b.opts.liq_source = a.opts.liq_source;
    assert_memory_equal(&a, &b, sizeof(a));
    /* an unaligned window: AUTO reads events, ROLLUPS refuses */
    o.from_ns = T0 - HOUR + 30 * SEC;
    o.window_ns = HOUR;
    assert_int_equal(sp_an_report_build(f->s, &o, &b, &d), SP_OK);
    assert_true(b.liq.count > 0);
    o.liq_source = SP_AN_LIQ_ROLLUPS;
    assert_int_equal(sp_an_report_build(f->s, &o, &b, &d), SP_EINVAL);
    o.liq_source = 7;
    assert_int_equal(sp_an_report_build(f->s, &o, &b, &d), SP_EINVAL);
}

static void test_overflow_both_ways(void **state)
{
    fx *f = *state;
    sp_event ev[2] = {liq(SP_VENUE_OKX, 1, T0 + 1, true, INT64_MAX - 5),
                      liq(SP_VENUE_OKX, 2, T0 + 2, true, 10)};
    sp_diag d = {0};
    assert_int_equal(sp_store_append(f->s, ev, 2, f->syms, NULL, &d), SP_OK);
    compare(f->s, T0, T0 + MINNS, 64, NULL); /* the total overflows on both paths */
    sp_event px = liq(SP_VENUE_BYBIT, 1, T0 + HOUR, false, 0);
    px.px = INT64_MAX;
    px.qty = INT64_MAX; /* no notional at all */
    assert_int_equal(sp_store_append(f->s, &px, 1, f->syms, NULL, &d), SP_OK);
    compare(f->s, T0 + HOUR, T0 + 2 * HOUR, 64, NULL);
    figures ro = {0};
    sp_symtab *y = NULL;
    assert_int_equal(sp_symtab_new(&y), SP_OK);
    assert_int_equal(sp_an_liq_from_rollups(f->s, T0 + HOUR, T0 + 2 * HOUR, y, ro.g, 64, &ro.ng,
                                            &ro.t, &ro.tr, &d),
                     SP_EOVERFLOW);
    sp_symtab_free(y);
}

/* ---- the shipped data, every file as `stampede ingest --all-shipped` --------- */

/* bad records are counted (sp_test_sink) but are the feed tests' subject, not ours */
typedef struct ingest {
    sp_test_sink k;
    uint64_t files;
} ingest;

static void walk(ingest *g, const char *dir)
{
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            walk(g, path);
            continue;
        }
        sp_feed_sink sink = {sp_test_sink_events, sp_test_sink_reject, &g->k};
        sp_diag d = {0};
        if (sp_feed_decode_file(path, NULL, g->k.syms, &sink, &d) == SP_OK)
            g->files++;
    }
    closedir(dp);
}

typedef struct span {
    int64_t lo, hi;
    uint64_t n;
} span;

static sp_err on_summary(void *ctx, unsigned kind, const char *symbol, uint64_t n, int64_t lo,
                         int64_t hi)
{
    (void)symbol;
    span *s = ctx;
    if (kind != SP_EV_LIQUIDATION)
        return SP_OK;
    if (s->n == 0 || lo < s->lo)
        s->lo = lo;
    if (s->n == 0 || hi > s->hi)
        s->hi = hi;
    s->n += n;
    return SP_OK;
}

static void test_shipped_data(void **state)
{
    fx *f = *state;
    ingest g = {{f->s, NULL, 0, 0}, 0};
    assert_int_equal(sp_symtab_new(&g.k.syms), SP_OK);
    if (tsu_pg_base() == NULL) {
        walk(&g, sp_test_path("data"));
        assert_true(g.files > 400);
    } else {
        /*
         * PostgreSQL creates one partition per day of data, and the daily
         * series span 2018-2026 (minutes of DDL): there, the directories
         * that hold liquidations and the days around them.
         */
        static const char *const dirs[] = {"data/binance_vision_format",
                                           "data/cryptofeed_binance_futures_raw",
                                           "data/cryptofeed_bybit_v5_raw", "data/live"};
        for (size_t i = 0; i < SP_COUNTOF(dirs); i++) {
            struct stat st;
            if (stat(sp_test_path(dirs[i]), &st) == 0)
                walk(&g, sp_test_path(dirs[i]));
        }
        assert_true(g.files > 0);
    }
    sp_symtab_free(g.k.syms);
    span sp = {0};
    sp_diag d = {0};
    assert_int_equal(sp_store_summary(f->s, on_summary, &sp, &d), SP_OK);
    assert_true(sp.n > 0);
    int64_t lo = sp.lo - sp.lo % SP_AN_NS_PER_DAY, hi = sp.hi - sp.hi % SP_AN_NS_PER_DAY;
    compare(f->s, lo, hi + SP_AN_NS_PER_DAY, 64, NULL);
    /* the report of every day that holds liquidations, both ways */
    static sp_an_report a, b;
    for (int64_t day = lo; day <= hi; day += SP_AN_NS_PER_DAY) {
        compare(f->s, day, day + SP_AN_NS_PER_DAY, 64, "BTCUSDT");
        sp_an_report_opts o = {.day_ns = day, .liq_source = SP_AN_LIQ_EVENTS};
        assert_int_equal(sp_an_report_build(f->s, &o, &a, &d), SP_OK);
        o.liq_source = SP_AN_LIQ_ROLLUPS;
        assert_int_equal(sp_an_report_build(f->s, &o, &b, &d), SP_OK);
        b.opts.liq_source = a.opts.liq_source;
        assert_memory_equal(&a, &b, sizeof(a));
    }
}

/* ---- allocation failures -------------------------------------------------- */

static sp_err rollups_once(void *ctx)
{
    sp_store *s = ctx;
    sp_symtab *y = NULL;
    sp_err rc = sp_symtab_new(&y);
    if (rc != SP_OK)
        return rc;
    figures ro = {0};
    sp_diag d = {0};
    rc = sp_an_liq_from_rollups(s, T0 - HOUR, T0 + 2 * HOUR, y, ro.g, 3, &ro.ng, &ro.t, &ro.tr, &d);
    if (rc == SP_ETOOBIG && ro.ng == 3)
        rc = SP_OK;
    sp_symtab_free(y);
    return rc;
}

static void test_enomem_rollups(void **state)
{
    fx *f = *state;
    fill(f, 2000);
    /* the store handle was allocated before the test allocator: it only reads here */
    uint64_t steps = sp_test_enomem_loop(rollups_once, f->s, 400);
    assert_true(steps > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_synthetic_windows, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_report_same_both_ways, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_overflow_both_ways, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_shipped_data, setup, tsu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_enomem_rollups, setup, tsu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
