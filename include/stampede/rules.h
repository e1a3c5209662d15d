/*
 * rules.h -- exchange rules: instruments, dated margin-tier tables, and one
 * rule set per venue (initial/maintenance margin, liquidation and
 * bankruptcy price, funding, ADL ranking).
 *
 * The spec is docs/specs/exchange-rules.md; every formula in src/rules/
 * cites its section there.  Invariants kept by this module:
 *   - every value is an int64 at the one fixed scale SP_RULES_SCALE (1e-8):
 *     prices in quote units, quantities in the venue's unit (base asset or
 *     contracts, see sp_instrument.qty_in_contracts), money in the settle
 *     asset (USDT for linear, the coin for inverse), rates as fractions
 *     (0.004 = 400000);
 *   - a liquidation or bankruptcy price is solved as an exact rational
 *     num/den (128-bit) and rounded only once, at the boundary, with the
 *     venue's rule (sp_instrument.liq_round, liq_round_step);
 *   - Binance maintenance tiers are re-solved at the notional of the
 *     liquidation price (spec §1, §2.2, §9) until the tier is consistent;
 *   - the per-position calls (sp_rules_liq and the sp_rules vtable) never
 *     allocate, never lock, and cost one or two 128-bit divisions plus a
 *     scan of at most SP_RULES_TIERS_MAX tiers: safe to call from many
 *     threads on millions of positions.
 * Instruments and tier tables are data (data/rules/ JSON files, read with
 * jansson), loaded into an sp_rules_db; exchange API snapshots (Binance
 * leverageBracket, Bybit /v5/market/risk-limit, OKX position-tiers) can be
 * dropped in as well.
 */
#ifndef STAMPEDE_RULES_H
#define STAMPEDE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"

SP_BEGIN_DECLS

/* ---- limits (override with -D) ------------------------------------------ */

/* The one scale of every price, quantity, amount and rate in this module. */
#define SP_RULES_SCALE 8

/* Most tiers in one table. */
#ifndef SP_RULES_TIERS_MAX
#define SP_RULES_TIERS_MAX 32
#endif

/* Most instruments / tier tables one sp_rules_db holds. */
#ifndef SP_RULES_INSTRUMENTS_MAX
#define SP_RULES_INSTRUMENTS_MAX 256
#endif
#ifndef SP_RULES_TABLES_MAX
#define SP_RULES_TABLES_MAX 1024
#endif

/* Largest rules data file the loader reads (bytes). */
#ifndef SP_RULES_FILE_MAX
#define SP_RULES_FILE_MAX (16u << 20)
#endif

/* Room for a citation string kept with an instrument or table. */
#define SP_RULES_SOURCE_MAX 160

/* ---- instruments ---------------------------------------------------------- */

/* How a contract settles. */
typedef enum sp_contract {
    SP_CONTRACT_LINEAR = 1, /* USDT-margined: PnL = side x q x (P - EP) in quote */
    SP_CONTRACT_INVERSE = 2 /* coin-margined: PnL = side x Q x (1/EP - 1/P) in coin */
} sp_contract;

/* How a venue rounds a liquidation / bankruptcy price for display (spec §8.10). */
typedef enum sp_px_round {
    SP_PXRND_HALF_UP = 1,      /* to the nearest step, halves away from zero */
    SP_PXRND_TOWARD_ENTRY = 2, /* long: up, short: down (Bybit's examples, spec §3.2) */
    SP_PXRND_TRUNC = 3         /* toward zero (Binance API fields, spec §2.6) */
} sp_px_round;

/*
 * An instrument spec.  Immutable once loaded; all money fields at
 * SP_RULES_SCALE.  Owned by the sp_rules_db that loaded it.
 */
typedef struct sp_instrument {
    sp_venue venue;                   /* exchange */
    char symbol[SP_SYMBOL_MAX + 1];   /* venue symbol, "BTCUSDT", "BTC-USDT-SWAP", "XBTUSD" */
    char settle[12];                  /* settle asset, "USDT" or "BTC" */
    sp_contract contract;             /* linear or inverse */
    bool qty_in_contracts;            /* true: qty counts contracts of ct_val each */
    int64_t ct_val;                   /* linear: base per contract; inverse: USD per contract */
    int64_t tick;                     /* price tick (quote), scale 8 */
    int64_t lot;                      /* quantity step, venue unit, scale 8 */
    int64_t maker_fee;                /* rate, scale 8 (negative = rebate) */
    int64_t taker_fee;                /* rate, scale 8 */
    int64_t liq_fee;                  /* liquidation clearance fee rate, scale 8 (0 = none) */
    int64_t base_mmr;                 /* MMR when no tier table applies, scale 8 (0 = none) */
    int32_t funding_interval_h;       /* hours between funding settlements */
    int64_t funding_cap;              /* upper funding-rate cap, scale 8 */
    int64_t funding_floor;            /* lower funding-rate floor, scale 8 (negative) */
    int64_t interest_rate;            /* interest per interval, scale 8 */
    int64_t funding_clamp;            /* |I - P| clamp band, scale 8 (0.0005 on all four) */
    sp_px_round liq_round;            /* display rounding of LP / BP */
    int64_t liq_round_step;           /* step LP / BP round to, scale 8 */
    bool verified;                    /* false: some fields are not from a captured source */
    char source[SP_RULES_SOURCE_MAX]; /* where the numbers come from (data/rules/README.md) */
} sp_instrument;

/* ---- tier tables ----------------------------------------------------------- */

/* How tiers apply (spec §1). */
typedef enum sp_tier_kind {
    SP_TIER_BRACKET = 1, /* tax-bracket on notional, MM = N x MMR - maint_amount (Binance, Bybit) */
    SP_TIER_WHOLE = 2    /* whole position by size in contracts, MM = N x MMR (OKX) */
} sp_tier_kind;

/* One tier.  Bounds are notional (quote) or size (contracts), scale 8. */
typedef struct sp_tier {
    int64_t floor;        /* exclusive lower bound (floor < x <= cap) */
    int64_t cap;          /* inclusive upper bound */
    int64_t mmr;          /* maintenance margin rate, scale 8 */
    int64_t maint_amount; /* Binance cum / Bybit mmDeduction, quote, scale 8 */
    int64_t imr;          /* initial margin rate, scale 8 (0 = not published) */
    int32_t max_leverage; /* 0 = not published */
} sp_tier;

/* A dated tier table for one venue and symbol. */
typedef struct sp_tier_table {
    sp_venue venue;                   /* exchange */
    char symbol[SP_SYMBOL_MAX + 1];   /* instrument symbol */
    int32_t date;                     /* snapshot date, yyyymmdd */
    sp_tier_kind kind;                /* bracket or whole */
    bool verified;                    /* false: [unverified] in the spec; never a default */
    uint32_t n;                       /* tiers used */
    sp_tier tier[SP_RULES_TIERS_MAX]; /* ascending, contiguous */
    char source[SP_RULES_SOURCE_MAX]; /* citation */
} sp_tier_table;

/*
 * Index (0-based) of the tier that x (scale 8) falls in: floor < x <= cap,
 * and x <= 0 falls in tier 0.  -1 if x is past the last cap.  Pure.
 */
SP_API int sp_tier_find(const sp_tier_table *t, int64_t x);

/* ---- the database of instruments and tables --------------------------------- */

typedef struct sp_rules_db sp_rules_db;

/* Create an empty database.  SP_ENOMEM.  Free with sp_rules_db_free. */
SP_API sp_err sp_rules_db_new(sp_rules_db **out);

/* Free db and everything it owns; NULL is a no-op. */
SP_API void sp_rules_db_free(sp_rules_db *db);

/*
 * Load dir/instruments.json and every dir/tiers/ *.json (stampede's own
 * format, data/rules/README.md).  On error d says which file, where and
 * why; the db keeps what was loaded before the failing file.
 * SP_EIO, SP_EPARSE, SP_ERANGE, SP_ETOOBIG, SP_EEXIST (duplicate), SP_ENOMEM.
 */
SP_API sp_err sp_rules_db_load_dir(sp_rules_db *db, const char *dir, sp_diag *d);

/*
 * Load one JSON file: an instruments file, a stampede tier file, or an
 * exchange API response (Binance leverageBracket, Bybit risk-limit, OKX
 * position-tiers), recognised by its shape.  API responses carry no date:
 * `date` (yyyymmdd) stamps them, and `venue` must say whose they are for
 * OKX/Bybit when the body does not (SP_VENUE_NONE = infer).  Same errors
 * as sp_rules_db_load_dir.
 */
SP_API sp_err sp_rules_db_load_file(sp_rules_db *db, const char *path, sp_venue venue, int32_t date,
                                    sp_diag *d);

/* As sp_rules_db_load_file on an in-memory buffer; `name` labels diagnostics. */
SP_API sp_err sp_rules_db_load_buf(sp_rules_db *db, const char *buf, size_t len, const char *name,
                                   sp_venue venue, int32_t date, sp_diag *d);

/* The instrument (borrowed, valid until sp_rules_db_free), or NULL. */
SP_API const sp_instrument *sp_rules_db_instrument(const sp_rules_db *db, sp_venue venue,
                                                   const char *symbol);

/* Number of instruments / tables loaded, and the i-th (borrowed). */
SP_API size_t sp_rules_db_instrument_count(const sp_rules_db *db);
SP_API const sp_instrument *sp_rules_db_instrument_at(const sp_rules_db *db, size_t i);
SP_API size_t sp_rules_db_table_count(const sp_rules_db *db);
SP_API const sp_tier_table *sp_rules_db_table_at(const sp_rules_db *db, size_t i);

/*
 * The tier table for venue/symbol: with exact = true the table dated
 * exactly `date`; otherwise the latest *verified* table dated on or before
 * `date` (pass 99991231 for "latest").  NULL if none.  Borrowed.
 */
SP_API const sp_tier_table *sp_rules_db_tiers(const sp_rules_db *db, sp_venue venue,
                                              const char *symbol, int32_t date, bool exact);

/* Parse "2024-10-24" into 20241024.  SP_EPARSE on anything else. */
SP_API sp_err sp_rules_parse_date(const char *s, int32_t *out);

/* ---- positions and the rule sets ------------------------------------------- */

/* Margin modes. */
typedef enum sp_margin_mode {
    SP_MARGIN_ISOLATED = 1, /* margin is the position's own */
    SP_MARGIN_CROSS = 2,    /* one-way cross: margin is the wallet balance */
    SP_MARGIN_HEDGE = 3     /* Binance cross hedge mode: this leg plus the opposite (hedge_*) */
} sp_margin_mode;

/*
 * A position to price.  Caller-owned; all amounts scale 8.  When tiers is
 * NULL, mmr / maint_amount (and hedge_mmr / hedge_maint_amount) are used
 * as given and never re-solved; otherwise they are ignored.
 */
typedef struct sp_rules_pos {
    const sp_instrument *inst;  /* borrowed; required */
    const sp_tier_table *tiers; /* borrowed; NULL = explicit mmr */
    sp_margin_mode mode;        /* isolated, cross or hedge */
    int side;                   /* +1 long, -1 short (hedge: the first leg, usually long) */
    int64_t qty;                /* venue unit (base or contracts), > 0 */
    int64_t entry_px;           /* average entry price, > 0 */
    int64_t margin;             /* isolated margin, or cross wallet balance (settle asset) */
    int64_t other_mm;           /* cross: maintenance margin of all other positions */
    int64_t other_upnl;         /* cross: unrealised PnL of all other positions */
    int64_t fee_rate;           /* closing fee rate where the venue's formula has one */
    int64_t mmr;                /* explicit MMR (tiers == NULL) */
    int64_t maint_amount;       /* explicit cum / mmDeduction (tiers == NULL) */
    int64_t hedge_qty;          /* hedge: opposite leg size (0 = none) */
    int64_t hedge_entry_px;     /* hedge: opposite leg entry */
    int64_t hedge_mmr;          /* hedge: opposite leg explicit MMR */
    int64_t hedge_maint_amount; /* hedge: opposite leg explicit cum */
    unsigned flags;             /* SP_RULES_LIQ_ONLY or 0 */
} sp_rules_pos;

/*
 * sp_rules_pos.flags: compute the liquidation price only (has_bk = false),
 * saving one 128-bit division: what a trigger sweep over many positions
 * needs; the bankruptcy price is asked for when a position is taken over.
 */
#define SP_RULES_LIQ_ONLY 0x1u

/*
 * The answer.  Exact prices are rationals num/den giving the price at
 * scale 8 (den > 0); the rounded prices follow the instrument's rule.
 */
typedef struct sp_rules_out {
    bool has_liq;         /* false: no liquidation price (solution <= 0: Binance shows "--") */
    bool has_bk;          /* false: no bankruptcy price (zero net size or solution <= 0) */
    int64_t liq_px;       /* liquidation price rounded by the venue rule, scale 8 */
    int64_t bk_px;        /* bankruptcy price rounded by the venue rule, scale 8 */
    __int128 liq_num;     /* exact liquidation price (scale 8) = liq_num / liq_den */
    __int128 liq_den;     /* > 0 */
    __int128 bk_num;      /* exact bankruptcy price (scale 8) = bk_num / bk_den */
    __int128 bk_den;      /* > 0 */
    int64_t mmr;          /* MMR used (first leg), scale 8 */
    int64_t maint_amount; /* cum / mmDeduction used (first leg), scale 8 */
    int tier;             /* 1-based tier used (first leg); 0 when mmr was explicit */
    int hedge_tier;       /* same for the opposite leg */
    int resolves;         /* tier re-solves performed (0 = entry tier held) */
} sp_rules_out;

/*
 * A venue's rule set (DESIGN §4): function pointers plus ctx, so the
 * engine and the simulator can plug a venue in.  Obtain with sp_rules_get.
 */
typedef struct sp_rules sp_rules;
struct sp_rules {
    const char *name; /* "binance-usdm", "bybit-linear", "okx-swap", "inverse" */
    sp_venue venue;   /* SP_VENUE_NONE for the shared inverse set */
    sp_contract contract;
    /* Liquidation and bankruptcy price of p; see sp_rules_liq. */
    sp_err (*liq)(const sp_rules *r, const sp_rules_pos *p, sp_rules_out *out);
    /*
     * Maintenance margin (settle asset, scale 8, rounded up) of p with the
     * mark price at mark_px, and the 1-based tier used (0 = explicit).
     */
    sp_err (*maint_margin)(const sp_rules *r, const sp_rules_pos *p, int64_t mark_px, int64_t *mm,
                           int *tier);
    void *ctx; /* unused by the built-in sets */
};

/* The built-in rule set for an instrument's venue and contract kind, or NULL. */
SP_API const sp_rules *sp_rules_get(sp_venue venue, sp_contract contract);

/*
 * Liquidation and bankruptcy price of p with the instrument's rules.
 * Never allocates; thread-safe.  Errors: SP_EINVAL (missing instrument,
 * qty/entry <= 0, side not +-1, MMR outside [0, 1], fee outside (-1, 1),
 * mode not supported by the venue, a tier table of the wrong kind —
 * Binance/Bybit take SP_TIER_BRACKET, OKX SP_TIER_WHOLE, inverse none),
 * SP_ERANGE (notional past the last tier), SP_EOVERFLOW (values too large
 * for exact 128-bit arithmetic), SP_EPRECISION (qty x ct_val has more than
 * 8 decimals).  *out is fully written only on SP_OK.
 */
SP_API sp_err sp_rules_liq(const sp_rules_pos *p, sp_rules_out *out);

/* ---- a position from text (the `liq` command, the API's calculator) -------- */

/* The text inputs of a position, by field. */
typedef enum sp_rules_text_field {
    SP_RTF_VENUE,       /* binance | bybit | okx | bitmex */
    SP_RTF_SYMBOL,      /* an instrument of that venue in the rules data */
    SP_RTF_MODE,        /* isolated (default) | cross | hedge */
    SP_RTF_SIDE,        /* long | short */
    SP_RTF_ENTRY,       /* average entry price, > 0 */
    SP_RTF_QTY,         /* size, > 0 */
    SP_RTF_MARGIN,      /* isolated margin or cross wallet balance, > 0 */
    SP_RTF_MMR,         /* maintenance margin rate in [0, 1) instead of the tier table */
    SP_RTF_MAINT,       /* maintenance amount with mmr (default 0) */
    SP_RTF_FEE,         /* closing fee rate in [0, 0.1) (default: sp_rules_default_fee) */
    SP_RTF_OTHER_MM,    /* cross / hedge: maintenance margin of the other positions */
    SP_RTF_OTHER_UPNL,  /* cross / hedge: unrealised PnL of the other positions */
    SP_RTF_HEDGE_QTY,   /* hedge: size of the opposite leg */
    SP_RTF_HEDGE_ENTRY, /* hedge: entry price of the opposite leg */
    SP_RTF_N_
} sp_rules_text_field;

/*
 * A position as text: v[field] is the borrowed text of each input (NULL or
 * "" = not given); names[field], when names is not NULL, is what errors
 * call the field (a CSV column, a query parameter); else the default names
 * of sp_rules_text_field_name.  tiers_date picks the table dated exactly
 * that day (0 = none: the latest verified table on or before date).
 */
typedef struct sp_rules_pos_text {
    const char *v[SP_RTF_N_];
    const char *const *names;
    int32_t date;       /* YYYYMMDD; 99991231 = latest */
    int32_t tiers_date; /* YYYYMMDD or 0 */
} sp_rules_pos_text;

/* Default name of a field: venue, symbol, ..., entry_price, ..., hedge_entry. */
SP_API const char *sp_rules_text_field_name(sp_rules_text_field f);

/*
 * Build *p from text with the instruments and tier tables of db: the MMR
 * from mmr (+ maint_amount) when given, else the tier table (tiers_date or
 * date), else the instrument's base MMR on inverse venues (spec §5); the
 * fee from fee_rate, else sp_rules_default_fee.  The result borrows from
 * db.  SP_EINVAL with d's field set to the field's name and a message
 * saying why, for the first input that is missing, malformed, out of
 * range or inconsistent (mmr with tiers_date, other_mm on isolated, hedge
 * mode without the opposite leg).
 */
SP_API sp_err sp_rules_pos_from_text(const sp_rules_db *db, const sp_rules_pos_text *t,
                                     sp_rules_pos *p, sp_diag *d);

/* The closing fee the venue's formula includes by default (spec §4.2 OKX, §3.2 Bybit inverse). */
SP_API int64_t sp_rules_default_fee(const sp_instrument *in);

/* Decimal places a venue shows for the instrument's prices (2 to 8, from tick and liq step). */
SP_API unsigned sp_rules_px_places(const sp_instrument *in);

/* Maintenance margin of p at mark_px via its venue's rule set. */
SP_API sp_err sp_rules_maint_margin(const sp_rules_pos *p, int64_t mark_px, int64_t *mm, int *tier);

/*
 * Round the exact price num/den (scale 8, den > 0) to `step` by mode for a
 * position of `side`, into *out.  SP_EOVERFLOW, SP_EINVAL.
 */
SP_API sp_err sp_rules_round_px(__int128 num, __int128 den, int64_t step, sp_px_round mode,
                                int side, int64_t *out);

/*
 * Format the rational num/den (den != 0) as exact decimal text with
 * `places` digits after the point, truncated toward zero, into out (cap >=
 * 64 + places).  Sets *exact (may be NULL) to whether nothing was cut.
 * Returns the length, 0 if out is too small.
 */
SP_API size_t sp_rules_format_ratio(__int128 num, __int128 den, unsigned places, char *out,
                                    size_t cap, bool *exact);

/* ---- funding (spec §2.5, §3.4, §4.4, §5) -------------------------------------- */

/*
 * Funding rate F = P + clamp(I - P, -clamp, +clamp), then limited to
 * [floor, cap] (cap = floor = 0: no cap).  All rates scale 8.  Pure.
 */
SP_API int64_t sp_rules_funding_rate(int64_t premium, int64_t interest, int64_t clamp,
                                     int64_t floor, int64_t cap);

/*
 * Bybit's time-weighted premium (spec §3.4): sum(P_i x i) / sum(i) over
 * n minute samples, rounded half-even to scale 8.  SP_EINVAL if n == 0.
 */
SP_API sp_err sp_rules_premium_twap(const int64_t *premium, size_t n, int64_t *out);

/*
 * Funding payment of a position: linear, notional q x mark x F in quote;
 * inverse, (Q / mark) x F in coin.  Positive = the long pays.  Rounded
 * half-even to scale 8.  SP_EOVERFLOW, SP_EINVAL.
 */
SP_API sp_err sp_rules_funding_payment(const sp_instrument *inst, int side, int64_t qty,
                                       int64_t mark_px, int64_t rate, int64_t *out);

/* ---- ADL ranking (spec §2.7, §5) ------------------------------------------------ */

/*
 * Binance LeveragePnl = max(0, upnl) / max(1, wb) x MM / (wb + upnl)
 * (MarginRatio = 0 when wb + upnl <= 0), scale 8, rounded half-even.
 */
SP_API sp_err sp_rules_adl_binance(int64_t upnl, int64_t wallet, int64_t mm, int64_t *score);

/*
 * BitMEX ranking PnL% x effective leverage (PnL% > 0) or PnL% / effective
 * leverage (otherwise), in the linear analogue of spec §7: values are
 * side x q x price, so qty cancels (it is validated, > 0, and kept for
 * the call's symmetry).  Prices scale 8; the score scale 8, rounded
 * half-even.  SP_EINVAL when the mark equals the bankruptcy price.
 */
SP_API sp_err sp_rules_adl_bitmex(int side, int64_t qty, int64_t entry_px, int64_t mark_px,
                                  int64_t bk_px, int64_t *score);

/* Names: "isolated"/"cross"/"hedge", "linear"/"inverse"; "?" if unknown. */
SP_API const char *sp_margin_mode_name(sp_margin_mode m);
SP_API const char *sp_contract_name(sp_contract c);

SP_END_DECLS

#endif /* STAMPEDE_RULES_H */
