/*
 * test_live_loop.c -- the live connector against the replay server over a
 * real WebSocket on 127.0.0.1 (both in this process: the server in a
 * thread, the connector in the test's thread), playing the shipped
 * cryptofeed Binance USD-M capture (ws + REST snapshots) at max speed.
 *
 * The reference is the capture decoded frame by frame with the library's
 * own decoder (what `stampede decode` prints).  Each case checks:
 *   clean      every event of every frame arrives, in order, equal to the
 *              reference (local time aside), the four REST snapshots equal
 *              the REST capture's, no gap, no reject;
 *   malformed  the broken frame is rejected with its reason, every other
 *              frame's events arrive;
 *   oversize   the big frame is refused (counted), nothing else is lost;
 *   gap        the skipped depth frames are missing and nothing else; the
 *              gap is detected, the book resynced from REST, and the final
 *              book of every symbol equals the book the capture implies;
 *   drop       the connector reconnects (GAP disconnect + reconnect
 *              events), every frame sent after recovery arrives, the book
 *              is right;
 *   stall      the silent connection is dropped after stall_s and
 *              re-established; nothing sent after recovery is lost;
 *   bybit gap  Bybit v5 linear: skipped deltas -> reconnect -> the server's
 *              snapshot -> the book the capture implies;
 *   burst      paced playback with a back-to-back burst loses nothing.
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
#include "testharness.h"

#define WS_CAPTURE    "data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt"
#define REST_CAPTURE  "data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.http.0.0.txt"
#define BYBIT_CAPTURE "data/cryptofeed_bybit_v5_raw/BYBIT.jsonl.zst"

/* run() plays Binance (the default) or, with g_bybit, the Bybit v5 linear capture. */
static bool g_bybit;
static uint64_t g_duration_ms = 15000;
static unsigned g_speed; /* 0 = max */

typedef struct evs {
    sp_event *ev;
    size_t n, cap;
} evs;

static void push(evs *v, const sp_event *ev, size_t n)
{
    if (v->n + n > v->cap) {
        v->cap = (v->n + n) * 2 + 64;
        v->ev = realloc(v->ev, v->cap * sizeof(*v->ev));
        assert_non_null(v->ev);
    }
    memcpy(v->ev + v->n, ev, n * sizeof(*ev));
    v->n += n;
}

/* The reference: each capture line decoded on its own. */
typedef struct ref {
    evs all;       /* every event, capture order */
    size_t *first; /* per frame: index of its first event in all */
    size_t *count; /* per frame: events */
    bool *depth;   /* per frame: a depth stream */
    size_t nframes;
    sp_symtab *syms; /* the test's symbol table (shared with the connector) */
} ref;

static void load_ref(ref *r, sp_symtab *syms)
{
    memset(r, 0, sizeof(*r));
    r->syms = syms;
    size_t n;
    char *b = sp_test_slurp(WS_CAPTURE, &n);
    size_t cap = 4096;
    r->first = calloc(cap, sizeof(size_t));
    r->count = calloc(cap, sizeof(size_t));
    r->depth = calloc(cap, sizeof(bool));
    sp_event *tmp = calloc(SP_FEED_MSG_EVENTS_MAX, sizeof(sp_event));
    for (char *line = b; line < b + n;) {
        char *nl = strchr(line, '\n');
        size_t ln = nl ? (size_t)(nl - line) : strlen(line);
        if (ln > 0 && strncmp(line, "wss://", 6) != 0) {
            char *json = strstr(line, ": ") + 2;
            size_t got;
            assert_int_equal(sp_feed_binance_ws(json, ln - (size_t)(json - line), 0, syms, tmp,
                                                SP_FEED_MSG_EVENTS_MAX, &got, NULL),
                             SP_OK);
            assert_true(r->nframes < cap);
            r->first[r->nframes] = r->all.n;
            r->count[r->nframes] = got;
            /* as the server counts them: depth messages that carry levels */
            r->depth[r->nframes] = got > 0 && tmp[0].kind == SP_EV_DEPTH_UPDATE;
            push(&r->all, tmp, got);
            r->nframes++;
        }
        line += ln + 1;
    }
    free(tmp);
    free(b);
}

static void free_ref(ref *r)
{
    free(r->all.ev);
    free(r->first);
    free(r->count);
    free(r->depth);
}

/* Events equal but for the local receive time. */
static bool same(const sp_event *a, const sp_event *b)
{
    sp_event x = *a, y = *b;
    x.local_ts_ns = y.local_ts_ns = 0;
    return memcmp(&x, &y, sizeof(x)) == 0;
}

/* ---- the run ----------------------------------------------------------------- */

typedef struct got {
    evs ev;
    sp_err reject_code[16];
    size_t nreject;
} got;

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    got *g = ctx;
    push(&g->ev, ev, n);
    return SP_OK;
}

static void on_reject(void *ctx, const sp_diag *why)
{
    got *g = ctx;
    if (g->nreject < 16)
        g->reject_code[g->nreject] = why->code;
    g->nreject++;
}

/* Play the capture with `faults`, record until max_frames or the time limit. */
static sp_live_stats run(const char *faults, unsigned stall_s, uint64_t max_frames, sp_symtab *syms,
                         got *g, sp_replay_stats *sst)
{
    sp_fault f[SP_LIVE_FAULTS_MAX];
    size_t nf = 0;
    assert_int_equal(sp_fault_parse(faults, f, SP_LIVE_FAULTS_MAX, &nf, NULL), SP_OK);
    char ws[4096], rest[4096]; /* sp_test_path returns a static buffer */
    snprintf(ws, sizeof(ws), "%s", sp_test_path(g_bybit ? BYBIT_CAPTURE : WS_CAPTURE));
    snprintf(rest, sizeof(rest), "%s", sp_test_path(REST_CAPTURE));
    const char *caps[2] = {ws, rest};
    sp_replay_opts o = sp_test_replay_opts(caps, g_bybit ? 1 : 2);
    o.speed_x = g_speed;
    o.faults = f;
    o.nfaults = nf;
    sp_test_replay x;
    sp_diag d;
    assert_int_equal(sp_test_replay_start(&x, &o, &d), SP_OK);
    int port = sp_replay_server_port(x.s);
    assert_true(port > 0);

    char cfg[1024];
    snprintf(cfg, sizeof(cfg),
             "{\"max_frame\":65536,\"backoff_min_ms\":20,\"backoff_max_ms\":200,\"stall_s\":%u,"
             "\"seed\":42,\"venues\":{\"binance\":{\"ws\":\"ws://127.0.0.1:%d/stream\","
             "\"rest\":\"http://127.0.0.1:%d\",\"streams\":{\"trades\":\"{sym}@aggTrade\","
             "\"depth\":\"{sym}@depth@100ms\",\"ticker\":\"{sym}@bookTicker\","
             "\"kline\":\"{sym}@kline_1m\"}}}}",
             stall_s, port, port);
    if (g_bybit)
        snprintf(cfg, sizeof(cfg),
                 "{\"backoff_min_ms\":20,\"backoff_max_ms\":200,\"stall_s\":%u,\"seed\":42,"
                 "\"venues\":{\"bybit\":{\"ws\":\"ws://127.0.0.1:%d/v5/public/linear\","
                 "\"streams\":{\"trades\":\"publicTrade.{SYM}\",\"depth\":\"orderbook.200.{SYM}\","
                 "\"ticker\":\"tickers.{SYM}\",\"kline\":\"kline.1.{SYM}\"}}}}",
                 stall_s, port);
    sp_live_config c;
    assert_int_equal(sp_live_config_parse(cfg, strlen(cfg), "cfg", &c, &d), SP_OK);
    sp_venue v = g_bybit ? SP_VENUE_BYBIT : SP_VENUE_BINANCE_UM;
    const char *bsyml[4] = {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"};
    const char *ysyml[4] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"};
    const char **syml = g_bybit ? ysyml : bsyml;
    sp_live_opts lo = sp_test_live_opts(&v, 1, syml, 4);
    lo.max_messages = max_frames;
    sp_feed_sink sink = {on_events, on_reject, g};
    sp_live *lv;
    assert_int_equal(sp_live_new(&c, &lo, syms, &sink, &lv, &d), SP_OK);
    assert_int_equal(sp_live_run(lv, NULL, g_duration_ms, &d), SP_OK);
    sp_live_stats st = sp_live_stats_get(lv);
    if (getenv("SP_TEST_VERBOSE"))
        fprintf(stderr,
                "  frames %llu events %llu rejected %llu oversize %llu gaps %llu resyncs %llu/%llu "
                "disconnects %llu reconnects %llu stalls %llu\n",
                (unsigned long long)st.frames, (unsigned long long)st.events,
                (unsigned long long)st.rejected, (unsigned long long)st.oversize,
                (unsigned long long)st.gaps, (unsigned long long)st.resyncs,
                (unsigned long long)st.resync_failures, (unsigned long long)st.disconnects,
                (unsigned long long)st.reconnects, (unsigned long long)st.stalls);
    sp_live_free(lv);
    *sst = sp_test_replay_stop(&x);
    return st;
}

/* The received events of kind other than GAP and BOOK_LEVEL, in order. */
static void data_events(const got *g, evs *out)
{
    for (size_t i = 0; i < g->ev.n; i++) {
        if (g->ev.ev[i].kind != SP_EV_GAP && g->ev.ev[i].kind != SP_EV_BOOK_LEVEL)
            push(out, &g->ev.ev[i], 1);
    }
}

/* Expect exactly the reference frames with keep[i] set, in order. */
static void expect_frames(const ref *r, const bool *keep, const evs *gotev)
{
    size_t k = 0;
    for (size_t f = 0; f < r->nframes; f++) {
        if (!keep[f])
            continue;
        for (size_t i = 0; i < r->count[f]; i++, k++) {
            assert_true(k < gotev->n);
            if (!same(&r->all.ev[r->first[f] + i], &gotev->ev[k]))
                fail_msg("frame %zu event %zu differs (kind %u got %u)", f + 1, i,
                         r->all.ev[r->first[f] + i].kind, gotev->ev[k].kind);
        }
    }
    assert_int_equal(k, gotev->n);
}

static size_t count_kind(const got *g, unsigned kind, int sub)
{
    size_t n = 0;
    for (size_t i = 0; i < g->ev.n; i++)
        n += g->ev.ev[i].kind == kind && (sub < 0 || g->ev.ev[i].sub == sub);
    return n;
}

/* ---- the book a consumer keeps (snapshot + updates per the Binance rule) --- */

#define NSYM 8
typedef struct lvl {
    int64_t px, qty;
} lvl;
typedef struct bk {
    uint32_t sym;
    lvl side[2][4096];
    size_t n[2];
    int64_t snap_id, snap_seen;
    bool pending;
} bk;

static void set_lvl(bk *b, int s, int64_t px, int64_t qty)
{
    for (size_t i = 0; i < b->n[s]; i++) {
        if (b->side[s][i].px == px) {
            if (qty == 0)
                b->side[s][i] = b->side[s][--b->n[s]];
            else
                b->side[s][i].qty = qty;
            return;
        }
    }
    if (qty != 0) {
        assert_true(b->n[s] < 4096);
        b->side[s][b->n[s]].px = px;
        b->side[s][b->n[s]++].qty = qty;
    }
}

static void books(const sp_event *ev, size_t n, bk *out, size_t *nb)
{
    *nb = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (e->kind != SP_EV_BOOK_LEVEL && e->kind != SP_EV_DEPTH_UPDATE)
            continue;
        bk *b = NULL;
        for (size_t k = 0; k < *nb; k++)
            b = out[k].sym == e->symbol_id ? &out[k] : b;
        if (b == NULL) {
            assert_true(*nb < NSYM);
            b = &out[(*nb)++];
            memset(b, 0, sizeof(*b));
            b->sym = e->symbol_id;
        }
        int s = (e->flags & SP_EVF_SELL) ? 1 : 0;
        if (e->kind == SP_EV_BOOK_LEVEL) {
            if (b->snap_seen != e->aux[0] + 1) { /* a new snapshot resets the book */
                b->n[0] = b->n[1] = 0;
                b->snap_seen = e->aux[0] + 1;
                b->snap_id = e->aux[0];
                b->pending = true;
            }
            set_lvl(b, s, e->px, e->qty);
        } else if (b->snap_seen) {
            if (e->aux[1] < b->snap_id)
                continue; /* u < lastUpdateId: older than the snapshot */
            set_lvl(b, s, e->px, e->qty);
        }
    }
}

static int cmp_lvl(const void *a, const void *b)
{
    const lvl *x = a, *y = b;
    return x->px < y->px ? -1 : x->px > y->px;
}

static int cmp_lvl_desc(const void *a, const void *b)
{
    return -cmp_lvl(a, b);
}

#define TOP 200

static void expect_same_books(const sp_event *a, size_t na, const sp_event *b, size_t nb)
{
    static bk ba[NSYM], bb[NSYM];
    size_t ka, kb;
    books(a, na, ba, &ka);
    books(b, nb, bb, &kb);
    assert_int_equal(ka, kb);
    assert_int_equal(ka, 4);
    for (size_t i = 0; i < ka; i++) {
        bk *y = NULL;
        for (size_t k = 0; k < kb; k++)
            y = bb[k].sym == ba[i].sym ? &bb[k] : y;
        assert_non_null(y);
        /* A REST snapshot carries the best depth_limit (1000) levels, so a
         * resynced book is exact near the top; compare the best TOP levels. */
        for (int s = 0; s < 2; s++) {
            qsort(ba[i].side[s], ba[i].n[s], sizeof(lvl), s ? cmp_lvl : cmp_lvl_desc);
            qsort(y->side[s], y->n[s], sizeof(lvl), s ? cmp_lvl : cmp_lvl_desc);
            size_t k = ba[i].n[s] < TOP ? ba[i].n[s] : TOP;
            assert_true(k > 0);
            assert_int_equal(k, y->n[s] < TOP ? y->n[s] : TOP);
            assert_memory_equal(ba[i].side[s], y->side[s], k * sizeof(lvl));
        }
    }
}

/* The book the capture implies: REST snapshots then the whole ws stream. */
static void implied(const ref *r, evs *out)
{
    size_t n;
    char *b = sp_test_slurp(REST_CAPTURE, &n);
    for (char *line = b; line < b + n;) {
        char *nl = strchr(line, '\n');
        size_t ln = nl ? (size_t)(nl - line) : strlen(line);
        if (ln > 0) {
            char *sym = strstr(line, "symbol=") + 7;
            uint32_t id;
            assert_int_equal(sp_symtab_intern(r->syms, sym, strcspn(sym, "&"), &id), SP_OK);
            char *json = strstr(line, ": {") + 2;
            sp_event tmp[2100];
            size_t nlev;
            assert_int_equal(sp_feed_binance_depth_snapshot(json, ln - (size_t)(json - line), id,
                                                            SP_VENUE_BINANCE_UM, 0, tmp, 2100,
                                                            &nlev, NULL),
                             SP_OK);
            push(out, tmp, nlev);
        }
        line += ln + 1;
    }
    free(b);
    push(out, r->all.ev, r->all.n);
}

/* ---- cases ----------------------------------------------------------------- */

static ref R;
static sp_symtab *S;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(sp_symtab_new(&S), SP_OK);
    load_ref(&R, S);
    return R.nframes == 1535 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free_ref(&R);
    sp_symtab_free(S);
    return 0;
}

/* One playback: what the connector received, the server's and the connector's counters. */
typedef struct trial {
    got g;
    sp_replay_stats ss;
    sp_live_stats st;
} trial;

static void play(trial *t, const char *faults, unsigned stall_s, uint64_t max_frames)
{
    memset(t, 0, sizeof(*t));
    t->st = run(faults, stall_s, max_frames, S, &t->g, &t->ss);
}

/* The received data events are exactly the reference frames with keep[i] set, in order. */
static void expect_kept(const got *g, const bool *keep)
{
    evs d = {0};
    data_events(g, &d);
    expect_frames(&R, keep, &d);
    free(d.ev);
}

/* ... every reference frame but frame index `lost` (SIZE_MAX: none). */
static void expect_all_but(const got *g, size_t lost)
{
    bool keep[2048];
    for (size_t i = 0; i < R.nframes; i++)
        keep[i] = i != lost;
    expect_kept(g, keep);
}

/* The final books equal the ones the capture implies; returns the implied snapshot levels. */
static size_t expect_implied_books(const got *g)
{
    evs imp = {0};
    implied(&R, &imp);
    size_t nsnap = 0;
    for (size_t i = 0; i < imp.n && imp.ev[i].kind == SP_EV_BOOK_LEVEL; i++)
        nsnap++;
    expect_same_books(g->ev.ev, g->ev.n, imp.ev, imp.n);
    free(imp.ev);
    return nsnap;
}

static void test_clean(void **state)
{
    (void)state;
    trial t;
    /* 1535 data frames + the subscription reply */
    play(&t, "", 0, R.nframes + 1);
    assert_int_equal(t.st.frames, R.nframes + 1);
    assert_int_equal(t.ss.frames, R.nframes);
    assert_int_equal(t.st.rejected + t.st.oversize + t.st.gaps + t.st.reconnects, 0);
    assert_int_equal(t.g.nreject, 0);
    assert_int_equal(t.ss.rest, 4); /* one snapshot per depth symbol */
    expect_all_but(&t.g, SIZE_MAX);
    assert_int_equal(count_kind(&t.g, SP_EV_GAP, -1), 0);
    /* the snapshots are the REST capture's, level for level */
    size_t nsnap = expect_implied_books(&t.g);
    assert_int_equal(count_kind(&t.g, SP_EV_BOOK_LEVEL, -1), nsnap);
    free(t.g.ev.ev);
}

static void test_malformed(void **state)
{
    (void)state;
    trial t;
    play(&t, "malformed@100", 0, R.nframes + 1);
    assert_int_equal(t.ss.faults, 1);
    assert_int_equal(t.st.rejected, 1);
    assert_int_equal(t.g.nreject, 1);
    assert_int_equal(t.st.rejected_by[t.g.reject_code[0]], 1);
    assert_true(t.g.reject_code[0] == SP_ETRUNCATED || t.g.reject_code[0] == SP_EPARSE);
    expect_all_but(&t.g, 99);
    free(t.g.ev.ev);
}

static void test_oversize(void **state)
{
    (void)state;
    trial t;
    play(&t, "oversize@200:100000", 0, R.nframes + 1);
    assert_int_equal(t.ss.faults, 1);
    assert_int_equal(t.st.oversize, 1);
    assert_int_equal(t.st.rejected, 0);
    expect_all_but(&t.g, SIZE_MAX);
    free(t.g.ev.ev);
}

static void test_gap(void **state)
{
    (void)state;
    /* after data frame 300, the next 5 depth frames are not sent */
    bool keep[2048];
    size_t skipped = 0;
    for (size_t i = 0; i < R.nframes; i++) {
        keep[i] = !(i >= 300 && R.depth[i] && skipped < 5);
        skipped += !keep[i];
    }
    assert_int_equal(skipped, 5);
    trial t;
    play(&t, "gap@300:5", 0, R.nframes + 1 - 5);
    assert_true(t.st.gaps >= 1);
    assert_true(t.st.resyncs >= 1);
    assert_int_equal(t.st.resync_failures, 0);
    assert_int_equal(count_kind(&t.g, SP_EV_GAP, SP_LIVE_GAP_RESYNC), t.st.resyncs);
    expect_kept(&t.g, keep);
    expect_implied_books(&t.g);
    free(t.g.ev.ev);
}

/* After a reconnect: every frame the server sent after frame `after` arrived. */
static void expect_tail(const got *g, size_t after)
{
    evs d = {0};
    data_events(g, &d);
    size_t tail = 0;
    for (size_t f = after; f < R.nframes; f++)
        tail += R.count[f];
    assert_true(d.n >= tail);
    for (size_t k = 0; k < tail; k++)
        assert_true(same(&R.all.ev[R.all.n - tail + k], &d.ev[d.n - tail + k]));
    free(d.ev);
}

static void test_drop(void **state)
{
    (void)state;
    trial t;
    play(&t, "drop@400", 0, R.nframes + 2);
    assert_int_equal(t.ss.faults, 1);
    assert_int_equal(t.ss.sessions, 2);
    assert_int_equal(t.st.disconnects, 1);
    assert_int_equal(t.st.reconnects, 1);
    assert_int_equal(count_kind(&t.g, SP_EV_GAP, SP_LIVE_GAP_DISCONNECT), 1);
    assert_int_equal(count_kind(&t.g, SP_EV_GAP, SP_LIVE_GAP_RECONNECT), 1);
    expect_tail(&t.g, 400);
    expect_implied_books(&t.g);
    free(t.g.ev.ev);
}

static void test_stall(void **state)
{
    (void)state;
    trial t;
    play(&t, "stall@500:3s", 1, R.nframes + 2);
    assert_int_equal(t.st.stalls, 1);
    assert_int_equal(t.st.reconnects, 1);
    expect_tail(&t.g, 500);
    free(t.g.ev.ev);
}

/*
 * burst: at 60x the recorded timing (0.5 s for the capture), frames 20..1519
 * come back to back; every frame's events still arrive, in order.
 */
static void test_burst(void **state)
{
    (void)state;
    trial t;
    g_speed = 60;
    play(&t, "burst@20:1500", 0, R.nframes + 1);
    g_speed = 0;
    assert_int_equal(t.ss.faults, 1);
    assert_int_equal(t.st.frames, R.nframes + 1);
    assert_int_equal(t.st.rejected + t.st.gaps + t.st.reconnects, 0);
    expect_all_but(&t.g, SIZE_MAX);
    free(t.g.ev.ev);
}

static sp_err collect(void *ctx, const sp_event *ev, size_t n)
{
    push(ctx, ev, n);
    return SP_OK;
}

/*
 * Bybit v5: 3 orderbook deltas are not sent.  The connector sees the u
 * break, drops the connection (the venue's way to get a new snapshot),
 * reconnects; the server answers the resubscription with the snapshot the
 * market implies, and the final book of each symbol equals the capture's.
 * No frame count bounds this run (what was in flight when the connection
 * closed is lost, as on the venue), so it lasts 3 s.
 */
static void test_bybit_gap(void **state)
{
    (void)state;
    trial t;
    g_bybit = true;
    g_duration_ms = 3000;
    play(&t, "gap@400:3", 0, 0);
    g_bybit = false;
    g_duration_ms = 15000;
    assert_int_equal(t.ss.faults, 1);
    assert_true(t.st.gaps >= 1);
    assert_true(t.st.reconnects >= 1);
    assert_int_equal(t.st.rejected, 0);
    assert_true(count_kind(&t.g, SP_EV_GAP, SP_LIVE_GAP_RECONNECT) >= 1);
    /* the book the capture implies: the linear connection's frames, decoded */
    evs all = {0}, lin = {0};
    sp_feed_sink sink = {collect, NULL, &all};
    assert_int_equal(sp_feed_decode_file(sp_test_path(BYBIT_CAPTURE), NULL, S, &sink, NULL), SP_OK);
    for (size_t i = 0; i < all.n; i++) {
        const char *nm = sp_symtab_name(S, all.ev[i].symbol_id);
        if (nm && strncmp(nm, "spot:", 5) != 0)
            push(&lin, &all.ev[i], 1);
    }
    expect_same_books(t.g.ev.ev, t.g.ev.n, lin.ev, lin.n);
    free(all.ev);
    free(lin.ev);
    free(t.g.ev.ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),     cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_oversize),  cmocka_unit_test(test_gap),
        cmocka_unit_test(test_drop),      cmocka_unit_test(test_stall),
        cmocka_unit_test(test_bybit_gap), cmocka_unit_test(test_burst),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
