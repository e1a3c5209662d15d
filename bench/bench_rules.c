/*
 * bench_rules.c -- liquidation price for 10^7 random positions, exact
 * (sp_rules_liq: 128-bit rational, Binance bracket re-solve, venue
 * rounding) against the same formula in long double.
 *
 * Workload (fixed seed 20260206): Binance USD-M BTCUSDT with the
 * 2024-10-24 bracket table (12 brackets), 3 in 4 isolated and 1 in 4
 * cross one-way (cross: TMM1 / UPNL1 of other positions random), long
 * and short alike, entry 20,000..120,000 on the 0.10 tick, notional
 * log-uniform 100..60,000,000 USDT (brackets 1..5 all occur), leverage
 * 1..min(125, bracket max), margin = notional / leverage.  The positions
 * are generated before timing; each run prices all of them.
 *
 * Baseline: the same spec §2.2 formula and §9 re-solve in long double,
 * rounded half-up to the cent with roundl, as a careful float
 * implementation would do; we report how many of its 10^7 prices differ
 * from the exact answer at the tick.  The exact results are summarised by
 * a hash (the same on every run and machine) so a fast wrong answer fails.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stampede/rng.h"
#include "stampede/rules.h"

#define NAME "bench_rules"
#define ONE  100000000LL

typedef struct pos {
    int64_t qty;    /* base, scale 8 */
    int64_t entry;  /* scale 8 */
    int64_t margin; /* scale 8 */
    int64_t omm;    /* cross: other MM */
    int64_t oupnl;  /* cross: other uPnL */
    int8_t side;
    int8_t cross;
} pos;

static pos *P;
static int64_t *exact_px; /* rounded exact LP, 0 = none */
static size_t N = 10000000;
static const sp_instrument *inst;
static const sp_tier_table *tiers;

static void generate(void)
{
    sp_rng r;
    sp_rng_seed(&r, 20260206);
    P = malloc(N * sizeof(*P));
    exact_px = malloc(N * sizeof(*exact_px));
    if (P == NULL || exact_px == NULL) {
        fprintf(stderr, NAME ": out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < N; i++) {
        pos *p = &P[i];
        p->side = sp_rng_below(&r, 2) ? 1 : -1;
        p->cross = sp_rng_below(&r, 4) == 0;
        p->entry = (200000 + (int64_t)sp_rng_below(&r, 1000000)) * (ONE / 10);
        /* notional log-uniform 1e2..6e7: 10^(2 + u * 5.78) */
        double u = (double)sp_rng_below(&r, 1u << 30) / (double)(1u << 30);
        double notional = pow(10.0, 2.0 + u * 5.778);
        int64_t q =
            (int64_t)(notional / ((double)p->entry / ONE) * 1000.0) * 100000; /* 0.001 lot */
        if (q <= 0)
            q = 100000;
        p->qty = q;
        int k = sp_tier_find(tiers, (int64_t)((double)q / ONE * (double)p->entry));
        int maxlev = k >= 0 && tiers->tier[k].max_leverage > 0 ? tiers->tier[k].max_leverage : 20;
        int lev = 1 + (int)sp_rng_below(&r, (uint64_t)maxlev);
        long double nv = (long double)q * (long double)p->entry / ONE;
        p->margin = (int64_t)(nv / lev) + 1;
        p->omm = p->oupnl = 0;
        if (p->cross) {
            p->omm = (int64_t)sp_rng_below(&r, (uint64_t)(p->margin / 4 + 1));
            p->oupnl = (int64_t)sp_rng_below(&r, (uint64_t)(p->margin / 2 + 1)) - p->margin / 4;
        }
    }
}

/* CPU seconds of this thread: less sensitive than wall time to a shared, loaded machine. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One timed pass of the exact rule set; returns a hash of the results. */
static uint64_t run_exact(size_t *errors, size_t *none)
{
    uint64_t h = 1469598103934665603ull;
    sp_rules_pos rp;
    memset(&rp, 0, sizeof(rp));
    rp.inst = inst;
    rp.tiers = tiers;
    rp.flags = SP_RULES_LIQ_ONLY; /* the trigger sweep: LP only, as the baseline */
    *errors = *none = 0;
    for (size_t i = 0; i < N; i++) {
        const pos *p = &P[i];
        rp.mode = p->cross ? SP_MARGIN_CROSS : SP_MARGIN_ISOLATED;
        rp.side = p->side;
        rp.qty = p->qty;
        rp.entry_px = p->entry;
        rp.margin = p->margin;
        rp.other_mm = p->omm;
        rp.other_upnl = p->oupnl;
        sp_rules_out o;
        int64_t v = 0;
        if (sp_rules_liq(&rp, &o) != SP_OK)
            (*errors)++;
        else if (!o.has_liq)
            (*none)++;
        else
            v = o.liq_px;
        exact_px[i] = v;
        h = (h ^ (uint64_t)v) * 1099511628211ull;
    }
    return h;
}

/* Tier index of a notional (long double), floor < x <= cap. */
static int ld_tier(long double x)
{
    for (uint32_t k = 0; k < tiers->n; k++) {
        if (x <= (long double)tiers->tier[k].cap / ONE)
            return (int)k;
    }
    return -1;
}

/* The same formula in long double; counts prices that differ from the exact ones. */
static uint64_t run_ld(size_t *differ)
{
    uint64_t h = 1469598103934665603ull;
    *differ = 0;
    for (size_t i = 0; i < N; i++) {
        const pos *p = &P[i];
        long double q = (long double)p->qty / ONE, ep = (long double)p->entry / ONE;
        long double wb = (long double)p->margin / ONE;
        if (p->cross)
            wb += ((long double)p->oupnl - (long double)p->omm) / ONE;
        int s = p->side, k = ld_tier(q * ep), k0 = -2;
        long double lp = 0;
        for (int it = 0; k >= 0 && k != k0 && it < 16; it++) {
            long double mmr = (long double)tiers->tier[k].mmr / ONE;
            long double cum = (long double)tiers->tier[k].maint_amount / ONE;
            /* spec §2.2 one-way: LP = (WB' + cum - s q EP) / (q MMR - s q) */
            lp = (wb + cum - s * q * ep) / (q * mmr - s * q);
            k0 = k;
            k = lp > 0 ? ld_tier(q * lp) : k;
        }
        int64_t v = 0;
        if (lp > 0 && k >= 0)
            v = (int64_t)roundl(lp * 100.0L) * 1000000; /* half-up to 0.01, scale 8 */
        if (v != exact_px[i])
            (*differ)++;
        h = (h ^ (uint64_t)v) * 1099511628211ull;
    }
    return h;
}

int main(int argc, char **argv)
{
    bench_help(NAME, "[POSITIONS (default 10000000)]", argc, argv);
    N = (size_t)bench_arg_count(NAME, argc, argv, 1, N, 1, 1000000000);
    sp_rules_db *db;
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_rules_db_new(&db) != SP_OK ||
        sp_rules_db_load_dir(db, SP_SOURCE_DIR "/data/rules", &d)) {
        fprintf(stderr, NAME ": rules data: %s\n", d.msg);
        return 2;
    }
    inst = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT");
    tiers = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 20241024, true);
    if (inst == NULL || tiers == NULL) {
        fprintf(stderr, NAME ": BTCUSDT or its 2024-10-24 table missing\n");
        return 2;
    }
    generate();
    bench_setup(NAME,
                "%zu random Binance BTCUSDT positions (seed 20260206), 2024-10-24 brackets, 3/4 "
                "isolated 1/4 cross, notional 1e2..6e7 log-uniform, leverage 1..bracket max",
                N);
    double te[BENCH_RUNS], tl[BENCH_RUNS], ce[BENCH_RUNS], cl[BENCH_RUNS];
    uint64_t he = 0, hl = 0;
    size_t errors = 0, none = 0, differ = 0;
    for (int r = 0; r < BENCH_RUNS; r++) {
        double t0 = bench_now(), c0 = cpu_now();
        uint64_t h = run_exact(&errors, &none);
        te[r] = bench_now() - t0;
        ce[r] = cpu_now() - c0;
        if (r > 0 && h != he) {
            fprintf(stderr, NAME ": exact hash changed between runs\n");
            return 1;
        }
        he = h;
        t0 = bench_now();
        c0 = cpu_now();
        hl = run_ld(&differ);
        tl[r] = bench_now() - t0;
        cl[r] = cpu_now() - c0;
    }
    bench_stats se = bench_stats_of(te, BENCH_RUNS), sl = bench_stats_of(tl, BENCH_RUNS);
    bench_line(NAME, "exact sp_rules_liq", se, (double)N, "positions");
    bench_line(NAME, "long double baseline", sl, (double)N, "positions");
    bench_ratio(NAME, "exact vs long double", se, sl);
    bench_stats sce = bench_stats_of(ce, BENCH_RUNS), scl = bench_stats_of(cl, BENCH_RUNS);
    bench_line(NAME, "exact sp_rules_liq (thread CPU time)", sce, (double)N, "positions");
    bench_line(NAME, "long double baseline (thread CPU time)", scl, (double)N, "positions");
    bench_ratio(NAME, "exact vs long double (CPU time)", sce, scl);
    printf(NAME ": correctness: %zu priced, %zu without LP, %zu errors; exact hash %016llx\n",
           N - none - errors, none, errors, (unsigned long long)he);
    printf(NAME ": long double: %zu of %zu prices differ from the exact one at the cent "
                "(%.4f%%); hash %016llx\n",
           differ, N, 100.0 * (double)differ / (double)N, (unsigned long long)hl);
    bench_sink(he ^ hl);
    sp_rules_db_free(db);
    free(P);
    free(exact_px);
    return errors != 0;
}
