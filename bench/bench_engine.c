/*
 * bench_engine.c -- the exchange core at 10^6 accounts.
 *
 * Setup (fixed seed 20260206): N trader accounts (default 10^6), 60%
 * isolated / 40% cross, leverage 5x-50x, deposits 200-5,000 USDT; pairs
 * of traders open opposite positions (0.001-0.1 BTC at 62,500 +- 2%);
 * 40 market makers rest a ladder of bids and asks every 10 USDT from
 * 50,000 to 75,000, so liquidation orders find liquidity.  BTCUSDT with
 * the Binance 2024-10-24 brackets (docs/specs/exchange-rules.md §2.3).
 *
 * Measured:
 *   1. order commands/s while opening the positions (N orders + ladder);
 *   2. the mark-price update with liquidation scan, on two engines built
 *      from the same commands: the liquidation-price index (heaps keyed by
 *      liquidation price: cost proportional to the positions crossed) and
 *      the naive full scan (every position checked exactly), same mark
 *      walk (M updates, 62,500 down to ~55,000 and back): per-update cost,
 *      ratio, positions crossed, exact checks;
 *   3. the index engine alone on 20,000 more small mark moves mixed with
 *      random orders: commands/s and mark-update latency p50/p99/p99.9.
 * Correctness: both engines must end with the same state hash and the
 * same liquidation count, and sp_engine_check must pass on the index one.
 * Usage: bench_engine [accounts] [mark updates compared] [index-only]
 * (index-only skips the naive engine, for profiling).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stampede/engine.h"
#include "stampede/rng.h"

#define NAME "bench_engine"
#define E8   INT64_C(100000000)
#define NMM  40

static sp_instrument g_in;
static sp_tier_table g_tiers;

static void make_instrument(void)
{
    memset(&g_in, 0, sizeof(g_in));
    g_in.venue = SP_VENUE_BINANCE_UM;
    snprintf(g_in.symbol, sizeof(g_in.symbol), "BTCUSDT");
    snprintf(g_in.settle, sizeof(g_in.settle), "USDT");
    g_in.contract = SP_CONTRACT_LINEAR;
    g_in.ct_val = E8;
    g_in.tick = E8 / 10;
    g_in.lot = E8 / 1000;
    g_in.maker_fee = 20000; /* 0.02% */
    g_in.taker_fee = 50000; /* 0.05% */
    g_in.liq_fee = 1250000; /* 1.25% */
    g_in.funding_interval_h = 8;
    g_in.liq_round = SP_PXRND_HALF_UP;
    g_in.liq_round_step = E8 / 100;
    /* spec §2.3, BTCUSDT 2024-10-24, all 12 brackets */
    static const int64_t caps[12] = {50000,     600000,    3000000,    12000000,
                                     70000000,  100000000, 230000000,  480000000,
                                     600000000, 800000000, 1200000000, 1800000000};
    static const int64_t mmr_bp100[12] = {40,  50,   65,   100,  200,  250,
                                          500, 1000, 1250, 1500, 2500, 5000};
    static const int32_t lev[12] = {125, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1};
    memset(&g_tiers, 0, sizeof(g_tiers));
    g_tiers.venue = SP_VENUE_BINANCE_UM;
    snprintf(g_tiers.symbol, sizeof(g_tiers.symbol), "BTCUSDT");
    g_tiers.kind = SP_TIER_BRACKET;
    g_tiers.verified = true;
    g_tiers.n = 12;
    int64_t cum = 0, floor = 0, prev = 0;
    for (int i = 0; i < 12; i++) {
        int64_t mmr = mmr_bp100[i] * 10000; /* 0.40% = 40 -> 400000 at scale 8 */
        cum += floor * (mmr - prev) / E8;   /* cum_n = floor_n x (mmr_n - mmr_n-1) + cum_n-1 */
        g_tiers.tier[i] = (sp_tier){floor * E8, caps[i] * E8, mmr, cum * E8, 0, lev[i]};
        prev = mmr;
        floor = caps[i];
    }
}

typedef struct world {
    sp_engine_cmd *setup;
    size_t nsetup;
    int64_t *marks;
    size_t nmarks;
} world;

static int64_t tick_round(int64_t px)
{
    return px - px % (E8 / 10);
}

static void build_world(world *w, uint32_t naccts, size_t nmarks)
{
    sp_rng r;
    sp_rng_seed(&r, 20260206);
    size_t cap = (size_t)naccts * 4 + NMM * 6000 + 16;
    w->setup = calloc(cap, sizeof(*w->setup));
    size_t k = 0;
    uint64_t id = 1;
    for (uint32_t m = 1; m <= NMM; m++) {
        w->setup[k++] = (sp_engine_cmd){
            .kind = SP_CMD_DEPOSIT, .account = m, .amount = INT64_C(1000000000) * E8};
        w->setup[k++] = (sp_engine_cmd){.kind = SP_CMD_LEVERAGE, .account = m, .leverage = 5};
    }
    /* ladder: maker m quotes every 10 USDT level l with l % NMM == m - 1 */
    for (int64_t px = 50000; px <= 75000; px += 10) {
        uint32_t m = (uint32_t)(1 + (px / 10) % NMM);
        w->setup[k++] = (sp_engine_cmd){.kind = SP_CMD_ORDER,
                                        .account = m,
                                        .order_id = id++,
                                        .side = px < 62500 ? SP_BUY : SP_SELL,
                                        .type = SP_ORD_LIMIT,
                                        .px = px * E8,
                                        .qty = 100 * E8};
    }
    for (uint32_t a = NMM + 1; a <= NMM + naccts; a++) {
        w->setup[k++] = (sp_engine_cmd){.kind = SP_CMD_DEPOSIT,
                                        .account = a,
                                        .amount = (int64_t)(200 + sp_rng_below(&r, 4800)) * E8};
        if (sp_rng_below(&r, 10) < 6)
            w->setup[k++] = (sp_engine_cmd){
                .kind = SP_CMD_MARGIN_MODE, .account = a, .margin_mode = SP_MARGIN_ISOLATED};
        w->setup[k++] = (sp_engine_cmd){
            .kind = SP_CMD_LEVERAGE, .account = a, .leverage = (int64_t)(5 + sp_rng_below(&r, 46))};
    }
    for (uint32_t a = NMM + 1; a + 1 <= NMM + naccts; a += 2) {
        int64_t qty = (int64_t)(1 + sp_rng_below(&r, 100)) * (E8 / 1000);
        bool long_first = sp_rng_below(&r, 2) != 0;
        /* inside the ladder's spread (bid 62,490, ask 62,500): the first rests, the second
         * takes it */
        int64_t px = 62490 * E8 + (int64_t)(1 + sp_rng_below(&r, 99)) * (E8 / 10);
        w->setup[k++] = (sp_engine_cmd){.kind = SP_CMD_ORDER,
                                        .account = a,
                                        .order_id = id++,
                                        .side = long_first ? SP_BUY : SP_SELL,
                                        .type = SP_ORD_LIMIT,
                                        .px = px,
                                        .qty = qty};
        w->setup[k++] = (sp_engine_cmd){.kind = SP_CMD_ORDER,
                                        .account = a + 1,
                                        .order_id = id++,
                                        .side = long_first ? SP_SELL : SP_BUY,
                                        .type = SP_ORD_LIMIT,
                                        .px = px,
                                        .qty = qty};
    }
    w->nsetup = k;
    /* the walk: down to ~55,000 in uneven steps, then back up */
    w->marks = calloc(nmarks, sizeof(*w->marks));
    w->nmarks = nmarks;
    int64_t px = 62500 * E8;
    for (size_t i = 0; i < nmarks; i++) {
        int64_t step =
            (int64_t)(20 + sp_rng_below(&r, 60)) * (62500 * E8 / 10000) / 10; /* 0.02-0.08% */
        px += i < nmarks * 3 / 4 ? -step * 3 : step * 3;
        w->marks[i] = tick_round(px);
    }
}

static sp_engine *make_engine(uint32_t naccts, bool naive)
{
    sp_engine_config c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_accounts = naccts + NMM;
    c.max_positions = naccts + NMM + 16;
    c.max_orders = 1u << 17;
    c.naive_scan = naive;
    sp_engine *e;
    if (sp_engine_new(&c, NULL, &e) != SP_OK ||
        sp_engine_add_instrument(e, &g_in, &g_tiers, 1, NULL) != SP_OK) {
        fprintf(stderr, NAME ": cannot build the engine\n");
        exit(1);
    }
    return e;
}

static uint64_t run_setup(sp_engine *e, const world *w, double *secs, uint64_t *orders)
{
    uint64_t rejected = 0;
    *orders = 0;
    double t0 = bench_now();
    for (size_t i = 0; i < w->nsetup; i++) {
        sp_engine_result res;
        if (sp_engine_submit(e, &w->setup[i], &res) != SP_OK) {
            fprintf(stderr, NAME ": setup command %zu failed\n", i);
            exit(1);
        }
        rejected += res.code != 0;
        *orders += w->setup[i].kind == SP_CMD_ORDER;
    }
    *secs = bench_now() - t0;
    return rejected;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    bench_help(NAME, "[TRADERS (default 1000000)] [MARKS (default 40)] [index-only]", argc, argv);
    uint32_t naccts = (uint32_t)bench_arg_count(NAME, argc, argv, 1, 1000000, 1, 100000000);
    size_t nmarks = (size_t)bench_arg_count(NAME, argc, argv, 2, 40, 1, 1000000);
    if (argc > 3 && strcmp(argv[3], "index-only") != 0) {
        fprintf(stderr, NAME ": argument 3: '%s' is not index-only (--help)\n", argv[3]);
        return 2;
    }
    make_instrument();
    world w;
    build_world(&w, naccts, nmarks);
    bench_setup(NAME,
                "%u traders (60%% isolated, 5-50x), %d makers (ladder 50,000-75,000 every 10, 100 "
                "BTC each), "
                "BTCUSDT Binance brackets 2024-10-24, %zu setup commands, %zu mark updates "
                "compared, seed 20260206",
                naccts, NMM, w.nsetup, nmarks);
    double ts[2];
    uint64_t orders;
    /* "index-only" as a third argument skips the naive engine (for profiling) */
    bool naive_too = argc <= 3;
    sp_engine *ix = make_engine(naccts, false), *nv = make_engine(naccts, true);
    uint64_t rej = run_setup(ix, &w, &ts[0], &orders);
    ts[1] = 0;
    if (naive_too)
        run_setup(nv, &w, &ts[1], &orders);
    printf(NAME ": setup: %llu order commands, %llu rejected; %.0f orders/s (index engine %.2f s, "
                "naive engine %.2f s for all %zu commands)\n",
           (unsigned long long)orders, (unsigned long long)rej, (double)orders / ts[0], ts[0],
           ts[1], w.nsetup);
    /* phase 2: the same mark walk on both */
    double *ti = calloc(nmarks, sizeof(double)), *tn = calloc(nmarks, sizeof(double));
    sp_engine_stats s0i, s0n, s1i, s1n;
    sp_engine_get_stats(ix, &s0i);
    sp_engine_get_stats(nv, &s0n);
    /* each engine runs the whole walk on its own, so one does not evict the other's caches */
    for (size_t i = 0; i < nmarks; i++) {
        sp_engine_cmd c = {.kind = SP_CMD_MARK, .px = w.marks[i]};
        double t0 = bench_now();
        sp_engine_submit(ix, &c, NULL);
        ti[i] = bench_now() - t0;
    }
    for (size_t i = 0; naive_too && i < nmarks; i++) {
        sp_engine_cmd c = {.kind = SP_CMD_MARK, .px = w.marks[i]};
        double t0 = bench_now();
        sp_engine_submit(nv, &c, NULL);
        tn[i] = bench_now() - t0;
    }
    sp_engine_get_stats(ix, &s1i);
    sp_engine_get_stats(nv, &s1n);
    uint64_t hi = sp_engine_state_hash(ix), hn = naive_too ? sp_engine_state_hash(nv) : hi;
    uint64_t liq = s1i.liquidations - s0i.liquidations;
    double toti = 0, totn = 0;
    for (size_t i = 0; i < nmarks; i++) {
        toti += ti[i];
        totn += tn[i];
    }
    qsort(ti, nmarks, sizeof(double), cmp_d);
    qsort(tn, nmarks, sizeof(double), cmp_d);
    printf(NAME ": mark walk 62500 -> %.0f -> %.0f: %llu accounts liquidated (%llu partial, %llu "
                "ADL), exact margin checks: index %llu, naive %llu\n",
           (double)w.marks[nmarks * 3 / 4 - 1] / 1e8, (double)w.marks[nmarks - 1] / 1e8,
           (unsigned long long)liq, (unsigned long long)(s1i.partials - s0i.partials),
           (unsigned long long)(s1i.adl - s0i.adl),
           (unsigned long long)(s1i.liq_checks - s0i.liq_checks),
           (unsigned long long)(s1n.liq_checks - s0n.liq_checks));
    printf(NAME
           ": mark update, liquidation-price index: walk total %.4f s, per update median "
           "%.1f us (min %.1f, max %.1f), %.2f us per liquidated account (liquidation included)\n",
           toti, ti[nmarks / 2] * 1e6, ti[0] * 1e6, ti[nmarks - 1] * 1e6,
           liq ? toti / (double)liq * 1e6 : 0.0);
    printf(NAME ": mark update, naive full scan: walk total %.4f s, per update median %.1f us "
                "(min %.1f, max %.1f)\n",
           totn, tn[nmarks / 2] * 1e6, tn[0] * 1e6, tn[nmarks - 1] * 1e6);
    printf(NAME ": ratio naive / index: walk total %.1fx, median update %.1fx\n", totn / toti,
           tn[nmarks / 2] / ti[nmarks / 2]);
    sp_engine_free(nv);
    /* phase 3: small moves + random orders on the index engine */
    sp_rng r;
    sp_rng_seed(&r, 7);
    enum { N3 = 20000 };
    double *lat = calloc(N3, sizeof(double));
    size_t nl = 0;
    int64_t px = w.marks[nmarks - 1];
    uint64_t id = UINT64_C(1) << 40;
    double t0 = bench_now();
    for (int i = 0; i < N3 * 2; i++) {
        sp_engine_cmd c;
        memset(&c, 0, sizeof(c));
        if (i % 2 == 0) {
            px += ((int64_t)sp_rng_below(&r, 21) - 10) * (E8 / 10) * 20;
            c.kind = SP_CMD_MARK;
            c.px = tick_round(px);
            double a = bench_now();
            sp_engine_submit(ix, &c, NULL);
            lat[nl++] = bench_now() - a;
        } else {
            c.kind = SP_CMD_ORDER;
            c.account = NMM + 1 + (uint32_t)sp_rng_below(&r, naccts);
            c.order_id = id++;
            c.side = (uint8_t)sp_rng_below(&r, 2);
            c.type = SP_ORD_LIMIT;
            c.tif = SP_TIF_IOC;
            c.px = tick_round(px + ((int64_t)sp_rng_below(&r, 200) - 100) * E8);
            c.qty = (int64_t)(1 + sp_rng_below(&r, 20)) * (E8 / 1000);
            sp_engine_submit(ix, &c, NULL);
        }
    }
    double t3 = bench_now() - t0;
    sp_engine_stats s3;
    sp_engine_get_stats(ix, &s3);
    qsort(lat, nl, sizeof(double), cmp_d);
    printf(NAME ": mixed %d commands (mark moves up to +-0.3%% and IOC orders): %.0f commands/s; "
                "mark update latency p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns\n",
           N3 * 2, N3 * 2 / t3, lat[nl / 2] * 1e9, lat[nl * 99 / 100] * 1e9,
           lat[nl * 999 / 1000] * 1e9);
    printf(NAME ": mixed phase: %llu liquidations, %llu ADL closes\n",
           (unsigned long long)(s3.liquidations - s1i.liquidations),
           (unsigned long long)(s3.adl - s1i.adl));
    sp_diag d;
    sp_diag_clear(&d);
    sp_err ck = sp_engine_check(ix, &d);
    printf(NAME ": correctness: state hash index %016llx naive %016llx (%s), invariants %s\n",
           (unsigned long long)hi, (unsigned long long)hn, hi == hn ? "equal" : "DIFFER",
           ck == SP_OK ? "hold" : d.msg);
    bench_sink(sp_engine_state_hash(ix));
    sp_engine_free(ix);
    free(ti);
    free(tn);
    free(lat);
    free(w.setup);
    free(w.marks);
    return hi == hn && ck == SP_OK ? 0 : 1;
}
