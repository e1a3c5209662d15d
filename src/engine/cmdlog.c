/*
 * cmdlog.c -- command files for the exchange core: one JSON object per
 * line (JSONL), parsed with jansson into sp_engine_cmd and replayed.
 *
 * Money stays exact: decimals are JSON strings parsed digit by digit
 * (sp_dec_parse at scale 8); JSON integers are accepted as whole numbers;
 * a JSON real is refused, since jansson would have turned it into a double.
 * Unknown fields are refused too, so a typo never silently becomes a
 * default.  A bad line is reported (what, which field, line and byte
 * offset) and skipped; the replay goes on.
 *
 * Resume.  sp_engine_run_log executes whole lines only (unless told the
 * input is final) and reports the byte offset after the last one, so a
 * log cut at any byte by a crash resumes exactly from that offset.
 */
#include <string.h>

#include <jansson.h>

#include "engine/engine_int.h"
#include "stampede/clock.h"

static const char *const known_fields[] = {
    "cmd",   "ts",  "account", "symbol", "asset", "amount",    "leverage",    "mode",
    "hedge", "id",  "side",    "type",   "tif",   "post_only", "reduce_only", "position_side",
    "price", "qty", "rate",    NULL,
};

static sp_err field_err(sp_diag *d, sp_err rc, const char *field, const char *why)
{
    sp_diag_field(d, field);
    return sp_diag_set(d, rc, "%s: %s", field, why);
}

/* A decimal field at scale 8: a JSON string ("62500.5") or a JSON integer. */
static sp_err get_dec(json_t *o, const char *k, bool required, int64_t *out, sp_diag *d)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        if (required)
            return field_err(d, SP_EPARSE, k, "missing");
        return SP_OK;
    }
    if (json_is_string(v)) {
        sp_diag sub;
        sp_diag_clear(&sub);
        sp_err rc = sp_dec_parse(json_string_value(v), json_string_length(v), 8, out, &sub);
        if (rc != SP_OK)
            return field_err(d, rc, k, sub.msg);
        return SP_OK;
    }
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x > INT64_MAX / ENG_ONE || x < INT64_MIN / ENG_ONE)
            return field_err(d, SP_EOVERFLOW, k, "too large");
        *out = (int64_t)x * ENG_ONE;
        return SP_OK;
    }
    if (json_is_real(v))
        return field_err(d, SP_EPARSE, k,
                         "decimal numbers must be JSON strings (exact fixed point)");
    return field_err(d, SP_EPARSE, k, "not a number");
}

/* A non-negative integer field in [lo, hi]. */
static sp_err get_int(json_t *o, const char *k, bool required, int64_t lo, int64_t hi, int64_t *out,
                      sp_diag *d)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        if (required)
            return field_err(d, SP_EPARSE, k, "missing");
        return SP_OK;
    }
    if (!json_is_integer(v))
        return field_err(d, SP_EPARSE, k, "not an integer");
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return field_err(d, SP_ERANGE, k, "out of range");
    *out = (int64_t)x;
    return SP_OK;
}

static sp_err get_bool(json_t *o, const char *k, bool *out, sp_diag *d)
{
    json_t *v = json_object_get(o, k);
    if (!v)
        return SP_OK;
    if (!json_is_boolean(v))
        return field_err(d, SP_EPARSE, k, "not true/false");
    *out = json_is_true(v);
    return SP_OK;
}

/* A string field matched against names[]; *out = its index. */
static sp_err get_enum(json_t *o, const char *k, const char *const *names, bool required, int *out,
                       sp_diag *d)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        if (required)
            return field_err(d, SP_EPARSE, k, "missing");
        return SP_OK;
    }
    if (!json_is_string(v))
        return field_err(d, SP_EPARSE, k, "not a string");
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], json_string_value(v)) == 0) {
            *out = i;
            return SP_OK;
        }
    return field_err(d, SP_EINVAL, k, "unknown value");
}

static const char *const cmd_names[] = {
    "",      "deposit", "withdraw", "leverage", "margin_mode", "position_mode", "order", "cancel",
    "amend", "mark",    "index",    "funding",  "tick",        "insurance",     NULL,
};

static sp_err parse_obj(const sp_engine *e, json_t *o, sp_engine_cmd *c, sp_diag *d)
{
    static const char *const sides[] = {"buy", "sell", NULL};
    static const char *const types[] = {"limit", "market", NULL};
    static const char *const tifs[] = {"gtc", "ioc", "fok", NULL};
    static const char *const modes[] = {"", "isolated", "cross", NULL};
    static const char *const pos_sides[] = {"both", "long", "short", NULL};
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        bool ok = false;
        for (int i = 0; known_fields[i] && !ok; i++)
            ok = strcmp(known_fields[i], key) == 0;
        if (!ok)
            return field_err(d, SP_EPARSE, key, "unknown field");
    }
    int kind = 0;
    sp_err rc = get_enum(o, "cmd", cmd_names, true, &kind, d);
    if (rc != SP_OK)
        return rc;
    if (kind == 0)
        return field_err(d, SP_EINVAL, "cmd", "unknown value");
    memset(c, 0, sizeof(*c));
    c->kind = (uint8_t)kind;
    json_t *ts = json_object_get(o, "ts");
    if (ts && json_is_string(ts)) {
        if (sp_time_parse_iso(json_string_value(ts), json_string_length(ts), &c->ts_ns) != SP_OK)
            return field_err(d, SP_EPARSE, "ts", "not an ISO-8601 UTC time");
    } else if (ts) {
        int64_t ms = 0;
        if ((rc = get_int(o, "ts", false, 0, INT64_MAX / 1000000, &ms, d)) != SP_OK)
            return rc;
        c->ts_ns = ms * 1000000;
    }
    int64_t v = 0;
    if ((rc = get_int(o, "account", false, 0, UINT32_MAX, &v, d)) != SP_OK)
        return rc;
    c->account = (uint32_t)v;
    json_t *sym = json_object_get(o, "symbol");
    bool need_sym = kind >= SP_CMD_LEVERAGE && kind != SP_CMD_POSITION_MODE &&
                    kind != SP_CMD_TICK && kind != SP_CMD_INSURANCE;
    if (sym) {
        if (!json_is_string(sym))
            return field_err(d, SP_EPARSE, "symbol", "not a string");
        int i = sp_engine_find_instrument(e, json_string_value(sym));
        if (i < 0)
            return field_err(d, SP_EINVAL, "symbol", "unknown instrument");
        c->inst = (uint32_t)i;
        c->asset = e->inst[i].asset;
    } else if (need_sym) {
        return field_err(d, SP_EPARSE, "symbol", "missing");
    }
    json_t *asset = json_object_get(o, "asset");
    if (asset) {
        int a = json_is_string(asset) ? sp_engine_asset(e, json_string_value(asset)) : -1;
        if (a < 0)
            return field_err(d, SP_EINVAL, "asset", "unknown settle asset");
        c->asset = (uint32_t)a;
    }
    bool money = kind == SP_CMD_DEPOSIT || kind == SP_CMD_WITHDRAW || kind == SP_CMD_INSURANCE;
    if ((rc = get_dec(o, "amount", money, &c->amount, d)) != SP_OK)
        return rc;
    if ((rc = get_int(o, "leverage", kind == SP_CMD_LEVERAGE, 0, INT32_MAX, &c->leverage, d)) !=
        SP_OK)
        return rc;
    int m = 0;
    if ((rc = get_enum(o, "mode", modes, kind == SP_CMD_MARGIN_MODE, &m, d)) != SP_OK)
        return rc;
    c->margin_mode = (uint8_t)(m == 1 ? SP_MARGIN_ISOLATED : m == 2 ? SP_MARGIN_CROSS : 0);
    if ((rc = get_bool(o, "hedge", &c->hedge, d)) != SP_OK)
        return rc;
    if (kind == SP_CMD_POSITION_MODE && !json_object_get(o, "hedge"))
        return field_err(d, SP_EPARSE, "hedge", "missing");
    bool ord = kind == SP_CMD_ORDER || kind == SP_CMD_CANCEL || kind == SP_CMD_AMEND;
    if ((rc = get_int(o, "id", ord, 0, INT64_MAX, &v, d)) != SP_OK)
        return rc;
    c->order_id = (uint64_t)v;
    int s = 0, t = 0, f = 0, ps = 0;
    if ((rc = get_enum(o, "side", sides, kind == SP_CMD_ORDER, &s, d)) != SP_OK ||
        (rc = get_enum(o, "type", types, false, &t, d)) != SP_OK ||
        (rc = get_enum(o, "tif", tifs, false, &f, d)) != SP_OK ||
        (rc = get_enum(o, "position_side", pos_sides, false, &ps, d)) != SP_OK)
        return rc;
    c->side = (uint8_t)s;
    c->type = (uint8_t)t;
    c->tif = (uint8_t)f;
    c->pos_side = (uint8_t)ps;
    bool po = false, ro = false;
    if ((rc = get_bool(o, "post_only", &po, d)) != SP_OK ||
        (rc = get_bool(o, "reduce_only", &ro, d)) != SP_OK)
        return rc;
    c->flags = (uint8_t)((po ? SP_ORDF_POST_ONLY : 0) | (ro ? SP_ORDF_REDUCE_ONLY : 0));
    bool need_px =
        kind == SP_CMD_MARK || kind == SP_CMD_INDEX || (kind == SP_CMD_ORDER && t == SP_ORD_LIMIT);
    if ((rc = get_dec(o, "price", need_px, &c->px, d)) != SP_OK)
        return rc;
    if ((rc = get_dec(o, "qty", kind == SP_CMD_ORDER || kind == SP_CMD_AMEND, &c->qty, d)) != SP_OK)
        return rc;
    if (json_object_get(o, "rate")) {
        if ((rc = get_dec(o, "rate", true, &c->rate, d)) != SP_OK)
            return rc;
        c->has_rate = 1;
    }
    return SP_OK;
}

sp_err sp_engine_cmd_parse(const sp_engine *e, const char *line, size_t len, sp_engine_cmd *c,
                           sp_diag *d)
{
    if (!e || !line || !c)
        return SP_EINVAL;
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        if (d)
            d->column = (uint64_t)je.column;
        return sp_diag_set(d, SP_EPARSE, "not JSON: %s", je.text);
    }
    sp_err rc;
    if (!json_is_object(o))
        rc = sp_diag_set(d, SP_EPARSE, "a command must be a JSON object");
    else
        rc = parse_obj(e, o, c, d);
    json_decref(o);
    return rc;
}

sp_err sp_engine_run_log(sp_engine *e, const char *buf, size_t len, bool final, const char *source,
                         uint64_t first_line, sp_engine_bad_fn bad, void *bad_ctx,
                         sp_engine_log_stats *st)
{
    sp_engine_log_stats scratch;
    if (!e || (!buf && len))
        return SP_EINVAL;
    if (!st)
        st = &scratch;
    memset(st, 0, sizeof(*st));
    size_t at = 0;
    uint64_t line = first_line ? first_line : 1;
    while (at < len) {
        const char *nl = memchr(buf + at, '\n', len - at);
        if (!nl && !final)
            break; /* a cut line: resume here */
        size_t end = nl ? (size_t)(nl - buf) : len, n = end - at;
        const char *s = buf + at;
        st->lines++;
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        size_t lead = 0;
        while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
            lead++;
        if (lead < n && s[lead] != '#') {
            sp_engine_cmd c;
            sp_diag d;
            sp_diag_clear(&d);
            sp_err rc = sp_engine_cmd_parse(e, s + lead, n - lead, &c, &d);
            if (rc == SP_OK) {
                sp_engine_result res;
                rc = sp_engine_submit(e, &c, &res);
                st->commands++;
                if (rc == SP_OK && res.code)
                    st->rejected++;
                if (rc == SP_ENOMEM)
                    return rc;
                if (rc != SP_OK)
                    sp_diag_set(&d, rc, "command failed: %s", sp_strerror(rc));
            }
            if (rc != SP_OK) {
                st->malformed++;
                d.source = source;
                d.line = line;
                d.offset = at;
                if (bad)
                    bad(bad_ctx, &d);
            }
        }
        line++;
        at = nl ? end + 1 : len;
        st->consumed = at;
    }
    return SP_OK;
}
