/*
 * analytics_int.h -- private helpers shared by the analytics sources.
 */
#ifndef SP_ANALYTICS_INT_H
#define SP_ANALYTICS_INT_H

#include "stampede/analytics.h"

/* The UTC day number (days since 1970-01-01) of ts_ns, floor for negatives. */
int64_t sp__an_day_of(int64_t ts_ns);

/*
 * Values of a and b on their common UTC days (last point of a day counts).
 * OUT: *xs, *ys, *days (if days != NULL), *n; caller sp_frees the arrays.
 */
sp_err sp__an_align_days(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                         double **xs, double **ys, int64_t **days, size_t *n);

/* A price at SP_EV_PX_SCALE as a double (presentation and ratios only). */
static inline double sp__an_px(int64_t v)
{
    return (double)v / 1e8;
}

#endif
