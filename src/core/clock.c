/*
 * clock.c -- monotonic and wall-clock time, and UTC calendar conversion.
 *
 * Calendar arithmetic uses the era-based days-from-civil method (400-year
 * cycles of 146,097 days), exact for every date in int64 range we accept
 * (years 1..9999).  No time zones: stampede works in UTC only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "stampede/clock.h"

int64_t sp_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t sp_clock_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

sp_err sp_date_to_days(int y, int m, int d, int64_t *days)
{
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return SP_EINVAL;
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = yy / 400;
    int64_t yoe = yy - era * 400;
    int64_t mp = (m + 9) % 12; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return SP_OK;
}

void sp_days_to_date(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

/* Read exactly `width` digits at s[*i]; SP_EPARSE otherwise. */
static sp_err digits(const char *s, size_t n, size_t *i, int width, int *out)
{
    int v = 0;
    for (int k = 0; k < width; k++) {
        if (*i >= n || s[*i] < '0' || s[*i] > '9')
            return SP_EPARSE;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return SP_OK;
}

static bool expect(const char *s, size_t n, size_t *i, char c)
{
    if (*i < n && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

sp_err sp_time_parse_iso(const char *s, size_t n, int64_t *ns)
{
    size_t i = 0;
    int y, mo, d, hh = 0, mi = 0, ss = 0;
    int64_t frac_ns = 0;
    if (digits(s, n, &i, 4, &y) || !expect(s, n, &i, '-') || digits(s, n, &i, 2, &mo) ||
        !expect(s, n, &i, '-') || digits(s, n, &i, 2, &d))
        return SP_EPARSE;
    if (i < n) {
        if (!expect(s, n, &i, 'T') && !expect(s, n, &i, ' '))
            return SP_EPARSE;
        if (digits(s, n, &i, 2, &hh) || !expect(s, n, &i, ':') || digits(s, n, &i, 2, &mi) ||
            !expect(s, n, &i, ':') || digits(s, n, &i, 2, &ss))
            return SP_EPARSE;
        if (expect(s, n, &i, '.')) {
            int64_t scale = 100000000;
            size_t start = i;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                frac_ns += (s[i] - '0') * scale;
                scale /= 10;
                i++;
            }
            if (i == start || i - start > 9)
                return SP_EPARSE;
        }
        if (expect(s, n, &i, 'Z')) {
            /* UTC */
        } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
                   s[i + 1] == '0' && s[i + 2] == '0' && s[i + 4] == '0' && s[i + 5] == '0') {
            i += 6; /* "+00:00" only: stampede reads UTC data */
        }
        if (i != n)
            return SP_EPARSE;
    }
    if (hh > 23 || mi > 59 || ss > 60)
        return SP_EPARSE;
    int64_t days;
    if (sp_date_to_days(y, mo, d, &days) != SP_OK)
        return SP_EPARSE;
    /* int64 nanoseconds span 1677-09-21 .. 2262-04-11: outside, SP_ERANGE */
    int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss, v;
    if (__builtin_mul_overflow(secs, INT64_C(1000000000), &v) ||
        __builtin_add_overflow(v, frac_ns, &v))
        return SP_ERANGE;
    *ns = v;
    return SP_OK;
}

char *sp_time_format_iso(int64_t ns, char *out, size_t cap)
{
    int64_t secs = ns / 1000000000LL;
    int64_t rem = ns % 1000000000LL;
    if (rem < 0) {
        rem += 1000000000LL;
        secs--;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int y, m, d;
    sp_days_to_date(days, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), (int)(rem / 1000000));
    return out;
}
