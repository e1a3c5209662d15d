/*
 * cmd_book.c -- `stampede book`: the order book and matching engine on
 * workload W1 (docs/specs/perf-anchors.md §1.2), and the demo step that
 * shows it.
 *
 * Generates W1 (splitmix64, the spec's draws), replays it through the
 * public book API (src/book) on the fast or the reference implementation,
 * and prints the outcome counts beside the spec's oracle (known for seed 42
 * at 1 M and 10 M operations), the final state hash, the top of the book
 * at the end and the replay's wall-clock rate.  Exit 0 when the counts
 * equal the oracle (or there is none for the given size), 1 when they
 * differ, 2 for usage errors.  bench/bench_book is the measured benchmark;
 * this verb is for seeing and checking.
 */
#include <string.h>

#include "demo.h"
#include "stampede/book.h"

static const cli_opt opts[] = {
    {"ops", "N", "number of W1 operations (default 1000000)"},
    {"seed", "S", "splitmix64 seed (default 42, the spec's)"},
    {"kind", "K", "fast | ref (default fast)"},
    {"depth", "N", "levels of each side to print at the end (default 5)"},
    {"json", NULL, "print JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "book",
    "[--ops N] [--seed S] [--kind fast|ref] [--depth N] [--json]",
    "Replay workload W1 (perf-anchors.md 1.2: 45% limit, 10% market, 45% cancel) through the\n"
    "order book and compare the outcome with the spec's oracle counts.\n"
    "Exit 0 counts match (or no oracle for this size/seed), 1 mismatch, 2 usage.",
    opts,
    0,
    0,
};

/* The spec's oracle for seed 42. */
static const struct {
    int64_t n;
    uint64_t fills;
    int64_t lots;
    uint64_t cancels_ok;
    uint64_t cancels_rej;
    uint64_t resting;
} oracle[] = {
    {10000000, 2193185, 55975460, 3278792, 1211083, 14756},
    {1000000, 220769, 5628861, 322473, 117362, 14689},
};

typedef struct w1_out {
    sp_book_w1_stats st;
    uint64_t resting;
    uint64_t hash;
    int64_t ns;
    int match; /* 1 match, 0 mismatch, -1 no oracle */
} w1_out;

/* Generate and replay; 0 on success, else an exit code after printing why. */
static int run_w1(int64_t n, uint64_t seed, sp_book_kind kind, size_t depth, sp_book_level *lv,
                  size_t *nlv, w1_out *out)
{
    sp_book_w1_rec *w = NULL;
    sp_err rc = sp_book_w1_generate((size_t)n, seed, &w);
    if (rc != SP_OK) {
        cli_error("book", "cannot generate W1: %s", sp_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    sp_book_config cfg = sp_book_config_default();
    cfg.max_orders = 1 << 16;
    cfg.window_ticks = 1 << 16;
    sp_book *b = NULL;
    rc = sp_book_new(kind, &cfg, NULL, &b);
    if (rc != SP_OK) {
        sp_free(w);
        cli_error("book", "cannot create the book: %s", sp_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    int64_t t0 = sp_clock_mono_ns();
    sp_book_w1_run(b, w, (size_t)n, &out->st);
    out->ns = sp_clock_mono_ns() - t0;
    out->resting = sp_book_count(b);
    out->hash = sp_book_state_hash(b);
    nlv[0] = sp_book_depth(b, SP_BUY, depth, lv);
    nlv[1] = sp_book_depth(b, SP_SELL, depth, lv + depth);
    out->match = -1;
    for (size_t i = 0; i < SP_COUNTOF(oracle); i++) {
        if (seed == 42 && oracle[i].n == n) {
            const sp_book_w1_stats *s = &out->st;
            out->match = s->fills == oracle[i].fills && s->filled_lots == oracle[i].lots &&
                         s->cancels_ok == oracle[i].cancels_ok &&
                         s->cancels_rejected == oracle[i].cancels_rej &&
                         out->resting == oracle[i].resting && s->other_rejects == 0;
        }
    }
    sp_book_free(b);
    sp_free(w);
    return 0;
}

static void print_levels(const sp_book_level *lv, size_t n, bool json)
{
    for (size_t i = 0; i < n; i++) {
        if (json)
            printf("%s[%lld,%lld]", i ? "," : "", (long long)lv[i].px, (long long)lv[i].qty);
        else
            printf(" %lld x %lld", (long long)lv[i].px, (long long)lv[i].qty);
    }
}

static void print_out(int64_t n, uint64_t seed, const char *kind, const sp_book_level *lv,
                      const size_t *nlv, size_t depth, const w1_out *o, bool json)
{
    const sp_book_w1_stats *s = &o->st;
    double mops = o->ns > 0 ? (double)n * 1e3 / (double)o->ns : 0.0;
    const char *m = o->match == 1 ? "match" : o->match == 0 ? "MISMATCH" : "none";
    if (json) {
        printf("{\"ops\":%lld,\"seed\":%llu,\"kind\":\"%s\",\"limits\":%llu,\"markets\":%llu,"
               "\"cancels\":%llu,\"fills\":%llu,\"filled_lots\":%lld,\"cancels_accepted\":%llu,"
               "\"cancels_rejected\":%llu,\"resting\":%llu,\"oracle\":\"%s\","
               "\"state_hash\":\"%016llx\",\"mops_wall\":%.2f,\"bids\":[",
               (long long)n, (unsigned long long)seed, kind, (unsigned long long)s->limits,
               (unsigned long long)s->markets, (unsigned long long)s->cancels,
               (unsigned long long)s->fills, (long long)s->filled_lots,
               (unsigned long long)s->cancels_ok, (unsigned long long)s->cancels_rejected,
               (unsigned long long)o->resting, m, (unsigned long long)o->hash, mops);
        print_levels(lv, nlv[0], true);
        printf("],\"asks\":[");
        print_levels(lv + depth, nlv[1], true);
        printf("]}");
        return;
    }
    printf("W1: %lld ops (seed %llu): %llu limit, %llu market, %llu cancel; %s book\n",
           (long long)n, (unsigned long long)seed, (unsigned long long)s->limits,
           (unsigned long long)s->markets, (unsigned long long)s->cancels, kind);
    printf("fills %llu (%lld lots), cancels accepted %llu, rejected %llu, resting %llu\n",
           (unsigned long long)s->fills, (long long)s->filled_lots,
           (unsigned long long)s->cancels_ok, (unsigned long long)s->cancels_rejected,
           (unsigned long long)o->resting);
    printf("oracle (perf-anchors.md 1.2): %s; state hash %016llx; %.1f M ops/s (wall, one run)\n",
           m, (unsigned long long)o->hash, mops);
    printf("best bids (ticks x lots):");
    print_levels(lv, nlv[0], false);
    printf("\nbest asks (ticks x lots):");
    print_levels(lv + depth, nlv[1], false);
    printf("\n");
}

int cmd_book(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    int64_t n, seed, depth;
    if (!cli_get_int(&a, "ops", 1, 100000000, 1000000, &n) ||
        !cli_get_int(&a, "seed", 0, INT64_MAX, 42, &seed) ||
        !cli_get_int(&a, "depth", 0, 100, 5, &depth))
        return CLI_EXIT_USAGE;
    const char *k = cli_has(&a, "kind") ? cli_get(&a, "kind") : "fast";
    sp_book_kind kind;
    if (!strcmp(k, "fast")) {
        kind = SP_BOOK_FAST;
    } else if (!strcmp(k, "ref")) {
        kind = SP_BOOK_REF;
    } else {
        cli_error("book", "--kind: expected fast or ref, got '%s'", k);
        return CLI_EXIT_USAGE;
    }
    sp_book_level lv[200];
    size_t nlv[2];
    w1_out o;
    rc = run_w1(n, (uint64_t)seed, kind, (size_t)depth, lv, nlv, &o);
    if (rc != 0)
        return rc;
    print_out(n, (uint64_t)seed, k, lv, nlv, (size_t)depth, &o, cli_has(&a, "json"));
    if (cli_has(&a, "json"))
        printf("\n");
    return o.match == 0 ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}

int demo_book_w1(const demo_ctx *ctx)
{
    sp_book_level lv[10];
    size_t nlv[2];
    w1_out o;
    int rc = run_w1(1000000, 42, SP_BOOK_FAST, 5, lv, nlv, &o);
    if (rc != 0)
        return rc;
    if (ctx->json)
        printf("\"book_w1\":");
    print_out(1000000, 42, "fast", lv, nlv, 5, &o, ctx->json);
    if (o.match != 1) {
        fprintf(stderr, "stampede demo: W1 outcome differs from the spec's oracle\n");
        return CLI_EXIT_PARTIAL;
    }
    return CLI_EXIT_OK;
}
