/*
 * bench_book.c -- the matching engine on workload W1 (docs/specs/perf-anchors.md
 * §1.2, §1.3): throughput, per-operation latency, and a mode for callgrind.
 *
 * Setup: W1 is generated here (10 M operations, seed 42 by default), its
 * bytes are checked against the spec's SHA-256 (nettle) and every replay's
 * outcome against the spec's oracle counts, so a fast wrong answer fails
 * (exit 1).  Then:
 *   throughput  R runs (default 5) of the whole replay on the fast book and
 *               on the reference book interleaved (F R F R ...), each on a
 *               fresh book, timed with CLOCK_MONOTONIC around the replay
 *               only; prints median / min / max M ops/s and the median ratio
 *               fast / reference (the in-process baseline; the anchors
 *               liquibook 2.8 M ops/s and the flat-array C yardstick
 *               40-55 M ops/s were measured on this machine kind);
 *   latency     one separate replay on the fast book with rdtscp around each
 *               operation (TSC calibrated against CLOCK_MONOTONIC),
 *               p50 / p90 / p99 / p99.9 / p99.99 / max in ns, including the
 *               ~10 ns rdtscp pair;
 *   callgrind   --mode ir: one replay only, for
 *               valgrind --tool=callgrind --toggle-collect=sp_book_w1_run
 *               (Ir / op = collected Ir / ops);
 *   solo        --mode solo: R timed replays of --kind only (no reference
 *               runs in between), for A/B runs of two builds alternated
 *               by the caller.
 * Usage: bench_book [--ops N] [--runs R] [--mode all|tput|lat|ir|solo] [--kind fast|ref]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include "stampede/alloc.h"
#include "stampede/book.h"

#include "bench.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_RDTSCP 1
#endif

static const char SHA_10M[] = "386c1c162e2d1f1153b737b37ca50ce0bd752c4b930d00af29f73297ab7f0bbd";
static const char SHA_1M[] = "b601d977908cb7ee23ddacbd3da8a4e20c4bf2d208ea3b53f32df57789446d11";

/* The spec's oracle table (§1.2). */
typedef struct oracle {
    size_t n;
    uint64_t fills;
    int64_t lots;
    uint64_t cancels_ok;
    uint64_t cancels_rej;
    size_t resting;
} oracle;

static const oracle ORACLES[] = {
    {10000000, 2193185, 55975460, 3278792, 1211083, 14756},
    {1000000, 220769, 5628861, 322473, 117362, 14689},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: what the replay cost even when the machine is shared. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static sp_book *make_book(sp_book_kind kind)
{
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = 1 << 16; /* W1 keeps about 20 k orders live */
    cfg.window_ticks = 1 << 16;
    sp_book *b = NULL;
    if (sp_book_new(kind, &cfg, NULL, &b) != SP_OK) {
        fprintf(stderr, "bench_book: cannot create the book\n");
        exit(2);
    }
    return b;
}

/* Compare a replay's outcome with the oracle for n ops (if the spec has one). 0 = good. */
static int verify(const char *what, size_t n, const sp_book_w1_stats *st, size_t resting)
{
    for (size_t i = 0; i < sizeof(ORACLES) / sizeof(ORACLES[0]); i++) {
        const oracle *o = &ORACLES[i];
        if (o->n != n)
            continue;
        if (st->fills != o->fills || st->filled_lots != o->lots ||
            st->cancels_ok != o->cancels_ok || st->cancels_rejected != o->cancels_rej ||
            resting != o->resting || st->other_rejects != 0) {
            fprintf(stderr,
                    "bench_book: %s: WRONG ANSWER: fills %" PRIu64 " lots %" PRId64
                    " cancels %" PRIu64 "/%" PRIu64 " resting %zu (oracle %" PRIu64 " %" PRId64
                    " %" PRIu64 "/%" PRIu64 " %zu)\n",
                    what, st->fills, st->filled_lots, st->cancels_ok, st->cancels_rejected, resting,
                    o->fills, o->lots, o->cancels_ok, o->cancels_rej, o->resting);
            return 1;
        }
        return 0;
    }
    return 0; /* no oracle for this n: counts are printed only */
}

/* One timed replay on a fresh book; returns wall seconds (*cpu: thread CPU seconds). */
static double replay(sp_book_kind kind, const sp_book_w1_rec *w, size_t n, sp_book_w1_stats *st,
                     uint64_t *hash, size_t *resting, double *cpu)
{
    sp_book *b = make_book(kind);
    double c0 = cpu_s(), t0 = now_s();
    sp_book_w1_run(b, w, n, st);
    double t1 = now_s();
    *cpu = cpu_s() - c0;
    *hash = sp_book_state_hash(b);
    *resting = sp_book_count(b);
    sp_book_free(b);
    return t1 - t0;
}

static int run_throughput(const sp_book_w1_rec *w, size_t n, int runs)
{
    double *tf = calloc((size_t)runs, sizeof(double)), *tr = calloc((size_t)runs, sizeof(double));
    double *ratio = calloc((size_t)runs, sizeof(double));
    double *cf = calloc((size_t)runs, sizeof(double)), *cr = calloc((size_t)runs, sizeof(double));
    uint64_t hf = 0, hr = 0;
    int bad = 0;
    for (int i = 0; i < runs; i++) {
        sp_book_w1_stats st;
        size_t rest;
        tf[i] = replay(SP_BOOK_FAST, w, n, &st, &hf, &rest, &cf[i]);
        bad |= verify("fast", n, &st, rest);
        if (i == 0)
            printf("counts: fills %" PRIu64 ", filled lots %" PRId64 ", cancels accepted %" PRIu64
                   ", rejected %" PRIu64 ", resting at end %zu\n",
                   st.fills, st.filled_lots, st.cancels_ok, st.cancels_rejected, rest);
        tr[i] = replay(SP_BOOK_REF, w, n, &st, &hr, &rest, &cr[i]);
        bad |= verify("ref", n, &st, rest);
        if (hf != hr) {
            fprintf(stderr, "bench_book: fast and reference end in different states\n");
            bad = 1;
        }
        ratio[i] = tr[i] / tf[i];
        printf("run %d: fast %.2f M ops/s wall (%.3f s; cpu %.3f s), ref %.2f M ops/s wall "
               "(%.3f s; cpu %.3f s), ratio %.2f\n",
               i + 1, (double)n / tf[i] / 1e6, tf[i], cf[i], (double)n / tr[i] / 1e6, tr[i], cr[i],
               ratio[i]);
    }
    qsort(tf, (size_t)runs, sizeof(double), cmp_d);
    qsort(tr, (size_t)runs, sizeof(double), cmp_d);
    qsort(ratio, (size_t)runs, sizeof(double), cmp_d);
    qsort(cf, (size_t)runs, sizeof(double), cmp_d);
    qsort(cr, (size_t)runs, sizeof(double), cmp_d);
    int m = runs / 2;
    printf("throughput fast: median %.2f M ops/s (min %.2f, max %.2f) over %d runs\n",
           (double)n / tf[m] / 1e6, (double)n / tf[runs - 1] / 1e6, (double)n / tf[0] / 1e6, runs);
    printf("throughput ref:  median %.2f M ops/s (min %.2f, max %.2f)\n", (double)n / tr[m] / 1e6,
           (double)n / tr[runs - 1] / 1e6, (double)n / tr[0] / 1e6);
    printf("throughput by thread CPU time: fast median %.2f M ops/s (min %.2f, max %.2f), ref "
           "median %.2f M ops/s, ratio %.2fx\n",
           (double)n / cf[m] / 1e6, (double)n / cf[runs - 1] / 1e6, (double)n / cf[0] / 1e6,
           (double)n / cr[m] / 1e6, cr[m] / cf[m]);
    printf("ratio fast/ref (in-process, interleaved): median %.2fx (min %.2f, max %.2f)\n",
           ratio[m], ratio[0], ratio[runs - 1]);
    printf("state hash at end: %016" PRIx64 "\n", hf);
    free(tf);
    free(tr);
    free(ratio);
    free(cf);
    free(cr);
    return bad;
}

/* R replays of one kind: median / min / max M ops/s by wall and by thread CPU time. */
static int run_solo(const sp_book_w1_rec *w, size_t n, int runs, sp_book_kind kind)
{
    double *t = calloc((size_t)runs, sizeof(double)), *c = calloc((size_t)runs, sizeof(double));
    int bad = 0;
    uint64_t h = 0;
    for (int i = 0; i < runs; i++) {
        sp_book_w1_stats st;
        size_t rest;
        t[i] = replay(kind, w, n, &st, &h, &rest, &c[i]);
        bad |= verify("solo", n, &st, rest);
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_d);
    qsort(c, (size_t)runs, sizeof(double), cmp_d);
    int m = runs / 2;
    printf("solo %s: wall median %.2f M ops/s (min %.2f, max %.2f); thread CPU median %.2f M ops/s "
           "(min %.2f, max %.2f) over %d runs; state hash %016" PRIx64 "\n",
           kind == SP_BOOK_FAST ? "fast" : "ref", (double)n / t[m] / 1e6,
           (double)n / t[runs - 1] / 1e6, (double)n / t[0] / 1e6, (double)n / c[m] / 1e6,
           (double)n / c[runs - 1] / 1e6, (double)n / c[0] / 1e6, runs, h);
    free(t);
    free(c);
    return bad;
}

static int run_latency(const sp_book_w1_rec *w, size_t n, sp_book_kind kind)
{
#ifdef HAVE_RDTSCP
    uint32_t *lat = calloc(n, sizeof(uint32_t));
    if (!lat)
        return 2;
    sp_book *b = make_book(kind);
    sp_book_w1_stats st;
    memset(&st, 0, sizeof(st));
    unsigned aux;
    double t0 = now_s();
    uint64_t c0 = __rdtscp(&aux);
    for (size_t i = 0; i < n; i++) {
        uint64_t a = __rdtscp(&aux);
        sp_book_w1_step(b, &w[i], &st);
        uint64_t z = __rdtscp(&aux);
        lat[i] = (uint32_t)((z - a) > UINT32_MAX ? UINT32_MAX : (z - a));
    }
    uint64_t c1 = __rdtscp(&aux);
    double t1 = now_s();
    int bad = verify("latency run", n, &st, sp_book_count(b));
    sp_book_free(b);
    double ghz = (double)(c1 - c0) / (t1 - t0) / 1e9;
    qsort(lat, n, sizeof(uint32_t), cmp_u32);
    static const double q[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
    printf("latency (%s, rdtscp per op, TSC %.3f GHz, closed loop, %zu ops):",
           kind == SP_BOOK_FAST ? "fast" : "ref", ghz, n);
    static const char *names[] = {"p50", "p90", "p99", "p99.9", "p99.99"};
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
        printf(" %s %.0f ns", names[i], lat[(size_t)(q[i] * (double)(n - 1))] / ghz);
    printf(" max %.0f ns\n", lat[n - 1] / ghz);
    free(lat);
    return bad;
#else
    (void)w;
    (void)n;
    (void)kind;
    printf("latency: no rdtscp on this architecture\n");
    return 0;
#endif
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int main(int argc, char **argv)
{
    size_t n = 10000000;
    int runs = 5;
    const char *mode = "all";
    sp_book_kind kind = SP_BOOK_FAST;
    bench_help("bench_book", "[--ops N] [--runs R] [--mode all|tput|lat|ir|solo] [--kind fast|ref]",
               argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            n = (size_t)strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
            kind = !strcmp(argv[++i], "ref") ? SP_BOOK_REF : SP_BOOK_FAST;
        else {
            fprintf(stderr, "usage: bench_book [--ops N] [--runs R] [--mode all|tput|lat|ir|solo] "
                            "[--kind fast|ref]\n");
            return 2;
        }
    }
    if (n == 0 || runs < 1) {
        fprintf(stderr, "bench_book: --ops and --runs must be positive\n");
        return 2;
    }
    printf("bench_book: workload W1 (perf-anchors.md 1.2), %zu ops, seed 42; book max_orders "
           "65536, window 65536 ticks\n",
           n);
    double g0 = now_s();
    sp_book_w1_rec *w = NULL;
    if (sp_book_w1_generate(n, 42, &w) != SP_OK) {
        fprintf(stderr, "bench_book: cannot generate W1\n");
        return 2;
    }
    struct sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    char h[2 * SHA256_DIGEST_SIZE + 1];
    sha256_init(&c);
    sha256_update(&c, n * sizeof(*w), (const uint8_t *)w);
    sha256_digest(&c, sizeof(d), d);
    hex(d, sizeof(d), h);
    const char *want = n == 10000000 ? SHA_10M : n == 1000000 ? SHA_1M : NULL;
    printf("generate + sha256: %.2f s, sha256 %s (%s)\n", now_s() - g0, h,
           want ? (strcmp(h, want) ? "MISMATCH" : "matches the spec") : "no reference for this n");
    int bad = want && strcmp(h, want) != 0;
    if (!strcmp(mode, "ir")) {
        sp_book *b = make_book(kind);
        sp_book_w1_stats st;
        sp_book_w1_run(b, w, n, &st);
        bad |= verify("ir run", n, &st, sp_book_count(b));
        printf("ir run (%s): fills %" PRIu64 "; divide callgrind's collected Ir by %zu\n",
               kind == SP_BOOK_FAST ? "fast" : "ref", st.fills, n);
        sp_book_free(b);
    }
    if (!strcmp(mode, "solo"))
        bad |= run_solo(w, n, runs, kind);
    if (!strcmp(mode, "all") || !strcmp(mode, "tput"))
        bad |= run_throughput(w, n, runs);
    if (!strcmp(mode, "all") || !strcmp(mode, "lat"))
        bad |= run_latency(w, n, kind);
    sp_free(w);
    if (bad)
        fprintf(stderr, "bench_book: FAILED (wrong answer)\n");
    return bad ? 1 : 0;
}
