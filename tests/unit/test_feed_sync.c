/*
 * test_feed_sync.c -- local order-book sequence checking on real captures:
 * the Binance USD-M diff stream against its REST snapshots (U/u/pu), the
 * Bybit v5 orderbook.200 stream (u), and hand-written OKX v5 updates
 * (seqId/prevSeqId).  A clean capture yields no GAP; removing one message
 * yields exactly one GAP naming the expected and the received id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"

typedef struct evs {
    sp_event *ev;
    size_t n, cap;
} evs;

static sp_err collect(void *ctx, const sp_event *ev, size_t n)
{
    evs *v = ctx;
    if (v->n + n > v->cap) {
        v->cap = (v->n + n) * 2;
        v->ev = realloc(v->ev, v->cap * sizeof(*v->ev));
        assert_non_null(v->ev);
    }
    memcpy(v->ev + v->n, ev, n * sizeof(*ev));
    v->n += n;
    return SP_OK;
}

static void load(evs *v, sp_symtab *syms, const char *rel)
{
    sp_feed_sink s = {collect, NULL, v};
    sp_diag d;
    assert_int_equal(sp_feed_decode_file(sp_test_path(rel), NULL, syms, &s, &d), SP_OK);
}

/* Run the sync over v; return the GAP events through *gaps. */
static sp_feed_sync_stats run_sync(const evs *v, evs *gaps, sp_feed_sync **keep)
{
    sp_feed_sync *s;
    assert_int_equal(sp_feed_sync_new(&s), SP_OK);
    sp_event *out = malloc(2 * v->n * sizeof(*out) + 1);
    size_t n;
    assert_int_equal(sp_feed_sync_apply(s, v->ev, v->n, out, 2 * v->n, &n), SP_OK);
    for (size_t i = 0; i < n; i++) {
        if (out[i].kind == SP_EV_GAP && gaps)
            collect(gaps, &out[i], 1);
    }
    free(out);
    sp_feed_sync_stats st = sp_feed_sync_stats_get(s);
    if (keep)
        *keep = s;
    else
        sp_feed_sync_free(s);
    return st;
}

/* The Binance capture: the 4 REST snapshots merged into the diff stream by receive time. */
static void binance_merged(evs *v, sp_symtab *syms)
{
    evs rest = {0}, ws = {0};
    load(&rest, syms, "data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.http.0.0.txt");
    load(&ws, syms, "data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt");
    size_t i = 0, j = 0; /* both files are in receive order: a stable two-way merge */
    while (i < rest.n || j < ws.n) {
        if (j == ws.n || (i < rest.n && rest.ev[i].local_ts_ns <= ws.ev[j].local_ts_ns))
            collect(v, &rest.ev[i++], 1);
        else
            collect(v, &ws.ev[j++], 1);
    }
    free(rest.ev);
    free(ws.ev);
}

static void test_binance_capture_in_sync(void **state)
{
    (void)state;
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    evs v = {0}, gaps = {0};
    binance_merged(&v, syms);
    sp_feed_sync *s;
    sp_feed_sync_stats st = run_sync(&v, &gaps, &s);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.snapshots, 4);
    assert_true(st.stale > 0); /* the diffs received before each snapshot */
    const char *names[] = {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"};
    for (size_t i = 0; i < 4; i++) {
        uint32_t id = sp_symtab_find(syms, names[i], strlen(names[i]));
        assert_true(sp_feed_sync_is_synced(s, SP_VENUE_BINANCE_UM, id));
    }
    sp_feed_sync_free(s);

    /* remove one SUSHIUSDT diff message after its snapshot: one GAP, expected = its pu chain */
    uint32_t sushi = sp_symtab_find(syms, "SUSHIUSDT", 9);
    size_t at = 0;
    int seen = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.ev[i].kind == SP_EV_DEPTH_UPDATE && v.ev[i].symbol_id == sushi &&
            v.ev[i].exch_ts_ns > 1626992745000000000LL && ++seen == 1)
            at = i;
    }
    int64_t u = v.ev[at].aux[1], pu = v.ev[at].aux[2];
    size_t end = at;
    while (end < v.n && v.ev[end].aux[1] == u && v.ev[end].symbol_id == sushi)
        end++;
    memmove(v.ev + at, v.ev + end, (v.n - end) * sizeof(*v.ev));
    v.n -= end - at;
    gaps.n = 0;
    st = run_sync(&v, &gaps, NULL);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(gaps.n, 1);
    assert_int_equal(gaps.ev[0].symbol_id, sushi);
    assert_int_equal(gaps.ev[0].sub, 1);
    assert_int_equal(gaps.ev[0].aux[0], pu); /* expected: the removed message's pu ... */
    assert_true(gaps.ev[0].aux[1] == u);     /* ... got: the next message's pu = removed u */
    free(v.ev);
    free(gaps.ev);
    sp_symtab_free(syms);
}

static void test_bybit_capture_in_sync(void **state)
{
    (void)state;
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    evs v = {0}, gaps = {0};
    load(&v, syms, "data/cryptofeed_bybit_v5_raw/BYBIT.jsonl.zst");
    sp_feed_sync_stats st = run_sync(&v, &gaps, NULL);
    assert_int_equal(st.gaps, 0);
    assert_int_equal(st.snapshots, 6);
    assert_int_equal(st.out_of_sync, 0);
    /* drop every event of one ETHUSDT delta */
    uint32_t eth = sp_symtab_find(syms, "ETHUSDT", 7);
    size_t at = v.n;
    for (size_t i = 0; i < v.n && at == v.n; i++) {
        if (v.ev[i].kind == SP_EV_DEPTH_UPDATE && v.ev[i].symbol_id == eth)
            at = i + 500 < v.n ? i + 500 : i;
    }
    while (v.ev[at].kind != SP_EV_DEPTH_UPDATE || v.ev[at].symbol_id != eth)
        at++;
    int64_t u = v.ev[at].aux[0];
    size_t w = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (!(v.ev[i].kind == SP_EV_DEPTH_UPDATE && v.ev[i].symbol_id == eth &&
              v.ev[i].aux[0] == u))
            v.ev[w++] = v.ev[i];
    }
    v.n = w;
    st = run_sync(&v, &gaps, NULL);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(gaps.ev[0].aux[0], u);
    assert_int_equal(gaps.ev[0].aux[1], u + 1);
    free(v.ev);
    free(gaps.ev);
    sp_symtab_free(syms);
}

static void okx_msg(sp_symtab *syms, evs *v, const char *msg)
{
    static sp_event ev[16];
    size_t n;
    sp_diag d;
    assert_int_equal(sp_feed_okx_v5(msg, strlen(msg), 0, syms, ev, 16, &n, &d), SP_OK);
    collect(v, ev, n);
}

static void test_okx_seq_and_binance_first_update(void **state)
{
    (void)state;
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    evs v = {0}, gaps = {0};
    okx_msg(syms, &v,
            "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":"
            "\"snapshot\",\"data\":[{\"asks\":[[\"2\",\"1\",\"0\",\"1\"]],\"bids\":"
            "[[\"1\",\"1\",\"0\",\"1\"]],\"ts\":\"1\",\"checksum\":0,\"prevSeqId\":-1,"
            "\"seqId\":10}]}");
    okx_msg(syms, &v,
            "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":"
            "\"update\",\"data\":[{\"asks\":[],\"bids\":[[\"1\",\"2\",\"0\",\"1\"]],"
            "\"ts\":\"2\",\"checksum\":0,\"prevSeqId\":10,\"seqId\":11}]}");
    okx_msg(syms, &v,
            "{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":"
            "\"update\",\"data\":[{\"asks\":[],\"bids\":[[\"1\",\"3\",\"0\",\"1\"]],"
            "\"ts\":\"3\",\"checksum\":0,\"prevSeqId\":12,\"seqId\":13}]}");
    sp_feed_sync_stats st = run_sync(&v, &gaps, NULL);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(gaps.ev[0].venue, SP_VENUE_OKX);
    assert_int_equal(gaps.ev[0].aux[0], 11);
    assert_int_equal(gaps.ev[0].aux[1], 12);

    /* Binance: the first update after a snapshot must cover lastUpdateId */
    v.n = gaps.n = 0;
    sp_event snap = {0}, upd = {0};
    snap.kind = SP_EV_BOOK_LEVEL;
    snap.venue = SP_VENUE_BINANCE_UM;
    snap.flags = SP_EVF_SNAPSHOT;
    snap.symbol_id = 1;
    snap.aux[0] = 100;
    upd.kind = SP_EV_DEPTH_UPDATE;
    upd.venue = SP_VENUE_BINANCE_UM;
    upd.symbol_id = 1;
    upd.aux[0] = 90; /* U=90 u=95: stale, dropped */
    upd.aux[1] = 95;
    collect(&v, &snap, 1);
    collect(&v, &upd, 1);
    upd.aux[0] = 105; /* U=105 > 100: the updates 101..104 are missing */
    upd.aux[1] = 110;
    collect(&v, &upd, 1);
    st = run_sync(&v, &gaps, NULL);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(gaps.ev[0].sub, 2);
    assert_int_equal(gaps.ev[0].aux[0], 100);
    assert_int_equal(gaps.ev[0].aux[1], 105);
    free(v.ev);
    free(gaps.ev);
    sp_symtab_free(syms);
}

static sp_err sync_once(void *ctx)
{
    (void)ctx;
    sp_feed_sync *s = NULL;
    sp_err rc = sp_feed_sync_new(&s);
    if (rc != SP_OK)
        return rc;
    sp_event e = {0}, out[2];
    e.kind = SP_EV_DEPTH_UPDATE;
    e.venue = SP_VENUE_BYBIT;
    size_t n;
    rc = sp_feed_sync_apply(s, &e, 1, out, 2, &n);
    sp_feed_sync_free(s);
    return rc;
}

static void test_sync_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(sync_once, NULL, 10) >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binance_capture_in_sync),
        cmocka_unit_test(test_bybit_capture_in_sync),
        cmocka_unit_test(test_okx_seq_and_binance_first_update),
        cmocka_unit_test(test_sync_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
