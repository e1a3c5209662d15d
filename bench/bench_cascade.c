/*
 * bench_cascade.c -- the cascade simulator at scale (issue 9 §8).
 *
 * Setup: 10^6 positions on Binance BTCUSDT (open interest 8e9 USDT, half
 * long, the default leverage mix, entries from the 30 days of shipped spot
 * 4h klines before 2026-02-05, seed 7), the shipped Bybit BTCUSDT snapshot
 * plus square-root depth of 5e7 USDT within 1%, start 73,136.0.
 *
 * 1. One shock, fast mode (sorted triggers, one pass + book walks), against
 *    the naive loop that rescans all positions after each wave, on the
 *    same inputs in the same process: -8% with the full book, and -8% with
 *    80% of the depth withdrawn (more waves, the naive loop's worst case).
 *    The two results must be identical (memcmp), and are hashed.
 * 2. Monte Carlo: K scenarios (default 100; argv[1] overrides) x 10^6
 *    positions on 2 threads and on 1, the default scenario distribution,
 *    with the 10^3 figure extrapolated linearly when K < 1000.  The
 *    summary hash must not depend on the thread count.
 * Population generation and market build are timed once (setup, not the
 * target).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stampede/stampede.h"

#define NAME "bench_cascade"
#define NPOS 1000000

static uint64_t hash_result(const sp_sim_result *r)
{
    const unsigned char *p = (const unsigned char *)r;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < sizeof(*r); i++)
        h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static void die(const char *what, const sp_diag *d)
{
    fprintf(stderr, "%s: %s: %s\n", NAME, what, d->msg);
    exit(1);
}

static void one_shock(const char *label, const sp_sim_pop *p, const sp_sim_market *m,
                      const sp_sim_shock *s)
{
    double tf[BENCH_RUNS], tn[BENCH_RUNS];
    sp_sim_result rf, rn;
    sp_diag d;
    for (int i = 0; i < BENCH_RUNS; i++) { /* interleaved: fast, naive, fast, ... */
        double t0 = bench_now();
        if (sp_sim_run(p, m, s, NULL, 0, &rf, &d) != SP_OK)
            die("fast run", &d);
        double t1 = bench_now();
        if (sp_sim_run_naive(p, m, s, NULL, 0, &rn, &d) != SP_OK)
            die("naive run", &d);
        double t2 = bench_now();
        tf[i] = t1 - t0;
        tn[i] = t2 - t1;
    }
    if (memcmp(&rf, &rn, sizeof(rf)) != 0) {
        fprintf(stderr, "%s: %s: fast and naive results differ\n", NAME, label);
        exit(1);
    }
    bench_stats sf = bench_stats_of(tf, BENCH_RUNS), sn = bench_stats_of(tn, BENCH_RUNS);
    char what[160];
    snprintf(what, sizeof(what), "%s fast (%u waves, %llu liquidated)", label, rf.waves,
             (unsigned long long)rf.n_liq);
    bench_line(NAME, what, sf, NPOS, "positions");
    snprintf(what, sizeof(what), "%s naive rescan", label);
    bench_line(NAME, what, sn, NPOS, "positions");
    snprintf(what, sizeof(what), "%s fast vs naive", label);
    bench_ratio(NAME, what, sf, sn);
    printf("%s: %s result hash %016llx (fast == naive)\n", NAME, label,
           (unsigned long long)hash_result(&rf));
}

int main(int argc, char **argv)
{
    bench_help(NAME, "[SCENARIOS (default 100)]", argc, argv);
    uint32_t k = (uint32_t)bench_arg_count(NAME, argc, argv, 1, 100, 1, 1000000);
    sp_diag d;
    sp_diag_clear(&d);
    sp_sim_bar *bars;
    size_t nbars;
    sp_sim_level *bids, *asks;
    size_t nb, na;
    const int64_t at_ms = 1770249600000LL; /* 2026-02-05T00:00Z */
    if (sp_sim_load_bars(SP_SOURCE_DIR "/data/binance_spot_klines/BTCUSDT_4h.csv",
                         at_ms - 30 * 86400000LL, at_ms, &bars, &nbars, &d) != SP_OK)
        die("klines", &d);
    if (sp_sim_load_snapshot(SP_SOURCE_DIR "/data/cryptofeed_bybit_v5_raw/BYBIT.jsonl", "BTCUSDT",
                             &bids, &nb, &asks, &na, &d) != SP_OK)
        die("snapshot", &d);
    const int64_t start = 7313600000000LL;
    bench_setup(NAME,
                "%d positions, OI 8e9 USDT, 50%% long, default leverage mix, %zu entry bars, "
                "seed 7; Bybit snapshot %zu+%zu levels + sqrt depth 5e7 USDT/1%%, start 73136.0; "
                "%d runs each, interleaved",
                NPOS, nbars, nb, na, BENCH_RUNS);
    sp_sim_pop_cfg c = sp_sim_pop_cfg_default();
    c.n = NPOS;
    c.oi_usd = 8000000000LL * 100000000LL;
    c.bars = bars;
    c.nbars = nbars;
    c.mark_px = start;
    c.seed = 7;
    double t0 = bench_now();
    sp_sim_pop *pops[3] = {NULL, NULL, NULL};
    if (sp_sim_pop_generate(&c, &pops[0], &d) != SP_OK)
        die("population", &d);
    double t1 = bench_now();
    sp_sim_market_cfg mc = sp_sim_market_cfg_default();
    mc.mid_px = start;
    mc.bids = bids;
    mc.nbids = nb;
    mc.asks = asks;
    mc.nasks = na;
    sp_sim_market *m = NULL;
    if (sp_sim_market_new(&mc, &m, &d) != SP_OK)
        die("market", &d);
    double t2 = bench_now();
    sp_sim_pop_info pi;
    sp_sim_pop_info_get(pops[0], &pi);
    printf("%s: setup: population %.3f s (generation, exact liquidation prices, sort), "
           "market %.4f s; population hash %016llx\n",
           NAME, t1 - t0, t2 - t1, (unsigned long long)pi.hash);

    sp_sim_shock s = sp_sim_shock_default();
    one_shock("shock -8%", pops[0], m, &s);
    s.thin_bp = 8000;
    one_shock("shock -8% thin 80%", pops[0], m, &s);
    s.thin_bp = 0;
    s.move_bp = 800;
    one_shock("shock +8%", pops[0], m, &s);

    /* Monte Carlo: the three leverage-mix variants */
    for (unsigned v = 1; v < 3; v++) {
        sp_sim_lev_bucket mix[SP_SIM_LEV_BUCKETS_MAX];
        sp_sim_pop_cfg cv = c;
        cv.nlev = sp_sim_lev_mix(v, mix, SP_COUNTOF(mix));
        cv.lev = mix;
        if (sp_sim_pop_generate(&cv, &pops[v], &d) != SP_OK)
            die("population variant", &d);
    }
    sp_sim_mc_cfg mcfg = sp_sim_mc_cfg_default();
    mcfg.k = k;
    mcfg.seed = 7;
    mcfg.pops = (const sp_sim_pop *const *)pops;
    mcfg.npops = 3;
    mcfg.market = m;
    sp_sim_mc_summary sum1, sum2;
    double tt[2];
    for (int th = 2; th >= 1; th--) {
        mcfg.threads = (uint32_t)th;
        double a = bench_now();
        if (sp_sim_mc_run(&mcfg, NULL, th == 2 ? &sum2 : &sum1, &d) != SP_OK)
            die("monte carlo", &d);
        tt[th - 1] = bench_now() - a;
    }
    if (memcmp(&sum1, &sum2, sizeof(sum1)) != 0) {
        fprintf(stderr, "%s: Monte Carlo differs between 1 and 2 threads\n", NAME);
        return 1;
    }
    printf("%s: monte carlo %u x %d positions: 2 threads %.3f s (%.1f ms/scenario), "
           "1 thread %.3f s; speed-up %.2fx; 10^3 scenarios on 2 threads: %.1f s%s\n",
           NAME, k, NPOS, tt[1], tt[1] * 1e3 / k, tt[0], tt[0] / tt[1], tt[1] * 1000.0 / k,
           k < 1000 ? " (extrapolated linearly)" : "");
    printf("%s: monte carlo summary hash %016llx (1 thread == 2 threads); median liquidated "
           "%lld USDT, p95 %lld USDT\n",
           NAME, (unsigned long long)sum2.hash, (long long)(sum2.q_notional[2] / 100000000),
           (long long)(sum2.q_notional[4] / 100000000));
    for (int i = 0; i < 3; i++)
        sp_sim_pop_free(pops[i]);
    sp_sim_market_free(m);
    sp_free(bars);
    sp_free(bids);
    sp_free(asks);
    return 0;
}
