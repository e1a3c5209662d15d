/*
 * book.h -- a price-time priority limit order book for one instrument, with
 * matching, level-2 views and a loader for real exchange depth.
 *
 * Two implementations sit behind this one interface (chosen at
 * sp_book_new): SP_BOOK_FAST (src/book/book.c: a circular flat array of
 * price levels indexed by price, occupancy bitmaps, intrusive FIFO per
 * level, order slots from one preallocated pool, an id -> slot hash; no
 * allocation after sp_book_new) and SP_BOOK_REF (src/book/book_ref.c:
 * sorted arrays, obviously correct, the oracle of the differential test).
 * Both emit the same events in the same order and end in the same state
 * for the same commands; tests/unit/test_book_diff.c holds them to that.
 *
 * Units.  Prices are int64 ticks and quantities int64 lots of the
 * instrument; the book never sees a scale.  sp_book_instrument converts
 * from and to the 1e-8 event scale (event.h) exactly.
 *
 * Invariants kept after every call (sp_book_check verifies them all):
 *   - each level's total equals the sum of its orders' leaves, and every
 *     order has leaves > 0;
 *   - orders within a level are in time priority (FIFO of arrival, amend
 *     up or re-price moves an order to the back);
 *   - the book is never crossed: best bid < best ask;
 *   - the id index holds exactly the resting orders with a non-zero id;
 *   - highest occupied price - lowest occupied price < window_ticks.
 *
 * Outcomes.  A command the book cannot accept is not an error: it is a
 * REJECT event with a banded reason code (1xxx validation, 3xxx matching)
 * and the same code in sp_book_result.  Functions return sp_err only for
 * programmer errors (NULL arguments) and for the loader's input errors.
 *
 * Threads.  A book is not thread-safe; use one book per thread or lock
 * around every call.  Distinct books are independent.
 */
#ifndef STAMPEDE_BOOK_H
#define STAMPEDE_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/fixed.h"

SP_BEGIN_DECLS

/* ---- limits (defaults; each can be overridden with -D) -------------------- */

/* Default order-slot pool size (resting orders + loaded depth levels). */
#ifndef SP_BOOK_ORDERS_DEFAULT
#define SP_BOOK_ORDERS_DEFAULT (1u << 20)
#endif
/* Largest pool a book accepts. */
#ifndef SP_BOOK_ORDERS_MAX
#define SP_BOOK_ORDERS_MAX (1u << 26)
#endif
/* Default price window (ticks, a power of two): span of prices resting at once. */
#ifndef SP_BOOK_WINDOW_DEFAULT
#define SP_BOOK_WINDOW_DEFAULT (1u << 20)
#endif
/* Largest window a book accepts (ticks). */
#ifndef SP_BOOK_WINDOW_MAX
#define SP_BOOK_WINDOW_MAX (1u << 26)
#endif

/* ---- vocabulary ------------------------------------------------------------ */

/* Which implementation sp_book_new builds. */
typedef enum sp_book_kind {
    SP_BOOK_FAST = 0, /* book.c: flat arrays, bitmaps, pool, hash */
    SP_BOOK_REF = 1   /* book_ref.c: sorted arrays, the reference */
} sp_book_kind;

/* Side of an order or level. */
typedef enum sp_side {
    SP_BUY = 0, /* bid */
    SP_SELL = 1 /* ask */
} sp_side;

/* Order type: a market order has no price (never a sentinel price). */
typedef enum sp_ord_type { SP_ORD_LIMIT = 0, SP_ORD_MARKET = 1 } sp_ord_type;

/* Time in force. */
typedef enum sp_tif {
    SP_TIF_GTC = 0, /* rest the remainder (limit only) */
    SP_TIF_IOC = 1, /* fill what crosses now, cancel the remainder */
    SP_TIF_FOK = 2  /* fill the whole quantity now or reject it untouched */
} sp_tif;

/* Order flag bits (sp_book_order.flags). */
#define SP_ORDF_POST_ONLY   0x01u /* reject (3001) if any part would take */
#define SP_ORDF_REDUCE_ONLY 0x02u /* carried for the engine; the book ignores it */
#define SP_ORDF_ALL_        0x03u /* every defined bit */

/*
 * Reject / cancel reason codes, banded like exchange-core's result codes:
 * 1xxx validation (nothing changed), 3xxx matching.  Append only.
 */
#define SP_BOOK_REASON_MAP(XX)                                                  \
    XX(NONE, 0, "none")                                                         \
    XX(BAD_QTY, 1001, "quantity is zero, negative or above the maximum")        \
    XX(BAD_PRICE, 1002, "price is zero or negative")                            \
    XX(PX_LIMIT, 1003, "price outside the instrument's price limits")           \
    XX(DUP_ID, 1004, "an order with this id is already resting")                \
    XX(UNKNOWN_ID, 1005, "no resting order has this id")                        \
    XX(BAD_TYPE, 1006, "invalid type, time in force, side or flag combination") \
    XX(ZERO_ID, 1007, "order id 0 is reserved for loaded depth")                \
    XX(POST_ONLY, 3001, "post-only order would take liquidity")                 \
    XX(FOK_UNFILLED, 3002, "fill-or-kill order cannot be filled in full")       \
    XX(IOC_REMAINDER, 3003, "remainder of an IOC or market order cancelled")    \
    XX(BOOK_FULL, 3004, "order pool full: remainder cannot rest")               \
    XX(PX_SPAN, 3005, "resting price too far from the rest of the book")        \
    XX(USER, 3006, "cancelled by request")

typedef enum sp_book_reason {
#define SP_BOOK_REASON_ENUM_(name, value, text) SP_BREASON_##name = value,
    SP_BOOK_REASON_MAP(SP_BOOK_REASON_ENUM_)
#undef SP_BOOK_REASON_ENUM_
} sp_book_reason;

/* "post-only order would take liquidity", ...; "?" for an unknown code. */
SP_API const char *sp_book_reason_text(unsigned code);

/* ---- configuration --------------------------------------------------------- */

/*
 * Limits of one book.  Start from sp_book_config_default() and change
 * fields.  Prices outside [px_min_ticks, px_max_ticks] are rejected (1003),
 * like an exchange's price filter; quantities above qty_max_lots (1001).
 * sp_book_new lowers qty_max_lots to INT64_MAX / max_orders when it is
 * larger, so that no sum of resting quantities can overflow int64.
 */
typedef struct sp_book_config {
    int64_t px_min_ticks;  /* lowest accepted price, ticks, >= 1 */
    int64_t px_max_ticks;  /* highest accepted price, ticks */
    int64_t qty_max_lots;  /* largest order quantity, lots (lowered to INT64_MAX / max_orders) */
    uint32_t max_orders;   /* order-slot pool size: resting orders + depth levels */
    uint32_t window_ticks; /* power of two; every resting price lies within a span < this */
    bool level_events;     /* emit SP_BOOK_EV_LEVEL after every level-total change */
} sp_book_config;

/* Defaults: prices 1 .. 2^62, quantities up to 2^62, SP_BOOK_ORDERS_DEFAULT
 * slots, SP_BOOK_WINDOW_DEFAULT window, no level events. */
SP_API sp_book_config sp_book_config_default(void);

/* ---- events ---------------------------------------------------------------- */

/* Kinds of sp_book_ev. */
typedef enum sp_book_ev_kind {
    SP_BOOK_EV_FILL = 1,   /* one maker/taker pair at the maker's price */
    SP_BOOK_EV_CANCEL = 2, /* an order (or its remainder) left the book; reason says why */
    SP_BOOK_EV_REJECT = 3, /* a command was refused, nothing changed; reason says why */
    SP_BOOK_EV_REST = 4,   /* an order (or its remainder) now rests at px */
    SP_BOOK_EV_AMEND = 5,  /* an amend was accepted (qty = new leaves, px = new price) */
    SP_BOOK_EV_LEVEL = 6   /* level (side, px) now totals qty (0 = gone); config.level_events */
} sp_book_ev_kind;

/*
 * One flat output record (48 bytes, no pointers).  Field use per kind:
 *   FILL    side = taker side, id = taker id, maker_id, px = maker price,
 *           qty = filled lots, leaves = taker's remaining lots after it
 *   CANCEL  id, side, px (0 for a market order), qty = lots cancelled, reason
 *   REJECT  id, side, px (as given), qty (as given), reason
 *   REST    id, side, px, qty = resting lots
 *   AMEND   id, side, px = new price, qty = new leaves
 *   LEVEL   side, px, qty = new level total (lots)
 * maker_id 0 is a level of loaded depth (sp_book_set_level).
 */
typedef struct sp_book_ev {
    uint8_t kind;      /* sp_book_ev_kind */
    uint8_t side;      /* sp_side (see above) */
    uint16_t reason;   /* sp_book_reason for CANCEL / REJECT, else 0 */
    uint32_t pad_;     /* zero */
    uint64_t id;       /* the order the event is about (taker for FILL) */
    uint64_t maker_id; /* FILL: the resting order, 0 = loaded depth */
    int64_t px;        /* price, ticks */
    int64_t qty;       /* quantity, lots */
    int64_t leaves;    /* FILL: taker's remaining lots */
} sp_book_ev;

_Static_assert(sizeof(sp_book_ev) == 48, "sp_book_ev must stay 48 bytes");

/*
 * Where events go: fn(ctx, ev) is called synchronously, in order, during
 * the command; ev is borrowed for the call only.  fn must not call back
 * into the same book.  fn == NULL drops events (results still returned).
 */
typedef struct sp_book_sink {
    void (*fn)(void *ctx, const sp_book_ev *ev);
    void *ctx; /* borrowed; passed to fn */
} sp_book_sink;

/* ---- commands -------------------------------------------------------------- */

/* A new order.  price is ignored for SP_ORD_MARKET. */
typedef struct sp_book_order {
    uint64_t id;   /* caller's id, != 0, unique among resting orders */
    int64_t px;    /* limit price, ticks (limit orders only) */
    int64_t qty;   /* quantity, lots, > 0 */
    uint8_t side;  /* sp_side */
    uint8_t type;  /* sp_ord_type */
    uint8_t tif;   /* sp_tif (a market order is IOC or FOK; GTC means IOC) */
    uint8_t flags; /* SP_ORDF_* */
} sp_book_order;

/* Final status of a command. */
typedef enum sp_book_status {
    SP_BOOK_REJECTED = 0,  /* refused, nothing changed (result.reason) */
    SP_BOOK_RESTING = 1,   /* accepted; leaves > 0 rest in the book */
    SP_BOOK_FILLED = 2,    /* accepted and completely filled */
    SP_BOOK_CANCELLED = 3, /* accepted; remainder cancelled (result.reason), or a cancel done */
    SP_BOOK_AMENDED = 4    /* amend accepted in place (priority kept) */
} sp_book_status;

/* What one command did (also reported as events). */
typedef struct sp_book_result {
    uint8_t status;  /* sp_book_status */
    uint16_t reason; /* sp_book_reason when REJECTED or CANCELLED */
    uint32_t fills;  /* FILL events produced */
    int64_t filled;  /* lots filled by this command */
    int64_t leaves;  /* lots left resting (RESTING / AMENDED), else 0 */
} sp_book_result;

/* Read-only view of one resting order (sp_book_get, sp_book_walk). */
typedef struct sp_book_order_info {
    uint64_t id;   /* 0 = loaded depth */
    int64_t px;    /* ticks */
    int64_t qty;   /* leaves, lots */
    uint8_t side;  /* sp_side */
    uint8_t tif;   /* sp_tif as entered */
    uint8_t flags; /* SP_ORDF_* as entered */
} sp_book_order_info;

typedef struct sp_book sp_book;

/* ---- lifecycle ------------------------------------------------------------- */

/*
 * Build an empty book of the given kind with cfg (NULL = defaults) and
 * sink (NULL = no events; copied).  The fast book allocates its whole pool,
 * level array and index here (the pool with MADV_HUGEPAGE) and never again.
 * Errors: SP_EINVAL (bad kind, NULL out, window not a power of two or above
 * SP_BOOK_WINDOW_MAX, max_orders 0 or above SP_BOOK_ORDERS_MAX, empty price
 * range), SP_ENOMEM.  *out is set only on SP_OK; free with sp_book_free.
 */
SP_API sp_err sp_book_new(sp_book_kind kind, const sp_book_config *cfg, const sp_book_sink *sink,
                          sp_book **out);

/* Free b and everything it owns.  sp_book_free(NULL) is a no-op. */
SP_API void sp_book_free(sp_book *b);

/* Replace the event sink (NULL = none). */
SP_API void sp_book_set_sink(sp_book *b, const sp_book_sink *sink);

/* The implementation kind of b. */
SP_API sp_book_kind sp_book_get_kind(const sp_book *b);

/* ---- commands -------------------------------------------------------------- */

/*
 * Enter a new order: validate, match against the opposite side in
 * price-time priority (every fill at the maker's price), then rest a GTC
 * limit's remainder, cancel an IOC / market remainder (3003), or reject a
 * FOK that cannot fill in full (3002) and a post-only that would take
 * (3001) untouched.  A remainder that cannot rest because the pool is full
 * (3004) or its price would stretch the book past window_ticks (3005) is
 * cancelled.  res (OUT, may be NULL) receives the outcome.
 * Returns SP_EINVAL for NULL b or o, else SP_OK (rejects are outcomes).
 */
SP_API sp_err sp_book_add(sp_book *b, const sp_book_order *o, sp_book_result *res);

/* Cancel the resting order id (1005 if none).  res: OUT, may be NULL. */
SP_API sp_err sp_book_cancel(sp_book *b, uint64_t id, sp_book_result *res);

/*
 * Amend resting order id to price px (ticks; ignored when keep_px) and new
 * leaves qty (lots).  Same price and qty <= leaves: reduced in place,
 * priority kept (status AMENDED).  A price change or qty increase loses
 * priority: the order leaves the book and re-enters as a GTC limit with the
 * same id, side and flags (it may take liquidity; a post-only that would
 * take is rejected and left unchanged).  Rejects: 1001, 1002, 1003, 1005.
 */
SP_API sp_err sp_book_amend(sp_book *b, uint64_t id, bool keep_px, int64_t px, int64_t qty,
                            sp_book_result *res);

/* ---- queries --------------------------------------------------------------- */

/* Number of resting entries (orders + loaded depth levels). */
SP_API size_t sp_book_count(const sp_book *b);

/* Copy resting order id into *info (OUT).  False if id is not resting. */
SP_API bool sp_book_get(const sp_book *b, uint64_t id, sp_book_order_info *info);

/* Visit every resting entry of side, best level first, FIFO within a level.
 * fn must not modify the book. */
SP_API void sp_book_walk(const sp_book *b, sp_side side,
                         void (*fn)(void *ctx, const sp_book_order_info *o), void *ctx);

/*
 * Verify every invariant listed at the top of this header.  SP_OK, or
 * SP_ESTATE with what is wrong in d (may be NULL).  Cost O(orders + levels
 * + window/64): for tests, not for hot paths.
 */
SP_API sp_err sp_book_check(const sp_book *b, sp_diag *d);

/* A 64-bit hash of the canonical state (both sides, levels, orders in
 * priority order): equal states give equal hashes across implementations. */
SP_API uint64_t sp_book_state_hash(const sp_book *b);

/* ---- level-2 views --------------------------------------------------------- */

/* One aggregated price level. */
typedef struct sp_book_level {
    int64_t px;  /* ticks */
    int64_t qty; /* total lots resting at px */
    uint32_t n;  /* entries at px (orders + depth) */
} sp_book_level;

/* Best level of side into *px / *qty (OUT, either may be NULL); false if the side is empty. */
SP_API bool sp_book_best(const sp_book *b, sp_side side, int64_t *px, int64_t *qty);

/* Up to n best levels of side into out[] (OUT), best first; returns how many. */
SP_API size_t sp_book_depth(const sp_book *b, sp_side side, size_t n, sp_book_level *out);

/*
 * The first level of side strictly worse than px (bids: below, asks:
 * above) into *out (OUT); px need not be a level.  False when there is
 * none.  Iterating from sp_book_best with this walks the whole side.
 */
SP_API bool sp_book_next_level(const sp_book *b, sp_side side, int64_t px, sp_book_level *out);

/*
 * Depth of side within band_bp basis points (1/100 of a percent) of the
 * mid price ((best bid + best ask) / 2, exact): bids with px >=
 * mid * (1 - band_bp/10000), asks with px <= mid * (1 + band_bp/10000).
 * *qty (OUT) total lots, *notional (OUT, may be NULL) sum of px * qty in
 * tick-lots.  SP_ESTATE if either side is empty (no mid), SP_EINVAL for
 * band_bp > 10000 or NULL, SP_EOVERFLOW if a sum does not fit int64.
 */
SP_API sp_err sp_book_depth_within(const sp_book *b, sp_side side, uint32_t band_bp, int64_t *qty,
                                   int64_t *notional);

/* What sweeping the book would cost (sp_book_sweep). */
typedef struct sp_book_sweep_out {
    int64_t filled;   /* lots that would fill (< qty if the side runs out) */
    int64_t notional; /* sum of px * lots over the fills, tick-lots */
    int64_t last_px;  /* worst price reached, ticks (0 if nothing fills) */
    int64_t vwap_px;  /* notional / filled rounded by rnd, ticks (0 if nothing fills) */
    uint32_t levels;  /* levels touched */
} sp_book_sweep_out;

/*
 * The cost of a market order of qty lots on taker_side (a buy sweeps the
 * asks) without changing the book: the lots that would fill, the
 * volume-weighted price (rounded by rnd) and the price reached.
 * SP_EINVAL (NULL, qty <= 0, bad rnd), SP_EOVERFLOW (notional past int64).
 */
SP_API sp_err sp_book_sweep(const sp_book *b, sp_side taker_side, int64_t qty, sp_rounding rnd,
                            sp_book_sweep_out *out);

/* ---- loading real depth ---------------------------------------------------- */

/*
 * Set the loaded (anonymous) depth at (side, px ticks) to qty lots; qty 0
 * removes it.  This is how an exchange's L2 snapshot and its deltas are
 * applied: clear with sp_book_clear, set every snapshot level, then set
 * each delta level as it arrives.  Loaded depth is one entry (id 0) per
 * level, placed at the back of the level when created and keeping its
 * place when changed; orders added with sp_book_add rest beside it and the
 * level total is the sum of both.  Taking liquidity fills against it like
 * any order (FILL with maker_id 0).
 *
 * A bid at or above the best ask (or an ask at or below the best bid)
 * removes the loaded depth of the crossed opposite levels first (the
 * newest update wins, as a local book must while a delta message is
 * applied level by level); if a crossed level holds orders added with
 * sp_book_add, nothing changes and SP_ESTATE is returned.
 * Errors: SP_EINVAL (NULL b, bad side, qty < 0), SP_ERANGE (px outside the
 * price limits, or the book would span window_ticks or more, or qty above
 * qty_max_lots), SP_ETOOBIG (pool full), SP_ESTATE (see above).
 */
SP_API sp_err sp_book_set_level(sp_book *b, sp_side side, int64_t px, int64_t qty);

/* Remove everything (orders and depth) without events.  The config stays. */
SP_API void sp_book_clear(sp_book *b);

/*
 * Minimal instrument spec for converting event values (1e-8 scale,
 * event.h) to ticks and lots.  A stand-in until the rules module's
 * sp_instrument exists; it will then be built from that.
 */
typedef struct sp_book_instrument {
    int64_t tick_e8; /* tick size at scale 1e-8 (0.1 USDT = 10000000), > 0 */
    int64_t lot_e8;  /* lot size at scale 1e-8 (0.001 BTC = 100000), > 0 */
} sp_book_instrument;

/* Exact conversions.  SP_EINVAL (bad instrument / NULL), SP_EPRECISION if
 * the value is not a whole number of ticks / lots, SP_EOVERFLOW. */
SP_API sp_err sp_book_px_from_e8(const sp_book_instrument *in, int64_t px_e8, int64_t *ticks);
SP_API sp_err sp_book_qty_from_e8(const sp_book_instrument *in, int64_t qty_e8, int64_t *lots);
SP_API sp_err sp_book_px_to_e8(const sp_book_instrument *in, int64_t ticks, int64_t *px_e8);
SP_API sp_err sp_book_qty_to_e8(const sp_book_instrument *in, int64_t lots, int64_t *qty_e8);

/*
 * Apply one decoded depth event to b: SP_EV_DEPTH_UPDATE and
 * SP_EV_BOOK_LEVEL set the level (ev->flags & SP_EVF_SELL = ask side) to
 * ev->qty, both converted with in.  Sequencing (Binance U/u/pu, Bybit
 * snapshot/delta ids) is the caller's job: call sp_book_clear before a new
 * snapshot.  Errors as sp_book_set_level and the conversions, plus
 * SP_EUNKNOWN_KIND for other kinds; d (may be NULL) says which and why.
 */
SP_API sp_err sp_book_apply_event(sp_book *b, const sp_book_instrument *in, const sp_event *ev,
                                  sp_diag *d);

/* ---- workload W1 (docs/specs/perf-anchors.md §1.2) ------------------------- */

/*
 * One W1 record, exactly the 24-byte little-endian file record of the spec:
 * type 0 limit GTC, 1 market IOC, 2 cancel; side 0 buy, 1 sell.
 */
typedef struct sp_book_w1_rec {
    uint8_t type;   /* 0 limit, 1 market, 2 cancel */
    uint8_t side;   /* 0 buy, 1 sell */
    uint16_t pad;   /* 0 */
    uint32_t qty;   /* lots */
    uint64_t id;    /* order id (the target for a cancel) */
    uint64_t price; /* ticks; 0 for market and cancel */
} sp_book_w1_rec;

_Static_assert(sizeof(sp_book_w1_rec) == 24, "W1 records are 24 bytes");

/*
 * Generate n W1 records from seed (the spec's splitmix64 draws, bit for
 * bit) into *out (OUT; caller frees with sp_free).  The bytes of the array
 * are the spec's file on a little-endian host.  Errors: SP_EINVAL (NULL,
 * n == 0), SP_ENOMEM.
 */
SP_API sp_err sp_book_w1_generate(size_t n, uint64_t seed, sp_book_w1_rec **out);

/* Outcome counts of a W1 replay (the spec's oracle columns). */
typedef struct sp_book_w1_stats {
    uint64_t limits;           /* limit records */
    uint64_t markets;          /* market records */
    uint64_t cancels;          /* cancel records */
    uint64_t fills;            /* FILL events (maker/taker pairs) */
    int64_t filled_lots;       /* lots filled */
    uint64_t cancels_ok;       /* cancels accepted */
    uint64_t cancels_rejected; /* cancels of an id no longer resting */
    uint64_t other_rejects;    /* any other reject (0 on a valid W1 stream) */
} sp_book_w1_stats;

/* Apply one W1 record to b, adding its outcome to *st (both required). */
SP_API void sp_book_w1_step(sp_book *b, const sp_book_w1_rec *r, sp_book_w1_stats *st);

/* Apply n records in order (zeroes *st first).  SP_EINVAL for NULL arguments. */
SP_API sp_err sp_book_w1_run(sp_book *b, const sp_book_w1_rec *r, size_t n, sp_book_w1_stats *st);

SP_END_DECLS

#endif /* STAMPEDE_BOOK_H */
