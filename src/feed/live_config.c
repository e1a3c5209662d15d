/*
 * live_config.c -- the live connectors' configuration (a JSON file read
 * with jansson), stream-name templates, the reconnect backoff and the
 * replay server's fault grammar (live.h documents all four).
 *
 * The configuration is a plain value (sp_live_config, no heap) so a
 * connector copies it and a test builds one on the stack.  Nothing here
 * touches the network; live_conn.c and replay_server.c use these pieces.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "stampede/alloc.h"
#include "stampede/limits.h"
#include "stampede/live.h"

static const char *const stream_names[] = {
#define SP_LIVE_STREAM_NAME_(name, value, text) [value] = text,
    SP_LIVE_STREAM_MAP(SP_LIVE_STREAM_NAME_)
#undef SP_LIVE_STREAM_NAME_
};

/* Stream family names, from the X-macro list of live.h. */
const char *sp_live_stream_name(unsigned s)
{
    return s < SP_LIVE_STREAM_COUNT_ ? stream_names[s] : NULL;
}

int sp_live_stream_from_name(const char *s)
{
    for (unsigned i = 0; i < SP_LIVE_STREAM_COUNT_; i++) {
        if (strcmp(stream_names[i], s) == 0)
            return (int)i;
    }
    return -1;
}

/* Copy a JSON string member into dst[cap]; absent keeps dst. */
static sp_err get_str(json_t *obj, const char *key, char *dst, size_t cap, sp_diag *d)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return SP_OK;
    sp_diag_field(d, key);
    if (!json_is_string(v))
        return sp_diag_set(d, SP_EPARSE, "\"%s\" must be a string", key);
    size_t n = json_string_length(v);
    if (n >= cap)
        return sp_diag_set(d, SP_ETOOBIG, "\"%s\" longer than %zu bytes", key, cap - 1);
    memcpy(dst, json_string_value(v), n + 1);
    return SP_OK;
}

/* Read an integer member in [lo, hi]; absent keeps *dst. */
static sp_err get_uint(json_t *obj, const char *key, uint64_t lo, uint64_t hi, uint64_t *dst,
                       sp_diag *d)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return SP_OK;
    sp_diag_field(d, key);
    if (!json_is_integer(v))
        return sp_diag_set(d, SP_EPARSE, "\"%s\" must be an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
        return sp_diag_set(d, SP_ERANGE, "\"%s\" = %lld outside [%llu, %llu]", key, (long long)x,
                           (unsigned long long)lo, (unsigned long long)hi);
    *dst = (uint64_t)x;
    return SP_OK;
}

static bool ws_scheme(const char *u)
{
    return strncmp(u, "ws://", 5) == 0 || strncmp(u, "wss://", 6) == 0;
}

/*
 * One venue entry: ws (required, ws:// or wss://), rest, max_streams
 * (Binance defaults to 200, the others to 100), ping_s, streams{family:
 * template}.  Unknown families are refused, not ignored: a typo would
 * silently record nothing.
 */
static sp_err parse_venue(const char *name, json_t *vo, sp_live_venue_cfg *v, sp_diag *d)
{
    sp_venue venue = sp_venue_from_name(name);
    if (venue != SP_VENUE_BINANCE_UM && venue != SP_VENUE_BYBIT && venue != SP_VENUE_OKX) {
        sp_diag_field(d, "venues");
        return sp_diag_set(d, SP_EUNKNOWN_KIND, "unknown venue \"%s\" (binance, bybit, okx)", name);
    }
    if (!json_is_object(vo)) {
        sp_diag_field(d, name);
        return sp_diag_set(d, SP_EPARSE, "venue \"%s\" must be an object", name);
    }
    memset(v, 0, sizeof(*v));
    v->venue = venue;
    v->max_streams = venue == SP_VENUE_BINANCE_UM ? 200 : 100;
    sp_err rc;
    uint64_t ms = v->max_streams, ping = 0;
    if ((rc = get_str(vo, "ws", v->ws_url, sizeof(v->ws_url), d)) != SP_OK ||
        (rc = get_str(vo, "rest", v->rest_url, sizeof(v->rest_url), d)) != SP_OK ||
        (rc = get_uint(vo, "max_streams", 1, 1024, &ms, d)) != SP_OK ||
        (rc = get_uint(vo, "ping_s", 0, 3600, &ping, d)) != SP_OK)
        return rc;
    v->max_streams = (unsigned)ms;
    v->ping_s = (unsigned)ping;
    if (!ws_scheme(v->ws_url)) {
        sp_diag_field(d, "ws");
        return sp_diag_set(d, SP_EINVAL, "venue \"%s\": \"ws\" must be a ws:// or wss:// URL",
                           name);
    }
    json_t *st = json_object_get(vo, "streams");
    if (st == NULL)
        return SP_OK;
    if (!json_is_object(st)) {
        sp_diag_field(d, "streams");
        return sp_diag_set(d, SP_EPARSE, "\"streams\" must be an object");
    }
    const char *key;
    json_t *val;
    json_object_foreach(st, key, val)
    {
        int s = sp_live_stream_from_name(key);
        if (s < 0) {
            sp_diag_field(d, key);
            return sp_diag_set(d, SP_EUNKNOWN_KIND, "unknown stream family \"%s\"", key);
        }
        if ((rc = get_str(st, key, v->stream[s], sizeof(v->stream[s]), d)) != SP_OK)
            return rc;
    }
    return SP_OK;
}

/* Parse a config text with jansson (duplicate keys refused); defaults in live.h. */
sp_err sp_live_config_parse(const char *text, size_t n, const char *source, sp_live_config *out,
                            sp_diag *d)
{
    sp_diag_clear(d);
    if (d)
        d->source = source;
    memset(out, 0, sizeof(*out));
    out->max_frame = SP_MSG_MAX;
    out->backoff_min_ms = 200;
    out->backoff_max_ms = 30000;
    out->stall_s = 60;
    out->depth_limit = 1000;
    out->seed = 1;
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        /* jansson reports allocation failure as a generic error; both are input errors here */
        if (d) {
            d->line = je.line > 0 ? (uint64_t)je.line : 0;
            d->column = je.column > 0 ? (uint64_t)je.column : 0;
            d->offset = (uint64_t)je.position;
        }
        return sp_diag_set(d, SP_EPARSE, "%s", je.text);
    }
    sp_err rc = SP_OK;
    if (!json_is_object(root)) {
        rc = sp_diag_set(d, SP_EPARSE, "the configuration must be a JSON object");
        goto out_root;
    }
    uint64_t mf = out->max_frame, bmin = out->backoff_min_ms, bmax = out->backoff_max_ms;
    uint64_t stall = out->stall_s, dl = out->depth_limit, seed = out->seed;
    if ((rc = get_uint(root, "max_frame", 64, SP_MSG_MAX, &mf, d)) != SP_OK ||
        (rc = get_uint(root, "backoff_min_ms", 1, 600000, &bmin, d)) != SP_OK ||
        (rc = get_uint(root, "backoff_max_ms", 1, 3600000, &bmax, d)) != SP_OK ||
        (rc = get_uint(root, "stall_s", 0, 86400, &stall, d)) != SP_OK ||
        (rc = get_uint(root, "depth_limit", 5, 5000, &dl, d)) != SP_OK ||
        (rc = get_uint(root, "seed", 0, INT64_MAX, &seed, d)) != SP_OK)
        goto out_root;
    if (bmax < bmin) {
        sp_diag_field(d, "backoff_max_ms");
        rc = sp_diag_set(d, SP_ERANGE, "backoff_max_ms below backoff_min_ms");
        goto out_root;
    }
    out->max_frame = (size_t)mf;
    out->backoff_min_ms = (unsigned)bmin;
    out->backoff_max_ms = (unsigned)bmax;
    out->stall_s = (unsigned)stall;
    out->depth_limit = (unsigned)dl;
    out->seed = seed;
    json_t *venues = json_object_get(root, "venues");
    if (!json_is_object(venues)) {
        sp_diag_field(d, "venues");
        rc = sp_diag_set(d, SP_EPARSE, "\"venues\" must be an object of venue -> endpoint");
        goto out_root;
    }
    const char *key;
    json_t *val;
    json_object_foreach(venues, key, val)
    {
        if (out->nvenues == SP_COUNTOF(out->venue)) {
            rc = sp_diag_set(d, SP_ETOOBIG, "more than %zu venues", SP_COUNTOF(out->venue));
            goto out_root;
        }
        sp_live_venue_cfg *v = &out->venue[out->nvenues];
        if ((rc = parse_venue(key, val, v, d)) != SP_OK)
            goto out_root;
        if (sp_live_config_venue(out, v->venue) != NULL) {
            rc = sp_diag_set(d, SP_EINVAL, "venue \"%s\" given twice", key);
            goto out_root;
        }
        out->nvenues++;
    }
    sp_diag_field(d, "");
out_root:
    json_decref(root);
    return rc;
}

/* Read a config file (at most 64 KiB) and parse it. */
sp_err sp_live_config_load(const char *path, sp_live_config *out, sp_diag *d)
{
    sp_diag_clear(d);
    if (d)
        d->source = path;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sp_diag_set(d, SP_EIO, "cannot open: %s", strerror(errno));
    char *buf = sp_malloc(65536);
    if (buf == NULL) {
        fclose(f);
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    }
    size_t n = fread(buf, 1, 65536, f);
    bool err = ferror(f) != 0, more = !feof(f);
    fclose(f);
    sp_err rc;
    if (err)
        rc = sp_diag_set(d, SP_EIO, "read error");
    else if (more)
        rc = sp_diag_set(d, SP_ETOOBIG, "configuration larger than 64 KiB");
    else
        rc = sp_live_config_parse(buf, n, path, out, d);
    sp_free(buf);
    return rc;
}

/* Linear search: at most three venues. */
const sp_live_venue_cfg *sp_live_config_venue(const sp_live_config *c, sp_venue v)
{
    for (size_t i = 0; i < c->nvenues; i++) {
        if (c->venue[i].venue == v)
            return &c->venue[i];
    }
    return NULL;
}

/* "BTCUSDT" -> "BTC-USDT-SWAP" (OKX v5 instId of the USDT/USDC/USD swap). */
static sp_err okx_inst(const char *sym, char *out, size_t cap)
{
    static const char *const quotes[] = {"USDT", "USDC", "USD"};
    size_t n = strlen(sym);
    for (size_t i = 0; i < SP_COUNTOF(quotes); i++) {
        size_t q = strlen(quotes[i]);
        if (n > q && strcmp(sym + n - q, quotes[i]) == 0) {
            int w = snprintf(out, cap, "%.*s-%s-SWAP", (int)(n - q), sym, quotes[i]);
            return w < 0 || (size_t)w >= cap ? SP_ETOOBIG : SP_OK;
        }
    }
    return SP_EINVAL;
}

/* Expand {sym}, {SYM} and {inst}; every write is checked against cap. */
sp_err sp_live_expand(const char *tmpl, const char *sym, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = tmpl; *p;) {
        char piece[SP_LIVE_TEMPLATE_MAX];
        size_t pn;
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e == NULL)
                return SP_EINVAL;
            size_t kn = (size_t)(e - p - 1);
            if (kn == 3 && memcmp(p + 1, "sym", 3) == 0) {
                pn = strlen(sym);
                if (pn >= sizeof(piece))
                    return SP_ETOOBIG;
                for (size_t i = 0; i < pn; i++)
                    piece[i] = (char)tolower((unsigned char)sym[i]);
            } else if (kn == 3 && memcmp(p + 1, "SYM", 3) == 0) {
                pn = strlen(sym);
                if (pn >= sizeof(piece))
                    return SP_ETOOBIG;
                for (size_t i = 0; i < pn; i++)
                    piece[i] = (char)toupper((unsigned char)sym[i]);
            } else if (kn == 4 && memcmp(p + 1, "inst", 4) == 0) {
                sp_err rc = okx_inst(sym, piece, sizeof(piece));
                if (rc != SP_OK)
                    return rc;
                pn = strlen(piece);
            } else {
                return SP_EINVAL;
            }
            p = e + 1;
        } else {
            piece[0] = *p++;
            pn = 1;
        }
        if (o + pn >= cap)
            return SP_ETOOBIG;
        memcpy(out + o, piece, pn);
        o += pn;
    }
    if (cap == 0)
        return SP_ETOOBIG;
    out[o] = '\0';
    return SP_OK;
}

/*
 * Exponential backoff with "equal jitter": the delay doubles per attempt up
 * to the ceiling, and half of it is random so that many clients cut off
 * together (an exchange restart) do not reconnect in lockstep.
 */
uint64_t sp_live_backoff_ms(const sp_live_config *c, unsigned attempt, sp_rng *r)
{
    uint64_t base = c->backoff_min_ms ? c->backoff_min_ms : 1;
    for (unsigned i = 1; i < attempt && base < c->backoff_max_ms; i++)
        base *= 2;
    if (base > c->backoff_max_ms)
        base = c->backoff_max_ms;
    /* equal jitter: half fixed (a floor under reconnect storms), half random */
    return base / 2 + sp_rng_below(r, base / 2 + 1);
}

/* ---- fault grammar ------------------------------------------------------- */

static bool parse_num(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        unsigned dgt = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - dgt) / 10)
            return false;
        x = x * 10 + dgt;
        s++;
    }
    *p = s;
    *v = x;
    return true;
}

/* A duration "2s", "500ms" or a bare number of ms. */
static bool parse_dur_ms(const char **p, uint64_t *ms)
{
    uint64_t v;
    if (!parse_num(p, &v))
        return false;
    if (strncmp(*p, "ms", 2) == 0) {
        *p += 2;
    } else if (**p == 's') {
        (*p)++;
        if (v > UINT64_MAX / 1000)
            return false;
        v *= 1000;
    }
    *ms = v;
    return true;
}

/* Parse a --faults spec (grammar in live.h); d->column points at the bad fault. */
sp_err sp_fault_parse(const char *spec, sp_fault *out, size_t cap, size_t *n, sp_diag *d)
{
    static const struct {
        const char *name;
        sp_fault_kind kind;
        uint64_t dflt;
    } kinds[] = {
        {"drop", SP_FAULT_DROP, 0},
        {"malformed", SP_FAULT_MALFORMED, 0},
        {"gap", SP_FAULT_GAP, 1},
        {"stall", SP_FAULT_STALL, 1000},
        {"oversize", SP_FAULT_OVERSIZE, 2u << 20},
        {"burst", SP_FAULT_BURST, 1000},
    };
    sp_diag_clear(d);
    if (d)
        d->source = "--faults";
    *n = 0;
    const char *p = spec;
    while (*p) {
        const char *start = p;
        size_t i;
        for (i = 0; i < SP_COUNTOF(kinds); i++) {
            size_t kl = strlen(kinds[i].name);
            if (strncmp(p, kinds[i].name, kl) == 0 && p[kl] == '@') {
                p += kl + 1;
                break;
            }
        }
        if (d)
            d->column = (uint64_t)(start - spec) + 1;
        if (i == SP_COUNTOF(kinds))
            return sp_diag_set(d, SP_EPARSE,
                               "expected drop|malformed|gap|stall|oversize|burst@N[:ARG]");
        sp_fault f = {kinds[i].kind, 0, kinds[i].dflt};
        if (!parse_num(&p, &f.at) || f.at == 0)
            return sp_diag_set(d, SP_ERANGE, "%s: frame number must be 1 or more", kinds[i].name);
        if (*p == ':') {
            p++;
            bool ok = f.kind == SP_FAULT_STALL ? parse_dur_ms(&p, &f.arg) : parse_num(&p, &f.arg);
            if (!ok || f.arg == 0)
                return sp_diag_set(d, SP_ERANGE, "%s: bad argument after ':'", kinds[i].name);
            if (f.kind == SP_FAULT_OVERSIZE && f.arg > (64u << 20))
                return sp_diag_set(d, SP_ERANGE, "oversize: at most 64 MiB");
        } else if (f.kind == SP_FAULT_STALL) {
            return sp_diag_set(d, SP_EPARSE, "stall needs a duration (stall@N:2s)");
        }
        if (*p == ',')
            p++;
        else if (*p != '\0')
            return sp_diag_set(d, SP_EPARSE, "expected ',' between faults");
        if (*n == cap)
            return sp_diag_set(d, SP_ETOOBIG, "more than %zu faults", cap);
        out[(*n)++] = f;
    }
    if (d)
        d->column = 0;
    return SP_OK;
}
