/*
 * engine.h -- the exchange core: a deterministic exchange for one venue
 * rule set at a time.  Commands in, flat sp_event records out.
 *
 * What it holds: accounts (a wallet balance per settle asset), positions
 * (one-way or hedge mode, isolated or cross, leverage per account and
 * instrument, pending buy/sell exposure from order acceptance to fill or
 * cancel), open orders (matched in one sp_book per instrument), the mark
 * and index price per instrument, the funding state, the insurance fund
 * and the fees collected per asset.  The exchange rules (maintenance
 * margin, tiers, liquidation price, funding formula, ADL scores) come from
 * rules.h; matching comes from book.h.  Spec: docs/specs/exchange-rules.md
 * §2.4-2.7 (Binance), §3.4-3.5 (Bybit), §4.4-4.5 (OKX), §5 (BitMEX), §9.
 *
 * Units.  Every price, quantity, amount and rate is an int64 at the one
 * scale SP_RULES_SCALE = SP_EV_PX_SCALE = SP_MONEY_SCALE (1e-8), as in
 * rules.h: prices in quote units, quantities in the instrument's unit
 * (base asset, or contracts when sp_instrument.qty_in_contracts), money in
 * the settle asset, rates as fractions (0.0001 = 10000), leverage as an
 * integer.  Prices must sit on the instrument's tick and quantities on its
 * lot; the engine talks to the book in ticks and lots.  Linear (USDT)
 * contracts only: sp_engine_add_instrument refuses inverse ones.
 *
 * Outcomes.  A command the exchange refuses (insufficient margin, a
 * reduce-only order that would increase a position, leverage above the
 * tier's maximum, ...) is not an error: sp_engine_submit returns SP_OK,
 * res->code carries a banded reject code (SP_ENG_R_*, 1xxx validation,
 * 2xxx risk/margin, 3xxx matching from book.h, 4xxx account) and a REJECT
 * event is emitted.  sp_err values are for programmer errors (NULL, bad
 * instrument index), arithmetic overflow and allocation.
 *
 * Invariants (sp_engine_check verifies them all; tests run it after every
 * command):
 *   1. per asset: sum of wallets + isolated margins + fees collected +
 *      insurance fund - sum over open positions of side x entry value ==
 *      deposits - withdrawals.  (The entry-value term is what makes the
 *      law exact while positions are open: sum of side x qty is zero, so
 *      the unrealised PnL of all positions together is minus that sum.)
 *   2. per instrument: open long size == open short size;
 *   3. no account is left with a negative margin balance, and none is
 *      left at or below maintenance margin after a mark update (the
 *      liquidation engine ran; a liquidation that needed the insurance
 *      fund or ADL emitted INSURANCE / ADL events);
 *   4. every position's pending buy/sell exposure equals the leaves of its
 *      open orders; every open order rests in its book with those leaves;
 *      every book passes sp_book_check;
 *   5. every indexed position sits in the liquidation-price index under
 *      the key its current state gives.
 * Determinism: the same command stream gives the same events and the same
 * sp_engine_state_hash, whatever the liquidation scan (index or naive).
 *
 * Events (sp_event, event.h; exch_ts_ns = local_ts_ns = the command's
 * time; symbol_id = the id given at sp_engine_add_instrument).  Per kind:
 *   FILL        one per party: px fill price, qty; aux0 order id, aux1
 *               account id (0 = insurance fund), aux2 fee (money, + paid);
 *               flags SP_EVF_SELL (this party sold), SP_EVF_MAKER (this
 *               party was the maker); sub SP_ENG_SUB_LIQ for a liquidation
 *               order's fills
 *   CANCEL      px order price, qty cancelled; aux0 order id, aux1
 *               account, aux2 reason (book.h 3xxx or SP_ENG_R_LIQ_CANCEL)
 *   REJECT      px, qty as given; aux0 order id, aux1 account, aux2 code;
 *               sub = the command kind
 *   LIQ_ENGINE  px bankruptcy price (take-over) or the partial order's
 *               limit; qty taken over / sent; aux0 account, aux1 mark,
 *               aux2 liquidation fee charged; sub SP_ENG_LIQ_*; flags
 *               SP_EVF_SELL when the forced order sells (a long)
 *   INSURANCE   px 0, qty 0; aux0 change (money, signed), aux1 balance
 *               after, aux2 account concerned; sub SP_ENG_INS_*
 *   ADL         px price (the bankruptcy price), qty closed; aux0 account
 *               deleveraged, aux1 liquidated account, aux2 its score
 *               (scale 8); flags SP_EVF_SELL when the deleveraged side sells
 *   FUNDING     px rate (SP_EV_RATE_SCALE); aux0 mark, aux1 account (0 = the
 *               settlement summary), aux2 amount (money, + = paid)
 *   MARK        px mark; aux0 index, aux1 last price, aux2 last funding
 *               rate (SP_EV_RATE_SCALE)
 *
 * Threads: an engine is not thread-safe; one engine per thread.
 */
#ifndef STAMPEDE_ENGINE_H
#define STAMPEDE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/book.h"
#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/rules.h"

SP_BEGIN_DECLS

/* ---- limits (override with -D) -------------------------------------------- */

/* Most instruments one engine trades. */
#ifndef SP_ENGINE_INSTRUMENTS_MAX
#define SP_ENGINE_INSTRUMENTS_MAX 16
#endif
/* Most settle assets (USDT, USDC, ...) one engine keeps wallets in. */
#ifndef SP_ENGINE_ASSETS_MAX
#define SP_ENGINE_ASSETS_MAX 2
#endif
/* Largest account / position / open-order pool (each). */
#ifndef SP_ENGINE_POOL_MAX
#define SP_ENGINE_POOL_MAX (1u << 24)
#endif
/* Most basis / premium samples kept for the mark-price moving average. */
#ifndef SP_ENGINE_SAMPLES_MAX
#define SP_ENGINE_SAMPLES_MAX 4096
#endif
/* Largest leverage accepted by a leverage command. */
#ifndef SP_ENGINE_LEVERAGE_MAX
#define SP_ENGINE_LEVERAGE_MAX 1000
#endif
/* Order ids at or above this are the liquidation engine's own. */
#define SP_ENGINE_LIQ_ID_BASE (UINT64_C(1) << 62)

/* ---- reject codes (banded; append only) ------------------------------------ */

#define SP_ENGINE_REASON_MAP(XX)                                                       \
    XX(OK, 0, "accepted")                                                              \
    XX(UNKNOWN_CMD, 1101, "unknown command kind")                                      \
    XX(BAD_ACCOUNT, 1102, "account id 0 or above the configured maximum")              \
    XX(BAD_INSTRUMENT, 1103, "unknown instrument")                                     \
    XX(BAD_QTY, 1104, "quantity not positive or not a multiple of the lot")            \
    XX(BAD_PRICE, 1105, "price not positive or not a multiple of the tick")            \
    XX(BAD_AMOUNT, 1106, "amount not positive")                                        \
    XX(BAD_LEVERAGE, 1107, "leverage below 1 or above the engine maximum")             \
    XX(BAD_ORDER, 1108, "order id 0, reserved, or already open")                       \
    XX(UNKNOWN_ORDER, 1109, "no open order with this id for this account")             \
    XX(BAD_SIDE, 1110, "position side does not fit the account's position mode")       \
    XX(BAD_ASSET, 1111, "unknown settle asset")                                        \
    XX(NO_MARK, 1112, "no mark price yet for this instrument")                         \
    XX(BAD_RATE, 1113, "funding rate outside (-1, 1)")                                 \
    XX(INSUFFICIENT_MARGIN, 2001, "insufficient margin")                               \
    XX(REDUCE_ONLY, 2002, "reduce-only order would increase the position")             \
    XX(LEVERAGE_ABOVE_TIER, 2003, "leverage above the maximum of the position's tier") \
    XX(ABOVE_LAST_TIER, 2004, "position notional above the last tier")                 \
    XX(INSUFFICIENT_BALANCE, 2005, "withdrawal above the available balance")           \
    XX(LIQ_CANCEL, 2006, "cancelled by the liquidation engine")                        \
    XX(POOL_FULL, 2007, "order or position pool full")                                 \
    XX(UNKNOWN_ACCOUNT, 4001, "account has never been funded")                         \
    XX(MODE_LOCKED, 4002, "mode change with an open position or open orders")

typedef enum sp_engine_reason {
#define SP_ENG_REASON_ENUM_(name, value, text) SP_ENG_R_##name = value,
    SP_ENGINE_REASON_MAP(SP_ENG_REASON_ENUM_)
#undef SP_ENG_REASON_ENUM_
} sp_engine_reason;

/* Text of an engine reject code, or of a book code (3xxx / 1xxx of book.h). */
SP_API const char *sp_engine_reason_text(unsigned code);

/* sp_event.sub values of the engine's events. */
#define SP_ENG_SUB_LIQ      1 /* FILL: a liquidation order's fill */
#define SP_ENG_LIQ_TRIGGER  1 /* LIQ_ENGINE: margin balance <= maintenance margin at mark */
#define SP_ENG_LIQ_PARTIAL  2 /* LIQ_ENGINE: IOC reducing the position one tier down */
#define SP_ENG_LIQ_TAKEOVER 3 /* LIQ_ENGINE: position taken over at the bankruptcy price */
#define SP_ENG_LIQ_ADL      4 /* LIQ_ENGINE: remainder sent to auto-deleveraging */
#define SP_ENG_INS_FEE      1 /* INSURANCE: liquidation fee in */
#define SP_ENG_INS_FILL     2 /* INSURANCE: liquidation order filled vs bankruptcy price */
#define SP_ENG_INS_RESIDUAL \
    3                     /* INSURANCE: rounding left by a take-over, or a negative balance reset */
#define SP_ENG_INS_SEED 4 /* INSURANCE: funded by a command */

/* ---- commands --------------------------------------------------------------- */

/* Command kinds (sp_engine_cmd.kind; also sp_event.sub of a REJECT). */
typedef enum sp_engine_cmd_kind {
    SP_CMD_DEPOSIT = 1,       /* account, asset, amount */
    SP_CMD_WITHDRAW = 2,      /* account, asset, amount */
    SP_CMD_LEVERAGE = 3,      /* account, inst, leverage */
    SP_CMD_MARGIN_MODE = 4,   /* account, inst, margin_mode (isolated / cross) */
    SP_CMD_POSITION_MODE = 5, /* account, hedge */
    SP_CMD_ORDER = 6,     /* account, inst, order_id, side, type, tif, flags, pos_side, px, qty */
    SP_CMD_CANCEL = 7,    /* account, inst, order_id */
    SP_CMD_AMEND = 8,     /* account, inst, order_id, px, qty (new leaves) */
    SP_CMD_MARK = 9,      /* inst, px: an external mark price */
    SP_CMD_INDEX = 10,    /* inst, px: index update; the engine derives the mark */
    SP_CMD_FUNDING = 11,  /* inst, optional rate (has_rate): settle funding now */
    SP_CMD_TICK = 12,     /* advance the clock; settles funding when an interval ends */
    SP_CMD_INSURANCE = 13 /* asset, amount: seed the insurance fund */
} sp_engine_cmd_kind;

/* Position side of an order in hedge mode. */
typedef enum sp_pos_side {
    SP_POS_BOTH = 0, /* one-way mode */
    SP_POS_LONG = 1, /* hedge mode long leg */
    SP_POS_SHORT = 2 /* hedge mode short leg */
} sp_pos_side;

/* One command.  Zero-initialise, then set the fields the kind uses. */
typedef struct sp_engine_cmd {
    uint8_t kind;        /* sp_engine_cmd_kind */
    uint8_t side;        /* sp_side (orders) */
    uint8_t type;        /* sp_ord_type (orders) */
    uint8_t tif;         /* sp_tif (orders) */
    uint8_t flags;       /* SP_ORDF_* (orders) */
    uint8_t pos_side;    /* sp_pos_side (orders, hedge mode) */
    uint8_t margin_mode; /* SP_MARGIN_ISOLATED or SP_MARGIN_CROSS */
    uint8_t has_rate;    /* funding: rate is given (else computed from premium samples) */
    bool hedge;          /* position mode: true = hedge */
    uint32_t account;    /* account id, 1..max_accounts */
    uint32_t inst;       /* instrument index from sp_engine_add_instrument */
    uint32_t asset;      /* settle asset index (sp_engine_asset) */
    uint64_t order_id;   /* caller's order id, unique among open orders, < SP_ENGINE_LIQ_ID_BASE */
    int64_t ts_ns;       /* command time, ns UTC; 0 = keep the engine clock */
    int64_t px;          /* price, scale 8 (limit orders, amend, mark, index) */
    int64_t qty;         /* quantity, scale 8 */
    int64_t amount;      /* money, scale 8 (deposit, withdraw, insurance) */
    int64_t rate;        /* funding rate, scale 8 (has_rate) */
    int64_t leverage;    /* integer leverage (leverage command) */
} sp_engine_cmd;

/* What one command did. */
typedef struct sp_engine_result {
    uint16_t code;         /* 0 accepted, else SP_ENG_R_* or a book reason */
    uint32_t fills;        /* fills this command produced (both liquidation and normal) */
    uint32_t liquidations; /* accounts liquidated by this command */
    int64_t filled;        /* order commands: quantity filled, scale 8 */
} sp_engine_result;

/* ---- configuration ---------------------------------------------------------- */

typedef struct sp_engine_config {
    sp_venue venue;           /* the rule set: BINANCE_UM, BYBIT or OKX (a linear sp_rules set) */
    uint32_t max_accounts;    /* account ids 1..max_accounts (array, allocated at new) */
    uint32_t max_positions;   /* position pool (allocated at new) */
    uint32_t max_orders;      /* open-order pool, also each book's pool */
    sp_book_kind book_kind;   /* book implementation */
    uint32_t book_window;     /* book price window, ticks, power of two */
    uint32_t basis_samples;   /* moving-average window of the mark basis, samples */
    int32_t default_leverage; /* leverage of a position never set (Binance: 20) */
    bool naive_scan;          /* true: check every position on a mark update (the baseline) */
} sp_engine_config;

/* Defaults for a venue: 4096 accounts / positions / orders, the fast book,
 * a window of 2^20 ticks, 300 basis samples, leverage 20, indexed scan. */
SP_API sp_engine_config sp_engine_config_default(sp_venue venue);

/* Where events go: fn(ctx, ev) synchronously, in order; ev borrowed for the call. */
typedef struct sp_engine_sink {
    void (*fn)(void *ctx, const sp_event *ev);
    void *ctx; /* borrowed */
} sp_engine_sink;

typedef struct sp_engine sp_engine;

/* ---- lifecycle ---------------------------------------------------------------- */

/*
 * Create an engine with cfg (NULL = defaults for Binance) and sink (NULL =
 * no events; copied).  Every pool is allocated here; commands allocate
 * nothing except the books at sp_engine_add_instrument.  Errors: SP_EINVAL
 * (pool sizes 0 or above SP_ENGINE_POOL_MAX, venue without a linear rule
 * set, basis_samples 0 or above SP_ENGINE_SAMPLES_MAX), SP_ENOMEM.
 * *out set only on SP_OK; free with sp_engine_free.
 */
SP_API sp_err sp_engine_new(const sp_engine_config *cfg, const sp_engine_sink *sink,
                            sp_engine **out);

/* Free e and everything it owns (books included); NULL is a no-op. */
SP_API void sp_engine_free(sp_engine *e);

/*
 * Add an instrument: inst and tiers (NULL = inst->base_mmr, no tiers) are
 * borrowed and must outlive e (they usually belong to an sp_rules_db).
 * symbol_id goes into every event of the instrument.  Its settle asset is
 * registered on first use.  OUT: *idx, the instrument index for commands.
 * Errors: SP_EINVAL (NULL, inverse contract, venue differs from the
 * engine's, tick or lot <= 0, no tiers and base_mmr 0), SP_ETOOBIG (more
 * than SP_ENGINE_INSTRUMENTS_MAX instruments or SP_ENGINE_ASSETS_MAX
 * assets), SP_ENOMEM.
 */
SP_API sp_err sp_engine_add_instrument(sp_engine *e, const sp_instrument *inst,
                                       const sp_tier_table *tiers, uint32_t symbol_id,
                                       uint32_t *idx);

/* Index of the instrument named symbol, or -1. */
SP_API int sp_engine_find_instrument(const sp_engine *e, const char *symbol);

/* Index of the settle asset named name ("USDT"), or -1. */
SP_API int sp_engine_asset(const sp_engine *e, const char *name);

/* ---- commands ---------------------------------------------------------------- */

/*
 * Execute one command: validate, apply, match, then run the liquidation
 * engine when the command moved a mark price (MARK, INDEX), balances
 * (FUNDING, TICK) or positions (ORDER, AMEND: a fill away from the mark).
 * res (OUT, may be NULL) says what happened.  Returns SP_OK for accepted
 * and for rejected commands (res->code); SP_EINVAL for NULL e / c;
 * SP_EOVERFLOW when amounts exceed exact 128-bit arithmetic (caught in
 * validation: nothing changed; inside a fill: the fill is applied up to
 * the failing step -- such amounts are far past any venue's limits).
 */
SP_API sp_err sp_engine_submit(sp_engine *e, const sp_engine_cmd *c, sp_engine_result *res);

/* ---- queries ------------------------------------------------------------------- */

/* An account's balances in one asset. */
typedef struct sp_engine_account_info {
    bool exists;           /* funded at least once */
    bool hedge;            /* hedge position mode */
    int64_t wallet;        /* cross wallet balance, scale 8 */
    int64_t isolated;      /* sum of isolated margins, scale 8 */
    int64_t upnl;          /* unrealised PnL of cross positions at mark, scale 8 */
    int64_t maint_margin;  /* maintenance margin of cross positions at mark, scale 8 */
    int64_t open_orders;   /* open orders (all instruments) */
    uint32_t liquidations; /* times the liquidation engine took positions over */
} sp_engine_account_info;

/* Balances of account in asset into *out (OUT).  SP_EINVAL (bad id / asset). */
SP_API sp_err sp_engine_account(const sp_engine *e, uint32_t account, uint32_t asset,
                                sp_engine_account_info *out);

/* One position. */
typedef struct sp_engine_position_info {
    bool exists;          /* a position record exists (it may be flat) */
    int64_t size;         /* signed, scale 8: > 0 long, < 0 short */
    int64_t entry_value;  /* cost of the open size at entry prices, money scale 8 */
    int64_t entry_px;     /* entry_value / |size| rounded half-even, scale 8 (0 if flat) */
    int64_t margin;       /* isolated margin, scale 8 (0 in cross) */
    int64_t upnl;         /* at mark, scale 8 */
    int64_t maint_margin; /* at mark, scale 8 */
    int64_t pending_buy;  /* open buy orders' leaves, scale 8 */
    int64_t pending_sell; /* open sell orders' leaves, scale 8 */
    int32_t leverage;     /* integer leverage */
    sp_margin_mode mode;  /* isolated or cross */
    bool has_liq;         /* liq_px is known */
    int64_t liq_px;       /* liquidation price (venue rounding), scale 8 */
} sp_engine_position_info;

/* The position of account in inst (leg: SP_POS_BOTH in one-way mode) into *out. */
SP_API sp_err sp_engine_position(const sp_engine *e, uint32_t account, uint32_t inst,
                                 sp_pos_side leg, sp_engine_position_info *out);

/* Engine-wide numbers. */
typedef struct sp_engine_stats {
    uint64_t commands;     /* submitted */
    uint64_t rejected;     /* rejected */
    uint64_t fills;        /* FILL pairs */
    uint64_t liquidations; /* accounts taken over */
    uint64_t partials;     /* partial liquidations that restored the margin */
    uint64_t adl;          /* ADL closes */
    uint64_t liq_checks;   /* exact margin checks made by the liquidation scan */
    uint64_t events;       /* events emitted */
} sp_engine_stats;

SP_API void sp_engine_get_stats(const sp_engine *e, sp_engine_stats *out);

/* Insurance fund / fees collected of asset, scale 8 (0 for an unknown asset). */
SP_API int64_t sp_engine_insurance(const sp_engine *e, uint32_t asset);
SP_API int64_t sp_engine_fees(const sp_engine *e, uint32_t asset);

/* Mark / index / last price of inst, scale 8 (0 = none yet). */
SP_API int64_t sp_engine_mark(const sp_engine *e, uint32_t inst);
SP_API int64_t sp_engine_index(const sp_engine *e, uint32_t inst);

/* The book of inst (borrowed; valid until sp_engine_free; read it, never command it). */
SP_API const sp_book *sp_engine_book(const sp_engine *e, uint32_t inst);

/* Choose the liquidation scan at run time (the bench compares both). */
SP_API void sp_engine_set_naive_scan(sp_engine *e, bool naive);

/*
 * A 64-bit hash of the whole state (accounts, positions, orders, books,
 * marks, funds), independent of the liquidation scan used.
 */
SP_API uint64_t sp_engine_state_hash(const sp_engine *e);

/*
 * Verify every invariant listed at the top.  SP_OK or SP_ESTATE with what
 * is wrong in d (may be NULL).  O(accounts + positions + orders): tests.
 */
SP_API sp_err sp_engine_check(const sp_engine *e, sp_diag *d);

/* ---- command files (JSON lines) --------------------------------------------------- */

/*
 * Parse one JSON command line into *c (OUT) against e's instruments and
 * assets.  Format (docs/internals/engine.md): {"cmd":"order","account":1,
 * "symbol":"BTCUSDT","id":7,"side":"buy","type":"limit","price":"62500",
 * "qty":"0.16","tif":"gtc","ts":"2026-02-06T00:00:00Z"}.  Decimals are
 * JSON strings (exact; a JSON real is refused), integers may be numbers.
 * SP_EPARSE / SP_EINVAL / SP_ERANGE with d saying which field and why.
 */
SP_API sp_err sp_engine_cmd_parse(const sp_engine *e, const char *line, size_t len,
                                  sp_engine_cmd *c, sp_diag *d);

/* Called for each malformed line (d says where and why). */
typedef void (*sp_engine_bad_fn)(void *ctx, const sp_diag *d);

/* What a log run did. */
typedef struct sp_engine_log_stats {
    uint64_t lines;     /* whole lines read (blank lines and '#' comments included) */
    uint64_t commands;  /* commands submitted */
    uint64_t malformed; /* lines refused by the parser (bad_fn called) */
    uint64_t rejected;  /* commands the engine rejected (reject codes) */
    size_t consumed;    /* bytes up to the end of the last whole line */
} sp_engine_log_stats;

/*
 * Replay the JSON-lines command log buf[0..len).  Only whole lines (ending
 * in '\n') are executed, unless final is true, when a last line without a
 * newline is executed too; a log cut at any byte therefore resumes exactly
 * by calling again from st->consumed.  Malformed lines are reported to bad
 * (may be NULL; d->source = source, d->line counts from first_line) and
 * skipped.  Returns SP_OK unless submit fails (SP_EOVERFLOW, SP_ENOMEM).
 */
SP_API sp_err sp_engine_run_log(sp_engine *e, const char *buf, size_t len, bool final,
                                const char *source, uint64_t first_line, sp_engine_bad_fn bad,
                                void *bad_ctx, sp_engine_log_stats *st);

SP_END_DECLS

#endif /* STAMPEDE_ENGINE_H */
