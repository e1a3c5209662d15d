/*
 * bench_live.c -- end-to-end throughput of the live connector: frames
 * received over WebSocket from the replay server (loopback, max speed),
 * decoded, sequence-checked and stored in SQLite (issue 13).
 *
 *   bench_live [DIR]     store files under DIR (default /tmp)
 *
 * Input: the shipped cryptofeed Binance USD-M capture (1535 frames: 4
 * symbols x aggTrade, depth@100ms, kline_1m, bookTicker) and its REST
 * snapshots.  The connector subscribes 4 symbols x 5 families (20 streams)
 * on 1 connection, then with max_streams = 2 on 10 connections.  Each run
 * starts a fresh server (in a thread of this process) and a fresh store;
 * the time is sp_live_run from start to the last frame stored: connect,
 * subscribe, REST snapshots, decode, sync, store.
 *
 * Baseline (same process, same frames): the same decode + sync + store
 * without the network (frames read from memory) -- the ratio says what
 * the WebSocket path costs.  Target: >= 10x the busiest documented public
 * stream, Bybit v5 orderbook.1 pushed every 10 ms = 100 msg/s per symbol
 * (bybit-exchange.github.io/docs/v5/websocket/public/orderbook); Binance
 * USD-M depth@100ms is 10 msg/s.  Correctness: every run stores exactly the
 * stream events of the baseline (count checked; REST snapshot levels aside,
 * see non_snapshot), with no frame rejected, lost or out of sequence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "stampede/stampede.h"
#include "testharness.h"

#define NAME "bench_live"
#define WS   SP_SOURCE_DIR "/data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt"
#define REST SP_SOURCE_DIR "/data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.http.0.0.txt"

static const char *dir = "/tmp";

/* the store sink of the tests (tests/support/testharness.c) */
typedef sp_test_sink sink_ctx;
#define on_events sp_test_sink_events

static void die(const char *what)
{
    fprintf(stderr, NAME ": %s\n", what);
    exit(1);
}

static sp_store *fresh_store(int i)
{
    char path[512], uri[600];
    snprintf(path, sizeof(path), "%s/bench_live_%d_%d.db", dir, (int)getpid(), i);
    unlink(path);
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    sp_store *st;
    if (sp_store_open(uri, 0, &st, NULL) != SP_OK)
        die("cannot open the store");
    return st;
}

/* Events stored minus the REST snapshot levels: with several connections the
 * market may have moved before a depth connection fetches its snapshot, so
 * the snapshot (rightly) differs from the captured one. */
static uint64_t non_snapshot(sp_store *st, uint64_t inserted)
{
    sp_store_filter f;
    memset(&f, 0, sizeof(f));
    f.kind = SP_EV_BOOK_LEVEL;
    uint64_t n = 0;
    if (sp_store_count(st, &f, &n, NULL) != SP_OK)
        die("count");
    return inserted - n;
}

static void drop_store(sp_store *st, int i)
{
    sp_store_close(st);
    char path[512];
    const char *sfx[3] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof(path), "%s/bench_live_%d_%d.db%s", dir, (int)getpid(), i, sfx[k]);
        unlink(path);
    }
}

/* One run over the network; returns seconds, *stored = events inserted. */
static double run_live(unsigned max_streams, size_t *conns, uint64_t *stored, uint64_t *frames,
                       double *streaming)
{
    const char *caps[2] = {WS, REST};
    sp_replay_opts o = sp_test_replay_opts(caps, 2);
    sp_test_replay x;
    if (sp_test_replay_start(&x, &o, NULL) != SP_OK)
        die("replay server");
    char cfg[1024];
    int port = sp_replay_server_port(x.s);
    snprintf(
        cfg, sizeof(cfg),
        "{\"backoff_min_ms\":20,\"venues\":{\"binance\":{\"ws\":\"ws://127.0.0.1:%d/stream\","
        "\"rest\":\"http://127.0.0.1:%d\",\"max_streams\":%u,\"streams\":{\"trades\":"
        "\"{sym}@aggTrade\",\"depth\":\"{sym}@depth@100ms\",\"liquidations\":"
        "\"{sym}@forceOrder\",\"ticker\":\"{sym}@bookTicker\",\"kline\":\"{sym}@kline_1m\"}}}}",
        port, port, max_streams);
    sp_live_config c;
    if (sp_live_config_parse(cfg, strlen(cfg), "bench", &c, NULL) != SP_OK)
        die("config");
    sp_symtab *syms;
    if (sp_symtab_new(&syms) != SP_OK)
        die("symtab");
    static int seq;
    int id = ++seq;
    sink_ctx sc = {fresh_store(id), syms, 0, 0};
    sp_venue v = SP_VENUE_BINANCE_UM;
    const char *sy[4] = {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"};
    sp_live_opts lo = sp_test_live_opts(&v, 1, sy, 4);
    sp_feed_sink sink = {on_events, NULL, &sc};
    sp_live *lv;
    /* 20 streams, max_streams per connection; each gets one subscription reply */
    *conns = (20 + max_streams - 1) / max_streams;
    lo.max_messages = 1535 + *conns;
    if (sp_live_new(&c, &lo, syms, &sink, &lv, NULL) != SP_OK)
        die("connector");
    double t0 = bench_now();
    if (sp_live_run(lv, NULL, 60000, NULL) != SP_OK)
        die("run");
    double t = bench_now() - t0;
    sp_live_stats st = sp_live_stats_get(lv);
    if (st.rejected || st.oversize || st.gaps || st.frames != lo.max_messages)
        die("frames lost or rejected");
    *frames = st.frames - *conns;
    *streaming = (double)(st.last_frame_ns - st.first_frame_ns) / 1e9;
    *stored = non_snapshot(sc.st, sc.inserted);
    sp_live_free(lv);
    drop_store(sc.st, id);
    sp_symtab_free(syms);
    sp_test_replay_stop(&x);
    return t;
}

/* Frames of the capture in memory, for the baseline. */
typedef struct frames {
    char **f;
    size_t *n;
    size_t count;
    char *rest[4];
    size_t rest_n[4];
    char rest_sym[4][32];
    size_t nrest;
} frames;

static void load_frames(frames *fr)
{
    FILE *f = fopen(WS, "r");
    if (f == NULL)
        die("capture");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    fr->f = calloc(4096, sizeof(char *));
    fr->n = calloc(4096, sizeof(size_t));
    while ((len = getline(&line, &cap, f)) > 0) {
        if (strncmp(line, "wss://", 6) == 0)
            continue;
        char *j = strstr(line, ": ") + 2;
        size_t n = (size_t)len - (size_t)(j - line) - 1;
        fr->f[fr->count] = strndup(j, n);
        fr->n[fr->count++] = n;
    }
    fclose(f);
    f = fopen(REST, "r");
    while ((len = getline(&line, &cap, f)) > 0 && fr->nrest < 4) {
        char *s = strstr(line, "symbol=") + 7;
        snprintf(fr->rest_sym[fr->nrest], 32, "%.*s", (int)strcspn(s, "&"), s);
        char *j = strstr(line, ": {") + 2;
        fr->rest_n[fr->nrest] = (size_t)len - (size_t)(j - line) - 1;
        fr->rest[fr->nrest] = strndup(j, fr->rest_n[fr->nrest]);
        fr->nrest++;
    }
    fclose(f);
    free(line);
}

/* Baseline: snapshots then every frame, decoded + synced + stored in batches. */
static double run_base(const frames *fr, uint64_t *stored)
{
    sp_symtab *syms;
    sp_feed_sync *sync;
    if (sp_symtab_new(&syms) != SP_OK || sp_feed_sync_new(&sync) != SP_OK)
        die("alloc");
    static int seq = 1000;
    int id = ++seq;
    sink_ctx sc = {fresh_store(id), syms, 0, 0};
    sp_event *ev = calloc(SP_FEED_MSG_EVENTS_MAX, sizeof(sp_event));
    sp_event *out = calloc(2 * SP_FEED_MSG_EVENTS_MAX, sizeof(sp_event));
    sp_event *batch = calloc(SP_FEED_BATCH + SP_FEED_MSG_EVENTS_MAX, sizeof(sp_event));
    size_t nb = 0, got, m;
    double t0 = bench_now();
    for (size_t i = 0; i < fr->nrest + fr->count; i++) {
        if (i < fr->nrest) {
            uint32_t sid;
            sp_symtab_intern(syms, fr->rest_sym[i], strlen(fr->rest_sym[i]), &sid);
            if (sp_feed_binance_depth_snapshot(fr->rest[i], fr->rest_n[i], sid, SP_VENUE_BINANCE_UM,
                                               1, ev, SP_FEED_MSG_EVENTS_MAX, &got, NULL) != SP_OK)
                die("snapshot");
        } else {
            size_t k = i - fr->nrest;
            if (sp_feed_binance_ws(fr->f[k], fr->n[k], 1, syms, ev, SP_FEED_MSG_EVENTS_MAX, &got,
                                   NULL) != SP_OK)
                die("decode");
        }
        if (sp_feed_sync_apply(sync, ev, got, out, 2 * SP_FEED_MSG_EVENTS_MAX, &m) != SP_OK)
            die("sync");
        memcpy(batch + nb, ev, got * sizeof(sp_event));
        nb += got;
        if (nb >= SP_FEED_BATCH) {
            if (on_events(&sc, batch, nb) != SP_OK)
                die("store");
            nb = 0;
        }
    }
    if (nb && on_events(&sc, batch, nb) != SP_OK)
        die("store");
    double t = bench_now() - t0;
    *stored = non_snapshot(sc.st, sc.inserted);
    drop_store(sc.st, id);
    free(ev);
    free(out);
    free(batch);
    sp_feed_sync_free(sync);
    sp_symtab_free(syms);
    return t;
}

int main(int argc, char **argv)
{
    bench_help(NAME, "[DIR for the SQLite stores (default /tmp)]", argc, argv);
    if (argc > 1)
        dir = argv[1];
    frames fr;
    memset(&fr, 0, sizeof(fr));
    load_frames(&fr);
    bench_setup(NAME,
                "Binance USD-M capture: %zu frames + %zu REST snapshots, 4 symbols x 5 stream "
                "families, replay server at max speed on 127.0.0.1 (same process, own thread), "
                "SQLite store in %s, %d runs",
                fr.count, fr.nrest, dir, BENCH_RUNS);
    double tb[BENCH_RUNS], t1[BENCH_RUNS], t10[BENCH_RUNS], w1[BENCH_RUNS], w10[BENCH_RUNS];
    uint64_t sb = 0, s1 = 0, s10 = 0, f1 = 0, f10 = 0;
    size_t c1 = 0, c10 = 0;
    for (int r = 0; r < BENCH_RUNS; r++) {
        tb[r] = run_base(&fr, &sb);
        t1[r] = run_live(200, &c1, &s1, &f1, &w1[r]);
        t10[r] = run_live(2, &c10, &s10, &f10, &w10[r]);
        if (s1 != sb || s10 != sb) {
            fprintf(stderr, NAME ": stored %llu / %llu, baseline %llu\n", (unsigned long long)s1,
                    (unsigned long long)s10, (unsigned long long)sb);
            die("stored event counts differ from the baseline");
        }
    }
    bench_stats b = bench_stats_of(tb, BENCH_RUNS);
    bench_stats l1 = bench_stats_of(t1, BENCH_RUNS);
    bench_stats l10 = bench_stats_of(t10, BENCH_RUNS);
    bench_line(NAME, "baseline decode+sync+store (no network)", b, (double)fr.count, "frames");
    char what[96];
    snprintf(what, sizeof(what), "live %zu connection(s)", c1);
    bench_line(NAME, what, l1, (double)f1, "frames");
    bench_ratio(NAME, what, l1, b);
    snprintf(what, sizeof(what), "live %zu connections", c10);
    bench_line(NAME, what, l10, (double)f10, "frames");
    bench_ratio(NAME, what, l10, b);
    bench_stats s1s = bench_stats_of(w1, BENCH_RUNS), s10s = bench_stats_of(w10, BENCH_RUNS);
    snprintf(what, sizeof(what), "streaming %zu connection(s), first to last frame", c1);
    bench_line(NAME, what, s1s, (double)f1, "frames");
    snprintf(what, sizeof(what), "streaming %zu connections, first to last frame", c10);
    bench_line(NAME, what, s10s, (double)f10, "frames");
    /* the target is judged on the end-to-end time, setup and teardown included */
    double rate1 = (double)f1 / l1.median, rate10 = (double)f10 / l10.median;
    printf(NAME ": stream events stored per run: %llu (every run equal to the baseline)\n",
           (unsigned long long)sb);
    printf(NAME ": target >= 1000 frames/s (10 x Bybit orderbook.1, 100 msg/s): 1 conn %.0f/s "
                "(%.0fx), %zu conns %.0f/s (%.0fx): %s\n",
           rate1, rate1 / 100.0, c10, rate10, rate10 / 100.0,
           rate1 >= 1000 && rate10 >= 1000 ? "ok" : "MISSED");
    for (size_t i = 0; i < fr.count; i++)
        free(fr.f[i]);
    for (size_t i = 0; i < fr.nrest; i++)
        free(fr.rest[i]);
    free(fr.f);
    free(fr.n);
    return rate1 >= 1000 && rate10 >= 1000 ? 0 : 1;
}
