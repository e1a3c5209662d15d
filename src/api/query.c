/*
 * query.c -- query strings and typed parameters of the HTTP API.
 *
 * sp_api_query_parse splits the raw query string (taken from the request
 * URI before libmicrohttpd touches it) into key/value pairs, percent-
 * decoding into the request's arena, and refuses what no route accepts:
 * malformed escapes, keys outside [a-z0-9_-], repeated keys, values that
 * are not UTF-8 or carry control bytes, too many parameters.  The typed
 * readers (sp__api_p_*) then turn one value into a day, a time, a bounded
 * integer, a duration or a symbol, and on failure write the 400 answer
 * naming the field, so a route is a short list of reads.  This is the
 * code fuzz_api_query exercises.
 */
#include <string.h>

#include "api/api_int.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into the arena.  OUT: *out, *len.  SP_EPARSE for a bad escape. */
static sp_err decode(sp_arena *a, const char *s, size_t n, char **out, size_t *len)
{
    char *o;
    sp_err e = sp_arena_alloc(a, n + 1, 1, (void **)&o);
    if (e != SP_OK)
        return e;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            o[k++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return SP_EPARSE;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return SP_EPARSE;
            o[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            o[k++] = (char)c;
        }
    }
    o[k] = '\0';
    *out = o;
    *len = k;
    return SP_OK;
}

static bool key_ok(const char *k, size_t n)
{
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/*
 * Parse a query string into q (see api.h).  On error d names the
 * parameter (its decoded key when that much was valid) and why.
 */
sp_err sp_api_query_parse(sp_arena *a, const char *qs, size_t n, sp_api_query *q, sp_diag *d)
{
    q->n = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && qs[j] != '&')
            j++;
        if (j == i) { /* "a=1&&b=2": skip empty pieces */
            i = j + 1;
            continue;
        }
        const char *eq = memchr(qs + i, '=', j - i);
        size_t klen = eq ? (size_t)(eq - (qs + i)) : j - i;
        char *key, *val;
        size_t kdl, vdl;
        sp_err e = decode(a, qs + i, klen, &key, &kdl);
        if (e == SP_EPARSE)
            return sp_diag_set(d, SP_EPARSE, "bad %%-escape in a parameter name");
        if (e != SP_OK)
            return sp_diag_set(d, e, "query string: %s", sp_strerror(e));
        if (!key_ok(key, kdl)) {
            sp_diag_set(d, SP_EPARSE, "parameter names are 1..32 characters of a-z 0-9 _ -");
            return SP_EPARSE;
        }
        if (q->n == SP_API_PARAMS_MAX) {
            sp_diag_set(d, SP_ETOOBIG, "more than %d parameters", SP_API_PARAMS_MAX);
            sp_diag_field(d, key);
            return SP_ETOOBIG;
        }
        for (size_t k = 0; k < q->n; k++) {
            if (strcmp(q->p[k].key, key) == 0) {
                sp_diag_set(d, SP_EPARSE, "given more than once");
                sp_diag_field(d, key);
                return SP_EPARSE;
            }
        }
        const char *vs = eq ? eq + 1 : qs + j;
        e = decode(a, vs, (size_t)(qs + j - vs), &val, &vdl);
        if (e != SP_OK) {
            sp_diag_set(d, e, e == SP_EPARSE ? "bad %%-escape in the value" : "%s", sp_strerror(e));
            sp_diag_field(d, key);
            return e;
        }
        if (!sp_api_utf8_is_valid(val, vdl)) {
            sp_diag_set(d, SP_EPARSE, "value is not valid UTF-8");
            sp_diag_field(d, key);
            return SP_EPARSE;
        }
        for (size_t k = 0; k < vdl; k++) {
            if ((unsigned char)val[k] < 0x20 || val[k] == 0x7f) {
                sp_diag_set(d, SP_EPARSE, "value holds a control character");
                sp_diag_field(d, key);
                return SP_EPARSE;
            }
        }
        q->p[q->n].key = key;
        q->p[q->n].val = val;
        q->p[q->n].val_len = vdl;
        q->n++;
        i = j + 1;
    }
    return SP_OK;
}

const char *sp_api_query_get(const sp_api_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->p[i].key, key) == 0)
            return q->p[i].val;
    return NULL;
}

/* ---- typed readers ---------------------------------------------------------------- */

static bool bad(sp__api_out *o, const char *key, const char *detail)
{
    sp__api_error(o, 400, "bad_parameter", key, detail);
    return false;
}

bool sp__api_p_only(sp__api_req *r, sp__api_out *o, const char *const *allowed)
{
    for (size_t i = 0; i < r->q.n; i++) {
        size_t k = 0;
        while (allowed[k] && strcmp(allowed[k], r->q.p[i].key) != 0)
            k++;
        if (!allowed[k])
            return bad(o, r->q.p[i].key, "unknown parameter for this route (see openapi.json)");
    }
    return true;
}

bool sp__api_p_day(sp__api_req *r, sp__api_out *o, const char *key, int64_t dflt, int64_t *out)
{
    const char *v = sp_api_query_get(&r->q, key);
    *out = dflt;
    if (!v)
        return true;
    if (strlen(v) != 10 || sp_time_parse_iso(v, 10, out) != SP_OK)
        return bad(o, key, "want a UTC date YYYY-MM-DD");
    return true;
}

bool sp__api_p_time(sp__api_req *r, sp__api_out *o, const char *key, int64_t dflt, int64_t *out)
{
    const char *v = sp_api_query_get(&r->q, key);
    *out = dflt;
    if (!v)
        return true;
    if (v[0] == '\0' || sp_time_parse_iso(v, strlen(v), out) != SP_OK)
        return bad(o, key, "want a UTC date or time YYYY-MM-DD[THH:MM[:SS]][Z]");
    return true;
}

bool sp__api_p_int(sp__api_req *r, sp__api_out *o, const char *key, int64_t min, int64_t max,
                   int64_t dflt, int64_t *out)
{
    const char *v = sp_api_query_get(&r->q, key);
    *out = dflt;
    if (!v)
        return true;
    int64_t x;
    char why[96];
    if (v[0] == '\0' || sp_dec_parse(v, strlen(v), 0, &x, NULL) != SP_OK || x < min || x > max) {
        snprintf(why, sizeof(why), "want an integer in [%lld, %lld]", (long long)min,
                 (long long)max);
        return bad(o, key, why);
    }
    *out = x;
    return true;
}

bool sp__api_p_dur(sp__api_req *r, sp__api_out *o, const char *key, int64_t dflt, int64_t *out)
{
    const char *v = sp_api_query_get(&r->q, key);
    *out = dflt;
    if (!v)
        return true;
    if (sp_an_parse_duration(v, out) != SP_OK)
        return bad(o, key, "want a duration like 90m, 4h, 24h, 7d");
    return true;
}

bool sp__api_p_sym(sp__api_req *r, sp__api_out *o, const char *key, const char *dflt,
                   const char **out)
{
    const char *v = sp_api_query_get(&r->q, key);
    *out = dflt;
    if (!v)
        return true;
    size_t n = strlen(v);
    if (n == 0 || n > SP_SYMBOL_MAX)
        return bad(o, key, "want a symbol of 1..31 characters");
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '^' || c == '=' || c == '-' || c == '_' || c == ':' || c == '.'))
            return bad(o, key, "symbols are letters, digits and ^ = - _ : .");
    }
    *out = v;
    return true;
}
