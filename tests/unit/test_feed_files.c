/*
 * test_feed_files.c -- the decoders on the real recorded data of data/:
 * every file against tests/data/feed/data_files.golden (events, rejects,
 * exit class), the per-stream message counts of the Binance capture, the
 * per-topic frame counts of the Bybit capture and its first BTCUSDT
 * snapshot, the 453 raw funding files, and corrupted copies of each
 * capture (bytes flipped, lines cut, garbage and 1 MB lines inserted) that
 * must yield exactly the events of the intact lines.
 */
#include <dirent.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"

/* A sink that keeps every event (symbol ids mapped to a name hash) and counts rejects. */
typedef struct keep {
    sp_symtab *syms;
    sp_event *ev;
    size_t n, cap;
    size_t by_kind[SP_EV_KIND_COUNT_];
    size_t rejects;
    sp_diag last;
} keep;

static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static sp_err keep_events(void *ctx, const sp_event *ev, size_t n)
{
    keep *k = ctx;
    if (k->n + n > k->cap) {
        size_t nc = (k->n + n) * 2;
        k->ev = realloc(k->ev, nc * sizeof(*k->ev));
        assert_non_null(k->ev);
        k->cap = nc;
    }
    for (size_t i = 0; i < n; i++) {
        sp_event e = ev[i];
        e.symbol_id = name_hash(sp_symtab_name(k->syms, e.symbol_id));
        k->ev[k->n++] = e;
        k->by_kind[e.kind]++;
    }
    return SP_OK;
}

static void keep_reject(void *ctx, const sp_diag *why)
{
    keep *k = ctx;
    k->rejects++;
    k->last = *why;
    assert_non_null(why->source);
    assert_true(why->line >= 1);
}

static void keep_init(keep *k)
{
    memset(k, 0, sizeof(*k));
    assert_int_equal(sp_symtab_new(&k->syms), SP_OK);
}

static void keep_fini(keep *k)
{
    free(k->ev);
    sp_symtab_free(k->syms);
}

static sp_err decode(keep *k, const char *rel)
{
    sp_feed_sink s = {keep_events, keep_reject, k};
    sp_diag d;
    return sp_feed_decode_file(sp_test_path(rel), NULL, k->syms, &s, &d);
}

static void test_every_data_file(void **state)
{
    (void)state;
    FILE *g = fopen(sp_test_path("tests/data/feed/data_files.golden"), "r");
    assert_non_null(g);
    char line[1024];
    int files = 0;
    while (fgets(line, sizeof(line), g)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char path[512];
        int want_rc;
        size_t want_ev, want_rej;
        assert_int_equal(sscanf(line, "%511s %d %zu %zu", path, &want_rc, &want_ev, &want_rej), 4);
        char rel[600];
        snprintf(rel, sizeof(rel), "data/%s", path);
        keep k;
        keep_init(&k);
        sp_err rc = decode(&k, rel);
        int got_rc = rc != SP_OK ? 2 : k.rejects ? 1 : 0;
        if (got_rc != want_rc || k.n != want_ev || k.rejects != want_rej)
            fail_msg("%s: exit %d events %zu rejects %zu, want %d %zu %zu", path, got_rc, k.n,
                     k.rejects, want_rc, want_ev, want_rej);
        if (want_rc == 2)
            assert_int_equal(rc, SP_EUNKNOWN_KIND);
        keep_fini(&k);
        files++;
    }
    fclose(g);
    assert_true(files >= 46);
}

/* The farside total scrape: the four summary rows are rejected, with this reason. */
static void test_summary_rows_rejected_with_reason(void **state)
{
    (void)state;
    keep k;
    keep_init(&k);
    assert_int_equal(decode(&k, "data/etf_flows/farside_btc_etf_total_2024-01_2026-01.csv"), SP_OK);
    assert_int_equal(k.rejects, 4);
    assert_int_equal(k.last.code, SP_EUNKNOWN_KIND);
    assert_string_equal(k.last.msg, "summary row, not a trading day");
    assert_string_equal(k.last.field, "Date");
    assert_int_equal(k.last.line, 517);
    keep_fini(&k);
}

/* All 453 raw monthly funding files: one FUNDING event per data line, nothing rejected. */
static void test_raw_funding_files(void **state)
{
    (void)state;
    const char *dir = sp_test_path("data/binance_um_fundingRate/raw");
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s", dir);
    DIR *dp = opendir(dirpath);
    assert_non_null(dp);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dp)) != NULL) {
        if (strstr(de->d_name, "-fundingRate-") == NULL)
            continue;
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t lines = 0;
        int c, prev = '\n';
        while ((c = fgetc(f)) != EOF) {
            lines += c == '\n';
            prev = c;
        }
        lines += prev != '\n';
        fclose(f);
        keep k;
        keep_init(&k);
        sp_feed_sink s = {keep_events, keep_reject, &k};
        sp_diag d;
        assert_int_equal(sp_feed_decode_file(path, NULL, k.syms, &s, &d), SP_OK);
        assert_int_equal(k.rejects, 0);
        assert_int_equal(k.n, lines - 1);
        assert_int_equal(k.by_kind[SP_EV_FUNDING], k.n);
        keep_fini(&k);
        files++;
    }
    closedir(dp);
    assert_int_equal(files, 453);
}

/* Per-stream message counts of the Binance capture (data/PROVENANCE.md §4). */
static void test_binance_capture_stream_counts(void **state)
{
    (void)state;
    FILE *f =
        fopen(sp_test_path("data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt"), "r");
    assert_non_null(f);
    static char line[1 << 20];
    static sp_event ev[SP_FEED_MSG_EVENTS_MAX];
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    size_t msgs[SP_EV_KIND_COUNT_] = {0}, empty = 0, lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        if (++lineno == 1)
            continue; /* the connection header */
        char *json = strstr(line, ": ");
        assert_non_null(json);
        json += 2;
        size_t n = strlen(json), got;
        sp_diag d;
        assert_int_equal(sp_feed_binance_ws(json, n, 0, syms, ev, SP_FEED_MSG_EVENTS_MAX, &got, &d),
                         SP_OK);
        if (got == 0)
            empty++;
        else
            msgs[ev[0].kind]++;
    }
    fclose(f);
    assert_int_equal(msgs[SP_EV_TRADE], 91);         /* aggTrade */
    assert_int_equal(msgs[SP_EV_DEPTH_UPDATE], 764); /* depth@100ms */
    assert_int_equal(msgs[SP_EV_KLINE], 67);         /* kline_1m */
    assert_int_equal(msgs[SP_EV_TICKER], 613);       /* bookTicker */
    assert_int_equal(empty, 0);
    assert_int_equal(sp_symtab_count(syms), 4); /* SUSHI, AKRO, KEEP, CTK */
    sp_symtab_free(syms);
}

/* Bybit capture: per-topic frame counts and the first BTCUSDT snapshot (PROVENANCE §5). */
static void test_bybit_capture(void **state)
{
    (void)state;
    /* frames per topic, counted on the raw file: every recv frame names its topic */
    FILE *f = fopen(sp_test_path("data/cryptofeed_bybit_v5_raw/BYBIT.jsonl"), "r");
    assert_non_null(f);
    static char line[1 << 20];
    size_t ob = 0, tk = 0, tr = 0, kl = 0, op = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "{\"t\":\"recv\"", 11) != 0)
            continue;
        ob += strstr(line, "{\\\"topic\\\":\\\"orderbook.") != NULL ||
              (strstr(line, "\\\"topic\\\":\\\"orderbook.") != NULL);
        tk += strstr(line, "\\\"topic\\\":\\\"tickers.") != NULL;
        tr += strstr(line, "\\\"topic\\\":\\\"publicTrade.") != NULL;
        kl += strstr(line, "\\\"topic\\\":\\\"kline.") != NULL;
        op += strstr(line, "\\\"op\\\":\\\"subscribe\\\"") != NULL;
    }
    fclose(f);
    assert_int_equal(ob, 2148);
    assert_int_equal(tk, 839);
    assert_int_equal(tr, 120);
    assert_int_equal(kl, 96);
    assert_int_equal(op, 24);

    /* every one of those frames decodes; the first linear BTCUSDT snapshot's top of book */
    keep k;
    keep_init(&k);
    assert_int_equal(decode(&k, "data/cryptofeed_bybit_v5_raw/BYBIT.jsonl"), SP_OK);
    assert_int_equal(k.rejects, 0);
    assert_int_equal(k.by_kind[SP_EV_BOOK_LEVEL], 6 * 400); /* 6 snapshots of 200 + 200 */
    uint32_t btc = name_hash("BTCUSDT");
    const sp_event *bid = NULL, *ask = NULL;
    for (size_t i = 0; i < k.n && (bid == NULL || ask == NULL); i++) {
        const sp_event *e = &k.ev[i];
        if (e->kind != SP_EV_BOOK_LEVEL || e->symbol_id != btc || e->aux[1] != 0)
            continue;
        if (e->flags & SP_EVF_SELL)
            ask = ask ? ask : e;
        else
            bid = bid ? bid : e;
    }
    assert_non_null(bid);
    assert_non_null(ask);
    /* the matching-engine time "cts" (the push "ts" is 1786310818129) */
    assert_int_equal(bid->exch_ts_ns, 1786310818027000000LL);
    assert_int_equal(bid->px, 6511420000000LL); /* 65,114.20 */
    assert_int_equal(bid->qty, 605400000LL);    /* 6.054 */
    assert_int_equal(ask->px, 6511430000000LL); /* 65,114.30 */
    assert_int_equal(ask->qty, 1048600000LL);   /* 10.486 */
    keep_fini(&k);
}

/* ---- corrupted copies ---------------------------------------------------- */

/*
 * Build two copies of src: `bad`, where every 7th line (after the first) is
 * damaged (a byte flipped to 0x01, or the line cut in half) and garbage and
 * a 1.5 MB line are inserted, and `good`, where those lines are simply
 * absent.  Decoding `bad` must give exactly the events of `good`, and one
 * reject per damaged or inserted line.
 */
static void corrupted_copy(const char *rel, const char *name, const char *format, bool stateful)
{
    size_t n;
    char *src = sp_test_slurp(rel, &n);
    size_t big = 1536 * 1024;
    char *bad = malloc(n * 2 + big + 1024), *good = malloc(n + 1);
    assert_non_null(bad);
    assert_non_null(good);
    size_t bn = 0, gn = 0, damaged = 0, lineno = 0;
    for (size_t i = 0; i < n;) {
        char *nl = memchr(src + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (src + i)) + 1 : n - i;
        const char *l = src + i;
        lineno++;
        if (lineno > 1 && lineno % 7 == 0 && len > 8 && l[0] != '#') { /* '#': comments */
            memcpy(bad + bn, l, len);
            if (lineno % 14 == 0) {
                bad[bn + len / 2] = '\x01'; /* a flipped byte */
                bn += len;
            } else {
                bn += len / 2; /* the line cut in half */
                bad[bn++] = '\n';
            }
            damaged++;
        } else {
            memcpy(bad + bn, l, len);
            bn += len;
            memcpy(good + gn, l, len);
            gn += len;
        }
        if (lineno == 100) { /* binary garbage, then a line past SP_MSG_MAX */
            static const char junk[] = "\xff\xfe\x00\x13garbage\x7f\n";
            memcpy(bad + bn, junk, sizeof(junk) - 1);
            bn += sizeof(junk) - 1;
            memset(bad + bn, 'x', big);
            bn += big;
            bad[bn++] = '\n';
            damaged += 2;
        }
        i += len;
    }
    keep kb, kg;
    keep_init(&kb);
    keep_init(&kg);
    sp_feed_sink sb = {keep_events, keep_reject, &kb}, sg = {keep_events, keep_reject, &kg};
    sp_diag d;
    assert_int_equal(sp_feed_decode_mem(good, gn, name, format, kg.syms, &sg, &d), SP_OK);
    /*
     * Stateful formats (Bybit tickers deltas need their snapshot) reject the
     * records that depended on a removed line in both copies alike.
     */
    if (!stateful)
        assert_int_equal(kg.rejects, 0);
    assert_int_equal(sp_feed_decode_mem(bad, bn, name, format, kb.syms, &sb, &d), SP_OK);
    if (kb.rejects != damaged + kg.rejects)
        fail_msg("%s: %zu rejects for %zu damaged lines + %zu (last: %s)", rel, kb.rejects, damaged,
                 kg.rejects, kb.last.msg);
    assert_true(kg.n > 1000);
    assert_int_equal(kb.n, kg.n);
    assert_memory_equal(kb.ev, kg.ev, kg.n * sizeof(sp_event));
    keep_fini(&kb);
    keep_fini(&kg);
    free(src);
    free(bad);
    free(good);
}

static void test_corrupted_binance_ws_capture(void **state)
{
    (void)state;
    corrupted_copy("data/cryptofeed_binance_futures_raw/BINANCE_FUTURES.ws.1.0.txt",
                   "BINANCE_FUTURES.ws.1.0.txt", "binance-ws-capture", false);
}

static void test_corrupted_bybit_capture(void **state)
{
    (void)state;
    corrupted_copy("data/cryptofeed_bybit_v5_raw/BYBIT.jsonl", "BYBIT.jsonl", "bybit-capture",
                   true);
}

static void test_corrupted_klines_csv(void **state)
{
    (void)state;
    corrupted_copy("data/binance_um_klines_1m/BTCUSDT-1m-2026-02-05_06.csv",
                   "BTCUSDT-1m-2026-02-05_06.csv", NULL, false);
}

static void test_corrupted_lasota_merged(void **state)
{
    (void)state;
    corrupted_copy("data/lasota_binance_l2/merged_depth_snapshot_difference_depth_stream_trade_"
                   "stream_usd_m_futures_trxusdt_14-04-2025_positive.csv",
                   "merged_depth_snapshot_difference_depth_stream_trade_stream_usd_m_futures_"
                   "trxusdt_14-04-2025_positive.csv",
                   "lasota-merged-csv", false); /* the garbage line precedes the header */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_data_file),
        cmocka_unit_test(test_summary_rows_rejected_with_reason),
        cmocka_unit_test(test_raw_funding_files),
        cmocka_unit_test(test_binance_capture_stream_counts),
        cmocka_unit_test(test_bybit_capture),
        cmocka_unit_test(test_corrupted_binance_ws_capture),
        cmocka_unit_test(test_corrupted_bybit_capture),
        cmocka_unit_test(test_corrupted_klines_csv),
        cmocka_unit_test(test_corrupted_lasota_merged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
