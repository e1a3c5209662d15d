/*
 * json.c -- the zero-allocation JSON scanner under the hot decoders.
 *
 * Why hand-written: docs/specs/perf-anchors.md §2 measured a schema-driven
 * scanner at 177 ns per forceOrder message against 1,156 ns for cJSON and
 * 3,654 ns for jansson on the same messages; bench/bench_decode.c keeps
 * cJSON beside this scanner as the baseline.  The scanner never builds a
 * tree: sp__js_obj() walks one object, validating every byte of it (RFC
 * 8259 syntax: strings with legal escapes and no control bytes, numbers in
 * JSON grammar, literals, nesting), and records each member's key and value
 * span in a fixed-size table on the caller's stack.  Decoders then read the
 * members they need with typed getters that parse decimals digit by digit
 * at the event scale (sp_dec_parse: exact, overflow-checked).
 *
 * Every error names the byte where it happened (d->column, 1-based from
 * the start of the message) and the field when known.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"

void sp__js_init(sp__js *s, const char *msg, size_t n, sp_diag *d)
{
    s->base = msg;
    s->p = msg;
    s->end = msg + n;
    s->d = d;
}

sp_err sp__js_fail(sp__js *s, const char *at, const char *field, sp_err code, const char *fmt, ...)
{
    if (s->d == NULL)
        return code;
    char msg[SP_DIAG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sp_diag_set(s->d, code, "%s", msg);
    /* a position outside the message (a caller's scratch copy) is reported as unknown */
    s->d->column = at >= s->base && at <= s->end ? (uint64_t)(at - s->base) + 1 : 0;
    sp_diag_field(s->d, field ? field : "");
    return code;
}

void sp__js_ws(sp__js *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Bytes that end the fast run inside a string: '"', '\\' and control bytes. */
const unsigned char sp__js_str_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1,
};

/* Scan a string at the cursor (on the opening quote). */
static sp_err scan_str(sp__js *s, const char **v, size_t *vn, bool *esc)
{
    const char *start = s->p;
    s->p++; /* opening quote */
    *esc = false;
    const char *b = s->p;
    while (s->p < s->end) {
        /* the common case: plain bytes, four at a time while room remains */
        while (s->end - s->p >= 4 && !sp__js_str_special[(unsigned char)s->p[0]] &&
               !sp__js_str_special[(unsigned char)s->p[1]] &&
               !sp__js_str_special[(unsigned char)s->p[2]] &&
               !sp__js_str_special[(unsigned char)s->p[3]])
            s->p += 4;
        while (s->p < s->end && !sp__js_str_special[(unsigned char)*s->p])
            s->p++;
        if (s->p >= s->end)
            break;
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *v = b;
            *vn = (size_t)(s->p - b);
            s->p++;
            return SP_OK;
        }
        if (c < 0x20)
            return sp__js_fail(s, s->p, NULL, SP_EPARSE, "control byte 0x%02x inside a string", c);
        if (c == '\\') {
            *esc = true;
            if (s->p + 1 >= s->end)
                break;
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6)
                    break;
                for (int i = 2; i < 6; i++) {
                    char h = s->p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return sp__js_fail(s, s->p + i, NULL, SP_EPARSE, "bad \\u escape");
                }
                s->p += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return sp__js_fail(s, s->p, NULL, SP_EPARSE, "bad escape '\\%c'", e);
            s->p += 2;
            continue;
        }
        s->p++;
    }
    return sp__js_fail(s, start, NULL, SP_ETRUNCATED, "unterminated string");
}

/* Scan a number in JSON grammar at the cursor. */
static sp_err scan_num(sp__js *s)
{
    const char *st = s->p;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return sp__js_fail(s, st, NULL, SP_EPARSE, "bad number");
    if (*s->p == '0') {
        s->p++;
    } else {
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return sp__js_fail(s, s->p, NULL, SP_EPARSE, "no digit after the decimal point");
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s->p >= s->end || *s->p < '0' || *s->p > '9')
            return sp__js_fail(s, s->p, NULL, SP_EPARSE, "bad exponent");
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++;
    }
    return SP_OK;
}

static sp_err scan_lit(sp__js *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return sp__js_fail(s, s->p, NULL, SP_EPARSE, "unexpected byte '%c'",
                           s->p < s->end ? *s->p : '?');
    s->p += n;
    return SP_OK;
}

static sp_err skip_value(sp__js *s, int depth);

/* Skip a container (object or array) at the cursor, validating it. */
static sp_err skip_container(sp__js *s, int depth)
{
    if (depth >= SP__JS_DEPTH_MAX)
        return sp__js_fail(s, s->p, NULL, SP_ETOOBIG, "nesting deeper than %d", SP__JS_DEPTH_MAX);
    char open = *s->p;
    char close = open == '{' ? '}' : ']';
    const char *start = s->p;
    s->p++;
    sp__js_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return SP_OK;
    }
    for (;;) {
        sp_err rc;
        if (open == '{') {
            if (s->p >= s->end || *s->p != '"')
                return s->p >= s->end
                           ? sp__js_fail(s, start, NULL, SP_ETRUNCATED, "unterminated object")
                           : sp__js_fail(s, s->p, NULL, SP_EPARSE, "expected a key");
            const char *kv;
            size_t kn;
            bool esc;
            if ((rc = scan_str(s, &kv, &kn, &esc)) != SP_OK)
                return rc;
            sp__js_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return sp__js_fail(s, s->p, NULL, s->p >= s->end ? SP_ETRUNCATED : SP_EPARSE,
                                   "expected ':'");
            s->p++;
            sp__js_ws(s);
        }
        if ((rc = skip_value(s, depth + 1)) != SP_OK)
            return rc;
        sp__js_ws(s);
        if (s->p >= s->end)
            return sp__js_fail(s, start, NULL, SP_ETRUNCATED, "unterminated %s",
                               open == '{' ? "object" : "array");
        if (*s->p == ',') {
            s->p++;
            sp__js_ws(s);
            continue;
        }
        if (*s->p == close) {
            s->p++;
            return SP_OK;
        }
        return sp__js_fail(s, s->p, NULL, SP_EPARSE, "expected ',' or '%c'", close);
    }
}

static sp_err skip_value(sp__js *s, int depth)
{
    if (s->p >= s->end)
        return sp__js_fail(s, s->p, NULL, SP_ETRUNCATED, "value expected, input ends");
    const char *v;
    size_t vn;
    bool esc;
    switch (*s->p) {
    case '"':
        return scan_str(s, &v, &vn, &esc);
    case '{':
    case '[':
        return skip_container(s, depth);
    case 't':
        return scan_lit(s, "true", 4);
    case 'f':
        return scan_lit(s, "false", 5);
    case 'n':
        return scan_lit(s, "null", 4);
    default:
        return scan_num(s);
    }
}

sp_err sp__js_value(sp__js *s, sp__jsf *out)
{
    sp__js_ws(s);
    if (s->p >= s->end)
        return sp__js_fail(s, s->p, NULL, SP_ETRUNCATED, "value expected, input ends");
    const char *st = s->p;
    out->esc = false;
    switch (*s->p) {
    case '"': {
        sp_err rc = scan_str(s, &out->v, &out->vn, &out->esc);
        out->type = JS_STR;
        return rc;
    }
    case '{':
        out->type = JS_OBJ;
        break;
    case '[':
        out->type = JS_ARR;
        break;
    case 't':
        out->type = JS_TRUE;
        break;
    case 'f':
        out->type = JS_FALSE;
        break;
    case 'n':
        out->type = JS_NULL;
        break;
    default:
        out->type = JS_NUM;
        break;
    }
    sp_err rc = skip_value(s, 0);
    out->v = st;
    out->vn = (size_t)(s->p - st);
    return rc;
}

static bool is_child_key(const sp__jsobj *o, const char *k, size_t kn)
{
    if (o->child == NULL || o->child->n != (size_t)-1)
        return false; /* no child table, or already used */
    for (const char *const *ck = o->child_keys; *ck; ck++) {
        if (strlen(*ck) == kn && memcmp(*ck, k, kn) == 0)
            return true;
    }
    return false;
}

sp_err sp__js_obj(sp__js *s, sp__jsobj *o)
{
    o->n = 0;
    if (o->child != NULL)
        o->child->n = (size_t)-1; /* marks the child table unused */
    sp__js_ws(s);
    if (s->p >= s->end)
        return sp__js_fail(s, s->p, NULL, SP_ETRUNCATED, "object expected, input ends");
    if (*s->p != '{')
        return sp__js_fail(s, s->p, NULL, SP_EPARSE, "expected an object, got '%c'", *s->p);
    const char *start = s->p;
    s->p++;
    sp__js_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return SP_OK;
    }
    for (;;) {
        if (s->p >= s->end)
            return sp__js_fail(s, start, NULL, SP_ETRUNCATED, "unterminated object");
        if (*s->p != '"')
            return sp__js_fail(s, s->p, NULL, SP_EPARSE, "expected a key");
        const char *kv;
        size_t kn;
        bool kesc;
        sp_err rc = scan_str(s, &kv, &kn, &kesc);
        if (rc != SP_OK)
            return rc;
        if (kesc)
            return sp__js_fail(s, kv, NULL, SP_EPARSE, "escaped key not supported");
        sp__js_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return sp__js_fail(s, s->p, NULL, s->p >= s->end ? SP_ETRUNCATED : SP_EPARSE,
                               "expected ':'");
        s->p++;
        sp__jsf tmp;
        sp__jsf *f = o->n < SP__JS_FIELDS_MAX ? &o->f[o->n] : &tmp;
        sp__js_ws(s);
        f->child = false;
        if (s->p < s->end && *s->p == '{' && is_child_key(o, kv, kn)) {
            const char *vs = s->p;
            if ((rc = sp__js_obj(s, o->child)) != SP_OK)
                return rc;
            f->type = JS_OBJ;
            f->esc = false;
            f->v = vs;
            f->vn = (size_t)(s->p - vs);
            f->child = true;
        } else if ((rc = sp__js_value(s, f)) != SP_OK) {
            return rc;
        }
        if (o->n >= SP__JS_FIELDS_MAX)
            return sp__js_fail(s, kv, NULL, SP_ETOOBIG, "more than %d members in one object",
                               SP__JS_FIELDS_MAX);
        f->k = kv;
        f->kn = kn;
        for (size_t i = 0; i < o->n; i++) {
            if (o->f[i].kn == kn && o->f[i].k[0] == kv[0] && memcmp(o->f[i].k, kv, kn) == 0)
                return sp__js_fail(s, kv, NULL, SP_EPARSE, "duplicate key \"%.*s\"", (int)kn, kv);
        }
        o->n++;
        sp__js_ws(s);
        if (s->p >= s->end)
            return sp__js_fail(s, start, NULL, SP_ETRUNCATED, "unterminated object");
        if (*s->p == ',') {
            s->p++;
            sp__js_ws(s);
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return SP_OK;
        }
        return sp__js_fail(s, s->p, NULL, SP_EPARSE, "expected ',' or '}'");
    }
}

sp_err sp__js_nested(sp__js *s, const sp__jsobj *o, const char *key, sp__jsobj *scratch,
                     const sp__jsobj **out)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return sp__js_fail(s, s->base, key, SP_ENOTFOUND, "missing field \"%s\"", key);
    if (f->type != JS_OBJ)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected an object");
    if (f->child) {
        *out = o->child;
        return SP_OK;
    }
    sp__js in;
    sp__js_sub(s, f, &in);
    sp__js_obj_init(scratch);
    *out = scratch;
    return sp__js_obj(&in, scratch);
}

sp_err sp__js_end(sp__js *s)
{
    sp__js_ws(s);
    if (s->p != s->end)
        return sp__js_fail(s, s->p, NULL, SP_EPARSE, "trailing bytes after the JSON value");
    return SP_OK;
}

bool sp__js_key_is(const sp__jsf *f, const char *key)
{
    size_t n = strlen(key);
    return f->kn == n && memcmp(f->k, key, n) == 0;
}

const sp__jsf *sp__js_get(const sp__jsobj *o, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < o->n; i++) {
        const sp__jsf *f = &o->f[i];
        if (f->kn == n && f->k[0] == key[0] && (n == 1 || memcmp(f->k, key, n) == 0))
            return f;
    }
    return NULL;
}

void sp__js_sub(const sp__js *parent, const sp__jsf *f, sp__js *sub)
{
    sub->base = parent->base;
    sub->p = f->v;
    sub->end = f->v + f->vn;
    sub->d = parent->d;
}

static sp_err missing(sp__js *s, const char *key)
{
    return sp__js_fail(s, s->base, key, SP_ENOTFOUND, "missing field \"%s\"", key);
}

bool sp__dec_fast(const char *p, size_t n, unsigned scale, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && p[0] == '-') {
        neg = true;
        i = 1;
    }
    size_t ip = i;
    uint64_t acc = 0; /* at most 18 digits are accumulated: never wraps */
    while (i < n && (unsigned)(p[i] - '0') < 10u && i - ip < 19)
        acc = acc * 10 + (uint64_t)(p[i++] - '0');
    size_t idig = i - ip;
    /* 1..18 - scale integer digits: the scaled value stays below 1e18 */
    if (idig == 0 || scale > 18 || idig + scale > 18)
        return false;
    size_t fdig = 0;
    if (i < n) {
        if (p[i] != '.')
            return false;
        i++;
        size_t fs = i;
        while (i < n && (unsigned)(p[i] - '0') < 10u && i - fs <= scale)
            acc = acc * 10 + (uint64_t)(p[i++] - '0');
        fdig = i - fs;
        if (fdig == 0 || fdig > scale || i != n)
            return false;
    }
    acc *= (uint64_t)sp_pow10((unsigned)(scale - fdig));
    *out = neg ? -(int64_t)acc : (int64_t)acc;
    return true;
}

sp_err sp__js_dec_span(sp__js *s, const char *v, size_t n, const char *field, unsigned scale,
                       int64_t *out)
{
    /* the common case in a few instructions; anything unusual takes the exact general path */
    if (sp__dec_fast(v, n, scale, out))
        return SP_OK;
    sp_diag tmp;
    sp_diag_clear(&tmp);
    sp_err rc = sp_dec_parse(v, n, scale, out, &tmp);
    if (rc == SP_OK)
        return SP_OK;
    const char *at = v + (tmp.column ? tmp.column - 1 : 0);
    return sp__js_fail(s, at, field, rc, "\"%.*s\": %s", (int)(n > 40 ? 40 : n), v, tmp.msg);
}

sp_err sp__js_int_span(sp__js *s, const char *v, size_t n, const char *field, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && v[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n)
        return sp__js_fail(s, v, field, SP_EPARSE, "empty integer");
    uint64_t acc = 0;
    if (n - i <= 18) { /* up to 18 digits cannot overflow: no per-digit check */
        for (; i < n; i++) {
            unsigned dg = (unsigned)(v[i] - '0');
            if (dg > 9)
                return sp__js_fail(s, v + i, field, SP_EPARSE, "not an integer: \"%.*s\"",
                                   (int)(n > 40 ? 40 : n), v);
            acc = acc * 10 + dg;
        }
        *out = neg ? -(int64_t)acc : (int64_t)acc;
        return SP_OK;
    }
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        char c = v[i];
        if (c < '0' || c > '9')
            return sp__js_fail(s, v + i, field, SP_EPARSE, "not an integer: \"%.*s\"",
                               (int)(n > 40 ? 40 : n), v);
        uint64_t dg = (uint64_t)(c - '0');
        if (acc > (lim - dg) / 10)
            return sp__js_fail(s, v + i, field, SP_EOVERFLOW, "integer past int64");
        acc = acc * 10 + dg;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return SP_OK;
}

sp_err sp__js_dec(sp__js *s, const sp__jsobj *o, const char *key, unsigned scale, int64_t *out)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return missing(s, key);
    if (f->type != JS_STR)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected a decimal string");
    return sp__js_dec_span(s, f->v, f->vn, key, scale, out);
}

sp_err sp__js_decnum(sp__js *s, const sp__jsobj *o, const char *key, unsigned scale, int64_t *out)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return missing(s, key);
    if (f->type != JS_STR && f->type != JS_NUM)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected a decimal");
    return sp__js_dec_span(s, f->v, f->vn, key, scale, out);
}

sp_err sp__js_int(sp__js *s, const sp__jsobj *o, const char *key, int64_t *out)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return missing(s, key);
    if (f->type != JS_NUM)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected an integer");
    return sp__js_int_span(s, f->v, f->vn, key, out);
}

sp_err sp__js_bool(sp__js *s, const sp__jsobj *o, const char *key, bool *out)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return missing(s, key);
    if (f->type != JS_TRUE && f->type != JS_FALSE)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected true or false");
    *out = f->type == JS_TRUE;
    return SP_OK;
}

sp_err sp__js_str(sp__js *s, const sp__jsobj *o, const char *key, const char **p, size_t *n)
{
    const sp__jsf *f = sp__js_get(o, key);
    if (f == NULL)
        return missing(s, key);
    if (f->type != JS_STR)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "expected a string");
    if (f->esc)
        return sp__js_fail(s, f->v, key, SP_EPARSE, "escapes not allowed here");
    *p = f->v;
    *n = f->vn;
    return SP_OK;
}

sp_err sp__js_levels(sp__js *s, const sp__jsf *arr, const char *field, sp__js_level_fn fn,
                     void *ctx)
{
    if (arr->type != JS_ARR)
        return sp__js_fail(s, arr->v, field, SP_EPARSE, "expected an array of levels");
    sp__js sub;
    sp__js_sub(s, arr, &sub);
    sub.p++; /* '[' (already validated) */
    size_t idx = 0;
    for (;;) {
        sp__js_ws(&sub);
        if (*sub.p == ']')
            return SP_OK;
        if (*sub.p == ',') {
            sub.p++;
            sp__js_ws(&sub);
        }
        if (*sub.p != '[')
            return sp__js_fail(s, sub.p, field, SP_EPARSE, "expected a [price, qty] level");
        sub.p++;
        sp__jsf px, qty, extra;
        sp_err rc;
        if ((rc = sp__js_value(&sub, &px)) != SP_OK)
            return rc;
        sp__js_ws(&sub);
        if (*sub.p != ',')
            return sp__js_fail(s, sub.p, field, SP_EPARSE, "level needs a price and a quantity");
        sub.p++;
        if ((rc = sp__js_value(&sub, &qty)) != SP_OK)
            return rc;
        sp__js_ws(&sub);
        while (*sub.p == ',') { /* OKX: [px, sz, "0", orders] */
            sub.p++;
            if ((rc = sp__js_value(&sub, &extra)) != SP_OK)
                return rc;
            sp__js_ws(&sub);
        }
        if (*sub.p != ']')
            return sp__js_fail(s, sub.p, field, SP_EPARSE, "expected ']' after a level");
        sub.p++;
        if (px.type != JS_STR || qty.type != JS_STR)
            return sp__js_fail(s, px.v, field, SP_EPARSE, "level values must be strings");
        int64_t p, q;
        if ((rc = sp__js_dec_span(s, px.v, px.vn, field, SP_EV_PX_SCALE, &p)) != SP_OK)
            return rc;
        if ((rc = sp__js_dec_span(s, qty.v, qty.vn, field, SP_EV_QTY_SCALE, &q)) != SP_OK)
            return rc;
        if (p <= 0 || q < 0)
            return sp__js_fail(s, px.v, field, SP_ERANGE, "level price must be > 0, qty >= 0");
        if ((rc = fn(ctx, p, q, idx)) != SP_OK)
            return rc;
        idx++;
    }
}

sp_event *sp__next_ev(sp__js *s, sp__out *o, uint8_t venue)
{
    if (o->n >= o->cap) {
        sp__js_fail(s, s->base, NULL, SP_ETOOBIG, "message yields more than %zu events", o->cap);
        return NULL;
    }
    sp_event *e = &o->ev[o->n++];
    memset(e, 0, sizeof(*e));
    e->venue = venue;
    return e;
}

sp_err sp__put_level(void *ctx, int64_t px, int64_t qty, size_t idx)
{
    sp__level_ctx *c = ctx;
    sp_event *e = sp__next_ev(c->s, c->out, c->tmpl.venue);
    if (e == NULL)
        return SP_ETOOBIG;
    *e = c->tmpl;
    e->px = px;
    e->qty = qty;
    if (c->tmpl.kind == SP_EV_BOOK_LEVEL)
        e->aux[1] = (int64_t)idx;
    return SP_OK;
}
