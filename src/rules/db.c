/*
 * db.c -- the rules database: instruments and dated tier tables loaded
 * from JSON (jansson), in stampede's own format (data/rules/README.md) or
 * as an exchange's API response dropped in by the user.
 *
 * jansson keeps JSON numbers as double, which would break exact money, so
 * every file first goes through a small lexer that turns each bare number
 * into a string ("0.0040" stays "0.0040"); all values are then parsed
 * digit by digit with sp_dec_parse.  Tier tables are validated on load:
 * ascending and contiguous bounds, rates in [0, 1], and for tax-bracket
 * tables the maintenance-amount chain cum_n = floor_n x (MMR_n - MMR_n-1) +
 * cum_n-1 of spec §2.1 (computed when absent, checked when given).
 * Loading is not a hot path; lookups are linear scans of a few hundred
 * entries at most, done once per symbol by callers.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stampede/alloc.h"
#include "rules_int.h"

/* ---- JSON with exact numbers ---------------------------------------------- */

static bool num_byte(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/*
 * jansson does not survive an allocation failure in every path (2.14
 * asserts in its string lexer), so it never sees one: during a load its
 * allocations come from a chunked arena owned by the load, frees are
 * no-ops, and the arena is released in one go at the end.  When a chunk
 * cannot be allocated the allocator longjmps back to the load, which
 * releases the arena and returns SP_ENOMEM.  jansson's allocator is
 * global: it is swapped in for the load and restored after, so a load
 * must not run while another thread uses jansson (loads happen at start).
 */
typedef struct jchunk {
    struct jchunk *next; /* older chunk */
    size_t used;         /* bytes handed out */
    size_t cap;          /* bytes in mem */
    _Alignas(16) unsigned char mem[];
} jchunk;

typedef struct jarena {
    jchunk *head; /* newest chunk */
    jmp_buf oom;  /* where a failed chunk allocation returns to */
} jarena;

/* Thread-local, not on the stack: it is modified between setjmp and longjmp. */
static _Thread_local jarena tl_arena;
static _Thread_local jarena *cur_arena;

static void *arena_alloc(size_t n)
{
    jarena *a = cur_arena;
    n = (n + 15) & ~(size_t)15;
    if (a->head == NULL || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        jchunk *c = sp_malloc(sizeof(*c) + cap);
        if (c == NULL)
            longjmp(a->oom, 1);
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->mem + a->head->used;
    a->head->used += n;
    return p;
}

static void arena_free(void *p)
{
    (void)p; /* released with the arena */
}

static void arena_release(jarena *a)
{
    while (a->head) {
        jchunk *n = a->head->next;
        sp_free(a->head);
        a->head = n;
    }
}

/*
 * Copy buf[0..len) into q with every bare JSON number turned into a
 * string, so no value passes through a double.  q has room for 3 x len.
 */
static size_t quote_numbers(const char *buf, size_t len, char *q)
{
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            q[o++] = c;
            if (c == '\\' && i + 1 < len)
                q[o++] = buf[++i];
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            q[o++] = c;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            q[o++] = '"';
            while (i < len && num_byte(buf[i]))
                q[o++] = buf[i++];
            q[o++] = '"';
            i--;
        } else {
            q[o++] = c;
        }
    }
    return o;
}

/* ---- field readers ------------------------------------------------------------ */

typedef struct ctx {
    const char *name; /* file name for diagnostics */
    sp_diag *d;
} ctx;

static sp_err fail(ctx *c, sp_err e, const char *field, const char *fmt, const char *a,
                   const char *b)
{
    (void)b;
    sp_diag_field(c->d, field);
    return sp_diag_set(c->d, e, "%s: %s: %s%s", c->name, field, fmt, a ? a : "");
}

/* A decimal value at scale 8 (strings only: numbers were quoted by the lexer). */
static sp_err get_dec(ctx *c, json_t *obj, const char *key, bool required, int64_t dflt,
                      int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        if (required)
            return fail(c, SP_EPARSE, key, "missing", NULL, NULL);
        *out = dflt;
        return SP_OK;
    }
    if (!json_is_string(v))
        return fail(c, SP_EPARSE, key, "not a number", NULL, NULL);
    sp_diag sub;
    sp_diag_clear(&sub);
    const char *s = json_string_value(v);
    sp_err e = sp_dec_parse(s, json_string_length(v), SP_RULES_SCALE, out, &sub);
    if (e != SP_OK) {
        sp_diag_field(c->d, key);
        return sp_diag_set(c->d, e, "%s: %s: '%.40s': %s", c->name, key, s, sub.msg);
    }
    return SP_OK;
}

/* A whole number (leverage, hours, tier index); decimals like "100.00" are accepted if zero. */
static sp_err get_int(ctx *c, json_t *obj, const char *key, bool required, int64_t dflt,
                      int64_t *out)
{
    int64_t v;
    sp_err e = get_dec(c, obj, key, required, dflt * SP__RULES_ONE, &v);
    if (e != SP_OK)
        return e;
    if (v % SP__RULES_ONE != 0)
        return fail(c, SP_EPARSE, key, "not a whole number", NULL, NULL);
    *out = v / SP__RULES_ONE;
    return SP_OK;
}

static const char *get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static sp_err get_rate(ctx *c, json_t *obj, const char *key, bool required, int64_t *out)
{
    sp_err e = get_dec(c, obj, key, required, 0, out);
    if (e == SP_OK && (*out < -SP__RULES_ONE || *out > SP__RULES_ONE))
        return fail(c, SP_ERANGE, key, "rate outside [-1, 1]", NULL, NULL);
    return e;
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Parse an ISO date "YYYY-MM-DD" into yyyymmdd: the key tier tables are dated by. */
sp_err sp_rules_parse_date(const char *s, int32_t *out)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return SP_EPARSE;
    int32_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return SP_EPARSE;
        v = v * 10 + (s[i] - '0');
    }
    int32_t m = v / 100 % 100, dd = v % 100;
    if (m < 1 || m > 12 || dd < 1 || dd > 31)
        return SP_EPARSE;
    *out = v;
    return SP_OK;
}

/* ---- the database ------------------------------------------------------------- */

sp_err sp_rules_db_new(sp_rules_db **out)
{
    sp_rules_db *db = sp_calloc(1, sizeof(*db));
    if (db == NULL)
        return SP_ENOMEM;
    db->tab = sp_calloc(SP_RULES_TABLES_MAX, sizeof(*db->tab));
    if (db->tab == NULL) {
        sp_free(db);
        return SP_ENOMEM;
    }
    *out = db;
    return SP_OK;
}

/* Free the database and everything it owns; instruments and tables handed out die with it. */
void sp_rules_db_free(sp_rules_db *db)
{
    if (db == NULL)
        return;
    sp_free(db->tab);
    sp_free(db);
}

/*
 * Look an instrument up by venue and symbol (a linear scan: a few dozen entries, done once per
 * symbol).
 */
const sp_instrument *sp_rules_db_instrument(const sp_rules_db *db, sp_venue venue,
                                            const char *symbol)
{
    for (size_t i = 0; db && symbol && i < db->ninst; i++) {
        if (db->inst[i].venue == venue && strcmp(db->inst[i].symbol, symbol) == 0)
            return &db->inst[i];
    }
    return NULL;
}

/* Number of instruments loaded, for iteration with sp_rules_db_instrument_at. */
size_t sp_rules_db_instrument_count(const sp_rules_db *db)
{
    return db ? db->ninst : 0;
}

/* The i-th instrument in load order, NULL past the end. */
const sp_instrument *sp_rules_db_instrument_at(const sp_rules_db *db, size_t i)
{
    return db && i < db->ninst ? &db->inst[i] : NULL;
}

/* Number of tier tables loaded, for iteration with sp_rules_db_table_at. */
size_t sp_rules_db_table_count(const sp_rules_db *db)
{
    return db ? db->ntab : 0;
}

/* The i-th tier table in load order, NULL past the end. */
const sp_tier_table *sp_rules_db_table_at(const sp_rules_db *db, size_t i)
{
    return db && i < db->ntab ? &db->tab[i] : NULL;
}

/*
 * Choose the tier table for a position: exactly dated, or the latest verified one on or before
 * the date (spec §8.1: unverified snapshots are never a silent default).
 */
const sp_tier_table *sp_rules_db_tiers(const sp_rules_db *db, sp_venue venue, const char *symbol,
                                       int32_t date, bool exact)
{
    const sp_tier_table *best = NULL;
    for (size_t i = 0; db && symbol && i < db->ntab; i++) {
        const sp_tier_table *t = &db->tab[i];
        if (t->venue != venue || strcmp(t->symbol, symbol) != 0)
            continue;
        if (exact) {
            if (t->date == date)
                return t;
            continue;
        }
        /* spec §8.1: unverified snapshots are never picked by default */
        if (t->verified && t->date <= date && (best == NULL || t->date > best->date))
            best = t;
    }
    return best;
}

/* ---- instruments ----------------------------------------------------------------- */

static sp_err load_instrument(sp_rules_db *db, ctx *c, json_t *o)
{
    if (!json_is_object(o))
        return fail(c, SP_EPARSE, "instruments", "entry is not an object", NULL, NULL);
    if (db->ninst >= SP_RULES_INSTRUMENTS_MAX)
        return fail(c, SP_ETOOBIG, "instruments", "more than SP_RULES_INSTRUMENTS_MAX", NULL, NULL);
    sp_instrument in;
    memset(&in, 0, sizeof(in));
    const char *venue = get_str(o, "venue"), *sym = get_str(o, "symbol");
    const char *kind = get_str(o, "contract"), *unit = get_str(o, "qty_unit");
    if (venue == NULL || (in.venue = sp_venue_from_name(venue)) == SP_VENUE_NONE)
        return fail(c, SP_EPARSE, "venue", "missing or unknown venue ", venue, NULL);
    if (sym == NULL || sym[0] == '\0' || strlen(sym) > SP_SYMBOL_MAX)
        return fail(c, SP_EPARSE, "symbol", "missing or too long", NULL, NULL);
    copy_str(in.symbol, sizeof(in.symbol), sym);
    if (kind && strcmp(kind, "linear") == 0)
        in.contract = SP_CONTRACT_LINEAR;
    else if (kind && strcmp(kind, "inverse") == 0)
        in.contract = SP_CONTRACT_INVERSE;
    else
        return fail(c, SP_EPARSE, "contract", "must be \"linear\" or \"inverse\"", NULL, NULL);
    in.qty_in_contracts = unit && strcmp(unit, "contracts") == 0;
    if (unit && !in.qty_in_contracts && strcmp(unit, "base") != 0)
        return fail(c, SP_EPARSE, "qty_unit", "must be \"base\" or \"contracts\"", NULL, NULL);
    copy_str(in.settle, sizeof(in.settle), get_str(o, "settle"));
    copy_str(in.source, sizeof(in.source), get_str(o, "source"));
    const char *conf = get_str(o, "confidence");
    in.verified = conf == NULL || strcmp(conf, "unverified") != 0;
    int64_t hours = 0;
    sp_err e;
    if ((e = get_dec(c, o, "ct_val", false, SP__RULES_ONE, &in.ct_val)) != SP_OK ||
        (e = get_dec(c, o, "tick", true, 0, &in.tick)) != SP_OK ||
        (e = get_dec(c, o, "lot", true, 0, &in.lot)) != SP_OK ||
        (e = get_rate(c, o, "maker_fee", false, &in.maker_fee)) != SP_OK ||
        (e = get_rate(c, o, "taker_fee", false, &in.taker_fee)) != SP_OK ||
        (e = get_rate(c, o, "liq_fee", false, &in.liq_fee)) != SP_OK ||
        (e = get_rate(c, o, "base_mmr", false, &in.base_mmr)) != SP_OK ||
        (e = get_int(c, o, "funding_interval_h", false, 8, &hours)) != SP_OK ||
        (e = get_rate(c, o, "funding_cap", false, &in.funding_cap)) != SP_OK ||
        (e = get_rate(c, o, "funding_floor", false, &in.funding_floor)) != SP_OK ||
        (e = get_rate(c, o, "interest_rate", false, &in.interest_rate)) != SP_OK ||
        (e = get_rate(c, o, "funding_clamp", false, &in.funding_clamp)) != SP_OK)
        return e;
    if (in.ct_val <= 0 || in.tick <= 0 || in.lot <= 0)
        return fail(c, SP_ERANGE, "tick", "ct_val, tick and lot must be positive", NULL, NULL);
    if (hours <= 0 || hours > 24)
        return fail(c, SP_ERANGE, "funding_interval_h", "must be 1..24", NULL, NULL);
    in.funding_interval_h = (int32_t)hours;
    json_t *rr = json_object_get(o, "liq_round");
    const char *mode = rr ? get_str(rr, "mode") : NULL;
    if (mode == NULL)
        return fail(c, SP_EPARSE, "liq_round", "missing {\"mode\", \"step\"}", NULL, NULL);
    if (strcmp(mode, "half_up") == 0)
        in.liq_round = SP_PXRND_HALF_UP;
    else if (strcmp(mode, "toward_entry") == 0)
        in.liq_round = SP_PXRND_TOWARD_ENTRY;
    else if (strcmp(mode, "trunc") == 0)
        in.liq_round = SP_PXRND_TRUNC;
    else
        return fail(c, SP_EPARSE, "liq_round", "unknown mode ", mode, NULL);
    if ((e = get_dec(c, rr, "step", true, 0, &in.liq_round_step)) != SP_OK)
        return e;
    if (in.liq_round_step <= 0)
        return fail(c, SP_ERANGE, "liq_round", "step must be positive", NULL, NULL);
    if (sp_rules_db_instrument(db, in.venue, in.symbol) != NULL)
        return fail(c, SP_EEXIST, "symbol", "duplicate instrument ", in.symbol, NULL);
    db->inst[db->ninst++] = in;
    return SP_OK;
}

/* ---- tier tables --------------------------------------------------------------------- */

/* Validate bounds and rates, and compute or check the cum chain (spec §2.1). */
static sp_err finish_table(ctx *c, sp_tier_table *t, const bool *cum_given)
{
    if (t->n == 0)
        return fail(c, SP_EPARSE, t->symbol, "empty tier table", NULL, NULL);
    int64_t prev_cap = 0, prev_mmr = 0, prev_cum = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        sp_tier *k = &t->tier[i];
        if (k->floor != prev_cap || k->cap <= k->floor)
            return fail(c, SP_EPARSE, t->symbol,
                        "tiers must be ascending and contiguous (floor = previous cap)", NULL,
                        NULL);
        if (k->mmr < 0 || k->mmr > SP__RULES_ONE || k->imr < 0 || k->imr > SP__RULES_ONE)
            return fail(c, SP_ERANGE, t->symbol, "rate outside [0, 1]", NULL, NULL);
        if (t->kind == SP_TIER_BRACKET) {
            int64_t step, want;
            /* §2.1: cum_n = floor_n x (MMR_n - MMR_n-1) + cum_n-1 */
            if (sp_mul_div(k->floor, k->mmr - prev_mmr, SP__RULES_ONE, SP_RND_EXACT, &step) !=
                    SP_OK ||
                sp_add_checked(step, prev_cum, &want) != SP_OK)
                return fail(c, SP_ERANGE, t->symbol, "maintenance amount chain is not exact", NULL,
                            NULL);
            if (cum_given[i] && k->maint_amount != want) {
                char w[SP_DEC_FMT_MAX];
                sp_dec_format(want, SP_RULES_SCALE, SP_FMT_TRIM, w, sizeof(w));
                return fail(c, SP_EPARSE, t->symbol,
                            "maintenance amount breaks the chain of spec 2.1; expected ", w, NULL);
            }
            k->maint_amount = want;
            prev_cum = want;
        }
        prev_cap = k->cap;
        prev_mmr = k->mmr;
    }
    return SP_OK;
}

static sp_tier_table *new_table(sp_rules_db *db, ctx *c, sp_venue v, const char *sym, int32_t date,
                                sp_err *e)
{
    if (strlen(sym) > SP_SYMBOL_MAX) {
        *e = fail(c, SP_EPARSE, "symbol", "too long: ", sym, NULL);
        return NULL;
    }
    if (sp_rules_db_tiers(db, v, sym, date, true) != NULL) {
        *e = fail(c, SP_EEXIST, sym, "a table with this date is already loaded", NULL, NULL);
        return NULL;
    }
    if (db->ntab >= SP_RULES_TABLES_MAX) {
        *e = fail(c, SP_ETOOBIG, sym, "more than SP_RULES_TABLES_MAX tables", NULL, NULL);
        return NULL;
    }
    sp_tier_table *t = &db->tab[db->ntab];
    memset(t, 0, sizeof(*t));
    t->venue = v;
    t->date = date;
    copy_str(t->symbol, sizeof(t->symbol), sym);
    *e = SP_OK;
    return t;
}

/* stampede format: {"format":"stampede-tiers/1","venue","date","kind","symbols":{SYM:[...]}} */
static sp_err load_own_tiers(sp_rules_db *db, ctx *c, json_t *root)
{
    const char *venue = get_str(root, "venue"), *date_s = get_str(root, "date");
    const char *kind = get_str(root, "kind"), *conf = get_str(root, "confidence");
    sp_venue v = venue ? sp_venue_from_name(venue) : SP_VENUE_NONE;
    if (v == SP_VENUE_NONE)
        return fail(c, SP_EPARSE, "venue", "missing or unknown venue ", venue, NULL);
    int32_t date;
    if (sp_rules_parse_date(date_s, &date) != SP_OK)
        return fail(c, SP_EPARSE, "date", "must be YYYY-MM-DD", NULL, NULL);
    sp_tier_kind tk;
    if (kind && strcmp(kind, "bracket") == 0)
        tk = SP_TIER_BRACKET;
    else if (kind && strcmp(kind, "whole") == 0)
        tk = SP_TIER_WHOLE;
    else
        return fail(c, SP_EPARSE, "kind", "must be \"bracket\" or \"whole\"", NULL, NULL);
    json_t *syms = json_object_get(root, "symbols");
    if (!json_is_object(syms))
        return fail(c, SP_EPARSE, "symbols", "missing object", NULL, NULL);
    const char *sym;
    json_t *arr;
    json_object_foreach(syms, sym, arr)
    {
        sp_err e;
        if (!json_is_array(arr) || json_array_size(arr) > SP_RULES_TIERS_MAX)
            return fail(c, SP_EPARSE, sym, "tiers must be an array of at most SP_RULES_TIERS_MAX",
                        NULL, NULL);
        sp_tier_table *t = new_table(db, c, v, sym, date, &e);
        if (t == NULL)
            return e;
        t->kind = tk;
        t->verified = conf == NULL || strcmp(conf, "unverified") != 0;
        copy_str(t->source, sizeof(t->source), get_str(root, "source"));
        bool cum_given[SP_RULES_TIERS_MAX];
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
            sp_tier *k = &t->tier[i];
            int64_t lev = 0;
            if ((e = get_dec(c, o, "floor", true, 0, &k->floor)) != SP_OK ||
                (e = get_dec(c, o, "cap", true, 0, &k->cap)) != SP_OK ||
                (e = get_rate(c, o, "mmr", true, &k->mmr)) != SP_OK ||
                (e = get_rate(c, o, "imr", false, &k->imr)) != SP_OK ||
                (e = get_int(c, o, "max_leverage", false, 0, &lev)) != SP_OK ||
                (e = get_dec(c, o, "maint_amount", false, 0, &k->maint_amount)) != SP_OK)
                return e;
            cum_given[i] = json_object_get(o, "maint_amount") != NULL;
            k->max_leverage = (int32_t)lev;
        }
        t->n = (uint32_t)json_array_size(arr);
        if ((e = finish_table(c, t, cum_given)) != SP_OK)
            return e;
        db->ntab++;
    }
    return SP_OK;
}

/* Binance GET /fapi/v1/leverageBracket: [{"symbol","brackets":[...]}] (spec §2.1). */
static sp_err load_binance_api(sp_rules_db *db, ctx *c, json_t *root, int32_t date)
{
    json_t *list = root;
    if (json_is_object(root)) {
        list = json_array();
        if (list == NULL || json_array_append(list, root) != 0) {
            json_decref(list);
            return fail(c, SP_ENOMEM, "brackets", "out of memory", NULL, NULL);
        }
    } else {
        json_incref(list);
    }
    sp_err e = SP_OK;
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s)
    {
        const char *sym = get_str(s, "symbol");
        json_t *br = json_object_get(s, "brackets");
        if (sym == NULL || !json_is_array(br) || json_array_size(br) == 0 ||
            json_array_size(br) > SP_RULES_TIERS_MAX) {
            e = fail(c, SP_EPARSE, "brackets", "each entry needs symbol and 1..32 brackets", NULL,
                     NULL);
            break;
        }
        sp_tier_table *t = new_table(db, c, SP_VENUE_BINANCE_UM, sym, date, &e);
        if (t == NULL)
            break;
        t->kind = SP_TIER_BRACKET;
        t->verified = true;
        copy_str(t->source, sizeof(t->source), "Binance GET /fapi/v1/leverageBracket snapshot");
        bool cum_given[SP_RULES_TIERS_MAX];
        size_t j;
        json_t *o;
        json_array_foreach(br, j, o)
        {
            sp_tier *k = &t->tier[j];
            int64_t lev = 0;
            if ((e = get_dec(c, o, "notionalFloor", true, 0, &k->floor)) != SP_OK ||
                (e = get_dec(c, o, "notionalCap", true, 0, &k->cap)) != SP_OK ||
                (e = get_rate(c, o, "maintMarginRatio", true, &k->mmr)) != SP_OK ||
                (e = get_int(c, o, "initialLeverage", true, 0, &lev)) != SP_OK ||
                (e = get_dec(c, o, "cum", false, 0, &k->maint_amount)) != SP_OK)
                break;
            cum_given[j] = json_object_get(o, "cum") != NULL;
            k->max_leverage = (int32_t)lev;
            if (lev > 0)
                sp_mul_div(SP__RULES_ONE, 1, lev, SP_RND_UP, &k->imr);
        }
        if (e != SP_OK)
            break;
        t->n = (uint32_t)json_array_size(br);
        if ((e = finish_table(c, t, cum_given)) != SP_OK)
            break;
        db->ntab++;
    }
    json_decref(list);
    return e;
}

/* Bybit GET /v5/market/risk-limit: {"result":{"list":[...]}} (spec §3.3). */
static sp_err load_bybit_api(sp_rules_db *db, ctx *c, json_t *list, int32_t date)
{
    /* group by symbol, in the order the list gives (ascending riskLimitValue) */
    size_t n = json_array_size(list);
    for (size_t i = 0; i < n; i++) {
        const char *sym = get_str(json_array_get(list, i), "symbol");
        if (sym == NULL)
            return fail(c, SP_EPARSE, "symbol", "missing in risk-limit entry", NULL, NULL);
        if (sp_rules_db_tiers(db, SP_VENUE_BYBIT, sym, date, true) != NULL)
            continue; /* collected with an earlier entry of the same symbol */
        sp_err e;
        sp_tier_table *t = new_table(db, c, SP_VENUE_BYBIT, sym, date, &e);
        if (t == NULL)
            return e;
        t->kind = SP_TIER_BRACKET;
        t->verified = true;
        copy_str(t->source, sizeof(t->source), "Bybit GET /v5/market/risk-limit snapshot");
        bool cum_given[SP_RULES_TIERS_MAX];
        int64_t prev = 0;
        for (size_t j = i; j < n; j++) {
            json_t *o = json_array_get(list, j);
            const char *s2 = get_str(o, "symbol");
            if (s2 == NULL || strcmp(s2, sym) != 0)
                continue;
            if (t->n >= SP_RULES_TIERS_MAX)
                return fail(c, SP_ETOOBIG, sym, "more than SP_RULES_TIERS_MAX tiers", NULL, NULL);
            sp_tier *k = &t->tier[t->n];
            int64_t lev = 0;
            if ((e = get_dec(c, o, "riskLimitValue", true, 0, &k->cap)) != SP_OK ||
                (e = get_rate(c, o, "maintenanceMargin", true, &k->mmr)) != SP_OK ||
                (e = get_rate(c, o, "initialMargin", false, &k->imr)) != SP_OK ||
                (e = get_int(c, o, "maxLeverage", false, 0, &lev)) != SP_OK ||
                (e = get_dec(c, o, "mmDeduction", false, 0, &k->maint_amount)) != SP_OK)
                return e;
            const char *md = get_str(o, "mmDeduction");
            cum_given[t->n] = md != NULL && md[0] != '\0';
            k->floor = prev;
            k->max_leverage = (int32_t)lev;
            prev = k->cap;
            t->n++;
        }
        if ((e = finish_table(c, t, cum_given)) != SP_OK)
            return e;
        db->ntab++;
    }
    return SP_OK;
}

/* OKX GET /api/v5/public/position-tiers: {"data":[...]}, whole-position tiers (spec §4.3). */
static sp_err load_okx_api(sp_rules_db *db, ctx *c, json_t *list, int32_t date)
{
    size_t n = json_array_size(list);
    for (size_t i = 0; i < n; i++) {
        json_t *o0 = json_array_get(list, i);
        const char *fam = get_str(o0, "instFamily");
        if (fam == NULL || fam[0] == '\0')
            fam = get_str(o0, "uly");
        if (fam == NULL || strlen(fam) + 5 > SP_SYMBOL_MAX)
            return fail(c, SP_EPARSE, "instFamily", "missing or too long", NULL, NULL);
        char sym[SP_SYMBOL_MAX + 1];
        snprintf(sym, sizeof(sym), "%s-SWAP", fam);
        if (sp_rules_db_tiers(db, SP_VENUE_OKX, sym, date, true) != NULL)
            continue;
        sp_err e;
        sp_tier_table *t = new_table(db, c, SP_VENUE_OKX, sym, date, &e);
        if (t == NULL)
            return e;
        t->kind = SP_TIER_WHOLE;
        t->verified = true;
        copy_str(t->source, sizeof(t->source), "OKX GET /api/v5/public/position-tiers snapshot");
        int64_t prev = 0;
        for (size_t j = i; j < n; j++) {
            json_t *o = json_array_get(list, j);
            const char *f2 = get_str(o, "instFamily");
            if (f2 == NULL || f2[0] == '\0')
                f2 = get_str(o, "uly");
            if (f2 == NULL || strcmp(f2, fam) != 0)
                continue;
            if (t->n >= SP_RULES_TIERS_MAX)
                return fail(c, SP_ETOOBIG, sym, "more than SP_RULES_TIERS_MAX tiers", NULL, NULL);
            sp_tier *k = &t->tier[t->n];
            int64_t lev = 0;
            if ((e = get_dec(c, o, "maxSz", true, 0, &k->cap)) != SP_OK ||
                (e = get_rate(c, o, "mmr", true, &k->mmr)) != SP_OK ||
                (e = get_rate(c, o, "imr", false, &k->imr)) != SP_OK ||
                (e = get_int(c, o, "maxLever", false, 0, &lev)) != SP_OK)
                return e;
            /* §4.3: tiers are in contracts; the next tier starts where this one ends */
            k->floor = prev;
            k->max_leverage = (int32_t)lev;
            prev = k->cap;
            t->n++;
        }
        if ((e = finish_table(c, t, NULL)) != SP_OK)
            return e;
        db->ntab++;
    }
    return SP_OK;
}

/*
 * Load the parsed document root by its shape.  Kept out of line: it runs
 * between setjmp and a possible longjmp in sp_rules_db_load_buf, and its
 * locals must not be that function's.
 */
__attribute__((noinline)) static sp_err dispatch(sp_rules_db *db, ctx *cp, json_t *root,
                                                 sp_venue venue, int32_t date)
{
    ctx c = *cp;
    sp_err e = SP_OK;
    const char *fmt = json_is_object(root) ? get_str(root, "format") : NULL;
    json_t *res = json_is_object(root) ? json_object_get(root, "result") : NULL;
    json_t *data = json_is_object(root) ? json_object_get(root, "data") : NULL;
    if (fmt && strcmp(fmt, "stampede-instruments/1") == 0) {
        json_t *arr = json_object_get(root, "instruments");
        size_t i;
        json_t *o;
        if (!json_is_array(arr))
            e = fail(&c, SP_EPARSE, "instruments", "missing array", NULL, NULL);
        else
            json_array_foreach(arr, i, o)
            {
                if ((e = load_instrument(db, &c, o)) != SP_OK)
                    break;
            }
    } else if (fmt && strcmp(fmt, "stampede-tiers/1") == 0) {
        e = load_own_tiers(db, &c, root);
    } else if (fmt) {
        e = fail(&c, SP_EPARSE, "format", "unknown format ", fmt, NULL);
    } else if (date <= 0) {
        e = fail(&c, SP_EINVAL, "date", "an exchange API snapshot needs a date (liq --load-date)",
                 NULL, NULL);
    } else if (json_is_array(root) || (json_is_object(root) && json_object_get(root, "brackets"))) {
        e = venue == SP_VENUE_NONE || venue == SP_VENUE_BINANCE_UM
                ? load_binance_api(db, &c, root, date)
                : fail(&c, SP_EPARSE, "venue", "leverageBracket shape but venue is not binance",
                       NULL, NULL);
    } else if (json_is_object(res) && json_is_array(json_object_get(res, "list"))) {
        e = load_bybit_api(db, &c, json_object_get(res, "list"), date);
    } else if (json_is_array(data)) {
        e = load_okx_api(db, &c, data, date);
    } else {
        e = fail(&c, SP_EPARSE, "format",
                 "not a stampede rules file nor a Binance/Bybit/OKX tier response", NULL, NULL);
    }
    return e;
}

/* One load in progress on this thread (read by the guarded step after a longjmp). */
typedef struct load_job {
    sp_rules_db *db;
    ctx c;
    const char *text; /* numbers quoted */
    size_t len;
    sp_venue venue;
    int32_t date;
    sp_err err;
} load_job;

static _Thread_local load_job tl_job;

/*
 * Parse and load tl_job inside the arena's longjmp target.  Returns false
 * if a chunk allocation failed (longjmp), true otherwise with tl_job.err
 * set.  Everything it needs lives in thread-local storage, so nothing in
 * its frame is live across the setjmp.
 */
__attribute__((noinline)) static bool guarded_load(void)
{
    if (setjmp(tl_arena.oom) != 0)
        return false;
    json_error_t je;
    json_t *root = json_loadb(tl_job.text, tl_job.len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        if (tl_job.c.d) {
            tl_job.c.d->line = (uint64_t)(je.line > 0 ? je.line : 0);
            tl_job.c.d->column = (uint64_t)(je.column > 0 ? je.column : 0);
        }
        tl_job.err = sp_diag_set(tl_job.c.d, SP_EPARSE, "%s: %s", tl_job.c.name, je.text);
        return true;
    }
    tl_job.err = dispatch(tl_job.db, &tl_job.c, root, tl_job.venue, tl_job.date);
    json_decref(root);
    return true;
}

/* Load one JSON document (any accepted shape) from memory; the file loads whole or not at all. */
sp_err sp_rules_db_load_buf(sp_rules_db *db, const char *buf, size_t len, const char *name,
                            sp_venue venue, int32_t date, sp_diag *d)
{
    if (db == NULL || buf == NULL)
        return sp_diag_set(d, SP_EINVAL, "no database or buffer");
    const char *label = name ? name : "(buffer)";
    if (len > SP_RULES_FILE_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "%s: %zu bytes is past the %u-byte limit", label, len,
                           (unsigned)SP_RULES_FILE_MAX);
    char *q = sp_malloc(len * 3 + 1);
    if (q == NULL)
        return sp_diag_set(d, SP_ENOMEM, "%s: out of memory", label);
    const size_t ninst0 = db->ninst, ntab0 = db->ntab;
    tl_job.db = db;
    tl_job.c.name = label;
    tl_job.c.d = d;
    tl_job.text = q;
    tl_job.len = quote_numbers(buf, len, q);
    tl_job.venue = venue;
    tl_job.date = date;
    tl_job.err = SP_OK;
    json_malloc_t old_malloc;
    json_free_t old_free;
    json_get_alloc_funcs(&old_malloc, &old_free);
    tl_arena.head = NULL;
    cur_arena = &tl_arena;
    json_set_alloc_funcs(arena_alloc, arena_free);
    sp_err e = guarded_load() ? tl_job.err : sp_diag_set(d, SP_ENOMEM, "%s: out of memory", label);
    json_set_alloc_funcs(old_malloc, old_free);
    cur_arena = NULL;
    arena_release(&tl_arena);
    sp_free(q);
    if (e != SP_OK) {
        /* a file loads whole or not at all */
        db->ninst = ninst0;
        db->ntab = ntab0;
    }
    return e;
}

/* Read a whole file into a new buffer (sp_free), bounded by SP_RULES_FILE_MAX. */
static sp_err read_file(const char *path, char **out, size_t *len, sp_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sp_diag_set(d, SP_EIO, "%s: %s", path, strerror(errno));
    char *b = sp_malloc(SP_RULES_FILE_MAX + 1);
    if (b == NULL) {
        fclose(f);
        return sp_diag_set(d, SP_ENOMEM, "%s: out of memory", path);
    }
    size_t n = fread(b, 1, SP_RULES_FILE_MAX + 1, f);
    bool err = ferror(f) != 0;
    fclose(f);
    if (err || n > SP_RULES_FILE_MAX) {
        sp_free(b);
        return sp_diag_set(d, err ? SP_EIO : SP_ETOOBIG, "%s: %s", path,
                           err ? "read error" : "file is past SP_RULES_FILE_MAX");
    }
    *out = b;
    *len = n;
    return SP_OK;
}

/* Read a file (bounded by SP_RULES_FILE_MAX) and load it with sp_rules_db_load_buf. */
sp_err sp_rules_db_load_file(sp_rules_db *db, const char *path, sp_venue venue, int32_t date,
                             sp_diag *d)
{
    char *b = NULL;
    size_t n = 0;
    sp_err e = read_file(path, &b, &n, d);
    if (e != SP_OK)
        return e;
    e = sp_rules_db_load_buf(db, b, n, path, venue, date, d);
    sp_free(b);
    return e;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load a rules directory: instruments.json, then every tiers/ JSON file in name order. */
sp_err sp_rules_db_load_dir(sp_rules_db *db, const char *dir, sp_diag *d)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/instruments.json", dir);
    sp_err e = sp_rules_db_load_file(db, path, SP_VENUE_NONE, 0, d);
    if (e != SP_OK)
        return e;
    snprintf(path, sizeof(path), "%s/tiers", dir);
    DIR *dh = opendir(path);
    if (dh == NULL)
        return sp_diag_set(d, SP_EIO, "%s: %s", path, strerror(errno));
    /* sorted, so the load order (and any error) is deterministic */
    char *names[256];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (nn >= SP_COUNTOF(names)) {
            e = sp_diag_set(d, SP_ETOOBIG, "%s: more than %zu tier files", path, SP_COUNTOF(names));
            break;
        }
        if ((names[nn] = sp_strdup(de->d_name)) == NULL) {
            e = sp_diag_set(d, SP_ENOMEM, "out of memory");
            break;
        }
        nn++;
    }
    closedir(dh);
    if (e == SP_OK)
        qsort(names, nn, sizeof(names[0]), cmp_names);
    for (size_t i = 0; i < nn; i++) {
        if (e == SP_OK) {
            char fp[4096 + 256];
            snprintf(fp, sizeof(fp), "%s/%s", path, names[i]);
            e = sp_rules_db_load_file(db, fp, SP_VENUE_NONE, 0, d);
        }
        sp_free(names[i]);
    }
    return e;
}
