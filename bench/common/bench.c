/* bench.c -- the shared harness of bench/ (see bench.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

volatile uint64_t bench_sink_value;

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

bench_stats bench_stats_of(double *samples, int n)
{
    bench_stats s = {0, 0, 0};
    if (n <= 0)
        return s;
    qsort(samples, (size_t)n, sizeof(double), cmp_double);
    s.min = samples[0];
    s.max = samples[n - 1];
    s.median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return s;
}

void bench_setup(const char *name, const char *fmt, ...)
{
    va_list ap;
    printf("%s: setup: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

void bench_line(const char *name, const char *what, bench_stats s, double items, const char *unit)
{
    printf("%s: %s: median %.4f s (min %.4f, max %.4f, %d runs), %.2f M %s/s, %.1f ns/%s\n", name,
           what, s.median, s.min, s.max, BENCH_RUNS, items / s.median / 1e6, unit,
           s.median / items * 1e9, unit);
    fflush(stdout);
}

void bench_ratio(const char *name, const char *what, bench_stats ours, bench_stats base)
{
    printf("%s: ratio %s: %.2fx\n", name, what, base.median / ours.median);
    fflush(stdout);
}

void bench_sink(uint64_t v)
{
    bench_sink_value += v;
}

void bench_help(const char *name, const char *usage, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: %s %s\n", name, usage);
            exit(0);
        }
    }
}

uint64_t bench_arg_count(const char *name, int argc, char **argv, int i, uint64_t def, uint64_t min,
                         uint64_t max)
{
    if (i >= argc)
        return def;
    const char *s = argv[i];
    char *end = NULL;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
        fprintf(stderr, "%s: argument %d: '%s' is not a count in [%llu, %llu] (--help)\n", name, i,
                s, (unsigned long long)min, (unsigned long long)max);
        exit(2);
    }
    return (uint64_t)v;
}
