/*
 * binance_fast.c -- the fixed-layout fast path for Binance USD-M aggTrade
 * and forceOrder messages, in front of the general decoder of binance_ws.c.
 *
 * Why: the general decoder records every member of each object in a field
 * table and looks fields up by key, which makes it order-independent and
 * lets it reject duplicate keys, but costs ~6-7 k instructions per message
 * (callgrind, bench/RESULTS.md "feed").  Binance sends these two events
 * compact (no whitespace) with the members in the order of its "Aggregate
 * Trade Streams" and "Liquidation Order Streams" pages, bare or inside the
 * combined-stream wrapper {"stream":"<name>","data":<event>}:
 *
 *   {"e":"aggTrade","E":n,"a":n,"s":"SYM","p":"dec","q":"dec","f":n,"l":n,"T":n,"m":bool}
 *   {"e":"forceOrder","E":n,"o":{"s":"SYM","S":"SELL|BUY","o":"str","f":"str",
 *    "q":"dec","p":"dec","ap":"dec","X":"str","l":"str","z":"dec","T":n}}
 *
 * This file matches exactly those bytes in one forward pass, converting
 * each value as it goes, and gives up (returns false, having written
 * nothing the caller can see) at the first byte that differs from the
 * template: another key order, an extra or missing member, whitespace,
 * an escape or control byte in a string, a sign, a leading zero, an
 * exponent, more digits than the exact 18-digit fast conversion takes,
 * a timestamp out of range.  The caller then runs the general decoder
 * from the first byte, so every message it does not accept decodes or is
 * rejected exactly as before (same events, same codes, same messages).
 *
 * What it accepts it accepts only where the general decoder gives the
 * same result: every byte is checked against JSON grammar as strictly as
 * json.c does (a template key cannot repeat, so no duplicate check is
 * needed); decimals follow sp__dec_fast's exact rules (at most `scale`
 * places, at most 18 digits after scaling), integers have 1..18 digits
 * and no leading zero, and the symbol is interned only after the whole
 * message has matched, so a message that falls back leaves no trace.
 * tests/unit/test_feed_fast.c and fuzz_feed_ws_fast.c compare both paths.
 */
#include <string.h>

#include "feed/fastnum.h"
#include "feed/feed_int.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"

/*
 * The cursor helpers below never read at or past `end`: literals and
 * strings check the room left, and the byte after a digit run is read
 * without a check because every region matched ends in '}' (checked
 * first), so a digit run always stops before end.
 */

/*
 * Match the literal lit (n bytes, a constant after inlining) at *pp with
 * 8-byte loads instead of a memcmp call: the calls cost ~85-150 Ir per
 * message under callgrind (libc's memcmp is not inlined for these sizes).
 */
SP__HOT bool lit(const char **pp, const char *end, const char *lit, size_t n)
{
    const char *p = *pp;
    if ((size_t)(end - p) < n)
        return false;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        if (sp__load8(p + i) != sp__load8(lit + i))
            return false;
    }
    if (i < n) {
        if (n >= 8) {
            if (sp__load8(p + n - 8) != sp__load8(lit + n - 8))
                return false;
        } else if (n >= 4) { /* two overlapping 4-byte loads */
            if (sp__load4(p) != sp__load4(lit) || sp__load4(p + n - 4) != sp__load4(lit + n - 4))
                return false;
        } else {
            for (; i < n; i++) {
                if (p[i] != lit[i])
                    return false;
            }
        }
    }
    *pp = p + n;
    return true;
}

#define LIT(pp, end, s) lit(pp, end, s, sizeof(s) - 1)

/*
 * A JSON integer of 1..18 digits without sign or leading zero (what
 * sp__js_int_span takes without its overflow loop).  A following '.', 'e'
 * or 'E' makes the next literal fail, so fractions never pass.
 */
SP__HOT bool uint18(const char **pp, const char *end, int64_t *out)
{
    uint64_t v;
    size_t nd = sp__digits(*pp, end, &v);
    if (nd == 0 || nd > 18 || (**pp == '0' && nd > 1))
        return false;
    *out = (int64_t)v;
    *pp += nd;
    return true;
}

/* A millisecond timestamp -> ns, the range get_ts of binance_ws.c accepts. */
SP__HOT bool ts_ms(const char **pp, const char *end, int64_t *ns)
{
    int64_t ms;
    if (!uint18(pp, end, &ms) || ms > INT64_MAX / 1000000)
        return false;
    *ns = ms * 1000000;
    return true;
}

/*
 * A non-negative decimal string body "d+(.d+)?" and its closing quote (the
 * opening quote is part of the preceding literal), converted at scale
 * (<= 18) with sp__dec_fast's rules: 1 <= integer digits <= 18 - scale,
 * 1 <= fraction digits <= scale.  Anything else (sign, exponent, escape,
 * more places) is left to the general path and its exact errors.
 */
SP__HOT bool dec_str(const char **pp, const char *end, unsigned scale, int64_t *out)
{
    const char *p = *pp;
    uint64_t iv, fv = 0;
    size_t idig = sp__digits(p, end, &iv), fdig = 0;
    if (idig == 0 || idig + scale > 18)
        return false;
    p += idig;
    if (*p == '.') {
        p++;
        fdig = sp__digits(p, end, &fv);
        if (fdig == 0 || fdig > scale)
            return false;
        p += fdig;
    }
    if (*p != '"')
        return false;
    /* idig + fdig <= 18 digits: no overflow */
    *out = (int64_t)((iv * sp__pow10_u64[fdig] + fv) * sp__pow10_u64[scale - fdig]);
    *pp = p + 1;
    return true;
}

/*
 * A string body without escapes or control bytes and its closing quote
 * (the bytes json.c's scan_str passes in its fast run).  OUT: *v, *vn.
 */
SP__HOT bool plain_str(const char **pp, const char *end, const char **v, size_t *vn)
{
    const char *p = *pp;
    while (p < end && !sp__js_str_special[(unsigned char)*p])
        p++;
    if (p >= end || *p != '"')
        return false;
    *v = *pp;
    *vn = (size_t)(p - *pp);
    *pp = p + 1;
    return true;
}

SP__HOT bool bool_lit(const char **pp, const char *end, bool *out)
{
    if (LIT(pp, end, "true")) {
        *out = true;
        return true;
    }
    if (LIT(pp, end, "false")) {
        *out = false;
        return true;
    }
    return false;
}

/* What one matched event yields, before the symbol is interned. */
typedef struct fast_ev {
    const char *sym;
    size_t symn;
    sp_event e; /* every field but symbol_id */
} fast_ev;

/* aggTrade from just after `{"e":"aggTrade",` to its closing '}' (dec_trade of binance_ws.c). */
static bool agg_trade(const char *p, const char *end, fast_ev *fe)
{
    int64_t skip, id, first, last, ts, px, qty;
    bool maker;
    if (!LIT(&p, end, "\"E\":") || !uint18(&p, end, &skip) || !LIT(&p, end, ",\"a\":") ||
        !uint18(&p, end, &id) || !LIT(&p, end, ",\"s\":\"") ||
        !plain_str(&p, end, &fe->sym, &fe->symn) || !LIT(&p, end, ",\"p\":\"") ||
        !dec_str(&p, end, SP_EV_PX_SCALE, &px) || !LIT(&p, end, ",\"q\":\"") ||
        !dec_str(&p, end, SP_EV_QTY_SCALE, &qty) || !LIT(&p, end, ",\"f\":") ||
        !uint18(&p, end, &first) || !LIT(&p, end, ",\"l\":") || !uint18(&p, end, &last) ||
        !LIT(&p, end, ",\"T\":") || !ts_ms(&p, end, &ts) || !LIT(&p, end, ",\"m\":") ||
        !bool_lit(&p, end, &maker) || !LIT(&p, end, "}") || p != end)
        return false;
    sp__binance_trade_ev(&fe->e, ts, px, qty, id, first, last, maker);
    return true;
}

/*
 * avg x filled / 1e8 rounded half-even, as sp_mul_div(.., SP_RND_HALF_EVEN)
 * computes it, for non-negative operands, without its 128-bit division
 * (~90 Ir of the 1.7 k per forceOrder under callgrind): with a = ah*1e8 +
 * al and b = bh*1e8 + bl, a*b/1e8 = ah*bh*1e8 + ah*bl + al*bh + al*bl/1e8,
 * where al*bl < 1e16 fits in 64 bits and gives the exact remainder.
 * False when a partial sum overflows (the caller then uses sp_mul_div).
 */
_Static_assert(SP_EV_QTY_SCALE <= 9, "al * bl must fit in 64 bits");

SP__HOT bool notional_u64(int64_t avg, int64_t filled, int64_t *out)
{
    const uint64_t e8 = sp__pow10_u64[SP_EV_QTY_SCALE];
    uint64_t a = (uint64_t)avg, b = (uint64_t)filled;
    uint64_t ah = a / e8, al = a % e8, bh = b / e8, bl = b % e8;
    uint64_t low = al * bl, q = low / e8, r = low % e8, t;
    if (__builtin_mul_overflow(ah, bh, &t) || __builtin_mul_overflow(t, e8, &t) ||
        __builtin_add_overflow(q, t, &q) || __builtin_mul_overflow(ah, bl, &t) ||
        __builtin_add_overflow(q, t, &q) || __builtin_mul_overflow(al, bh, &t) ||
        __builtin_add_overflow(q, t, &q))
        return false;
    if (r > e8 / 2 || (r == e8 / 2 && (q & 1u)))
        q++;
    if (q > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)q;
    return true;
}

/* forceOrder from just after `{"e":"forceOrder",` to its closing '}' (dec_force). */
static bool force_order(const char *p, const char *end, fast_ev *fe)
{
    int64_t skip, ts, px, qty, avg, filled, notional;
    const char *v;
    size_t vn;
    bool sell;
    if (!LIT(&p, end, "\"E\":") || !uint18(&p, end, &skip) || !LIT(&p, end, ",\"o\":{\"s\":\"") ||
        !plain_str(&p, end, &fe->sym, &fe->symn) || !LIT(&p, end, ",\"S\":\""))
        return false;
    if (LIT(&p, end, "SELL\""))
        sell = true;
    else if (LIT(&p, end, "BUY\""))
        sell = false;
    else
        return false;
    if (!LIT(&p, end, ",\"o\":\"") || !plain_str(&p, end, &v, &vn) || !LIT(&p, end, ",\"f\":\"") ||
        !plain_str(&p, end, &v, &vn) || !LIT(&p, end, ",\"q\":\"") ||
        !dec_str(&p, end, SP_EV_QTY_SCALE, &qty) || !LIT(&p, end, ",\"p\":\"") ||
        !dec_str(&p, end, SP_EV_PX_SCALE, &px) || !LIT(&p, end, ",\"ap\":\"") ||
        !dec_str(&p, end, SP_EV_PX_SCALE, &avg) || !LIT(&p, end, ",\"X\":\"") ||
        !plain_str(&p, end, &v, &vn) || !LIT(&p, end, ",\"l\":\"") ||
        !plain_str(&p, end, &v, &vn) || !LIT(&p, end, ",\"z\":\"") ||
        !dec_str(&p, end, SP_EV_QTY_SCALE, &filled) || !LIT(&p, end, ",\"T\":") ||
        !ts_ms(&p, end, &ts) || !LIT(&p, end, "}}") || p != end)
        return false;
    if (!notional_u64(avg, filled, &notional) &&
        sp_mul_div(avg, filled, sp_pow10(SP_EV_QTY_SCALE), SP_RND_HALF_EVEN, &notional) != SP_OK)
        return false; /* the general path reports the overflow */
    sp__binance_liq_ev(&fe->e, ts, sell, px, qty, avg, filled, notional);
    return true;
}

/* One event object spanning exactly [p, end), end[-1] == '}'. */
static bool event(const char *p, const char *end, fast_ev *fe)
{
    if (LIT(&p, end, "{\"e\":\"aggTrade\","))
        return agg_trade(p, end, fe);
    if (LIT(&p, end, "{\"e\":\"forceOrder\","))
        return force_order(p, end, fe);
    return false;
}

bool sp__binance_ws_fast(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                         sp_event *out, size_t cap, size_t *n_out, sp_diag *d, sp_err *rc)
{
    if (n < 2 || msg[n - 1] != '}' || cap == 0)
        return false;
    const char *p = msg, *end = msg + n;
    fast_ev fe;
    memset(&fe.e, 0, sizeof(fe.e));
    if (LIT(&p, end, "{\"stream\":\"")) {
        /* the combined-stream wrapper: the event ends just before the wrapper's '}' */
        const char *v;
        size_t vn;
        if (!plain_str(&p, end, &v, &vn) || !LIT(&p, end, ",\"data\":") || end - p < 2 ||
            end[-2] != '}' || !event(p, end - 1, &fe))
            return false;
    } else if (!event(p, end, &fe)) {
        return false;
    }
    /*
     * Matched: now (and only now) intern.  A failure here is final and
     * reported as the general path reports it (same helper, same field and
     * position); retrying there would intern a second time, which under the
     * fault-injecting allocator would hide an SP_ENOMEM.
     */
    sp__js s;
    sp__js_init(&s, msg, n, d);
    if ((*rc = sp__feed_intern(&s, syms, fe.sym, fe.symn, "s", &fe.e.symbol_id)) != SP_OK)
        return true;
    fe.e.local_ts_ns = local_ts_ns;
    out[0] = fe.e;
    *n_out = 1;
    return true;
}
