/*
 * series.c -- owned series of doubles and the statistics shared by the
 * metrics: Pearson correlation, day alignment of two daily series, rolling
 * correlation of returns (docs/metrics.md §3) and the agreement of two
 * indices (§7.3).
 *
 * Statistics are computed in two passes (mean, then centred sums) so a
 * series of large levels (Nasdaq-100 at 25,000) does not lose the variance
 * to cancellation.  Nothing here returns NaN: degenerate inputs are errors.
 */
#include <math.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"

void sp_an_series_init(sp_an_series *s)
{
    memset(s, 0, sizeof(*s));
}

sp_err sp_an_series_push(sp_an_series *s, int64_t ts_ns, double v)
{
    if (!isfinite(v))
        return SP_EINVAL;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        sp_an_point *np = sp_reallocarray(s->p, ncap, sizeof(*np));
        if (np == NULL)
            return SP_ENOMEM;
        s->p = np;
        s->cap = ncap;
    }
    s->p[s->n].ts_ns = ts_ns;
    s->p[s->n].v = v;
    s->n++;
    return SP_OK;
}

void sp_an_series_fini(sp_an_series *s)
{
    sp_free(s->p);
    memset(s, 0, sizeof(*s));
}

const char *sp_an_ret_name(sp_an_ret r)
{
    switch (r) {
    case SP_AN_RET_LOG:
        return "log";
    case SP_AN_RET_SIMPLE:
        return "simple";
    case SP_AN_RET_LEVEL:
        return "level";
    }
    return "?";
}

int sp_an_ret_from_name(const char *s)
{
    if (s == NULL)
        return -1;
    for (int r = SP_AN_RET_LOG; r <= SP_AN_RET_LEVEL; r++) {
        if (strcmp(s, sp_an_ret_name((sp_an_ret)r)) == 0)
            return r;
    }
    return -1;
}

sp_err sp_an_pearson(const double *x, const double *y, size_t n, double *r)
{
    if (n < 3)
        return SP_ERANGE;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if (!(sxx > 0) || !(syy > 0))
        return SP_EDIVZERO;
    double v = sxy / sqrt(sxx * syy);
    /* Rounding can push a perfect correlation a hair past 1. */
    *r = v > 1 ? 1 : (v < -1 ? -1 : v);
    return SP_OK;
}

int64_t sp__an_day_of(int64_t ts_ns)
{
    int64_t d = ts_ns / SP_AN_NS_PER_DAY;
    if (ts_ns < 0 && d * SP_AN_NS_PER_DAY != ts_ns)
        d--;
    return d;
}

/*
 * Pairs of a and b on their common UTC days (both sorted by time; when a
 * series has two points on one day the last one counts).  OUT: *xs, *ys
 * (sp_free both), *days (may be NULL: the day numbers, sp_free), *n.
 */
sp_err sp__an_align_days(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                         double **xs, double **ys, int64_t **days, size_t *n)
{
    size_t cap = na < nb ? na : nb;
    *xs = NULL;
    *ys = NULL;
    if (days)
        *days = NULL;
    *n = 0;
    double *x = sp_calloc(cap ? cap : 1, sizeof(*x));
    double *y = sp_calloc(cap ? cap : 1, sizeof(*y));
    int64_t *dd = days ? sp_calloc(cap ? cap : 1, sizeof(*dd)) : NULL;
    if (x == NULL || y == NULL || (days && dd == NULL)) {
        sp_free(x);
        sp_free(y);
        sp_free(dd);
        return SP_ENOMEM;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        int64_t da = sp__an_day_of(a[i].ts_ns), db = sp__an_day_of(b[j].ts_ns);
        /* Skip to the last point of each day. */
        if (i + 1 < na && sp__an_day_of(a[i + 1].ts_ns) == da) {
            i++;
            continue;
        }
        if (j + 1 < nb && sp__an_day_of(b[j + 1].ts_ns) == db) {
            j++;
            continue;
        }
        if (da < db) {
            i++;
        } else if (db < da) {
            j++;
        } else {
            x[k] = a[i].v;
            y[k] = b[j].v;
            if (dd)
                dd[k] = da;
            k++;
            i++;
            j++;
        }
    }
    *xs = x;
    *ys = y;
    if (days)
        *days = dd;
    *n = k;
    return SP_OK;
}

/* Turn levels v[0..n) into n - 1 returns in place (level type: unchanged, n kept). */
static sp_err to_returns(double *v, size_t n, sp_an_ret ret, size_t *m)
{
    if (ret == SP_AN_RET_LEVEL) {
        *m = n;
        return SP_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] > 0))
            return SP_EINVAL;
    }
    for (size_t i = 0; i + 1 < n; i++)
        v[i] = ret == SP_AN_RET_LOG ? log(v[i + 1] / v[i]) : v[i + 1] / v[i] - 1;
    *m = n ? n - 1 : 0;
    return SP_OK;
}

sp_err sp_an_corr(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb, size_t window,
                  sp_an_ret ret, int64_t end_ns, double *r, size_t *used)
{
    double *x, *y;
    int64_t *days;
    size_t n;
    if (window < 3)
        return SP_ERANGE;
    sp_err rc = sp__an_align_days(a, na, b, nb, &x, &y, &days, &n);
    if (rc != SP_OK)
        return rc;
    int64_t end_day = sp__an_day_of(end_ns);
    size_t last = n;
    while (last > 0 && days[last - 1] > end_day)
        last--;
    /* A window of `window` returns needs window + 1 levels. */
    size_t need = ret == SP_AN_RET_LEVEL ? window : window + 1;
    if (last < need) {
        rc = SP_ERANGE;
        goto out;
    }
    double *xs = x + (last - need), *ys = y + (last - need);
    size_t m;
    if ((rc = to_returns(xs, need, ret, &m)) != SP_OK ||
        (rc = to_returns(ys, need, ret, &m)) != SP_OK)
        goto out;
    rc = sp_an_pearson(xs, ys, m, r);
    if (rc == SP_OK && used)
        *used = m;
out:
    sp_free(x);
    sp_free(y);
    sp_free(days);
    return rc;
}

sp_err sp_an_corr_rolling(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                          size_t window, sp_an_ret ret, sp_an_series *out)
{
    double *x, *y;
    int64_t *days;
    size_t n;
    if (window < 3)
        return SP_ERANGE;
    sp_err rc = sp__an_align_days(a, na, b, nb, &x, &y, &days, &n);
    if (rc != SP_OK)
        return rc;
    size_t m;
    if ((rc = to_returns(x, n, ret, &m)) != SP_OK || (rc = to_returns(y, n, ret, &m)) != SP_OK)
        goto out;
    /* Return i (0-based) ends on common day i + 1 (for levels, on day i). */
    size_t shift = ret == SP_AN_RET_LEVEL ? 0 : 1;
    for (size_t e = window; e <= m; e++) {
        double c;
        sp_err prc = sp_an_pearson(x + e - window, y + e - window, window, &c);
        if (prc == SP_EDIVZERO)
            continue;
        if (prc != SP_OK) {
            rc = prc;
            goto out;
        }
        if ((rc = sp_an_series_push(out, days[e - 1 + shift] * SP_AN_NS_PER_DAY, c)) != SP_OK)
            goto out;
    }
out:
    sp_free(x);
    sp_free(y);
    sp_free(days);
    return rc;
}

sp_err sp_an_agreement_of(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                          sp_an_agreement *out)
{
    double *x, *y;
    size_t n;
    sp_err rc = sp__an_align_days(a, na, b, nb, &x, &y, NULL, &n);
    if (rc != SP_OK)
        return rc;
    double c = 0;
    rc = sp_an_pearson(x, y, n, &c);
    if (rc == SP_OK) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += fabs(x[i] - y[i]);
        out->corr = c;
        out->mad = s / (double)n;
        out->days = n;
    }
    sp_free(x);
    sp_free(y);
    return rc;
}

sp_err sp_an_parse_duration(const char *s, int64_t *ns)
{
    int64_t v = 0;
    size_t i = 0;
    if (s == NULL)
        return SP_EPARSE;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (s[i] - '0');
        if (v > INT64_C(3650) * 86400)
            return SP_ERANGE;
    }
    if (i == 0 || v == 0 || s[i] == '\0' || s[i + 1] != '\0')
        return SP_EPARSE;
    int64_t unit;
    switch (s[i]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return SP_EPARSE;
    }
    if (v * unit > INT64_C(3650) * 86400)
        return SP_ERANGE;
    *ns = v * unit * SP_AN_NS_PER_SEC;
    return SP_OK;
}
