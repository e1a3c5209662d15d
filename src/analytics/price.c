/*
 * price.c -- metrics over OHLC bars (docs/metrics.md §2): extremes in a
 * window, drawdown from the running high, change over a window, realised
 * volatility.
 *
 * Prices stay exact int64 at 1e-8 (the highs and lows a reader checks
 * against PROVENANCE.md, e.g. 126,199.63 and 60,000.00, come out to the
 * cent); only ratios become doubles.  Bars are the decoded KLINE events of
 * one symbol and interval, sorted by open time (sp_an_bars_from).
 */
#include <math.h>

#include "analytics/analytics_int.h"

sp_err sp_an_extremes_of(const sp_an_bar *b, size_t n, int64_t from_ns, int64_t to_ns,
                         sp_an_extremes *out)
{
    sp_an_extremes x = {0};
    for (size_t i = 0; i < n; i++) {
        if (b[i].open_ns < from_ns || b[i].open_ns >= to_ns)
            continue;
        if (x.bars == 0 || b[i].high > x.high) {
            x.high = b[i].high;
            x.high_ns = b[i].open_ns;
        }
        if (x.bars == 0 || b[i].low < x.low) {
            x.low = b[i].low;
            x.low_ns = b[i].open_ns;
        }
        x.bars++;
    }
    if (x.bars == 0)
        return SP_ENOTFOUND;
    *out = x;
    return SP_OK;
}

sp_err sp_an_drawdown_of(const sp_an_bar *b, size_t n, sp_an_series *series, sp_an_drawdown *worst)
{
    if (n == 0)
        return SP_ENOTFOUND;
    sp_an_drawdown w = {0};
    int64_t run = 0, run_ns = 0;
    bool have = false;
    for (size_t i = 0; i < n; i++) {
        if (b[i].high <= 0 || b[i].low <= 0)
            return SP_EINVAL;
        if (b[i].high > run) {
            run = b[i].high;
            run_ns = b[i].open_ns;
        }
        double dd = (double)b[i].low / (double)run - 1.0;
        if (series) {
            sp_err rc = sp_an_series_push(series, b[i].open_ns, dd);
            if (rc != SP_OK)
                return rc;
        }
        if (!have || dd < w.dd) {
            w.dd = dd;
            w.peak = run;
            w.peak_ns = run_ns;
            w.trough = b[i].low;
            w.trough_ns = b[i].open_ns;
            have = true;
        }
    }
    *worst = w;
    return SP_OK;
}

/* The bar whose close_ns is exactly t, by binary search on the sorted bars. */
static const sp_an_bar *bar_closing_at(const sp_an_bar *b, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].close_ns < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && b[lo].close_ns == t ? &b[lo] : NULL;
}

sp_err sp_an_change(const sp_an_bar *b, size_t n, int64_t at_ns, int64_t window_ns, double *out)
{
    const sp_an_bar *now = bar_closing_at(b, n, at_ns);
    const sp_an_bar *then = bar_closing_at(b, n, at_ns - window_ns);
    if (now == NULL || then == NULL)
        return SP_ENOTFOUND;
    if (then->close <= 0)
        return SP_EDIVZERO;
    *out = (double)now->close / (double)then->close - 1.0;
    return SP_OK;
}

sp_err sp_an_realised_vol(const sp_an_bar *b, size_t n, int64_t from_ns, int64_t to_ns,
                          double periods_per_year, sp_an_vol *out)
{
    /* Two passes (mean, then centred squares) over the adjacent pairs. */
    double sum = 0;
    size_t m = 0;
    for (int pass = 0; pass < 2; pass++) {
        double mean = m ? sum / (double)m : 0, ss = 0;
        size_t k = 0;
        for (size_t i = 1; i < n; i++) {
            if (b[i].close_ns <= from_ns || b[i].close_ns > to_ns)
                continue;
            if (b[i].open_ns != b[i - 1].close_ns || b[i - 1].close <= 0 || b[i].close <= 0)
                continue;
            double r = log((double)b[i].close / (double)b[i - 1].close);
            if (pass == 0)
                sum += r;
            else
                ss += (r - mean) * (r - mean);
            k++;
        }
        if (pass == 0) {
            m = k;
            if (m < 2)
                return SP_ERANGE;
        } else {
            out->stdev = sqrt(ss / (double)(m - 1));
            out->annualised = out->stdev * sqrt(periods_per_year > 0 ? periods_per_year : 0);
            out->returns = m;
        }
    }
    return SP_OK;
}
