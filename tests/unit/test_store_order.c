/*
 * test_store_order.c -- the SQLite backend inserts each append slice in
 * key order (store_sqlite.c: sort_rows, the sp_rows bulk insert); these
 * tests check that this is invisible: a batch in any order stores exactly
 * what appending its events one at a time, in the batch's order, stores
 * (the first of several events with one natural key wins, the counts of
 * new events agree, the liquidation roll-ups agree), and a re-append adds
 * nothing.  The shapes cover the bucket pass (interleaved symbols, each in
 * time order), buckets out of time order, and more (kind, symbol) pairs
 * than the bucket pass takes (the plain sort).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/store_int.h"
#include "test_store_util.h"

/* FNV-1a of everything a store returns: events (by symbol name) and roll-up rows. */
typedef struct digest {
    uint64_t h;
    uint64_t n;
} digest;

static void mix(digest *g, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        g->h = (g->h ^ b[i]) * 1099511628211ull;
}

static sp_err on_event(void *ctx, const sp_event *ev, const char *symbol)
{
    digest *g = ctx;
    sp_event e = *ev;
    e.symbol_id = 0; /* store ids depend on the order symbols were first seen */
    mix(g, &e, sizeof(e));
    mix(g, symbol, strlen(symbol) + 1);
    g->n++;
    return SP_OK;
}

static sp_err on_liq(void *ctx, const sp_store_liq_minute *row, const char *symbol)
{
    digest *g = ctx;
    sp_store_liq_minute c = *row;
    c.symbol_id = 0;
    mix(g, &c, sizeof(c));
    mix(g, symbol, strlen(symbol) + 1);
    g->n++;
    return SP_OK;
}

static digest store_digest(sp_store *s)
{
    digest g = {14695981039346656037ull, 0};
    sp_diag d = {0};
    assert_int_equal(sp_store_query(s, NULL, on_event, &g, &d), SP_OK);
    assert_int_equal(sp_store_liq_minutes(s, NULL, on_liq, &g, &d), SP_OK);
    return g;
}

/* Deterministic Fisher-Yates shuffle of ev[0..n) (an LCG; seed picks the permutation). */
static void shuffle(sp_event *ev, size_t n, uint64_t seed)
{
    for (size_t i = n; i > 1; i--) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t j = (size_t)((seed >> 33) % i);
        sp_event t = ev[i - 1];
        ev[i - 1] = ev[j];
        ev[j] = t;
    }
}

/*
 * Append ev[0..n) to a fresh store as one batch and, to another, one event
 * per append; both must hold the same events and roll-ups, report the same
 * number of new events, and add nothing when the batch comes again.
 */
static void check_same_as_one_by_one(const char *tag, const sp_event *ev, size_t n, uint32_t nsym,
                                     uint64_t expect_new)
{
    char tag1[64];
    snprintf(tag1, sizeof(tag1), "%s_one", tag);
    tsu_fx *a = tsu_fx_new(tag, NULL, nsym);
    tsu_fx *b = tsu_fx_new(tag1, NULL, nsym);
    assert_non_null(a);
    assert_non_null(b);
    sp_diag d = {0};
    uint64_t got = 0, got1 = 0;
    assert_int_equal(sp_store_append(a->s, ev, n, a->syms, &got, &d), SP_OK);
    for (size_t i = 0; i < n; i++) {
        uint64_t one = 0;
        assert_int_equal(sp_store_append(b->s, &ev[i], 1, b->syms, &one, &d), SP_OK);
        got1 += one;
    }
    assert_int_equal(got, expect_new);
    assert_int_equal(got1, expect_new);
    digest da = store_digest(a->s), db = store_digest(b->s);
    assert_true(da.n >= expect_new);
    assert_int_equal(da.n, db.n);
    assert_int_equal(da.h, db.h);
    /* idempotent: the same batch again adds nothing and changes nothing */
    assert_int_equal(sp_store_append(a->s, ev, n, a->syms, &got, &d), SP_OK);
    assert_int_equal(got, 0);
    digest again = store_digest(a->s);
    assert_int_equal(again.h, da.h);
    tsu_fx_free(a);
    tsu_fx_free(b);
}

/*
 * Interleaved symbols and kinds, shuffled, with later duplicates of some
 * keys whose non-key content differs (local time, a kline's values), and
 * liquidations in the same batch.
 */
static void test_shuffled_batch_with_duplicates(void **state)
{
    (void)state;
    enum { NBASE = 2400, NSYM = 6 };
    size_t cap = NBASE + NBASE / 3 + 64;
    sp_event *ev = calloc(cap, sizeof(*ev));
    assert_non_null(ev);
    size_t n = 0;
    for (uint64_t i = 0; i < NBASE; i++)
        ev[n++] = tsu_event(i, NSYM, 1);
    for (uint32_t k = 0; k < 48; k++)
        ev[n++] = tsu_liq(SP_VENUE_BINANCE_UM, 1 + k % NSYM,
                          1770336000000000000ll + k * 700000000ll, k & 1, 100000000000ll + k);
    size_t distinct = n;
    shuffle(ev, n, 7);
    /* duplicates of every third event, later in the batch, with other non-key content */
    for (size_t i = 0; i < NBASE; i += 3) {
        sp_event e = ev[i];
        e.local_ts_ns += 12345;
        if (e.kind == SP_EV_KLINE)
            e.qty += 1; /* a kline's key is its open time: another bar for the same minute */
        ev[n++] = e;
    }
    check_same_as_one_by_one("order_dup", ev, n, NSYM, distinct);
    free(ev);
}

/* Each (kind, symbol) bucket out of time order: every bucket is sorted on its own. */
static void test_buckets_out_of_time_order(void **state)
{
    (void)state;
    enum { N = 1600, NSYM = 4 };
    sp_event *ev = calloc(N, sizeof(*ev));
    assert_non_null(ev);
    for (uint64_t i = 0; i < N; i++)
        ev[i] = tsu_event(N - 1 - i, NSYM, 2); /* newest first */
    check_same_as_one_by_one("order_rev", ev, N, NSYM, N);
    free(ev);
}

/* More (kind, symbol) pairs than the bucket pass takes (1024): the plain sort. */
static void test_many_symbols(void **state)
{
    (void)state;
    enum { NSYM = 1100, N = 2 * NSYM + 300 };
    sp_event *ev = calloc(N, sizeof(*ev));
    assert_non_null(ev);
    for (uint64_t i = 0; i < N; i++) {
        ev[i] = tsu_event(i, NSYM, 3);
        ev[i].kind = SP_EV_TRADE;
        ev[i].aux[0] = (int64_t)i + 1;
        ev[i].aux[1] = 0;
        ev[i].sub = 0;
        ev[i].flags &= SP_EVF_SELL;
    }
    shuffle(ev, N, 11);
    check_same_as_one_by_one("order_many", ev, N, NSYM, N);
    free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shuffled_batch_with_duplicates),
        cmocka_unit_test(test_buckets_out_of_time_order),
        cmocka_unit_test(test_many_symbols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
