/*
 * flows.c -- funding per settlement and per day (docs/metrics.md §4) and
 * US spot BTC ETF flows by month (§5).
 *
 * Funding rates arrive as FUNDING events with the rate at 1e-12 (exact);
 * the daily sum stays an exact integer and only the mean and the
 * annualised rate are doubles.  Binance's calc_time carries a few ms of
 * jitter (1769932800004 for 08:00), so a settlement is identified by its
 * time rounded to the nearest second (PROVENANCE.md §2).  ETF flows are
 * Farside's US$ millions at 1e-8, summed exactly with overflow checks.
 */
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"

double sp_an_funding_annualise(double rate, unsigned interval_h)
{
    if (interval_h == 0)
        return 0;
    return rate * (24.0 / (double)interval_h) * 365.0;
}

/* Round ns to the nearest second (half up; timestamps are positive). */
static int64_t round_sec(int64_t ns)
{
    return (ns + SP_AN_NS_PER_SEC / 2) / SP_AN_NS_PER_SEC;
}

static void close_day(sp_an_funding_day *d, double abs_sum)
{
    d->mean = (double)d->sum_e12 / 1e12 / (double)d->settles;
    d->mean_abs = abs_sum / 1e12 / (double)d->settles;
    d->annualised = sp_an_funding_annualise(d->mean, d->interval_h ? d->interval_h : 8);
}

sp_err sp_an_funding_daily(const sp_event *ev, size_t n, sp_an_funding_day *out, size_t cap,
                           size_t *n_out)
{
    size_t k = 0;
    double abs_sum = 0;
    int64_t last_sec = INT64_MIN;
    uint32_t last_sym = 0;
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (e->kind != SP_EV_FUNDING)
            continue;
        int64_t sec = round_sec(e->exch_ts_ns);
        if (sec == last_sec && e->symbol_id == last_sym)
            continue; /* the same settlement twice (raw + clean files) */
        last_sec = sec;
        last_sym = e->symbol_id;
        int64_t day = sp__an_day_of(sec * SP_AN_NS_PER_SEC) * SP_AN_NS_PER_DAY;
        if (k == 0 || out[k - 1].day_ns != day) {
            if (k > 0)
                close_day(&out[k - 1], abs_sum);
            if (k == cap)
                return SP_ETOOBIG;
            memset(&out[k], 0, sizeof(out[k]));
            out[k].day_ns = day;
            abs_sum = 0;
            k++;
        }
        sp_an_funding_day *d = &out[k - 1];
        if (sp_add_checked(d->sum_e12, e->px, &d->sum_e12) != SP_OK)
            return SP_EOVERFLOW;
        abs_sum += (double)(e->px < 0 ? -e->px : e->px);
        d->settles++;
        if (e->aux[1] > 0 && e->aux[1] <= 24)
            d->interval_h = (unsigned)e->aux[1];
    }
    if (k > 0)
        close_day(&out[k - 1], abs_sum);
    *n_out = k;
    return SP_OK;
}

sp_err sp_an_flow_months(const sp_event *ev, size_t n, sp_an_flow_month *out, size_t cap,
                         size_t *n_out)
{
    size_t k = 0;
    int64_t prev_day = INT64_MIN;
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (e->kind != SP_EV_SERIES)
            continue;
        int64_t day = sp__an_day_of(e->exch_ts_ns);
        if (day == prev_day)
            return SP_EINVAL;
        prev_day = day;
        int y, m, dd;
        sp_days_to_date(day, &y, &m, &dd);
        if (k == 0 || out[k - 1].year != y || out[k - 1].month != m) {
            if (k == cap)
                return SP_ETOOBIG;
            memset(&out[k], 0, sizeof(out[k]));
            out[k].year = y;
            out[k].month = m;
            k++;
        }
        sp_an_flow_month *mo = &out[k - 1];
        if (sp_add_checked(mo->net, e->px, &mo->net) != SP_OK)
            return SP_EOVERFLOW;
        if (e->px > 0 && sp_add_checked(mo->inflow, e->px, &mo->inflow) != SP_OK)
            return SP_EOVERFLOW;
        if (e->px < 0) {
            if (sp_add_checked(mo->outflow, e->px, &mo->outflow) != SP_OK)
                return SP_EOVERFLOW;
            if (e->px < mo->largest_out) {
                mo->largest_out = e->px;
                mo->largest_out_ns = day * SP_AN_NS_PER_DAY;
            }
        }
        mo->days++;
    }
    *n_out = k;
    return SP_OK;
}
