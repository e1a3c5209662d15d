/*
 * csv.c -- splitting one CSV line into fields, and typed field readers.
 *
 * RFC 4180 without embedded newlines (none of the formats we read has
 * them): fields are separated by commas; a field may be quoted, with ""
 * standing for one quote (left in place: no decoder reads text with quotes
 * in it, and numbers with quotes inside are rejected by the number parser).
 * Field readers report the failing field's name and its column so the
 * reject record says exactly where.  No allocation.
 */
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/fixed.h"

sp_err sp__csv_split(const char *line, size_t n, sp__csv_row *row, sp_diag *d)
{
    row->cols = 0;
    /* no format we read has control bytes: one is damage, even in a column we ignore */
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)line[k];
        if (c < 0x20 || c == 0x7f) {
            d->column = k + 1;
            return sp_diag_set(d, SP_EPARSE, "control byte 0x%02x in a CSV line", c);
        }
    }
    size_t i = 0;
    for (;;) {
        if (row->cols == SP__CSV_COLS_MAX) {
            d->column = i + 1;
            return sp_diag_set(d, SP_ETOOBIG, "more than %d columns", SP__CSV_COLS_MAX);
        }
        size_t c = row->cols++;
        if (i < n && line[i] == '"') {
            size_t st = ++i;
            for (;;) {
                if (i >= n) {
                    d->column = st;
                    return sp_diag_set(d, SP_ETRUNCATED, "unterminated quoted field");
                }
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            row->f[c] = line + st;
            row->n[c] = i - st;
            row->off[c] = st;
            i++; /* closing quote */
            if (i < n && line[i] != ',') {
                d->column = i + 1;
                return sp_diag_set(d, SP_EPARSE, "bytes after a closing quote");
            }
        } else {
            size_t st = i;
            while (i < n && line[i] != ',')
                i++;
            row->f[c] = line + st;
            row->n[c] = i - st;
            row->off[c] = st;
        }
        if (i >= n)
            return SP_OK;
        i++; /* comma */
    }
}

sp_err sp__csv_cols(const sp__csv_row *row, size_t want, sp_diag *d)
{
    if (row->cols == want)
        return SP_OK;
    d->column = 1;
    return sp_diag_set(d, row->cols < want ? SP_ETRUNCATED : SP_EPARSE,
                       "expected %zu columns, got %zu", want, row->cols);
}

/* Mantissa[eE]exponent, as Python's Decimal prints small values ("0E-8", "1e-04"). */
static sp_err dec_sci(const char *p, size_t n, unsigned scale, unsigned flags, int64_t *out,
                      sp_diag *d)
{
    if (flags == 0 && sp__dec_fast(p, n, scale, out))
        return SP_OK;
    size_t e = 0;
    while (e < n && p[e] != 'e' && p[e] != 'E')
        e++;
    if (e == n)
        return sp_dec_parse_ex(p, n, scale, flags, SP_RND_HALF_EVEN, out, d);
    size_t k = e + 1;
    bool neg = false;
    if (k < n && (p[k] == '-' || p[k] == '+'))
        neg = p[k++] == '-';
    if (k == n || n - k > 2) {
        d->column = e + 1;
        return sp_diag_set(d, SP_EPARSE, "bad exponent");
    }
    int ex = 0;
    for (; k < n; k++) {
        if (p[k] < '0' || p[k] > '9') {
            d->column = k + 1;
            return sp_diag_set(d, SP_EPARSE, "bad exponent");
        }
        ex = ex * 10 + (p[k] - '0');
    }
    /* v = m * 10^(+-ex): parse m at scale -+ ex, exactly */
    int sc = neg ? (int)scale - ex : (int)scale + ex;
    if (sc < 0 || sc > 18) {
        d->column = e + 1;
        return sp_diag_set(d, SP_EPRECISION, "exponent out of the representable range");
    }
    return sp_dec_parse_ex(p, e, (unsigned)sc, flags, SP_RND_HALF_EVEN, out, d);
}

sp_err sp__csv_dec(const sp__csv_row *row, size_t i, const char *name, unsigned scale, int64_t *out,
                   sp_diag *d)
{
    return sp__csv_dec_ex(row, i, name, scale, 0, out, d);
}

sp_err sp__csv_dec_ex(const sp__csv_row *row, size_t i, const char *name, unsigned scale,
                      unsigned flags, int64_t *out, sp_diag *d)
{
    sp_diag tmp;
    sp_diag_clear(&tmp);
    sp_err rc = dec_sci(row->f[i], row->n[i], scale, flags, out, &tmp);
    if (rc == SP_OK)
        return SP_OK;
    sp_diag_set(d, rc, "\"%.*s\": %s", (int)(row->n[i] > 40 ? 40 : row->n[i]), row->f[i], tmp.msg);
    d->column = row->off[i] + (tmp.column ? tmp.column : 1);
    sp_diag_field(d, name);
    return rc;
}

sp_err sp__csv_int(const sp__csv_row *row, size_t i, const char *name, int64_t *out, sp_diag *d)
{
    sp__js s;
    sp__js_init(&s, row->f[i] - row->off[i], row->off[i] + row->n[i], d);
    return sp__js_int_span(&s, row->f[i], row->n[i], name, out);
}

bool sp__csv_is(const sp__csv_row *row, size_t i, const char *text)
{
    size_t k = strlen(text);
    return i < row->cols && row->n[i] == k && memcmp(row->f[i], text, k) == 0;
}
