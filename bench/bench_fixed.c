/*
 * bench_fixed.c -- exact fixed point against the naive floating-point way.
 *
 * 1. Decimal parse: 10^6 random decimal strings (half prices < 10^7, half
 *    balances < 10^10; 1..8 places, fixed seed) -> int64 at scale 8, with sp_dec_parse, and
 *    with strtod then llround(x * 1e8) (the naive way).  Reports speed of
 *    both and how many of the 10^6 the naive way gets wrong.
 * 2. sp_mul_div: 10^7 random (price x qty / 10^8) products rounded
 *    HALF_UP (ties away from zero, as llroundl), against long double with llroundl, same
 *    inputs; reports speed and the number of results that differ.
 * The exact results are checked against each other (parse -> format ->
 * parse) and summarised by a checksum.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stampede/fixed.h"
#include "stampede/rng.h"

#define NAME "bench_fixed"
#define NDEC 1000000
#define NMUL 10000000

static char *texts;    /* NDEC NUL-terminated decimals */
static uint32_t *offs; /* offset of each */
static uint32_t *lens; /* length of each */
static int64_t *exact; /* sp_dec_parse results */
static int64_t *naive; /* strtod results */

static void make_decimals(void)
{
    sp_rng r;
    sp_rng_seed(&r, 20260206);
    texts = malloc((size_t)NDEC * 24);
    offs = malloc(NDEC * sizeof(*offs));
    lens = malloc(NDEC * sizeof(*lens));
    exact = malloc(NDEC * sizeof(*exact));
    naive = malloc(NDEC * sizeof(*naive));
    size_t o = 0;
    for (int i = 0; i < NDEC; i++) {
        unsigned places = 1 + (unsigned)sp_rng_below(&r, 8);
        /* value = m / 10^places: the first half are prices (< 1e7), the
         * second half balances and quantities (< 1e10, 18 significant digits) */
        unsigned mag = i < NDEC / 2 ? 7 : 10;
        uint64_t m = sp_rng_below(&r, (uint64_t)sp_pow10(mag + places));
        char buf[SP_DEC_FMT_MAX];
        size_t n = sp_dec_format((int64_t)m, places, 0, buf, sizeof(buf));
        offs[i] = (uint32_t)o;
        lens[i] = (uint32_t)n;
        memcpy(texts + o, buf, n + 1);
        o += n + 1;
    }
}

static double run_exact(void)
{
    double t0 = bench_now();
    for (int i = 0; i < NDEC; i++) {
        if (sp_dec_parse(texts + offs[i], lens[i], 8, &exact[i], NULL) != SP_OK)
            abort();
    }
    return bench_now() - t0;
}

static double run_naive(void)
{
    double t0 = bench_now();
    for (int i = 0; i < NDEC; i++)
        naive[i] = llround(strtod(texts + offs[i], NULL) * 1e8);
    return bench_now() - t0;
}

static int64_t *ma, *mb, *mout, *mlong;

static double run_muldiv(void)
{
    double t0 = bench_now();
    for (int i = 0; i < NMUL; i++) {
        if (sp_mul_div(ma[i], mb[i], 100000000, SP_RND_HALF_UP, &mout[i]) != SP_OK)
            abort();
    }
    return bench_now() - t0;
}

static double run_longdouble(void)
{
    double t0 = bench_now();
    for (int i = 0; i < NMUL; i++)
        mlong[i] = llroundl((long double)ma[i] * (long double)mb[i] / 1e8L);
    return bench_now() - t0;
}

int main(void)
{
    double s_exact[BENCH_RUNS], s_naive[BENCH_RUNS];
    make_decimals();
    bench_setup(NAME,
                "decimal parse: %d random decimals (1..8 places; half < 1e7, half < 1e10; "
                "seed 20260206) -> int64 at scale 8",
                NDEC);
    for (int k = 0; k < BENCH_RUNS; k++) { /* interleaved: A B A B ... */
        s_exact[k] = run_exact();
        s_naive[k] = run_naive();
    }
    bench_stats e = bench_stats_of(s_exact, BENCH_RUNS);
    bench_stats n = bench_stats_of(s_naive, BENCH_RUNS);
    bench_line(NAME, "sp_dec_parse (exact)", e, NDEC, "parse");
    bench_line(NAME, "strtod+llround (naive)", n, NDEC, "parse");
    bench_ratio(NAME, "exact vs naive parse", e, n);
    int wrong = 0, wrong_px = 0;
    uint64_t sum = 0;
    for (int i = 0; i < NDEC; i++) {
        wrong += naive[i] != exact[i];
        wrong_px += i < NDEC / 2 && naive[i] != exact[i];
        sum = sum * 31 + (uint64_t)exact[i];
        char back[SP_DEC_FMT_MAX];
        int64_t again;
        size_t bl = sp_dec_format(exact[i], 8, 0, back, sizeof(back));
        if (sp_dec_parse(back, bl, 8, &again, NULL) != SP_OK || again != exact[i]) {
            fprintf(stderr, NAME ": round trip failed at %d\n", i);
            return 1;
        }
    }
    printf("%s: correctness: naive strtod parse wrong on %d of %d decimals (%.3f%%): %d of the "
           "prices < 1e7, %d of the balances < 1e10; exact checksum %016llx\n",
           NAME, wrong, NDEC, 100.0 * wrong / NDEC, wrong_px, wrong - wrong_px,
           (unsigned long long)sum);

    /* ---- mul_div ---- */
    sp_rng r;
    sp_rng_seed(&r, 42);
    ma = malloc(NMUL * sizeof(*ma));
    mb = malloc(NMUL * sizeof(*mb));
    mout = malloc(NMUL * sizeof(*mout));
    mlong = malloc(NMUL * sizeof(*mlong));
    for (int i = 0; i < NMUL; i++) {
        ma[i] = (int64_t)sp_rng_below(&r, 20000000000000ull); /* price <= 200,000 at 1e-8 */
        mb[i] = (int64_t)sp_rng_below(&r, 1000000000000ull);  /* qty <= 10,000 at 1e-8 */
    }
    bench_setup(NAME,
                "mul_div: %d products price(<=2e5) x qty(<=1e4) / 1e8, rounded half away from zero "
                "(as llroundl), seed 42",
                NMUL);
    double s_m[BENCH_RUNS], s_l[BENCH_RUNS];
    for (int k = 0; k < BENCH_RUNS; k++) {
        s_m[k] = run_muldiv();
        s_l[k] = run_longdouble();
    }
    bench_stats m = bench_stats_of(s_m, BENCH_RUNS);
    bench_stats l = bench_stats_of(s_l, BENCH_RUNS);
    bench_line(NAME, "sp_mul_div (__int128, exact)", m, NMUL, "op");
    bench_line(NAME, "long double + llroundl", l, NMUL, "op");
    bench_ratio(NAME, "exact vs long double", m, l);
    int differ = 0;
    sum = 0;
    for (int i = 0; i < NMUL; i++) {
        differ += mout[i] != mlong[i];
        sum = sum * 31 + (uint64_t)mout[i];
    }
    printf("%s: correctness: long double differs on %d of %d products (%.4f%%); exact checksum "
           "%016llx\n",
           NAME, differ, NMUL, 100.0 * differ / NMUL, (unsigned long long)sum);
    free(texts);
    free(offs);
    free(lens);
    free(exact);
    free(naive);
    free(ma);
    free(mb);
    free(mout);
    free(mlong);
    return 0;
}
