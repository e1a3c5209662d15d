/*
 * bench.h -- the harness convention every benchmark under bench/ follows.
 *
 * A benchmark prints, in this order: its setup (workload, counts, seed),
 * then for each measured thing the median of >= 5 runs with min and max,
 * the throughput, and the ratio against its baseline measured in the
 * same process on the same input, and finally a correctness line (counts
 * or a result hash) so a fast wrong answer is caught.  Lines start with
 * the benchmark's name so `make bench` output can be grepped.
 * Timing uses CLOCK_MONOTONIC (never clock(): 659 ns per call here).
 * Floating point is fine in bench/: these are statistics, not money.
 */
#ifndef SP_BENCH_H
#define SP_BENCH_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_RUNS 5

typedef struct bench_stats {
    double median; /* seconds */
    double min;
    double max;
} bench_stats;

/* Monotonic seconds. */
double bench_now(void);

/* Median/min/max of n samples (the array is sorted in place). */
bench_stats bench_stats_of(double *samples, int n);

/* "name: setup: ..." line. */
void bench_setup(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Print one measured line: "name: what: median X s (min .. max), T unit/s,
 * N ns/item" for `items` items per run.
 */
void bench_line(const char *name, const char *what, bench_stats s, double items, const char *unit);

/* Print "name: ratio what: R x" where R = base_median / ours_median (> 1: we are faster). */
void bench_ratio(const char *name, const char *what, bench_stats ours, bench_stats base);

/*
 * The command line.  bench_help() prints "usage: NAME USAGE" and exits 0 when any
 * argument is -h or --help; call it first.  bench_arg_count() reads positional
 * argument i (argv[i]) as an unsigned decimal in [min, max], returns def when it is
 * absent, and on anything else ("", "abc", "-1", "1e6", out of range) prints what
 * and where on stderr and exits 2.
 */
void bench_help(const char *name, const char *usage, int argc, char **argv);
uint64_t bench_arg_count(const char *name, int argc, char **argv, int i, uint64_t def, uint64_t min,
                         uint64_t max);

/* Keep a value alive so the optimiser cannot drop the work that made it. */
void bench_sink(uint64_t v);

#endif
