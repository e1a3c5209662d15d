/*
 * bench_decode.c -- the feed decoders against the library baselines
 * (docs/specs/perf-anchors.md §2 and §3).
 *
 * Part 1, JSON (§2): 10^6 generated Binance USD-M forceOrder messages and
 * 10^6 aggTrade messages (fixed seed; symbol mix, 80% SELL, per-symbol
 * decimals, E from 2026-02-06 00:00 UTC as §2 describes), loaded in
 * memory and line-indexed before timing.  Ours: sp_feed_binance_ws per
 * message (strict validation, every decimal to int64 at 1e-8).  Baseline:
 * cJSON 1.7.15 parsing the same messages, extracting the same fields, with
 * decimals converted by the same exact converter (sp_dec_parse).  A
 * checksum over all extracted fields must be equal for both.
 *
 * Part 2, CSV (§3): a 10^7-row aggTrades CSV regenerated from the §3
 * generator description (splitmix64 seed 2026, Box-Muller price walk in
 * 0.1 ticks reflected into [600000, 700000], log-normal quantities of 3
 * decimals, exponential trade counts, U(0, 17.28 ms) time steps, fair
 * maker coin) -> 1-minute OHLCV bars.  Ours: sp_feed_decode_mem with the
 * binance-aggtrades-csv format and a sink that folds events into bars
 * (int64 fixed point).  Baseline: the naive fgets + strtok_r + strtod
 * version (doubles), reading the same bytes through fmemopen.  Both print
 * the bars as text; the SHA-256 of the two texts must be equal.
 *
 * Usage: bench_decode [JSON_MSGS [CSV_ROWS]]   (defaults 1000000 10000000)
 * Floating point is allowed here (the baseline and statistics).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stampede/stampede.h"

#define NAME "bench_decode"

/* ---- deterministic generators ------------------------------------------ */

static uint64_t sm_state;

static uint64_t splitmix64(void)
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double u01(void)
{
    return (double)(splitmix64() >> 11) * 0x1.0p-53;
}

static double gauss(void)
{
    double a = u01(), b = u01();
    if (a < 1e-300)
        a = 1e-300;
    return sqrt(-2.0 * log(a)) * cos(2.0 * M_PI * b);
}

typedef struct msgs {
    char *buf;
    size_t len;
    size_t *off; /* n + 1 offsets */
    size_t n;
} msgs;

static void msgs_add(msgs *m, size_t *cap, const char *s, size_t n)
{
    while (m->len + n + 1 > *cap) {
        *cap *= 2;
        m->buf = realloc(m->buf, *cap);
    }
    memcpy(m->buf + m->len, s, n);
    m->len += n;
    m->buf[m->len++] = '\n';
}

/* §2 forceOrder mix: symbol weights, price/qty decimals, 80% SELL. */
static void gen_force(msgs *m, size_t n)
{
    static const struct {
        const char *s;
        int w;
        double px;
        int pd, qd;
    } sy[] = {
        {"BTCUSDT", 40, 64000, 1, 3},      {"ETHUSDT", 22, 1900, 2, 3}, {"SOLUSDT", 9, 80, 3, 0},
        {"XRPUSDT", 9, 1.3, 4, 1},         {"DOGEUSDT", 8, 0.09, 5, 0}, {"BNBUSDT", 6, 630, 2, 2},
        {"1000PEPEUSDT", 6, 0.0048, 7, 0},
    };
    size_t cap = n * 200 + 1024;
    m->buf = malloc(cap);
    m->len = 0;
    m->off = malloc((n + 1) * sizeof(size_t));
    m->n = n;
    sm_state = 7;
    int64_t e = 1770336000000LL; /* 2026-02-06 00:00 UTC */
    char line[512];
    for (size_t i = 0; i < n; i++) {
        int r = (int)(splitmix64() % 100), k = 0, acc = sy[0].w;
        while (r >= acc)
            acc += sy[++k].w;
        double px = sy[k].px * (1.0 + 0.02 * gauss());
        double q = exp(-1.0 + 1.2 * gauss()) * (sy[k].qd ? 1.0 : 100.0);
        double ap = px * (1.0 + 0.001 * gauss());
        const char *side = splitmix64() % 10 < 8 ? "SELL" : "BUY";
        e += (int64_t)(splitmix64() % 200);
        int len = snprintf(line, sizeof(line),
                           "{\"e\":\"forceOrder\",\"E\":%lld,\"o\":{\"s\":\"%s\",\"S\":\"%s\","
                           "\"o\":\"LIMIT\",\"f\":\"IOC\",\"q\":\"%.*f\",\"p\":\"%.*f\","
                           "\"ap\":\"%.*f\",\"X\":\"FILLED\",\"l\":\"%.*f\",\"z\":\"%.*f\","
                           "\"T\":%lld}}",
                           (long long)e, sy[k].s, side, sy[k].qd, q, sy[k].pd, px, sy[k].pd, ap,
                           sy[k].qd, q, sy[k].qd, q, (long long)e - 3);
        m->off[i] = m->len;
        msgs_add(m, &cap, line, (size_t)len);
    }
    m->off[n] = m->len;
}

/* §2 aggTrade: BTCUSDT, price random walk near 64,000, 3-decimal quantities. */
static void gen_agg(msgs *m, size_t n)
{
    size_t cap = n * 160 + 1024;
    m->buf = malloc(cap);
    m->len = 0;
    m->off = malloc((n + 1) * sizeof(size_t));
    m->n = n;
    sm_state = 8;
    int64_t t = 1770336000000LL, id = 2800000000LL, tid = 6900000000LL;
    double px = 64000.0;
    char line[512];
    for (size_t i = 0; i < n; i++) {
        px += 0.5 * gauss();
        double q = exp(-4.6 + 1.6 * gauss());
        if (q < 0.001)
            q = 0.001;
        int cnt = 1 + (int)(splitmix64() % 4);
        t += (int64_t)(splitmix64() % 20);
        int len =
            snprintf(line, sizeof(line),
                     "{\"e\":\"aggTrade\",\"E\":%lld,\"a\":%lld,\"s\":\"BTCUSDT\","
                     "\"p\":\"%.1f\",\"q\":\"%.3f\",\"f\":%lld,\"l\":%lld,\"T\":%lld,"
                     "\"m\":%s}",
                     (long long)t + 2, (long long)id++, px, q, (long long)tid,
                     (long long)(tid + cnt - 1), (long long)t, splitmix64() & 1 ? "true" : "false");
        tid += cnt;
        m->off[i] = m->len;
        msgs_add(m, &cap, line, (size_t)len);
    }
    m->off[n] = m->len;
}

/* ---- JSON: ours and cJSON ---------------------------------------------- */

static uint64_t mix(uint64_t h, int64_t v)
{
    return (h ^ (uint64_t)v) * 0x100000001b3ULL;
}

static uint64_t run_ours(const msgs *m, sp_symtab *syms)
{
    sp_event ev[4];
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < m->n; i++) {
        size_t got;
        sp_diag d;
        const char *p = m->buf + m->off[i];
        size_t n = m->off[i + 1] - m->off[i] - 1;
        if (sp_feed_binance_ws(p, n, 0, syms, ev, 4, &got, &d) != SP_OK || got != 1) {
            fprintf(stderr, NAME ": decode failed on message %zu: %s\n", i, d.msg);
            exit(1);
        }
        const sp_event *e = &ev[0];
        h = mix(h, e->px);
        h = mix(h, e->qty);
        h = mix(h, e->exch_ts_ns / 1000000);
        h = mix(h, (e->flags & SP_EVF_SELL) ? 1 : 0);
        if (e->kind == SP_EV_LIQUIDATION) {
            h = mix(h, e->aux[0]);
            h = mix(h, e->aux[1]);
        } else {
            h = mix(h, e->aux[0]);
            h = mix(h, e->aux[1]);
            h = mix(h, e->aux[2]);
        }
    }
    return h;
}

static int64_t cj_dec(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    int64_t x = 0;
    if (!cJSON_IsString(v) || sp_dec_parse(v->valuestring, strlen(v->valuestring), 8, &x, NULL))
        exit(1);
    return x;
}

static int64_t cj_int(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v))
        exit(1);
    return (int64_t)v->valuedouble; /* exact below 2^53: ms times and these ids */
}

static uint64_t run_cjson(const msgs *m, int force)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < m->n; i++) {
        const char *p = m->buf + m->off[i];
        size_t n = m->off[i + 1] - m->off[i] - 1;
        cJSON *root = cJSON_ParseWithLength(p, n);
        if (root == NULL)
            exit(1);
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(root, "e");
        if (!cJSON_IsString(ty))
            exit(1);
        if (force) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "o");
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "S");
            const cJSON *sym = cJSON_GetObjectItemCaseSensitive(o, "s");
            if (strcmp(ty->valuestring, "forceOrder") != 0 || !cJSON_IsString(s) ||
                !cJSON_IsString(sym))
                exit(1);
            h = mix(h, cj_dec(o, "p"));
            h = mix(h, cj_dec(o, "q"));
            h = mix(h, cj_int(o, "T"));
            h = mix(h, strcmp(s->valuestring, "SELL") == 0);
            h = mix(h, cj_dec(o, "ap"));
            h = mix(h, cj_dec(o, "z"));
            bench_sink((uint64_t)cj_dec(o, "l") + (uint64_t)cj_int(root, "E"));
        } else {
            const cJSON *mk = cJSON_GetObjectItemCaseSensitive(root, "m");
            if (strcmp(ty->valuestring, "aggTrade") != 0 || !cJSON_IsBool(mk))
                exit(1);
            h = mix(h, cj_dec(root, "p"));
            h = mix(h, cj_dec(root, "q"));
            h = mix(h, cj_int(root, "T"));
            h = mix(h, cJSON_IsTrue(mk));
            h = mix(h, cj_int(root, "a"));
            h = mix(h, cj_int(root, "f"));
            h = mix(h, cj_int(root, "l"));
            bench_sink((uint64_t)cj_int(root, "E"));
        }
        cJSON_Delete(root);
    }
    return h;
}

static void json_part(size_t n)
{
    msgs mf, ma;
    gen_force(&mf, n);
    gen_agg(&ma, n);
    bench_setup(NAME, "JSON: %zu forceOrder (%.1f B/msg) + %zu aggTrade (%.1f B/msg), seeds 7/8", n,
                (double)mf.len / (double)n, n, (double)ma.len / (double)n);
    sp_symtab *syms;
    if (sp_symtab_new(&syms) != SP_OK)
        exit(1);
    const struct {
        const char *what;
        msgs *m;
        int force;
    } parts[] = {{"forceOrder", &mf, 1}, {"aggTrade", &ma, 0}};
    for (int p = 0; p < 2; p++) {
        double so[BENCH_RUNS], sc[BENCH_RUNS];
        uint64_t ho = 0, hc = 0;
        for (int r = 0; r < BENCH_RUNS; r++) {
            double t0 = bench_now();
            ho = run_ours(parts[p].m, syms);
            double t1 = bench_now();
            hc = run_cjson(parts[p].m, parts[p].force);
            double t2 = bench_now();
            so[r] = t1 - t0;
            sc[r] = t2 - t1;
        }
        char what[96];
        bench_stats o = bench_stats_of(so, BENCH_RUNS), c = bench_stats_of(sc, BENCH_RUNS);
        snprintf(what, sizeof(what), "%s sp_feed_binance_ws", parts[p].what);
        bench_line(NAME, what, o, (double)n, "msg");
        printf("%s: %s: %.0f MB/s\n", NAME, what, (double)parts[p].m->len / o.median / 1e6);
        snprintf(what, sizeof(what), "%s cJSON baseline", parts[p].what);
        bench_line(NAME, what, c, (double)n, "msg");
        printf("%s: %s: %.0f MB/s\n", NAME, what, (double)parts[p].m->len / c.median / 1e6);
        bench_ratio(NAME, parts[p].what, o, c);
        printf("%s: %s checksum ours %016llx cJSON %016llx: %s\n", NAME, parts[p].what,
               (unsigned long long)ho, (unsigned long long)hc, ho == hc ? "equal" : "DIFFERENT");
        if (ho != hc)
            exit(1);
    }
    sp_symtab_free(syms);
    free(mf.buf);
    free(mf.off);
    free(ma.buf);
    free(ma.off);
}

/* ---- CSV: aggTrades -> 1-minute bars ------------------------------------ */

static char *gen_csv(size_t rows, size_t *len)
{
    size_t cap = rows * 70 + 256;
    char *b = malloc(cap);
    size_t n =
        (size_t)snprintf(b, cap,
                         "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
                         "is_buyer_maker\n");
    sm_state = 2026;
    int64_t ticks = 650000, id = 3000000000LL, tid = 6000000000LL;
    double t = 0.0;
    const int64_t t0 = 1770336000000LL;
    for (size_t i = 0; i < rows; i++) {
        ticks += llround(15.0 * gauss());
        while (ticks < 600000 || ticks > 700000)
            ticks = ticks < 600000 ? 1200000 - ticks : 1400000 - ticks;
        double q = exp(-4.6 + 1.6 * gauss());
        q = q < 0.001 ? 0.001 : q > 5.0 ? 5.0 : q;
        int cnt = 1 + (int)floor(-1.5 * log(1.0 - u01()));
        t += u01() * 2.0 * 8.64;
        int maker = u01() < 0.5;
        if (cap - n < 128) {
            cap *= 2;
            b = realloc(b, cap);
        }
        n += (size_t)snprintf(b + n, cap - n, "%lld,%lld.%lld,%.3f,%lld,%lld,%lld,%s\n",
                              (long long)id++, (long long)(ticks / 10), (long long)(ticks % 10), q,
                              (long long)tid, (long long)(tid + cnt - 1),
                              (long long)(t0 + (int64_t)t), maker ? "true" : "false");
        tid += cnt;
    }
    *len = n;
    return b;
}

#define BARS 1440

typedef struct bars {
    int64_t o[BARS], h[BARS], l[BARS], c[BARS], v[BARS], n[BARS];
    int64_t t0;
    uint64_t bad;
} bars;

static sp_err bars_events(void *ctx, const sp_event *ev, size_t n)
{
    bars *b = ctx;
    for (size_t i = 0; i < n; i++) {
        int64_t m = (ev[i].exch_ts_ns / 1000000 - b->t0) / 60000;
        if (m < 0 || m >= BARS) {
            b->bad++;
            continue;
        }
        int64_t px = ev[i].px;
        if (b->n[m]++ == 0) {
            b->o[m] = b->h[m] = b->l[m] = px;
        } else {
            b->h[m] = px > b->h[m] ? px : b->h[m];
            b->l[m] = px < b->l[m] ? px : b->l[m];
        }
        b->c[m] = px;
        b->v[m] += ev[i].qty;
    }
    return SP_OK;
}

static void bars_reject(void *ctx, const sp_diag *why)
{
    (void)why;
    ((bars *)ctx)->bad++;
}

/* The bars as text: minute,open,high,low,close,volume,n (prices 1 place, volume 3). */
static void bars_sha(const bars *b, char *hex)
{
    struct sha256_ctx c;
    sha256_init(&c);
    char line[256];
    for (int m = 0; m < BARS; m++) {
        if (b->n[m] == 0)
            continue;
        int len = snprintf(line, sizeof(line),
                           "%lld,%lld.%lld,%lld.%lld,%lld.%lld,%lld.%lld,"
                           "%lld.%03lld,%lld\n",
                           (long long)(b->t0 + m * 60000LL), (long long)(b->o[m] / 100000000),
                           (long long)(b->o[m] / 10000000 % 10), (long long)(b->h[m] / 100000000),
                           (long long)(b->h[m] / 10000000 % 10), (long long)(b->l[m] / 100000000),
                           (long long)(b->l[m] / 10000000 % 10), (long long)(b->c[m] / 100000000),
                           (long long)(b->c[m] / 10000000 % 10), (long long)(b->v[m] / 100000000),
                           (long long)(b->v[m] / 100000 % 1000), (long long)b->n[m]);
        sha256_update(&c, (size_t)len, (const uint8_t *)line);
    }
    uint8_t md[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof(md), md);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void csv_ours(const char *buf, size_t len, bars *b)
{
    sp_symtab *syms;
    if (sp_symtab_new(&syms) != SP_OK)
        exit(1);
    sp_feed_sink s = {bars_events, bars_reject, b};
    sp_diag d;
    if (sp_feed_decode_mem(buf, len, "BTCUSDT-aggTrades-2026-02-06.csv", "binance-aggtrades-csv",
                           syms, &s, &d) != SP_OK)
        exit(1);
    sp_symtab_free(syms);
}

/* The naive version: fgets, strtok_r, strtod / strtoll, doubles. */
static void csv_naive(const char *buf, size_t len, bars *b)
{
    FILE *f = fmemopen((void *)buf, len, "r");
    char line[512];
    double o[BARS], h[BARS], l[BARS], c[BARS], v[BARS];
    if (fgets(line, sizeof(line), f) == NULL) /* header */
        exit(1);
    while (fgets(line, sizeof(line), f)) {
        char *save, *tok = strtok_r(line, ",", &save);
        int col = 0;
        double px = 0, q = 0;
        long long ts = 0;
        while (tok) {
            if (col == 1)
                px = strtod(tok, NULL);
            else if (col == 2)
                q = strtod(tok, NULL);
            else if (col == 5)
                ts = strtoll(tok, NULL, 10);
            tok = strtok_r(NULL, ",", &save);
            col++;
        }
        long long m = (ts - b->t0) / 60000;
        if (col != 7 || m < 0 || m >= BARS) {
            b->bad++;
            continue;
        }
        if (b->n[m]++ == 0) {
            o[m] = h[m] = l[m] = px;
            v[m] = 0;
        } else {
            h[m] = px > h[m] ? px : h[m];
            l[m] = px < l[m] ? px : l[m];
        }
        c[m] = px;
        v[m] += q;
    }
    fclose(f);
    for (int m = 0; m < BARS; m++) { /* back to the same fixed point for printing */
        if (b->n[m] == 0)
            continue;
        b->o[m] = llround(o[m] * 1e8);
        b->h[m] = llround(h[m] * 1e8);
        b->l[m] = llround(l[m] * 1e8);
        b->c[m] = llround(c[m] * 1e8);
        b->v[m] = llround(v[m] * 1e3) * 100000;
    }
}

static void csv_part(size_t rows)
{
    size_t len;
    double g0 = bench_now();
    char *buf = gen_csv(rows, &len);
    double g1 = bench_now();
    bench_setup(NAME,
                "CSV: %zu aggTrades rows, %zu bytes (%.1f B/row), generated in %.2f s "
                "(splitmix64 seed 2026)",
                rows, len, (double)len / (double)rows, g1 - g0);
    double so[BENCH_RUNS], sn[BENCH_RUNS];
    static bars bo, bn;
    char ho[65], hn[65];
    for (int r = 0; r < BENCH_RUNS; r++) {
        memset(&bo, 0, sizeof(bo));
        memset(&bn, 0, sizeof(bn));
        bo.t0 = bn.t0 = 1770336000000LL;
        double t0 = bench_now();
        csv_ours(buf, len, &bo);
        double t1 = bench_now();
        csv_naive(buf, len, &bn);
        double t2 = bench_now();
        so[r] = t1 - t0;
        sn[r] = t2 - t1;
    }
    bench_stats o = bench_stats_of(so, BENCH_RUNS), n = bench_stats_of(sn, BENCH_RUNS);
    bench_line(NAME, "aggTrades->1m OHLCV sp_feed_decode_mem", o, (double)rows, "row");
    bench_line(NAME, "aggTrades->1m OHLCV naive fgets/strtod", n, (double)rows, "row");
    bench_ratio(NAME, "aggTrades->1m OHLCV", o, n);
    bars_sha(&bo, ho);
    bars_sha(&bn, hn);
    uint64_t cnt = 0;
    for (int m = 0; m < BARS; m++)
        cnt += (uint64_t)bo.n[m];
    printf("%s: bars sha256 ours %s naive %s: %s; rows in bars %llu, rejected %llu\n", NAME, ho, hn,
           strcmp(ho, hn) == 0 ? "equal" : "DIFFERENT", (unsigned long long)cnt,
           (unsigned long long)bo.bad);
    if (strcmp(ho, hn) != 0 || cnt != rows || bo.bad != 0)
        exit(1);
    free(buf);
}

int main(int argc, char **argv)
{
    bench_help("bench_decode",
               "[JSON_MESSAGES (default 1000000)] [CSV_ROWS (default 10000000)]; 0 skips a part",
               argc, argv);
    size_t jn = (size_t)bench_arg_count("bench_decode", argc, argv, 1, 1000000, 0, 100000000);
    size_t cn = (size_t)bench_arg_count("bench_decode", argc, argv, 2, 10000000, 0, 1000000000);
    if (jn > 0)
        json_part(jn);
    if (cn > 0)
        csv_part(cn);
    return 0;
}
