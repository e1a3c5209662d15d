/*
 * feed.h -- market-data decoders: exchange formats in, sp_event out.
 *
 * The feed module turns the exchanges' real formats (WebSocket messages,
 * recorded captures, data-dump CSVs and zips, third-party daily series)
 * into the normalized 64-byte sp_event of event.h.  It knows nothing of
 * storage or analytics: a caller hands it a sink (two callbacks) and gets
 * batches of events and one callback per rejected record.
 *
 * Invariants kept by every decoder:
 *   - strict: the whole record is validated; every decimal is parsed digit
 *     by digit into the event's fixed point (prices and quantities at
 *     SP_EV_PX_SCALE / SP_EV_QTY_SCALE, rates at SP_EV_RATE_SCALE); a value
 *     with more places than the scale, past int64, of the wrong JSON type,
 *     or missing, rejects the record; an unknown event type is reported,
 *     never guessed;
 *   - bad records never vanish and never stop the file: each goes to
 *     sink->reject with its reason (sp_diag: code, message, source, 1-based
 *     line, byte offset of the record's first byte, field) and decoding
 *     goes on with the next record;
 *   - hot decoders (Binance/Bybit/OKX trades, depth, liquidations, klines)
 *     allocate nothing per message; symbol interning allocates only the
 *     first time a name is seen.
 * Per-kind meaning of px / qty / aux is in event.h and, refined for each
 * venue, in docs/internals/event.md.  The formats and their traps are in
 * docs/internals/feed.md.
 *
 * Thread safety: the functions are reentrant; a sp_symtab and a
 * sp_feed_book_sync must not be shared between threads without a lock.
 */
#ifndef STAMPEDE_FEED_H
#define STAMPEDE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/symtab.h"

SP_BEGIN_DECLS

/* ---- limits ------------------------------------------------------------ */

/*
 * Most events one message may produce (a depth snapshot of 1000 levels per
 * side is 2000).  A message that would produce more is rejected with
 * SP_ETOOBIG.  Override with -D.
 */
#ifndef SP_FEED_MSG_EVENTS_MAX
#define SP_FEED_MSG_EVENTS_MAX 4096
#endif

/* Events handed to sink->events per call, at most. */
#ifndef SP_FEED_BATCH
#define SP_FEED_BATCH 1024
#endif

/* ---- series codes (sp_event.sub of SP_EV_SERIES) ----------------------- */

/*
 * Codes of external daily series.  Append only.  px is the value at
 * SP_EV_PX_SCALE unless noted; exch_ts_ns is the day (00:00 UTC) or the
 * sample time; symbol names the series ("ETF:IBIT", "FGI", "BTC").
 *   ETF_FLOW      Farside daily net flow, US$ millions; symbol "ETF:<fund>"
 *                 or "ETF:TOTAL"
 *   FEAR_GREED    alternative.me index value 0..100
 *   PRICE         a spot price sample (CoinGecko; Yahoo close); aux0 volume
 *                 in whole quote units (scale 0: Yahoo's US$ volumes pass
 *                 1e11) when the source gives one, aux1 CoinGecko rank
 *   FUNDING_MEAN  daily mean funding rate at SP_EV_RATE_SCALE (px);
 *                 aux0 mean absolute rate (SP_EV_RATE_SCALE)
 *   ADL           Hyperliquid ADL aggregate of one coin: px average price,
 *                 qty net volume (base), aux0 notional US$, aux1 total PnL
 *                 US$, aux2 number of ADL events (integer)
 *   ADL_ACCOUNT   Hyperliquid ADL per-coin account view: px ADL notional US$,
 *                 qty closed PnL US$, aux0 users (integer), aux1 events
 *                 (integer), aux2 accounts in negative equity (integer)
 *   LIQ_ACCOUNT   Hyperliquid official liquidation list: px liquidated
 *                 notional US$, qty account value US$; aux0 1 = cross,
 *                 2 = isolated; symbol is the user address cut to
 *                 SP_SYMBOL_MAX ("0x" + 29 hex digits)
 */
#define SP_SERIES_MAP(XX)               \
    XX(ETF_FLOW, 1, "etf_flow")         \
    XX(FEAR_GREED, 2, "fear_greed")     \
    XX(PRICE, 3, "price")               \
    XX(FUNDING_MEAN, 4, "funding_mean") \
    XX(ADL, 5, "adl")                   \
    XX(ADL_ACCOUNT, 6, "adl_account")   \
    XX(LIQ_ACCOUNT, 7, "liq_account")

typedef enum sp_series_code {
#define SP_SERIES_ENUM_(name, value, text) SP_SERIES_##name = value,
    SP_SERIES_MAP(SP_SERIES_ENUM_)
#undef SP_SERIES_ENUM_
        SP_SERIES_COUNT_
} sp_series_code;

/* "etf_flow", ...; "?" for an unknown code. */
SP_API const char *sp_series_name(unsigned code);

/* ---- the feed -> store contract ---------------------------------------- */

/*
 * Where decoded events and rejected records go.  The decoder calls
 * events() with batches of at most SP_FEED_BATCH events (the array is
 * borrowed: valid only during the call; copy what you keep).  A non-OK
 * return stops decoding and is returned by the decode function (with d
 * saying "sink stopped").  reject() is called once per bad record with the
 * reason and position (why->source is the file name, borrowed for the
 * call).  Either callback may be NULL (events dropped / rejects ignored).
 */
typedef struct sp_feed_sink {
    sp_err (*events)(void *ctx, const sp_event *ev, size_t n); /* non-OK stops decoding */
    void (*reject)(void *ctx, const sp_diag *why);             /* one bad record */
    void *ctx;                                                 /* borrowed, passed back */
} sp_feed_sink;

/*
 * Decode one file.  format is a name from sp_feed_format_name() or NULL /
 * "auto" to detect it from the file name and first bytes.  A ".zip" file
 * is opened with libzip and each member decoded (format detected from the
 * member name); a ".zst" file is decompressed with libzstd in streaming
 * fashion.  Symbols are interned into syms (borrowed, must not be NULL).
 *
 * Returns SP_OK when the file was usable, even if some records were
 * rejected (they went to sink->reject).  Errors, with d filled (d may be
 * NULL): SP_EIO (unreadable), SP_EUNKNOWN_KIND (format not detected or
 * unknown name), SP_EPARSE (the file is not of the named format at all,
 * e.g. a bad header), SP_ENOMEM, or whatever sink->events returned.
 */
SP_API sp_err sp_feed_decode_file(const char *path, const char *format, sp_symtab *syms,
                                  const sp_feed_sink *sink, sp_diag *d);

/*
 * As sp_feed_decode_file for bytes already in memory.  source names the
 * input in diagnostics and drives detection like a file name (may be
 * NULL: then format must be given or the content sniffed).  data is
 * borrowed for the call.  Compressed containers (zip, zst) are not
 * accepted here (SP_EUNSUPPORTED).
 */
SP_API sp_err sp_feed_decode_mem(const void *data, size_t len, const char *source,
                                 const char *format, sp_symtab *syms, const sp_feed_sink *sink,
                                 sp_diag *d);

/*
 * Detect the format of a file from its name (path, may be NULL) and its
 * first bytes (head[0..n), may be empty).  Returns the format name (a
 * static string) or NULL when nothing matches.
 */
SP_API const char *sp_feed_detect(const char *path, const char *head, size_t n);

/* Number of named formats, and the name / one-line description of the i-th (NULL past the end). */
SP_API size_t sp_feed_format_count(void);
SP_API const char *sp_feed_format_name(size_t i);
SP_API const char *sp_feed_format_help(size_t i);

/*
 * The decimal scale of one numeric field of e as decoders fill it: field 0
 * = px, 1 = qty, 2..4 = aux[0..2].  Returns the scale (SP_EV_PX_SCALE,
 * SP_EV_RATE_SCALE, 0 for whole quote units) or -1 when the field is a
 * plain integer (an id, a count, a time in ms) -- see docs/internals/
 * event.md.  For printing and storing values exactly.  Pure, thread-safe.
 */
SP_API int sp_feed_field_scale(const sp_event *e, unsigned field);

/* ---- one message at a time (hot path) ---------------------------------- */

/*
 * Each decodes ONE wire message msg[0..n) (not NUL-terminated) into
 * out[0..cap), setting *n_out to the number of events written (0 is valid,
 * e.g. a subscription reply).  local_ts_ns is copied into every event's
 * local_ts_ns (0 = not recorded).  Symbols are interned into syms.
 * Zero allocation except the first interning of a new symbol.
 *
 * Errors (the message is rejected as a whole, nothing is emitted, *n_out
 * is 0, d says what and at which byte of msg in d->column and which field):
 * SP_EPARSE (not valid JSON of the expected shape, wrong JSON type),
 * SP_EPRECISION (too many decimal places), SP_EOVERFLOW (past int64),
 * SP_ENOTFOUND (a required field is missing), SP_EUNKNOWN_KIND (an event
 * type or channel this decoder does not know), SP_ETOOBIG (message longer
 * than SP_MSG_MAX, or more than cap events), SP_EINVAL (bad symbol name),
 * SP_ENOMEM.
 */

/*
 * Binance USD-M WebSocket: aggTrade, trade, depthUpdate, forceOrder,
 * markPriceUpdate, bookTicker, kline, as a single event, as an array
 * (!forceOrder@arr, !markPrice@arr) or inside the combined-stream wrapper
 * {"stream":..,"data":..}.  Subscription replies ({"result":..,"id":..})
 * produce no event.
 */
SP_API sp_err sp_feed_binance_ws(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                                 sp_event *out, size_t cap, size_t *n_out, sp_diag *d);

/*
 * Binance REST depth snapshot (/fapi/v1/depth, /api/v3/depth):
 * {"lastUpdateId","E","T","bids","asks"} -> SP_EV_BOOK_LEVEL events with
 * SP_EVF_SNAPSHOT (bids first, then asks); the body carries no symbol, so
 * the caller passes the interned symbol_id and venue.
 */
SP_API sp_err sp_feed_binance_depth_snapshot(const char *msg, size_t n, uint32_t symbol_id,
                                             sp_venue venue, int64_t local_ts_ns, sp_event *out,
                                             size_t cap, size_t *n_out, sp_diag *d);

/*
 * Bybit v5 public (linear, inverse or spot): orderbook.N snapshot/delta,
 * publicTrade, tickers (snapshot/delta), kline, allLiquidation and
 * liquidation.  Operation replies ({"op":..,"success":..}) produce no
 * event.  Side trap: in allLiquidation "S":"Buy" means a LONG was
 * liquidated (the forced order sells) -- the event gets SP_EVF_SELL.
 *
 * Bybit sends tickers as a snapshot followed by deltas that carry only the
 * changed fields, so the decoder keeps per-symbol ticker state in a
 * sp_feed_bybit context (one per connection): a delta is merged into the
 * last values and full events are emitted (TICKER when a best bid/ask
 * field changed, MARK on mark/index, OPEN_INTEREST, FUNDING); a tickers
 * delta before any snapshot of its symbol is rejected (SP_ESTATE).  Spot
 * symbols are interned as "spot:<SYMBOL>" so they never mix with the
 * linear contract of the same name (venue stays SP_VENUE_BYBIT).
 */
typedef struct sp_feed_bybit sp_feed_bybit;

/* A new context; spot = the connection is /v5/public/spot.  OUT: *out.  SP_OK or SP_ENOMEM. */
SP_API sp_err sp_feed_bybit_new(bool spot, sp_feed_bybit **out);

/* Free a context; NULL is a no-op. */
SP_API void sp_feed_bybit_free(sp_feed_bybit *ctx);

/* Decode one Bybit v5 frame; ctx is required (see above), other arguments as for Binance. */
SP_API sp_err sp_feed_bybit_v5(sp_feed_bybit *ctx, const char *msg, size_t n, int64_t local_ts_ns,
                               sp_symtab *syms, sp_event *out, size_t cap, size_t *n_out,
                               sp_diag *d);

/*
 * OKX v5 public: liquidation-orders, trades, books / books5 / bbo-tbt
 * (snapshot and update, seqId / prevSeqId / checksum carried in aux),
 * funding-rate, open-interest, mark-price.  Event replies
 * ({"event":"subscribe"}) produce no event.
 */
SP_API sp_err sp_feed_okx_v5(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                             sp_event *out, size_t cap, size_t *n_out, sp_diag *d);

/* ---- local order-book sync --------------------------------------------- */

/*
 * Sequence checking of depth streams, per venue and symbol, following each
 * exchange's documented procedure for a local order book:
 *   Binance USD-M  a snapshot's lastUpdateId L; updates with u < L are
 *                  stale and dropped; the first kept update must have
 *                  U <= L <= u; then every update's pu must equal the
 *                  previous update's u.  (Spot: U == previous u + 1, first
 *                  update U <= L + 1 <= u.)
 *   Bybit v5       a snapshot's u; every delta's u must be the previous
 *                  u + 1; a new snapshot (also u = 1 after a restart)
 *                  resets the book.
 *   OKX v5         every update's prevSeqId must equal the previous
 *                  seqId.  (The CRC32 checksum is carried in aux2 but not
 *                  verified here: that needs the book, see book/.)
 * A violation is never silently healed: an SP_EV_GAP event (aux0 the id
 * expected, aux1 the id received, sub 1 = sequence break, 2 = first update
 * does not cover the snapshot) is inserted before the offending update,
 * and the symbol counts as out of sync until its next snapshot.  Updates
 * marked SP_EVF_DERIVED (a recorder's rebuilt book) are passed through
 * unchecked.  All events other than stale updates pass through in order.
 */
typedef struct sp_feed_sync sp_feed_sync;

/* Counters of one sync object. */
typedef struct sp_feed_sync_stats {
    uint64_t gaps;        /* GAP events emitted */
    uint64_t stale;       /* update events dropped as older than their snapshot */
    uint64_t snapshots;   /* snapshots seen (each resets its symbol) */
    uint64_t out_of_sync; /* update events passed while their symbol was out of sync */
} sp_feed_sync_stats;

/* A new sync object.  OUT: *out.  SP_OK or SP_ENOMEM. */
SP_API sp_err sp_feed_sync_new(sp_feed_sync **out);

/* Free; NULL is a no-op. */
SP_API void sp_feed_sync_free(sp_feed_sync *s);

/*
 * Check in[0..n) (events in arrival order) and write the events to pass on
 * to out[0..cap), GAP events included.  cap >= 2 * n always suffices (at
 * most one GAP per event); with less, SP_ETOOBIG may be returned and the
 * sync state is then unspecified.  SP_ENOMEM when a new symbol cannot be
 * tracked.  OUT: *n_out.  s is borrowed; in and out must not overlap.
 */
SP_API sp_err sp_feed_sync_apply(sp_feed_sync *s, const sp_event *in, size_t n, sp_event *out,
                                 size_t cap, size_t *n_out);

/* The counters so far. */
SP_API sp_feed_sync_stats sp_feed_sync_stats_get(const sp_feed_sync *s);

/* Is (venue, symbol) currently in sync (snapshot seen, no gap since)? */
SP_API bool sp_feed_sync_is_synced(const sp_feed_sync *s, sp_venue venue, uint32_t symbol_id);

SP_END_DECLS

#endif /* STAMPEDE_FEED_H */
