/*
 * binance_csv.c -- Binance flat files: data.binance.vision dumps, the spot
 * kline CSVs, and the lasota recorder's flattened stream CSVs.
 *
 * Hot formats (aggTrades, trades, klines) split each line with csv.c and
 * parse every number exactly; nothing is allocated per row.  aggTrades
 * also has a fast row (canonical lines, per line) and a bulk path that
 * parses runs of canonical lines straight from the framing block into the
 * event batch (aggtrades_bulk); both hand anything else to the strict row.  The symbol
 * comes from the file name (data.binance.vision: SYMBOL-kind-date.csv),
 * since the rows do not carry it.  A header line is optional where
 * data.binance.vision published files both with and without one (klines,
 * aggTrades, trades: headers appeared in 2022); it is recognised by its
 * first field not being a number.  Layouts follow the data.binance.vision
 * README and data/PROVENANCE.md:
 *   fundingRate          calc_time,funding_interval_hours,last_funding_rate
 *                        (rates like "0E-8" are Python Decimal text: taken
 *                        exactly, see csv.c)
 *   klines (futures)     open_time,...,ignore (12 columns); the interval is
 *                        taken from close_time - open_time + 1 ms
 *   spot klines CSV      ISO times, 9 columns; the last row of each file is
 *                        a partial candle (PROVENANCE §1): every row but
 *                        the last gets SP_EVF_CLOSED
 *   aggTrades, trades    TRADE events (is_buyer_maker -> MAKER|SELL)
 *   liquidationSnapshot  every row is published twice upstream (PROVENANCE
 *                        §3): an exact repeat of a row with the same time
 *                        is dropped, not emitted; *_PERP symbols are
 *                        coin-margined (SP_VENUE_BINANCE_CM)
 *   bookDepth            cumulative depth within +-percentage bands
 *   metrics              open interest and long/short ratios
 */
#include <string.h>

#include "feed/fastnum.h"
#include "feed/feed_int.h"
#include "stampede/fixed.h"
#include "stampede/hash.h"

/* Remembered rows of one timestamp, for liquidationSnapshot de-duplication. */
#define DEDUP_MAX 64

typedef struct csv_state {
    bool started;      /* first data line seen (header handled) */
    uint32_t sym;      /* from the file name */
    uint8_t venue;     /* sp_venue */
    size_t level_idx;  /* lasota snapshots: index within the current snapshot side */
    int64_t level_uid; /* lasota snapshots: update id of the current snapshot */
    uint8_t level_side;
    bool have_pending; /* spot klines: the previous row, emitted once a later row exists */
    sp_event pending;
    int64_t dedup_ts; /* liquidationSnapshot */
    uint64_t dedup_hash[DEDUP_MAX];
    size_t ndedup;
} csv_state;

/* The first use of a format: resolve the symbol from the file name. */
static sp_err start(sp__feed_run *r, csv_state *st, const char *stops, uint8_t venue, sp_diag *d,
                    bool *fatal)
{
    if (st->started)
        return SP_OK;
    sp_err rc = sp__feed_name_symbol(r, stops, &st->sym, d);
    if (rc != SP_OK) {
        *fatal = true;
        return rc;
    }
    st->venue = venue;
    st->started = true;
    return SP_OK;
}

/* Is this line a header (first field not starting with a digit)? */
static bool is_header(const char *line, size_t n)
{
    return n > 0 && !(line[0] >= '0' && line[0] <= '9');
}

/* The lasota header lines all start with "TimestampOfReceive". */
static bool is_lasota_header(const char *line, size_t n)
{
    return n >= 18 && memcmp(line, "TimestampOfReceive", 18) == 0;
}

static sp_err ms_ns(const sp__csv_row *row, size_t i, const char *name, int64_t *ns, sp_diag *d)
{
    int64_t ms = 0;
    *ns = 0;
    sp_err rc = sp__csv_int(row, i, name, &ms, d);
    if (rc != SP_OK)
        return rc;
    /* data.binance.vision spot files switched to microseconds in 2025 */
    int64_t mult = ms > 100000000000000LL ? 1000 : 1000000;
    if (ms < 0 || ms > INT64_MAX / mult) {
        d->column = row->off[i] + 1;
        sp_diag_field(d, name);
        return sp_diag_set(d, SP_ERANGE, "timestamp out of range");
    }
    *ns = ms * mult;
    return SP_OK;
}

static sp_err want_bool(const sp__csv_row *row, size_t i, const char *name, bool *out, sp_diag *d)
{
    if (sp__csv_is(row, i, "true") || sp__csv_is(row, i, "True") || sp__csv_is(row, i, "1")) {
        *out = true;
        return SP_OK;
    }
    if (sp__csv_is(row, i, "false") || sp__csv_is(row, i, "False") || sp__csv_is(row, i, "0")) {
        *out = false;
        return SP_OK;
    }
    d->column = row->off[i] + 1;
    sp_diag_field(d, name);
    return sp_diag_set(d, SP_EPARSE, "expected true or false");
}

/* ---- fundingRate ------------------------------------------------------- */

static sp_err funding_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                           bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "-.", SP_VENUE_BINANCE_UM, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    sp__csv_row row;
    int64_t ts, hours, rate;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK ||
        (rc = sp__csv_cols(&row, 3, d)) != SP_OK ||
        (rc = ms_ns(&row, 0, "calc_time", &ts, d)) != SP_OK ||
        (rc = sp__csv_int(&row, 1, "funding_interval_hours", &hours, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 2, "last_funding_rate", SP_EV_RATE_SCALE, &rate, d)) != SP_OK)
        return rc;
    sp_event e = {0};
    e.kind = SP_EV_FUNDING;
    e.venue = st->venue;
    e.symbol_id = st->sym;
    e.exch_ts_ns = ts;
    e.px = rate;
    e.aux[1] = hours;
    return sp__feed_emit(r, &e, 1);
}

/* ---- klines ------------------------------------------------------------ */

/* The interval code whose length is secs, 0 if none. */
static unsigned interval_of(int64_t secs)
{
    static const struct {
        unsigned code;
        int64_t secs;
    } map[] = {
#define SP_KL_(name, code, text, s) {code, s},
        SP_KLINE_MAP(SP_KL_)
#undef SP_KL_
    };
    for (size_t i = 0; i < SP_COUNTOF(map); i++) {
        if (map[i].secs == secs)
            return map[i].code;
    }
    /* calendar months are 28..31 days */
    if (secs >= 28 * 86400 && secs <= 31 * 86400 && secs % 86400 == 0)
        return 15;
    return 0;
}

/* The interval named in the file name ("-1m-", "_4h."), 0 if none. */
static unsigned name_interval(sp__feed_run *r)
{
    const char *p = sp__feed_source(r);
    if (p == NULL)
        return 0;
    const char *b = strrchr(p, '/');
    b = b ? b + 1 : p;
    for (const char *q = b; *q; q++) {
        if (*q != '-' && *q != '_')
            continue;
        size_t k = 1;
        while (q[k] && q[k] != '-' && q[k] != '_' && q[k] != '.' && k < 5)
            k++;
        unsigned code = sp__feed_interval_binance(q + 1, k - 1);
        if (code != 0 && (q[k] == '-' || q[k] == '.' || q[k] == '_'))
            return code;
    }
    return 0;
}

static sp_err kline_event(sp__feed_run *r, csv_state *st, const sp__csv_row *row, int64_t open_ns,
                          int64_t close_ns, sp_event *e, sp_diag *d)
{
    int64_t op, hi, lo, cl, vol;
    sp_err rc;
    if ((rc = sp__csv_dec(row, 1, "open", SP_EV_PX_SCALE, &op, d)) != SP_OK ||
        (rc = sp__csv_dec(row, 2, "high", SP_EV_PX_SCALE, &hi, d)) != SP_OK ||
        (rc = sp__csv_dec(row, 3, "low", SP_EV_PX_SCALE, &lo, d)) != SP_OK ||
        (rc = sp__csv_dec(row, 4, "close", SP_EV_PX_SCALE, &cl, d)) != SP_OK ||
        (rc = sp__csv_dec(row, 5, "volume", SP_EV_QTY_SCALE, &vol, d)) != SP_OK)
        return rc;
    if (lo > hi || op < lo || op > hi || cl < lo || cl > hi || vol < 0) {
        d->column = row->off[1] + 1;
        sp_diag_field(d, "high");
        return sp_diag_set(d, SP_ERANGE, "inconsistent bar: low <= open, close <= high violated");
    }
    /*
     * The interval is the file's (its name) when it says; a bar may close
     * early (exchange maintenance: XRPUSDT 4h 2018-07-04 closed at 00:22),
     * so close_time must only lie inside [open, open + interval).  Without
     * a name the interval is close_time - open_time + 1 ms.
     */
    unsigned code = name_interval(r);
    int64_t span = close_ns - open_ns + 1000000;
    if (code == 0)
        code = interval_of(span / 1000000000);
    int64_t len = sp_kline_interval_secs(code) * 1000000000;
    if (code == 0 || close_ns <= open_ns || (code != 15 && span > len)) {
        d->column = row->off[6] + 1;
        sp_diag_field(d, "close_time");
        return sp_diag_set(d, SP_EPARSE, "close_time - open_time does not fit the kline interval");
    }
    memset(e, 0, sizeof(*e));
    e->kind = SP_EV_KLINE;
    e->venue = st->venue;
    e->sub = (uint8_t)code;
    e->flags = SP_EVF_CLOSED;
    e->symbol_id = st->sym;
    e->exch_ts_ns = open_ns;
    e->px = cl;
    e->qty = vol;
    e->aux[0] = op;
    e->aux[1] = hi;
    e->aux[2] = lo;
    return SP_OK;
}

static sp_err klines_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                          bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "-.", SP_VENUE_BINANCE_UM, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    sp__csv_row row;
    int64_t open_ns, close_ns;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK ||
        (rc = sp__csv_cols(&row, 12, d)) != SP_OK ||
        (rc = ms_ns(&row, 0, "open_time", &open_ns, d)) != SP_OK ||
        (rc = ms_ns(&row, 6, "close_time", &close_ns, d)) != SP_OK)
        return rc;
    sp_event e;
    int64_t qv, cnt, tbv, tbq;
    if ((rc = kline_event(r, st, &row, open_ns, close_ns, &e, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 7, "quote_volume", SP_EV_PX_SCALE, &qv, d)) != SP_OK ||
        (rc = sp__csv_int(&row, 8, "count", &cnt, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 9, "taker_buy_volume", SP_EV_QTY_SCALE, &tbv, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 10, "taker_buy_quote_volume", SP_EV_PX_SCALE, &tbq, d)) != SP_OK)
        return rc;
    return sp__feed_emit(r, &e, 1);
}

static sp_err spot_klines_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                               sp_diag *d, bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "_-.", SP_VENUE_BINANCE_SPOT, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    sp__csv_row row;
    int64_t open_ns, close_ns, qv, cnt;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK || (rc = sp__csv_cols(&row, 9, d)) != SP_OK)
        return rc;
    if (sp__feed_parse_time(row.f[0], row.n[0], &open_ns) != SP_OK ||
        sp__feed_parse_time(row.f[6], row.n[6], &close_ns) != SP_OK) {
        bool first = sp__feed_parse_time(row.f[0], row.n[0], &open_ns) != SP_OK;
        d->column = row.off[first ? 0 : 6] + 1;
        sp_diag_field(d, first ? "open_time" : "close_time");
        return sp_diag_set(d, SP_EPARSE, "expected an ISO date-time");
    }
    sp_event e;
    if ((rc = kline_event(r, st, &row, open_ns, close_ns, &e, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 7, "quote_asset_volume", SP_EV_PX_SCALE, &qv, d)) != SP_OK ||
        (rc = sp__csv_int(&row, 8, "number_of_trades", &cnt, d)) != SP_OK)
        return rc;
    /* hold each bar until a later one proves it closed */
    if (st->have_pending && (rc = sp__feed_emit(r, &st->pending, 1)) != SP_OK)
        return rc;
    st->pending = e;
    st->have_pending = true;
    return SP_OK;
}

static sp_err spot_klines_end(sp__feed_run *r, sp_diag *d)
{
    (void)d;
    csv_state *st = sp__feed_state(r);
    if (!st->have_pending)
        return SP_OK;
    st->pending.flags = (uint8_t)(st->pending.flags & ~SP_EVF_CLOSED); /* partial candle */
    st->have_pending = false;
    return sp__feed_emit(r, &st->pending, 1);
}

/* ---- trades ------------------------------------------------------------ */

static sp_err aggtrades_line_strict(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                    sp_diag *d, bool *fatal);

/*
 * An unsigned integer of 1..18 digits ending at `stop` (or the end); advances
 * *i.  The digits go through sp__digits (fastnum.h, 8 at a time): ids and
 * times are 10-13 digits, and the byte loop cost ~5 Ir a digit (callgrind).
 */
SP__HOT bool fast_uint(const char *p, size_t n, size_t *i, char stop, int64_t *out)
{
    uint64_t v;
    size_t nd = sp__digits(p + *i, p + n, &v), k = *i + nd;
    if (nd == 0 || nd > 18 || (k < n ? p[k] != stop : stop != '\0'))
        return false;
    *out = (int64_t)v;
    *i = k + (k < n);
    return true;
}

/*
 * A non-negative decimal field ending at ',' with sp__dec_fast's rules
 * (1 <= integer digits <= 18 - scale, 1 <= places <= scale), in one pass
 * instead of memchr + sp__dec_fast; advances *i.
 */
SP__HOT bool fast_dec(const char *p, size_t n, size_t *i, unsigned scale, int64_t *out)
{
    const char *s = p + *i, *end = p + n;
    uint64_t iv, fv = 0;
    size_t idig = sp__digits(s, end, &iv), fdig = 0;
    if (idig == 0 || idig + scale > 18)
        return false;
    s += idig;
    if (s < end && *s == '.') {
        s++;
        fdig = sp__digits(s, end, &fv);
        if (fdig == 0 || fdig > scale)
            return false;
        s += fdig;
    }
    if (s >= end || *s != ',')
        return false;
    *out = (int64_t)((iv * sp__pow10_u64[fdig] + fv) * sp__pow10_u64[scale - fdig]);
    *i = (size_t)(s - p) + 1;
    return true;
}

/*
 * The hot path of an aggTrades row: one pass, inline digit loops, accepting
 * only the canonical shape (7 fields, non-negative numbers, true/false).
 * Anything else returns false and the row goes through the general strict
 * path, which gives the same event or the exact reason.  §3 of
 * docs/specs/perf-anchors.md measured a hand field scan at 13 M rows/s
 * against 3.5 M for fgets/strtod; bench/bench_decode.c measures this one.
 */
static bool fast_aggtrade(const char *p, size_t n, sp_event *e)
{
    size_t i = 0;
    int64_t ms;
    if (!fast_uint(p, n, &i, ',', &e->aux[0]) || !fast_dec(p, n, &i, SP_EV_PX_SCALE, &e->px) ||
        !fast_dec(p, n, &i, SP_EV_QTY_SCALE, &e->qty) || !fast_uint(p, n, &i, ',', &e->aux[1]) ||
        !fast_uint(p, n, &i, ',', &e->aux[2]) || !fast_uint(p, n, &i, ',', &ms) ||
        ms > INT64_MAX / 1000000) /* ms_ns's range at the ms scale (1e14 let ms * 1e6 overflow) */
        return false;
    e->exch_ts_ns = ms * 1000000;
    size_t rest = n - i;
    if (rest == 4 && memcmp(p + i, "true", 4) == 0)
        e->flags = SP_EVF_MAKER | SP_EVF_SELL;
    else if (rest == 5 && memcmp(p + i, "false", 5) == 0)
        e->flags = 0;
    else
        return false;
    return true;
}

static sp_err aggtrades_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                             sp_diag *d, bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    if (SP_LIKELY(st->started) && lineno > 1) {
        sp_event e = {0};
        if (fast_aggtrade(line, n, &e)) {
            e.kind = SP_EV_TRADE;
            e.venue = st->venue;
            e.symbol_id = st->sym;
            return sp__feed_emit(r, &e, 1);
        }
    }
    return aggtrades_line_strict(r, line, n, lineno, d, fatal);
}

/* Emit e (price, qty, ids and times set) as a trade of the file's symbol. */
static inline void trade_fields(const csv_state *st, sp_event *e, bool buyer_maker)
{
    e->kind = SP_EV_TRADE;
    e->venue = st->venue;
    e->symbol_id = st->sym;
    e->flags = buyer_maker ? (uint8_t)(SP_EVF_MAKER | SP_EVF_SELL) : 0;
}

static sp_err emit_trade(sp__feed_run *r, const csv_state *st, sp_event *e, bool buyer_maker)
{
    trade_fields(st, e, buyer_maker);
    return sp__feed_emit(r, e, 1);
}

static sp_err aggtrades_line_strict(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                    sp_diag *d, bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "-.", SP_VENUE_BINANCE_UM, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    sp__csv_row row;
    sp_event e = {0};
    bool maker;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK)
        return rc;
    if (row.cols != 7 && row.cols != 8) /* spot adds is_best_match */
        return sp__csv_cols(&row, 7, d);
    if ((rc = sp__csv_int(&row, 0, "agg_trade_id", &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 1, "price", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 2, "quantity", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK ||
        (rc = sp__csv_int(&row, 3, "first_trade_id", &e.aux[1], d)) != SP_OK ||
        (rc = sp__csv_int(&row, 4, "last_trade_id", &e.aux[2], d)) != SP_OK ||
        (rc = ms_ns(&row, 5, "transact_time", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = want_bool(&row, 6, "is_buyer_maker", &maker, d)) != SP_OK)
        return rc;
    return emit_trade(r, st, &e, maker);
}

/* ---- aggTrades: the bulk path (whole lines straight from the block) ---- */

/* little-endian word reads (fastnum.h): elsewhere every line goes the per-line way */
#ifdef SP__SWAR_DIGITS

/*
 * The values of the first a (1..8) digits of w and the first b (0..8)
 * digits of w2 (all checked digits), packed as a | b << 32.  With SSE2
 * the two words are converted side by side in one register (pairs, quads,
 * octets: one multiply step each) instead of two conv8 calls: measured
 * under callgrind on bench_decode, -34 Ir a row for the four 9..16-digit
 * integer fields, and -21 more with the two decimals' integer and
 * fraction parts.
 */
#ifdef __SSE2__
#include <emmintrin.h>
SP__HOT uint64_t conv_pair(uint64_t w, unsigned a, uint64_t w2, unsigned b)
{
    uint64_t t1 = (w ^ 0x3030303030303030ULL) << (64 - 8 * a);
    uint64_t t2 = b ? (w2 ^ 0x3030303030303030ULL) << (64 - 8 * b) : 0;
    __m128i v = _mm_set_epi64x((long long)t2, (long long)t1);
    v = _mm_add_epi16(_mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi16(0xFF)), _mm_set1_epi16(10)),
                      _mm_srli_epi16(v, 8));           /* 2-digit values in 16-bit lanes */
    v = _mm_madd_epi16(v, _mm_set1_epi32(0x00010064)); /* x 100 + y: 4 digits in 32 bits */
    v = _mm_packs_epi32(v, v);                         /* back to 16-bit lanes (<= 9999) */
    v = _mm_madd_epi16(v, _mm_set1_epi32(0x00012710)); /* x 10000 + y: 8 digits */
    return (uint64_t)_mm_cvtsi128_si64(v);
}
#else
SP__HOT uint64_t conv_pair(uint64_t w, unsigned a, uint64_t w2, unsigned b)
{
    return sp__conv8(w, a) | (b ? sp__conv8(w2, b) << 32 : 0);
}
#endif

/* hi * 10^k + lo: hi the 8 digits of w, lo the k (0..7) digits at the start of w2. */
SP__HOT uint64_t conv16(uint64_t w, uint64_t w2, unsigned k)
{
    uint64_t r = conv_pair(w, 8, w2, k);
    return (r & 0xFFFFFFFFULL) * sp__pow10_u64[k] + (r >> 32);
}

/*
 * An unsigned integer of 1..16 digits at *q followed by `stop`, read as at
 * most two 8-byte words with no per-digit or per-word loop; the caller
 * guarantees 17 readable bytes at *q.  Longer runs return false (the row
 * then goes the per-line way, which takes up to 18 digits).
 */
SP__HOT bool bulk_uint(const char **q, char stop, int64_t *out)
{
    const char *p = *q;
    uint64_t w = sp__load8(p), b = sp__nondigit8(w);
    if (b != 0) {
        unsigned k = (unsigned)__builtin_ctzll(b) >> 3;
        if (k == 0 || p[k] != stop)
            return false;
        *out = (int64_t)sp__conv8(w, k);
        *q = p + k + 1;
        return true;
    }
    uint64_t w2 = sp__load8(p + 8), b2 = sp__nondigit8(w2);
    if (b2 == 0)
        return false;
    unsigned k = (unsigned)__builtin_ctzll(b2) >> 3;
    if (p[8 + k] != stop)
        return false;
    *out = (int64_t)conv16(w, w2, k);
    *q = p + 8 + k + 1;
    return true;
}

/*
 * A non-negative decimal "I" or "I.F" followed by ',' with fast_dec's rules
 * (1..7 integer digits here, 1..scale places) from one word for the
 * integer part and one for the places; 17 readable bytes at *q guaranteed.
 * Anything else (longer runs included) returns false.
 */
SP__HOT bool bulk_dec(const char **q, unsigned scale, int64_t *out)
{
    const char *p = *q;
    uint64_t w = sp__load8(p), b = sp__nondigit8(w);
    if (b == 0)
        return false;
    unsigned k = (unsigned)__builtin_ctzll(b) >> 3;
    if (k == 0 || k + scale > 18)
        return false;
    if (p[k] == ',') {
        *out = (int64_t)(sp__conv8(w, k) * sp__pow10_u64[scale]);
        *q = p + k + 1;
        return true;
    }
    if (p[k] != '.')
        return false;
    p += k + 1;
    uint64_t w2 = sp__load8(p), b2 = sp__nondigit8(w2);
    if (b2 == 0)
        return false;
    unsigned f = (unsigned)__builtin_ctzll(b2) >> 3;
    if (f == 0 || f > scale || p[f] != ',')
        return false;
    uint64_t r = conv_pair(w, k, w2, f);
    *out =
        (int64_t)(((r & 0xFFFFFFFFULL) * sp__pow10_u64[f] + (r >> 32)) * sp__pow10_u64[scale - f]);
    *q = p + f + 1;
    return true;
}

/*
 * One canonical aggTrades line at p ending in '\n' before end, into e
 * (every field of e written); the number of bytes with the newline, 0 if
 * the line is not canonical or not provably 17 bytes from the end at every
 * word read.  Accepts exactly what fast_aggtrade accepts for such a line
 * (a subset: shorter runs), so the event is the one the per-line path
 * gives.
 */
SP__HOT size_t bulk_row(const char *p, const char *end, const csv_state *st, sp_event *e)
{
    /* the longest accepted line: 3 x 16 + 13 + 7 + 7 digit fields, "false\n"; the
       words read reach at most 17 bytes past a field start */
    const char *q = p;
    int64_t id, px, qty, f1, f2, ms;
    if (end - p < 128 || !bulk_uint(&q, ',', &id) || !bulk_dec(&q, SP_EV_PX_SCALE, &px) ||
        !bulk_dec(&q, SP_EV_QTY_SCALE, &qty) || !bulk_uint(&q, ',', &f1) ||
        !bulk_uint(&q, ',', &f2) || !bulk_uint(&q, ',', &ms) || ms > INT64_MAX / 1000000)
        return 0;
    bool maker;
    if (sp__load4(q) == sp__load4("true") && q[4] == '\n') {
        maker = true;
        q += 5;
    } else if (sp__load4(q) == sp__load4("fals") && q[4] == 'e' && q[5] == '\n') {
        maker = false;
        q += 6;
    } else {
        return 0;
    }
    trade_fields(st, e, maker);
    e->sub = 0;
    e->exch_ts_ns = ms * 1000000;
    e->local_ts_ns = 0;
    e->px = px;
    e->qty = qty;
    e->aux[0] = id;
    e->aux[1] = f1;
    e->aux[2] = f2;
    return (size_t)(q - p);
}

/*
 * The bulk path of binance-aggtrades-csv (sp__feed_bulk_fn): canonical
 * lines parsed straight from the framing block into the run's event batch,
 * without a memchr, a per-line call or an event copy each.  It stops at the
 * first line it does not take (the header, a bad or unusual row, a line
 * within 128 bytes of the block's end), which the framing then hands to
 * aggtrades_line as before; batches are flushed exactly when the per-line
 * path would flush them (when one more event is emitted into a full batch).
 */
static size_t aggtrades_bulk(sp__feed_run *r, const char *buf, size_t n, uint64_t lineno,
                             uint64_t *lines, sp_err *rc)
{
    const csv_state *st = sp__feed_state(r);
    const char *p = buf, *end = buf + n;
    *lines = 0;
    *rc = SP_OK;
    if (!st->started || lineno == 0) /* line 1: the header check and the symbol */
        return 0;
    for (;;) {
        size_t room, k = 0, used = 0;
        sp_event *ev = sp__feed_room(r, &room);
        while (k < room && (used = bulk_row(p, end, st, &ev[k])) != 0) {
            p += used;
            k++;
        }
        sp__feed_commit(r, k);
        *lines += k;
        if (k < room)
            return (size_t)(p - buf);
        sp_event e; /* the batch is full: sp__feed_emit flushes it first */
        if ((used = bulk_row(p, end, st, &e)) == 0 || (*rc = sp__feed_emit(r, &e, 1)) != SP_OK)
            return (size_t)(p - buf);
        p += used;
        (*lines)++;
    }
}
#endif /* SP__SWAR_DIGITS */

sp__feed_bulk_fn sp__feed_bulk_of(const sp__feed_format *fmt)
{
#ifdef SP__SWAR_DIGITS
    return fmt->line == aggtrades_line ? aggtrades_bulk : NULL;
#else
    (void)fmt;
    return NULL; /* the word readers assume little-endian bytes: per line only */
#endif
}

static sp_err trades_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                          bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "-.", SP_VENUE_BINANCE_UM, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    sp__csv_row row;
    sp_event e = {0};
    int64_t quote;
    bool maker;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK)
        return rc;
    if (row.cols != 6 && row.cols != 7)
        return sp__csv_cols(&row, 6, d);
    if ((rc = sp__csv_int(&row, 0, "id", &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 1, "price", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 2, "qty", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 3, "quote_qty", SP_EV_PX_SCALE, &quote, d)) != SP_OK ||
        (rc = ms_ns(&row, 4, "time", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = want_bool(&row, 5, "is_buyer_maker", &maker, d)) != SP_OK)
        return rc;
    return emit_trade(r, st, &e, maker);
}

/* ---- liquidationSnapshot ------------------------------------------------ */

static sp_err liqsnap_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                           bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "-.", SP_VENUE_BINANCE_UM, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1) {
        const char *sn = sp_symtab_name(sp__feed_syms(r), st->sym);
        if (sn != NULL && strstr(sn, "_") != NULL)
            st->venue = SP_VENUE_BINANCE_CM; /* BTCUSD_PERP, BTCUSD_240927 */
        if (is_header(line, n))
            return SP_OK;
    }
    sp__csv_row row;
    sp_event e = {0};
    int64_t last_fill;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK ||
        (rc = sp__csv_cols(&row, 10, d)) != SP_OK ||
        (rc = ms_ns(&row, 0, "time", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 4, "original_quantity", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 5, "price", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 6, "average_price", SP_EV_PX_SCALE, &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 8, "last_fill_quantity", SP_EV_QTY_SCALE, &last_fill, d)) !=
            SP_OK ||
        (rc = sp__csv_dec(&row, 9, "accumulated_fill_quantity", SP_EV_QTY_SCALE, &e.aux[1], d)) !=
            SP_OK)
        return rc;
    if (sp__csv_is(&row, 1, "SELL")) {
        e.flags = SP_EVF_SELL; /* the forced order sells: a long was liquidated */
    } else if (!sp__csv_is(&row, 1, "BUY")) {
        d->column = row.off[1] + 1;
        sp_diag_field(d, "side");
        return sp_diag_set(d, SP_EPARSE, "side must be BUY or SELL");
    }
    /* de-duplicate: the same row text at the same time is the upstream repeat */
    uint64_t h = sp_fnv1a64(line, n, SP_FNV64_OFFSET);
    if (e.exch_ts_ns != st->dedup_ts) {
        st->dedup_ts = e.exch_ts_ns;
        st->ndedup = 0;
    }
    for (size_t i = 0; i < st->ndedup; i++) {
        if (st->dedup_hash[i] == h)
            return SP_OK;
    }
    if (st->ndedup < DEDUP_MAX)
        st->dedup_hash[st->ndedup++] = h;
    e.kind = SP_EV_LIQUIDATION;
    e.venue = st->venue;
    e.symbol_id = st->sym;
    /* notional in quote units for USD-M; coin-margined quantities are contracts
       whose USD size the file does not state, so no notional there */
    if (st->venue == SP_VENUE_BINANCE_UM &&
        sp_mul_div(e.aux[0], e.aux[1], sp_pow10(SP_EV_QTY_SCALE), SP_RND_HALF_EVEN, &e.aux[2]) !=
            SP_OK) {
        sp_diag_field(d, "average_price");
        return sp_diag_set(d, SP_EOVERFLOW, "notional past int64");
    }
    return sp__feed_emit(r, &e, 1);
}

/* ---- bookDepth and metrics --------------------------------------------- */

static sp_err bookdepth_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                             sp_diag *d, bool *fatal)
{
    csv_state *st = sp__feed_state(r);
    sp_err rc = start(r, st, "-.", SP_VENUE_BINANCE_UM, d, fatal);
    if (rc != SP_OK)
        return rc;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    sp__csv_row row;
    sp_event e = {0};
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK || (rc = sp__csv_cols(&row, 4, d)) != SP_OK)
        return rc;
    if (sp__feed_parse_time(row.f[0], row.n[0], &e.exch_ts_ns) != SP_OK) {
        d->column = 1;
        sp_diag_field(d, "timestamp");
        return sp_diag_set(d, SP_EPARSE, "expected \"YYYY-MM-DD HH:MM:SS\"");
    }
    if ((rc = sp__csv_dec(&row, 1, "percentage", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 2, "depth", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 3, "notional", SP_EV_PX_SCALE, &e.aux[0], d)) != SP_OK)
        return rc;
    e.kind = SP_EV_BOOK_LEVEL;
    e.sub = 1; /* a cumulative depth band, not a price level (docs/internals/event.md) */
    e.venue = st->venue;
    e.symbol_id = st->sym;
    e.flags = (uint8_t)(SP_EVF_SNAPSHOT | SP_EVF_DERIVED | (e.px > 0 ? SP_EVF_SELL : 0));
    return sp__feed_emit(r, &e, 1);
}

static sp_err metrics_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno, sp_diag *d,
                           bool *fatal)
{
    (void)fatal;
    if (lineno == 1 && is_header(line, n))
        return SP_OK;
    csv_state *st = sp__feed_state(r);
    sp__csv_row row;
    sp_event ev[5];
    memset(ev, 0, sizeof(ev));
    int64_t ts, oi, oiv;
    sp_err rc;
    if ((rc = sp__csv_split(line, n, &row, d)) != SP_OK || (rc = sp__csv_cols(&row, 8, d)) != SP_OK)
        return rc;
    if (sp__feed_parse_time(row.f[0], row.n[0], &ts) != SP_OK) {
        d->column = 1;
        sp_diag_field(d, "create_time");
        return sp_diag_set(d, SP_EPARSE, "expected \"YYYY-MM-DD HH:MM:SS\"");
    }
    uint32_t sym;
    if ((rc = sp_symtab_intern(sp__feed_syms(r), row.f[1], row.n[1], &sym)) != SP_OK) {
        d->column = row.off[1] + 1;
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, rc, "bad symbol");
    }
    (void)st;
    if ((rc = sp__csv_dec(&row, 2, "sum_open_interest", SP_EV_QTY_SCALE, &oi, d)) != SP_OK ||
        (rc = sp__csv_dec(&row, 3, "sum_open_interest_value", SP_EV_PX_SCALE, &oiv, d)) != SP_OK)
        return rc;
    ev[0].kind = SP_EV_OPEN_INTEREST;
    ev[0].qty = oi;
    ev[0].aux[0] = oiv;
    /* sub 1 top-trader accounts, 2 top-trader positions, 3 all accounts, 4 taker buy/sell volume */
    static const char *const names[] = {"count_toptrader_long_short_ratio",
                                        "sum_toptrader_long_short_ratio", "count_long_short_ratio",
                                        "sum_taker_long_short_vol_ratio"};
    size_t k = 1;
    for (size_t i = 0; i < 4; i++) {
        if (row.n[4 + i] == 0)
            continue; /* older files leave some ratios empty */
        if ((rc = sp__csv_dec(&row, 4 + i, names[i], SP_EV_RATE_SCALE, &ev[k].px, d)) != SP_OK)
            return rc;
        ev[k].kind = SP_EV_LONG_SHORT;
        ev[k].sub = (uint8_t)(i + 1);
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        ev[i].venue = SP_VENUE_BINANCE_UM;
        ev[i].symbol_id = sym;
        ev[i].exch_ts_ns = ts;
    }
    return sp__feed_emit(r, ev, k);
}

/* ---- lasota recorder CSVs (data/PROVENANCE.md §6) ---------------------- */

/* Symbol and venue from "..._(spot|usd_m_futures)_<symbol>_dd-mm-yyyy...". */
static sp_err lasota_start(sp__feed_run *r, csv_state *st, sp_diag *d, bool *fatal)
{
    if (st->started)
        return SP_OK;
    const char *p = sp__feed_source(r);
    const char *b = p ? strrchr(p, '/') : NULL;
    b = b ? b + 1 : p;
    const char *m = NULL;
    uint8_t venue = 0;
    if (b && (m = strstr(b, "_usd_m_futures_")) != NULL) {
        m += 15;
        venue = SP_VENUE_BINANCE_UM;
    } else if (b && (m = strstr(b, "_spot_")) != NULL) {
        m += 6;
        venue = SP_VENUE_BINANCE_SPOT;
    }
    char sym[32];
    size_t k = 0;
    while (m && m[k] && m[k] != '_' && k < sizeof(sym) - 1) {
        char c = m[k];
        sym[k++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    if (k == 0 || sp_symtab_intern(sp__feed_syms(r), sym, k, &st->sym) != SP_OK) {
        *fatal = true;
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, SP_EINVAL, "market and symbol not in the file name");
    }
    st->venue = venue;
    st->started = true;
    return SP_OK;
}

static sp_err lasota_snapshot_row(sp__feed_run *r, csv_state *st, const sp__csv_row *row,
                                  size_t c_recv, size_t c_uid, size_t c_ask, size_t c_px,
                                  size_t c_qty, sp_diag *d)
{
    sp_event e = {0};
    int64_t uid;
    bool ask;
    sp_err rc;
    if ((rc = ms_ns(row, c_recv, "TimestampOfReceive", &e.local_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_int(row, c_uid, "LastUpdateId", &uid, d)) != SP_OK ||
        (rc = want_bool(row, c_ask, "IsAsk", &ask, d)) != SP_OK ||
        (rc = sp__csv_dec(row, c_px, "Price", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(row, c_qty, "Quantity", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK)
        return rc;
    if (uid != st->level_uid || ask != (st->level_side != 0)) {
        st->level_uid = uid;
        st->level_side = ask;
        st->level_idx = 0;
    }
    e.kind = SP_EV_BOOK_LEVEL;
    e.venue = st->venue;
    e.symbol_id = st->sym;
    e.flags = (uint8_t)(SP_EVF_SNAPSHOT | (ask ? SP_EVF_SELL : 0));
    e.aux[0] = uid;
    e.aux[1] = (int64_t)st->level_idx++;
    return sp__feed_emit(r, &e, 1);
}

/*
 * The common start of every Lasota line: the file's symbol, '#' lines (the
 * recorder's quality report) and the header skipped (*skip), the row split
 * into ncols columns and, when type is given, EventType (column 2) checked.
 */
static sp_err lasota_split(sp__feed_run *r, const char *line, size_t n, size_t ncols,
                           const char *type, sp__csv_row *row, bool *skip, sp_diag *d, bool *fatal)
{
    sp_err rc = lasota_start(r, sp__feed_state(r), d, fatal);
    *skip = rc == SP_OK && (line[0] == '#' || is_lasota_header(line, n));
    if (rc != SP_OK || *skip)
        return rc;
    if ((rc = sp__csv_split(line, n, row, d)) != SP_OK ||
        (rc = sp__csv_cols(row, ncols, d)) != SP_OK)
        return rc;
    if (type != NULL && !sp__csv_is(row, 2, type)) {
        d->column = row->off[2] + 1;
        sp_diag_field(d, "EventType");
        return sp_diag_set(d, SP_EUNKNOWN_KIND, "expected %s", type);
    }
    return SP_OK;
}

static sp_err lasota_snapshot_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                   sp_diag *d, bool *fatal)
{
    (void)lineno;
    sp__csv_row row;
    bool skip;
    sp_err rc = lasota_split(r, line, n, 6, NULL, &row, &skip, d, fatal);
    if (rc != SP_OK || skip)
        return rc;
    return lasota_snapshot_row(r, sp__feed_state(r), &row, 0, 2, 3, 4, 5, d);
}

/* A diff-depth row starting at column c0 = Stream. */
static sp_err lasota_diff_row(sp__feed_run *r, csv_state *st, const sp__csv_row *row, size_t c0,
                              size_t c_recv, uint8_t extra_flags, sp_diag *d)
{
    sp_event e = {0};
    bool ask;
    sp_err rc;
    if ((rc = ms_ns(row, c_recv, "TimestampOfReceive", &e.local_ts_ns, d)) != SP_OK ||
        (rc = ms_ns(row, c0 + 3, "TransactionTime", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_int(row, c0 + 5, "FirstUpdateId", &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_int(row, c0 + 6, "FinalUpdateId", &e.aux[1], d)) != SP_OK ||
        (rc = sp__csv_int(row, c0 + 7, "FinalUpdateIdInLastStream", &e.aux[2], d)) != SP_OK ||
        (rc = want_bool(row, c0 + 8, "IsAsk", &ask, d)) != SP_OK ||
        (rc = sp__csv_dec(row, c0 + 9, "Price", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(row, c0 + 10, "Quantity", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK)
        return rc;
    e.kind = SP_EV_DEPTH_UPDATE;
    e.venue = st->venue;
    e.symbol_id = st->sym;
    e.flags = (uint8_t)((ask ? SP_EVF_SELL : 0) | extra_flags);
    return sp__feed_emit(r, &e, 1);
}

static sp_err lasota_diff_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                               sp_diag *d, bool *fatal)
{
    (void)lineno;
    sp__csv_row row;
    bool skip;
    sp_err rc = lasota_split(r, line, n, 12, "depthUpdate", &row, &skip, d, fatal);
    if (rc != SP_OK || skip)
        return rc;
    return lasota_diff_row(r, sp__feed_state(r), &row, 1, 0, 0, d);
}

static sp_err lasota_trade_row(sp__feed_run *r, csv_state *st, const sp__csv_row *row, size_t c0,
                               size_t c_recv, size_t c_id, size_t c_px, size_t c_qty,
                               size_t c_maker, sp_diag *d)
{
    sp_event e = {0};
    bool maker;
    sp_err rc;
    if ((rc = ms_ns(row, c_recv, "TimestampOfReceive", &e.local_ts_ns, d)) != SP_OK ||
        (rc = ms_ns(row, c0 + 3, "TransactionTime", &e.exch_ts_ns, d)) != SP_OK ||
        (rc = sp__csv_int(row, c_id, "TradeId", &e.aux[0], d)) != SP_OK ||
        (rc = sp__csv_dec(row, c_px, "Price", SP_EV_PX_SCALE, &e.px, d)) != SP_OK ||
        (rc = sp__csv_dec(row, c_qty, "Quantity", SP_EV_QTY_SCALE, &e.qty, d)) != SP_OK ||
        (rc = want_bool(row, c_maker, "IsBuyerMarketMaker", &maker, d)) != SP_OK)
        return rc;
    return emit_trade(r, st, &e, maker);
}

static sp_err lasota_trades_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                 sp_diag *d, bool *fatal)
{
    (void)lineno;
    sp__csv_row row;
    bool skip;
    sp_err rc = lasota_split(r, line, n, 11, "trade", &row, &skip, d, fatal);
    if (rc != SP_OK || skip)
        return rc;
    return lasota_trade_row(r, sp__feed_state(r), &row, 1, 0, 6, 7, 8, 9, d);
}

/* The merged file: 24 columns, the row kind in StreamType (column 20). */
static sp_err lasota_merged_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                 sp_diag *d, bool *fatal)
{
    (void)lineno;
    sp__csv_row row;
    bool skip;
    sp_err rc = lasota_split(r, line, n, 24, NULL, &row, &skip, d, fatal);
    if (rc != SP_OK || skip)
        return rc;
    csv_state *st = sp__feed_state(r);
    if (sp__csv_is(&row, 20, "DIFFERENCE_DEPTH_STREAM"))
        return lasota_diff_row(r, st, &row, 2, 1, 0, d);
    if (sp__csv_is(&row, 20, "FINAL_DEPTH_SNAPSHOT")) /* the recorder's rebuilt book */
        return lasota_diff_row(r, st, &row, 2, 1, SP_EVF_DERIVED, d);
    if (sp__csv_is(&row, 20, "TRADE_STREAM"))
        return lasota_trade_row(r, st, &row, 2, 1, 14, 11, 12, 15, d);
    if (sp__csv_is(&row, 20, "DEPTH_SNAPSHOT"))
        return lasota_snapshot_row(r, st, &row, 1, 19, 10, 11, 12, d);
    d->column = row.off[20] + 1;
    sp_diag_field(d, "StreamType");
    return sp_diag_set(d, SP_EUNKNOWN_KIND, "unknown StreamType \"%.*s\"",
                       (int)(row.n[20] > 32 ? 32 : row.n[20]), row.f[20]);
}

#define CSV_FMT(name, help, fn, end)                       \
    {                                                      \
        name, help, fn, NULL, sizeof(csv_state), NULL, end \
    }

const sp__feed_format sp__feed_fmt_binance_csv[] = {
    CSV_FMT("binance-funding-csv", "data.binance.vision fundingRate CSV (raw monthly or clean)",
            funding_line, NULL),
    CSV_FMT("binance-klines-csv", "data.binance.vision futures klines CSV (header optional)",
            klines_line, NULL),
    CSV_FMT("binance-spot-klines-csv", "Binance spot klines CSV with ISO times (SYMBOL_1d.csv)",
            spot_klines_line, spot_klines_end),
    CSV_FMT("binance-aggtrades-csv", "data.binance.vision aggTrades CSV", aggtrades_line, NULL),
    CSV_FMT("binance-trades-csv", "data.binance.vision trades CSV", trades_line, NULL),
    CSV_FMT("binance-liquidation-snapshot-csv",
            "data.binance.vision liquidationSnapshot CSV (duplicates dropped)", liqsnap_line, NULL),
    CSV_FMT("binance-bookdepth-csv", "data.binance.vision bookDepth CSV (depth bands)",
            bookdepth_line, NULL),
    CSV_FMT("binance-metrics-csv", "data.binance.vision metrics CSV (open interest, ratios)",
            metrics_line, NULL),
    CSV_FMT("lasota-depth-snapshot-csv", "lasota recorder: REST depth snapshot rows",
            lasota_snapshot_line, NULL),
    CSV_FMT("lasota-depth-diff-csv", "lasota recorder: diff-depth stream rows", lasota_diff_line,
            NULL),
    CSV_FMT("lasota-trades-csv", "lasota recorder: trade stream rows", lasota_trades_line, NULL),
    CSV_FMT("lasota-merged-csv", "lasota recorder: merged snapshot + diff + trade rows",
            lasota_merged_line, NULL),
    {NULL, NULL, NULL, NULL, 0, NULL, NULL},
};
