/*
 * test_feed_book.c -- issue 5 item 4: the real Bybit BTCUSDT (linear)
 * orderbook.200 snapshot and its 500-odd deltas from the capture, decoded by
 * feed and sequence-checked by sp_feed_sync, replayed into both book
 * implementations with sp_book_apply_event.  After every message the
 * book's top 25 levels per side must equal an independent reference built
 * in this test (a plain price -> qty map applied in the same order); the
 * book must never be crossed; and its first state must be the snapshot's
 * top of book (65,114.20 x 6.054 / 65,114.30 x 10.486, PROVENANCE §5).
 *
 * The capture holds one snapshot per symbol and Bybit's tickers are not
 * pushed from the same sequence as orderbook.200 (their "cs" never equals
 * a book "seq"; at arrival 38 of 124 ticker updates equal the book top),
 * so the comparison against tickers is reported, not asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/book.h"
#include "stampede/stampede.h"
#include "testalloc.h"

#define REF_MAX 4096
#define TOP     25

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

/* The reference: one side as an unsorted array of (px, qty) at 1e-8. */
typedef struct ref_side {
    int64_t px[REF_MAX], qty[REF_MAX];
    size_t n;
} ref_side;

static void ref_set(ref_side *r, int64_t px, int64_t qty)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->px[i] == px) {
            if (qty == 0) {
                r->px[i] = r->px[r->n - 1];
                r->qty[i] = r->qty[r->n - 1];
                r->n--;
            } else {
                r->qty[i] = qty;
            }
            return;
        }
    }
    if (qty != 0) {
        assert_true(r->n < REF_MAX);
        r->px[r->n] = px;
        r->qty[r->n++] = qty;
    }
}

/* The k-th best level of the reference side (bids: k-th highest), by selection. */
static bool ref_level(const ref_side *r, bool ask, size_t k, int64_t *px, int64_t *qty)
{
    int64_t last = ask ? INT64_MIN : INT64_MAX;
    for (size_t j = 0; j <= k; j++) {
        bool found = false;
        int64_t best = 0, bq = 0;
        for (size_t i = 0; i < r->n; i++) {
            int64_t p = r->px[i];
            bool beyond = ask ? p > last : p < last;
            if (beyond && (!found || (ask ? p < best : p > best))) {
                best = p;
                bq = r->qty[i];
                found = true;
            }
        }
        if (!found)
            return false;
        last = best;
        *px = best;
        *qty = bq;
    }
    return true;
}

static void compare_top(const sp_book *b, const sp_book_instrument *in, const ref_side *bid,
                        const ref_side *ask)
{
    sp_book_level lv[TOP];
    for (int s = 0; s < 2; s++) {
        const ref_side *r = s ? ask : bid;
        size_t n = sp_book_depth(b, s ? SP_SELL : SP_BUY, TOP, lv);
        for (size_t k = 0; k < TOP; k++) {
            int64_t rp, rq, bp, bq;
            bool have = ref_level(r, s == 1, k, &rp, &rq);
            assert_int_equal(have, k < n);
            if (!have)
                break;
            assert_int_equal(sp_book_px_to_e8(in, lv[k].px, &bp), SP_OK);
            assert_int_equal(sp_book_qty_to_e8(in, lv[k].qty, &bq), SP_OK);
            assert_int_equal(bp, rp);
            assert_int_equal(bq, rq);
        }
    }
}

static void replay(sp_book_kind kind)
{
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    evs v = {0};
    sp_feed_sink sink = {collect, NULL, &v};
    sp_diag d;
    assert_int_equal(sp_feed_decode_file(sp_test_path("data/cryptofeed_bybit_v5_raw/BYBIT.jsonl"),
                                         NULL, syms, &sink, &d),
                     SP_OK);
    uint32_t btc = sp_symtab_find(syms, "BTCUSDT", 7);
    assert_true(btc != 0);

    /* keep BTCUSDT linear depth; check its sequence */
    size_t w = 0;
    for (size_t i = 0; i < v.n; i++) {
        const sp_event *e = &v.ev[i];
        if (e->symbol_id == btc && e->venue == SP_VENUE_BYBIT &&
            (e->kind == SP_EV_BOOK_LEVEL || e->kind == SP_EV_DEPTH_UPDATE))
            v.ev[w++] = *e;
    }
    v.n = w;
    sp_feed_sync *sy;
    assert_int_equal(sp_feed_sync_new(&sy), SP_OK);
    sp_event *out = malloc(2 * v.n * sizeof(*out));
    size_t nout;
    assert_int_equal(sp_feed_sync_apply(sy, v.ev, v.n, out, 2 * v.n, &nout), SP_OK);
    assert_int_equal(sp_feed_sync_stats_get(sy).gaps, 0);
    assert_int_equal(nout, v.n);
    assert_true(sp_feed_sync_is_synced(sy, SP_VENUE_BYBIT, btc));
    sp_feed_sync_free(sy);
    free(out);

    /* Bybit BTCUSDT linear: tick 0.10 USDT, lot 0.001 BTC */
    const sp_book_instrument in = {10000000, 100000};
    sp_book_config cfg = sp_book_config_default();
    sp_book *b = NULL;
    assert_int_equal(sp_book_new(kind, &cfg, NULL, &b), SP_OK);
    static ref_side bid, ask;
    bid.n = ask.n = 0;
    size_t msgs = 0, snaps = 0;
    for (size_t i = 0; i < v.n; i++) {
        const sp_event *e = &v.ev[i];
        if (e->kind == SP_EV_BOOK_LEVEL && e->aux[1] == 0 && !(e->flags & SP_EVF_SELL)) {
            sp_book_clear(b); /* a new snapshot */
            bid.n = ask.n = 0;
            snaps++;
        }
        assert_int_equal(sp_book_apply_event(b, &in, e, &d), SP_OK);
        ref_set((e->flags & SP_EVF_SELL) ? &ask : &bid, e->px, e->qty);
        /* at the end of each message (the next event has other ids or kind) */
        bool last = i + 1 == v.n || v.ev[i + 1].kind != e->kind ||
                    v.ev[i + 1].aux[0] != e->aux[0] || v.ev[i + 1].exch_ts_ns != e->exch_ts_ns;
        if (!last)
            continue;
        msgs++;
        assert_int_equal(sp_book_check(b, &d), SP_OK);
        int64_t bb, bq, ba, aq;
        assert_true(sp_book_best(b, SP_BUY, &bb, &bq));
        assert_true(sp_book_best(b, SP_SELL, &ba, &aq));
        assert_true(bb < ba); /* never crossed */
        if (msgs == 1) {
            assert_int_equal(bb, 651142); /* 65,114.20 in 0.1 ticks */
            assert_int_equal(bq, 6054);   /* 6.054 in 0.001 lots */
            assert_int_equal(ba, 651143);
            assert_int_equal(aq, 10486);
        }
        compare_top(b, &in, &bid, &ask);
    }
    assert_int_equal(snaps, 1);
    assert_true(msgs > 400); /* the snapshot and its deltas */
    sp_book_free(b);
    free(v.ev);
    sp_symtab_free(syms);
}

static void test_bybit_btc_replay_fast(void **state)
{
    (void)state;
    replay(SP_BOOK_FAST);
}

static void test_bybit_btc_replay_ref(void **state)
{
    (void)state;
    replay(SP_BOOK_REF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bybit_btc_replay_fast),
        cmocka_unit_test(test_bybit_btc_replay_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
