/*
 * fg.c -- Fear & Greed (docs/metrics.md §7): the published alternative.me
 * bands, a transparent index of our own, and its agreement with the
 * published series.
 *
 * Our index has four components computed from daily data we ship
 * (closes and volume, daily mean funding):
 *   volatility  30-day realised volatility of log returns (inverted: calm
 *               markets score high = greed);
 *   momentum    today's close against its 30-day mean (close / mean - 1);
 *   volume      7-day mean volume against its 90-day mean;
 *   funding     7-day mean of the daily mean funding rate (longs paying =
 *               greed).
 * Each raw component is turned into a score 0..100 by its percentile rank
 * among the same component's previous 365 daily values (causal: no future
 * data, so the index could have been published that day; at least 90
 * previous values are required).  The index is the weighted mean of the
 * available scores; a component missing on a day (no funding yet in 2018)
 * has its weight spread over the others by renormalising.
 */
#include <math.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"
#include "stampede/feed.h"

enum { C_VOL, C_MOM, C_VOLU, C_FUND, C_N };

#define RANK_LOOKBACK 365
#define RANK_MIN      90

sp_an_fg_weights sp_an_fg_default_weights(void)
{
    sp_an_fg_weights w = {.volatility = 0.25, .momentum = 0.35, .volume = 0.15, .funding = 0.25};
    return w;
}

const char *sp_an_fg_label(double v)
{
    /* Bands fitted to alternative.me's labels (PROVENANCE.md §8). */
    if (v < 25.5)
        return "Extreme Fear";
    if (v < 46.5)
        return "Fear";
    if (v < 54.5)
        return "Neutral";
    if (v < 75.5)
        return "Greed";
    return "Extreme Greed";
}

/* Percentile rank (0..100) of raw[i] among the valid raw[i-365..i-1]; false if too few. */
static bool rank_of(const double *raw, const bool *ok, size_t i, double *score)
{
    size_t from = i > RANK_LOOKBACK ? i - RANK_LOOKBACK : 0;
    size_t cnt = 0;
    double below = 0;
    for (size_t j = from; j < i; j++) {
        if (!ok[j])
            continue;
        cnt++;
        if (raw[j] < raw[i])
            below += 1;
        else if (raw[j] == raw[i])
            below += 0.5;
    }
    if (cnt < RANK_MIN)
        return false;
    *score = 100.0 * below / (double)cnt;
    return true;
}

/* Mean of v[i-len+1..i]; false when i + 1 < len. */
static bool trailing_mean(const double *v, size_t i, size_t len, double *out)
{
    if (i + 1 < len)
        return false;
    double s = 0;
    for (size_t j = i + 1 - len; j <= i; j++)
        s += v[j];
    *out = s / (double)len;
    return true;
}

sp_err sp_an_fg_index(const sp_an_point *close, const double *volume, size_t n,
                      const sp_an_point *funding, size_t nf, const sp_an_fg_weights *w,
                      sp_an_series *out)
{
    double wt[C_N] = {w->volatility, w->momentum, w->volume, w->funding};
    double wsum = 0;
    for (int c = 0; c < C_N; c++) {
        if (!(wt[c] >= 0) || !isfinite(wt[c]))
            return SP_EINVAL;
        wsum += wt[c];
    }
    if (!(wsum > 0))
        return SP_EINVAL;
    if (n == 0)
        return SP_OK;
    double *raw = sp_calloc(n * C_N, sizeof(*raw));
    bool *ok = sp_calloc(n * C_N, sizeof(*ok));
    double *px = sp_calloc(n, sizeof(*px));
    double *lr = sp_calloc(n, sizeof(*lr));
    double *fd = sp_calloc(n, sizeof(*fd));
    bool *fok = sp_calloc(n, sizeof(*fok));
    sp_err rc = SP_OK;
    if (!raw || !ok || !px || !lr || !fd || !fok) {
        rc = SP_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        px[i] = close[i].v;
        if (!(px[i] > 0)) {
            rc = SP_EINVAL;
            goto out;
        }
        lr[i] = i > 0 ? log(px[i] / px[i - 1]) : 0;
    }
    /* Funding by day: a merge on the UTC day (both sorted). */
    for (size_t i = 0, j = 0; i < n; i++) {
        int64_t day = sp__an_day_of(close[i].ts_ns);
        while (j < nf && sp__an_day_of(funding[j].ts_ns) < day)
            j++;
        if (j < nf && sp__an_day_of(funding[j].ts_ns) == day) {
            fd[i] = funding[j].v;
            fok[i] = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double *r = raw + i * C_N;
        bool *k = ok + i * C_N;
        /* volatility: sample stdev of the last 30 log returns, negated (calm = greed). */
        if (i >= 30) {
            double m = 0, ss = 0;
            for (size_t j = i - 29; j <= i; j++)
                m += lr[j];
            m /= 30;
            for (size_t j = i - 29; j <= i; j++)
                ss += (lr[j] - m) * (lr[j] - m);
            r[C_VOL] = -sqrt(ss / 29);
            k[C_VOL] = true;
        }
        double m30;
        if (trailing_mean(px, i, 30, &m30)) {
            r[C_MOM] = px[i] / m30 - 1;
            k[C_MOM] = true;
        }
        double v7, v90;
        if (volume && trailing_mean(volume, i, 7, &v7) && trailing_mean(volume, i, 90, &v90) &&
            v90 > 0) {
            r[C_VOLU] = v7 / v90;
            k[C_VOLU] = true;
        }
        if (i >= 6) {
            double s = 0;
            size_t c = 0;
            for (size_t j = i - 6; j <= i; j++) {
                if (fok[j]) {
                    s += fd[j];
                    c++;
                }
            }
            if (c >= 4) {
                r[C_FUND] = s / (double)c;
                k[C_FUND] = true;
            }
        }
    }
    /* Scores by causal percentile rank, then the weighted mean. */
    double *col = sp_calloc(n, sizeof(*col));
    bool *cok = sp_calloc(n, sizeof(*cok));
    double *acc = sp_calloc(n * 2, sizeof(*acc));
    if (!col || !cok || !acc) {
        sp_free(col);
        sp_free(cok);
        sp_free(acc);
        rc = SP_ENOMEM;
        goto out;
    }
    for (int c = 0; c < C_N; c++) {
        if (wt[c] == 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            col[i] = raw[i * C_N + (size_t)c];
            cok[i] = ok[i * C_N + (size_t)c];
        }
        for (size_t i = 0; i < n; i++) {
            double sc;
            if (cok[i] && rank_of(col, cok, i, &sc)) {
                acc[2 * i] += wt[c] * sc;
                acc[2 * i + 1] += wt[c];
            }
        }
    }
    for (size_t i = 0; i < n && rc == SP_OK; i++) {
        if (acc[2 * i + 1] > 0)
            rc = sp_an_series_push(out, sp__an_day_of(close[i].ts_ns) * SP_AN_NS_PER_DAY,
                                   acc[2 * i] / acc[2 * i + 1]);
    }
    sp_free(col);
    sp_free(cok);
    sp_free(acc);
out:
    sp_free(raw);
    sp_free(ok);
    sp_free(px);
    sp_free(lr);
    sp_free(fd);
    sp_free(fok);
    return rc;
}

sp_err sp_an_fg_from_events(const sp_an_events *e, int64_t to_ns, const sp_an_fg_weights *w,
                            sp_an_series *pub, sp_an_series *ours)
{
    const int64_t last = sp__an_day_of(to_ns);
    uint32_t fgi = e->syms ? sp_symtab_find(e->syms, "FGI", 3) : 0;
    uint32_t px = e->syms ? sp_symtab_find(e->syms, "BTC-USD", 7) : 0;
    uint32_t fm = e->syms ? sp_symtab_find(e->syms, "BTCUSDT", 7) : 0;
    sp_an_series close, fund;
    sp_an_series_init(&close);
    sp_an_series_init(&fund);
    double *vol = NULL;
    size_t nvol = 0;
    sp_err rc = SP_OK;
    for (size_t i = 0; i < e->n && rc == SP_OK; i++) {
        const sp_event *v = &e->ev[i];
        if (v->kind != SP_EV_SERIES || sp__an_day_of(v->exch_ts_ns) > last || v->symbol_id == 0)
            continue;
        if (v->sub == SP_SERIES_FEAR_GREED && v->symbol_id == fgi) {
            if (pub)
                rc = sp_an_series_push(pub, v->exch_ts_ns, sp__an_px(v->px));
        } else if (v->sub == SP_SERIES_PRICE && v->symbol_id == px && v->px > 0 && ours) {
            if (close.n == nvol) {
                size_t ncap = nvol ? nvol * 2 : 1024;
                double *nv = sp_reallocarray(vol, ncap, sizeof(*nv));
                if (nv == NULL) {
                    rc = SP_ENOMEM;
                    break;
                }
                vol = nv;
                nvol = ncap;
            }
            vol[close.n] = (double)v->aux[0];
            rc = sp_an_series_push(&close, v->exch_ts_ns, sp__an_px(v->px));
        } else if (v->sub == SP_SERIES_FUNDING_MEAN && v->symbol_id == fm && ours) {
            rc = sp_an_series_push(&fund, v->exch_ts_ns, (double)v->px / 1e12);
        }
    }
    if (rc == SP_OK && ours && close.n > 0)
        rc = sp_an_fg_index(close.p, vol, close.n, fund.p, fund.n, w, ours);
    sp_free(vol);
    sp_an_series_fini(&close);
    sp_an_series_fini(&fund);
    return rc;
}
