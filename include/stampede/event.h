/*
 * event.h -- the normalized event: one flat 64-byte record for everything
 * that happens (DESIGN §4).
 *
 * Decoders produce events from exchange data, the engine and the
 * simulator produce them, the store and the bus carry them, analytics
 * read them.  One record type means one storage schema, one wire format,
 * one golden-file format.  The record is transparent and has no pointers:
 * it can be copied, hashed and written as bytes (little-endian hosts).
 *
 * Scales.  In an event every price is at SP_EV_PX_SCALE (1e-8) and every
 * quantity at SP_EV_QTY_SCALE (1e-8), whatever the instrument: a decoder
 * does not need the instrument spec to produce an exact event, the store
 * and bus need no symbol table to read a value, and every venue we decode
 * quotes at most 8 decimal places.  Rates (funding, premium) are at
 * SP_EV_RATE_SCALE (1e-12).  Book and engine work in instrument ticks and
 * lots and convert at their edge.  docs/ARCHITECTURE.md records this as a
 * departure from DESIGN §4 ("in the instrument's fixed point").
 *
 * The meaning of px, qty and aux[] per kind is listed below and in
 * docs/internals/event.md; kinds and venues are append-only numbered
 * lists like sp_err.
 */
#ifndef STAMPEDE_EVENT_H
#define STAMPEDE_EVENT_H

#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

#define SP_EV_PX_SCALE   8
#define SP_EV_QTY_SCALE  8
#define SP_EV_RATE_SCALE 12

/*
 * XX(name, value, text).  Append only; never renumber.
 * px / qty / aux meaning per kind:
 *   TRADE            px price, qty base qty; aux0 trade id (agg id for aggTrade),
 *                    aux1 first trade id, aux2 last trade id (0 when n/a)
 *   DEPTH_UPDATE     px level price, qty new level qty (0 = level removed);
 *                    aux0 first update id, aux1 final update id, aux2 prev final id
 *   BOOK_LEVEL       one level of a snapshot: px, qty; aux0 snapshot update id,
 *                    aux1 level index from the top (0-based)
 *   LIQUIDATION      px order price, qty original qty; aux0 average fill price,
 *                    aux1 filled qty, aux2 notional (quote, SP_EV_PX_SCALE);
 *                    SIDE_SELL = the forced order sells (a long was liquidated)
 *   FUNDING          px funding rate (SP_EV_RATE_SCALE); aux0 mark price,
 *                    aux1 interval in hours (integer), aux2 next funding time ms
 *   MARK             px mark price; aux0 index price, aux1 estimated settle price,
 *                    aux2 funding rate (SP_EV_RATE_SCALE)
 *   INDEX            px index price
 *   OPEN_INTEREST    qty open interest (base); aux0 OI value (quote)
 *   KLINE            px close, qty base volume; aux0 open, aux1 high, aux2 low;
 *                    sub = interval code (SP_KLINE_*); exch_ts = open time
 *   TICKER           px best bid, qty best bid qty; aux0 best ask, aux1 ask qty,
 *                    aux2 last price
 *   FILL .. INSURANCE  produced by our engine (docs/internals/engine.md documents
 *                    aux: account and order ids, fees)
 *   GAP              a sequence gap or reconnect: aux0 expected id, aux1 got id
 *   SERIES           one value of an external daily series (sub = SP_SERIES_*):
 *                    px value (SP_EV_PX_SCALE), aux0 extra value
 *   LONG_SHORT       px long/short ratio (SP_EV_RATE_SCALE); aux0 long share,
 *                    aux1 short share (SP_EV_RATE_SCALE)
 *   FUNDING_PAY      one position's funding payment in our engine: px rate
 *                    (SP_EV_RATE_SCALE), aux0 mark, aux1 account, aux2 amount
 *                    paid (+) or received (-), scale 1e-8; SELL = a short
 *                    (the settlement's total is the FUNDING event, aux1 0)
 */
#define SP_EVENT_KIND_MAP(XX)                \
    XX(NONE, 0, "none")                      \
    XX(TRADE, 1, "trade")                    \
    XX(DEPTH_UPDATE, 2, "depth_update")      \
    XX(BOOK_LEVEL, 3, "book_level")          \
    XX(LIQUIDATION, 4, "liquidation")        \
    XX(FUNDING, 5, "funding")                \
    XX(MARK, 6, "mark")                      \
    XX(INDEX, 7, "index")                    \
    XX(OPEN_INTEREST, 8, "open_interest")    \
    XX(KLINE, 9, "kline")                    \
    XX(TICKER, 10, "ticker")                 \
    XX(FILL, 11, "fill")                     \
    XX(CANCEL, 12, "cancel")                 \
    XX(REJECT, 13, "reject")                 \
    XX(LIQ_ENGINE, 14, "liquidation_engine") \
    XX(ADL, 15, "adl")                       \
    XX(INSURANCE, 16, "insurance")           \
    XX(GAP, 17, "gap")                       \
    XX(SERIES, 18, "series")                 \
    XX(LONG_SHORT, 19, "long_short")         \
    XX(FUNDING_PAY, 20, "funding_pay")

typedef enum sp_event_kind {
#define SP_EVK_ENUM_(name, value, text) SP_EV_##name = value,
    SP_EVENT_KIND_MAP(SP_EVK_ENUM_)
#undef SP_EVK_ENUM_
        SP_EV_KIND_COUNT_
} sp_event_kind;

/* Venues.  Append only. */
#define SP_VENUE_MAP(XX)                \
    XX(NONE, 0, "none")                 \
    XX(BINANCE_UM, 1, "binance")        \
    XX(BINANCE_CM, 2, "binance_cm")     \
    XX(BINANCE_SPOT, 3, "binance_spot") \
    XX(BYBIT, 4, "bybit")               \
    XX(OKX, 5, "okx")                   \
    XX(BITMEX, 6, "bitmex")             \
    XX(HYPERLIQUID, 7, "hyperliquid")   \
    XX(SIM, 8, "sim")                   \
    XX(EXTERNAL, 9, "external")

typedef enum sp_venue {
#define SP_VENUE_ENUM_(name, value, text) SP_VENUE_##name = value,
    SP_VENUE_MAP(SP_VENUE_ENUM_)
#undef SP_VENUE_ENUM_
        SP_VENUE_COUNT_
} sp_venue;

/* Flag bits of sp_event.flags. */
#define SP_EVF_SELL     0x01u /* side: sell / ask / short; clear = buy / bid / long */
#define SP_EVF_MAKER    0x02u /* trade: the buyer was the maker */
#define SP_EVF_SNAPSHOT 0x04u /* depth: part of a snapshot, not a delta */
#define SP_EVF_CLOSED   0x08u /* kline: the bar is final */
#define SP_EVF_DERIVED  0x10u /* computed by us (e.g. a de-duplicated or estimated record) */

/* Kline interval codes (sp_event.sub for SP_EV_KLINE). */
#define SP_KLINE_MAP(XX)      \
    XX(1M, 1, "1m", 60)       \
    XX(3M, 2, "3m", 180)      \
    XX(5M, 3, "5m", 300)      \
    XX(15M, 4, "15m", 900)    \
    XX(30M, 5, "30m", 1800)   \
    XX(1H, 6, "1h", 3600)     \
    XX(2H, 7, "2h", 7200)     \
    XX(4H, 8, "4h", 14400)    \
    XX(6H, 9, "6h", 21600)    \
    XX(8H, 10, "8h", 28800)   \
    XX(12H, 11, "12h", 43200) \
    XX(1D, 12, "1d", 86400)   \
    XX(3D, 13, "3d", 259200)  \
    XX(1W, 14, "1w", 604800)  \
    XX(1MO, 15, "1M", 2592000)

/*
 * The flat event record.  64 bytes, no padding, no pointers.
 * Timestamps are nanoseconds since the Unix epoch, UTC; 0 = unknown.
 */
typedef struct sp_event {
    uint8_t kind;        /* sp_event_kind */
    uint8_t venue;       /* sp_venue */
    uint8_t sub;         /* per-kind subtype (kline interval, series code), else 0 */
    uint8_t flags;       /* SP_EVF_* bits */
    uint32_t symbol_id;  /* interned symbol (sp_symtab), 0 = none */
    int64_t exch_ts_ns;  /* exchange timestamp (event or transaction time), ns UTC */
    int64_t local_ts_ns; /* local receive timestamp, ns UTC, 0 if not recorded */
    int64_t px;          /* price, scale SP_EV_PX_SCALE (see the kind table) */
    int64_t qty;         /* quantity, scale SP_EV_QTY_SCALE (see the kind table) */
    int64_t aux[3];      /* kind-specific values (see the kind table) */
} sp_event;

_Static_assert(sizeof(sp_event) == 64, "sp_event must stay 64 bytes");

/* "trade", "liquidation", ...; "?" for an unknown kind. */
SP_API const char *sp_event_kind_name(unsigned kind);

/* The kind named s, or SP_EV_NONE if none. */
SP_API sp_event_kind sp_event_kind_from_name(const char *s);

/* "binance", "bybit", ...; "?" for an unknown venue. */
SP_API const char *sp_venue_name(unsigned venue);

/* The venue named s, or SP_VENUE_NONE if none. */
SP_API sp_venue sp_venue_from_name(const char *s);

/* "1m", "4h", "1d", ...; "?" for an unknown code. */
SP_API const char *sp_kline_interval_name(unsigned code);

/* Seconds of a kline interval code, 0 if unknown. */
SP_API int64_t sp_kline_interval_secs(unsigned code);

/* The kline interval code for "1m", "4h", ...; 0 if unknown. */
SP_API unsigned sp_kline_interval_from_name(const char *s);

/*
 * The US$ notional of one LIQUIDATION event, quote at SP_EV_PX_SCALE
 * (docs/metrics.md §6.1): aux2 when the decoder set it; for Binance
 * COIN-M (inverse, quantity in contracts) the filled contracts (aux1, or
 * qty when 0) times the contract value, US$ 100 for BTCUSD* symbols and
 * US$ 10 for the others; else the average fill price (aux0, or px when 0)
 * times the filled qty, rounded half-even to 1e-8.  symbol is the event's
 * symbol name (borrowed, may be NULL: then a COIN-M event counts US$ 10 a
 * contract).  One definition shared by the analytics (sp_an_liq_notional)
 * and the store's per-minute roll-ups.  OUT: *out.  SP_EOVERFLOW.
 * Thread-safe.
 */
SP_API sp_err sp_event_liq_notional(const sp_event *ev, const char *symbol, int64_t *out);

SP_END_DECLS

#endif /* STAMPEDE_EVENT_H */
