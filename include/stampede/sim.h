/*
 * sim.h -- the liquidation-cascade simulator: leveraged populations, a
 * market depth model, the fast cascade loop, the with/without-forced-orders
 * decomposition and the Monte Carlo stress driver.
 *
 * The model (docs/internals/sim.md has every parameter with its default
 * and citation):
 *   - a population of N isolated-margin positions on one venue and symbol,
 *     each with entry price, size, leverage, margin and the venue's exact
 *     liquidation and bankruptcy price (rules.h: tiers re-solved at the
 *     liquidation notional), generated from a calibration (open interest,
 *     long share, leverage mix, heavy-tailed sizes, entry prices drawn
 *     volume-weighted from real klines) or loaded from a CSV file;
 *   - a market: one ladder of price levels per side, taken from a real
 *     snapshot (re-centred on the scenario price, each level keeping its
 *     distance in basis points and its quantity) and continued beyond the
 *     snapshot by square-root-impact depth (Donier & Bouchaud 2015:
 *     cumulative depth grows with the square of the distance), thinned by
 *     a maker-withdrawal fraction (Kaiko, 13 Oct 2025), refilled between
 *     waves by a resilience fraction;
 *   - the cascade: an exogenous shock (a mark move or a market order of a
 *     notional) moves the price; every position whose liquidation price is
 *     crossed by the mark is liquidated and its forced order walks the book;
 *     the new price crosses more liquidation prices; repeat until a wave
 *     liquidates nobody.  Fast mode keeps positions sorted by liquidation
 *     price with prefix sums, so a wave is two binary searches.
 *
 * Scales.  Every price, quantity and amount is an int64 at scale 1e-8
 * (SP_SIM_SCALE, equal to SP_RULES_SCALE and the event scale): prices in
 * USDT, quantities in the base asset (BTC), money in USDT.  Fractions are
 * basis points (1/100 of a percent) in uint32/int32.
 *
 * Threads.  A population and a market are immutable once built and may be
 * shared by any number of threads; sp_sim_run never allocates and is
 * thread-safe on shared inputs.  sp_sim_mc_run runs scenarios on threads.
 */
#ifndef STAMPEDE_SIM_H
#define STAMPEDE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/rules.h"

SP_BEGIN_DECLS

/* ---- limits (override with -D) -------------------------------------------- */

/* The one scale of prices, quantities and money in this module. */
#define SP_SIM_SCALE 8

/* Most positions in one population. */
#ifndef SP_SIM_POS_MAX
#define SP_SIM_POS_MAX (64u << 20)
#endif

/* Most levels one side of a market holds (snapshot + parametric tail). */
#ifndef SP_SIM_LEVELS_MAX
#define SP_SIM_LEVELS_MAX (1u << 20)
#endif

/* Most buckets in a leverage mix. */
#define SP_SIM_LEV_BUCKETS_MAX 32

/* Most Monte Carlo scenarios and threads. */
#ifndef SP_SIM_MC_MAX
#define SP_SIM_MC_MAX (1u << 24)
#endif
#ifndef SP_SIM_THREADS_MAX
#define SP_SIM_THREADS_MAX 256
#endif

/* Leverage buckets of the decomposition: <=5x, <=10x, <=20x, <=50x, <=100x, >100x. */
#define SP_SIM_LEV_REPORT_BUCKETS 6

/* ---- positions ------------------------------------------------------------- */

/*
 * One position (transparent record).  Prices, sizes and money at scale 8.
 * liq_px is the *trigger*: a long is liquidated when mark <= liq_px, a
 * short when mark >= liq_px.  It is the exact rational liquidation price
 * of the venue's formula rounded toward the trader's loss side (floor for
 * a long, ceiling for a short), so the integer comparison is exactly the
 * rational one.  bk_px is the exact bankruptcy price rounded the same way.
 */
typedef struct sp_sim_pos {
    int64_t entry_px; /* average entry price, USDT, scale 8 */
    int64_t qty;      /* size in base units (BTC), scale 8, > 0 */
    int64_t margin;   /* isolated margin, USDT, scale 8 */
    int64_t liq_px;   /* liquidation trigger, USDT, scale 8 (see above) */
    int64_t bk_px;    /* bankruptcy price, USDT, scale 8 (0 = none: margin >= notional) */
    int32_t leverage; /* leverage as opened (notional / margin), >= 1 */
    int8_t side;      /* +1 long, -1 short */
    uint8_t mode;     /* sp_margin_mode (the fast mode models SP_MARGIN_ISOLATED) */
    uint8_t tier;     /* 1-based tier used for liq_px, 0 = explicit MMR */
    uint8_t pad_;     /* zero */
    uint32_t id;      /* 0-based index in generation / file order */
} sp_sim_pos;

/* One bar of price history (klines) for entry prices.  Scale 8. */
typedef struct sp_sim_bar {
    int64_t open_ms;   /* bar open time, ms since the epoch, UTC */
    int64_t low;       /* low, USDT */
    int64_t high;      /* high, USDT */
    int64_t close;     /* close, USDT */
    int64_t quote_vol; /* traded notional in the bar, USDT (the entry weight) */
} sp_sim_bar;

/* One bucket of a leverage mix: `weight` (any unit) of positions open at `leverage`. */
typedef struct sp_sim_lev_bucket {
    int32_t leverage; /* >= 1 */
    uint32_t weight;  /* relative weight, > 0 */
} sp_sim_lev_bucket;

/*
 * A documented leverage mix.  variant 0 = the default (mass at 5x-25x, tail
 * to 125x, docs/internals/sim.md), 1 = conservative, 2 = aggressive (the
 * Monte Carlo's range).  Writes up to cap buckets to out, returns how many
 * (0 for an unknown variant).
 */
SP_API size_t sp_sim_lev_mix(unsigned variant, sp_sim_lev_bucket *out, size_t cap);

/* How a position's liquidation price is computed. */
typedef struct sp_sim_venue {
    const sp_instrument *inst;  /* borrowed; required (venue, tick, lot, rounding) */
    const sp_tier_table *tiers; /* borrowed; NULL = inst->base_mmr as explicit MMR */
} sp_sim_venue;

/*
 * The built-in Binance USD-M BTCUSDT instrument and its 2024-10-24 bracket
 * table (docs/specs/exchange-rules.md §2.3, tick 0.1, step 0.001), for
 * callers with no rules database.  Borrowed static data.
 */
SP_API sp_sim_venue sp_sim_venue_builtin(void);

/* Calibration of a generated population.  Start from sp_sim_pop_cfg_default(). */
typedef struct sp_sim_pop_cfg {
    sp_sim_venue venue;           /* rules for liq / bankruptcy prices */
    uint64_t n;                   /* positions, 1 .. SP_SIM_POS_MAX */
    int64_t oi_usd;               /* total open interest (sum of entry notionals), USDT, scale 8 */
    uint32_t long_bp;             /* long share of open interest, basis points (5000) */
    const sp_sim_lev_bucket *lev; /* leverage mix (borrowed), NULL = sp_sim_lev_mix(0) */
    size_t nlev;                  /* buckets in lev */
    uint32_t size_alpha_milli;    /* Pareto tail exponent of sizes x 1000 (1500) */
    uint32_t size_max_ratio;      /* largest / smallest size drawn (100000) */
    const sp_sim_bar *bars;       /* entry-price history (borrowed), >= 1 bar */
    size_t nbars;                 /* bars */
    int64_t mark_px;              /* price at the scenario start, USDT, scale 8, > 0 */
    uint64_t seed;                /* same seed, same population */
} sp_sim_pop_cfg;

/* Defaults: n 100000, OI 8e9 USDT, long 50%, mix 0, alpha 1.5, ratio 1e5, seed 1. */
SP_API sp_sim_pop_cfg sp_sim_pop_cfg_default(void);

typedef struct sp_sim_pop sp_sim_pop;

/*
 * Generate a population from cfg.  Each position: side by long_bp (the long
 * and short totals are then scaled to long_bp of oi_usd), leverage from the
 * mix (capped at the tier's max leverage for its notional), notional from a
 * Pareto law, entry price uniform in a bar chosen with probability
 * proportional to its quote volume, qty rounded down to the lot (at least
 * one lot; a notional past the venue's last tier is capped there and
 * counted in sp_sim_pop_info.capped), margin = entry notional / leverage
 * rounded up to 1e-8.  A
 * position already past its liquidation price at mark_px is redrawn (up to
 * 64 times, then left out: sp_sim_pop_info says how many).  Fixed seed ->
 * identical population on every machine and thread count.
 * Errors (d says which field): SP_EINVAL (n, oi, shares, empty bars or mix,
 * no instrument), SP_EOVERFLOW, SP_ENOMEM.  *out is set only on SP_OK; free with sp_sim_pop_free.
 */
SP_API sp_err sp_sim_pop_generate(const sp_sim_pop_cfg *cfg, sp_sim_pop **out, sp_diag *d);

/*
 * Load a population from a CSV file (docs/internals/sim.md):
 *   side,entry_px,qty,leverage[,margin]
 * with a header line, side "long"/"short", decimals exact at scale 8;
 * margin defaults to entry x qty / leverage rounded up.  '#' lines and
 * blank lines are skipped.  Every bad row -- malformed, or a position the
 * venue would not allow (notional past the last tier, margin below
 * maintenance at entry) -- is reported (on_reject, may be NULL) with its
 * line and field and skipped; *rejected (may be NULL) counts them.  Liquidation prices come from
 * venue.  Errors: SP_EIO, SP_EPARSE (bad header), SP_EINVAL (no usable row), SP_ETOOBIG, SP_ENOMEM.
 */
SP_API sp_err sp_sim_pop_load_csv(const char *path, sp_sim_venue venue,
                                  void (*on_reject)(void *ctx, const sp_diag *why), void *ctx,
                                  uint64_t *rejected, sp_sim_pop **out, sp_diag *d);

/*
 * Build a population from caller positions pos[0..n) (entry_px, qty,
 * leverage, side, margin used; 0 margin = entry x qty / leverage rounded
 * up; liq_px / bk_px / tier / id are computed).  SP_EINVAL for a bad
 * position, SP_ERANGE for one past the last tier or with its margin below
 * maintenance at entry (d: which and why), SP_EOVERFLOW, SP_ENOMEM.
 */
SP_API sp_err sp_sim_pop_from(const sp_sim_pos *pos, size_t n, sp_sim_venue venue, sp_sim_pop **out,
                              sp_diag *d);

/* Free p; NULL is a no-op. */
SP_API void sp_sim_pop_free(sp_sim_pop *p);

/* Summary of a population. */
typedef struct sp_sim_pop_info {
    uint64_t n;            /* positions */
    uint64_t n_long;       /* long positions */
    uint64_t dropped;      /* generated positions left out (liquidated at mark_px) */
    uint64_t capped;       /* generated positions capped at the venue's last tier */
    int64_t oi_long;       /* sum of long entry notionals, USDT, scale 8 */
    int64_t oi_short;      /* sum of short entry notionals, USDT, scale 8 */
    int64_t margin;        /* sum of margins, USDT, scale 8 */
    int64_t nearest_long;  /* highest long trigger (first to go on a fall), 0 if none */
    int64_t nearest_short; /* lowest short trigger, 0 if none */
    uint64_t hash;         /* hash of every position (determinism checks) */
} sp_sim_pop_info;

/* Fill *info (OUT). */
SP_API void sp_sim_pop_info_get(const sp_sim_pop *p, sp_sim_pop_info *info);

/* Number of positions and the i-th in original (id) order, borrowed; NULL past the end. */
SP_API size_t sp_sim_pop_count(const sp_sim_pop *p);
SP_API const sp_sim_pos *sp_sim_pop_at(const sp_sim_pop *p, size_t i);

/* ---- market ---------------------------------------------------------------- */

/* One price level (scale 8). */
typedef struct sp_sim_level {
    int64_t px;  /* USDT */
    int64_t qty; /* base units */
} sp_sim_level;

/* How the market is built.  Start from sp_sim_market_cfg_default(). */
typedef struct sp_sim_market_cfg {
    int64_t mid_px;           /* scenario start price (mid), USDT, scale 8, > 0 */
    const sp_sim_level *bids; /* snapshot bids (borrowed), any order; NULL = none */
    size_t nbids;
    const sp_sim_level *asks; /* snapshot asks (borrowed), any order; NULL = none */
    size_t nasks;
    int64_t depth_1pct_usd; /* square-root tail: notional within 1% of mid, USDT, scale 8 */
    uint32_t tail_step_bp;  /* spacing of the parametric levels, bp (1) */
    uint32_t tail_span_bp;  /* parametric levels reach this far from mid, bp (9900) */
    int64_t tick;           /* price tick, USDT, scale 8 (levels are rounded to it) */
} sp_sim_market_cfg;

/* Defaults: no snapshot, depth 50 M USDT within 1%, step 1 bp, span 99%, tick 0.1. */
SP_API sp_sim_market_cfg sp_sim_market_cfg_default(void);

typedef struct sp_sim_market sp_sim_market;

/*
 * Build the two ladders.  Snapshot levels are re-centred: a level at
 * relative distance x from the snapshot's mid ((best bid + best ask) / 2)
 * is placed at mid_px x (1 -+ x), rounded away from mid to the tick.
 * Beyond the snapshot's last level the cumulative depth follows
 * Q(x) = Q_e + Q1 x ((x / 1%)^2 - (x_e / 1%)^2) with Q1 = depth_1pct_usd /
 * mid_px: a sell of Q moves the price by 1% x sqrt(Q / Q1) (the square-root
 * law).  Errors (d says why): SP_EINVAL (mid, tick, step, span, a level
 * with px or qty <= 0, a crossed snapshot, no depth at all), SP_ETOOBIG
 * (more than SP_SIM_LEVELS_MAX levels), SP_ENOMEM.
 */
SP_API sp_err sp_sim_market_new(const sp_sim_market_cfg *cfg, sp_sim_market **out, sp_diag *d);

/* Free m; NULL is a no-op. */
SP_API void sp_sim_market_free(sp_sim_market *m);

/* Start price, and the depth of side (0 bids, 1 asks) within band_bp of it (qty and notional). */
SP_API int64_t sp_sim_market_mid(const sp_sim_market *m);
SP_API void sp_sim_market_depth(const sp_sim_market *m, int side, uint32_t band_bp, int64_t *qty,
                                int64_t *notional);

/* Levels of one side (0 bids, 1 asks), best first (borrowed), and how many. */
SP_API const sp_sim_level *sp_sim_market_levels(const sp_sim_market *m, int side, size_t *n);

/* ---- the cascade ------------------------------------------------------------ */

/* Kinds of shock. */
typedef enum sp_sim_shock_kind {
    SP_SIM_SHOCK_MOVE = 1, /* an exogenous mark move of move_bp (signed) */
    SP_SIM_SHOCK_SELL = 2  /* an exogenous market order of notional (signed: < 0 sells) */
} sp_sim_shock_kind;

/* One scenario's shock and market conditions. */
typedef struct sp_sim_shock {
    sp_sim_shock_kind kind;
    int32_t move_bp;        /* MOVE: -800 = the mark falls 8%; -9999 .. 9999, != 0 */
    int64_t notional;       /* SELL: USDT, scale 8, != 0 (< 0 sells, > 0 buys) */
    uint32_t thin_bp;       /* depth withdrawn by makers, 0 .. 9900 */
    uint32_t resilience_bp; /* share of consumed depth refilled between waves, 0 .. 10000 */
    bool forced_orders;     /* false: liquidations happen but their orders never hit the book */
    int64_t insurance_usd;  /* insurance fund at the start, USDT, scale 8, >= 0 */
    uint32_t max_waves;     /* stop after this many waves (0 = SP_SIM_WAVES_MAX) */
} sp_sim_shock;

#ifndef SP_SIM_WAVES_MAX
#define SP_SIM_WAVES_MAX 100000
#endif

/* A default shock: MOVE -800 bp, no thinning, no refill, forced orders, fund 1e9 USDT. */
SP_API sp_sim_shock sp_sim_shock_default(void);

/*
 * One wave: the positions whose trigger the mark crossed, their forced
 * order (one aggregate market order, the fast mode's approximation) and
 * its effect.  Scale 8.
 */
typedef struct sp_sim_wave {
    uint32_t n;         /* positions liquidated in this wave */
    uint32_t pad_;      /* zero */
    int64_t qty;        /* base units liquidated */
    int64_t notional;   /* qty at the mark that triggered the wave, USDT */
    int64_t px_trigger; /* mark that triggered the wave */
    int64_t px_after;   /* mark after the forced order walked the book */
    int64_t vwap;       /* average fill of the forced order (0 if nothing filled) */
    int64_t fund_delta; /* insurance fund change: fills vs bankruptcy prices, USDT */
    int64_t adl_qty;    /* base units closed by ADL (book exhausted or fund empty) */
} sp_sim_wave;

/* Per leverage bucket of the decomposition. */
typedef struct sp_sim_bucket_stat {
    uint64_t n;       /* positions liquidated */
    int64_t notional; /* their notional at the trigger mark, USDT */
} sp_sim_bucket_stat;

/* What a scenario did.  Money and prices at scale 8. */
typedef struct sp_sim_result {
    int dir;                /* -1 the mark fell (longs liquidated), +1 it rose */
    int64_t start_px;       /* mark before the shock */
    int64_t shock_px;       /* mark after the exogenous shock alone */
    int64_t final_px;       /* mark when the cascade stopped */
    int64_t extreme_px;     /* furthest mark reached (lowest on a fall) */
    uint32_t waves;         /* waves run (also those not stored) */
    bool truncated;         /* max_waves reached */
    bool book_exhausted;    /* a forced order ran out of depth */
    uint64_t n_liq;         /* positions liquidated */
    uint64_t n_long;        /* of which long */
    int64_t qty;            /* base units liquidated */
    int64_t notional;       /* liquidated notional at the trigger marks, USDT */
    int64_t notional_long;  /* long part */
    int64_t notional_entry; /* liquidated notional at entry prices (conservation) */
    int64_t sold_qty;       /* base units the forced orders filled in the book */
    int64_t largest;        /* largest single liquidation, USDT at its trigger mark */
    int64_t half_px;    /* the liquidation price at which half the liquidated notional (valued at
                           liquidation prices, in liquidation order) had gone */
    int64_t fund_start; /* insurance fund at the start */
    int64_t fund_end;   /* at the end (negative: deficit socialised by ADL) */
    int64_t adl_qty;    /* base units closed by ADL */
    sp_sim_bucket_stat lev[SP_SIM_LEV_REPORT_BUCKETS]; /* by leverage bucket */
} sp_sim_result;

/*
 * Run one scenario, fast mode: positions sorted by trigger, prefix sums,
 * one binary search per wave and per book walk, no allocation.  Stores up
 * to cap waves in waves (OUT, may be NULL with cap 0); out->waves counts
 * all of them.  SP_EINVAL (bad shock: d says which field), SP_EOVERFLOW.
 */
SP_API sp_err sp_sim_run(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                         sp_sim_wave *waves, size_t cap, sp_sim_result *out, sp_diag *d);

/*
 * The same scenario with the naive loop (rescan every position after each
 * wave): the benchmark's baseline and the test oracle.  Gives the same
 * result as sp_sim_run.  Allocates one flag per position (SP_ENOMEM).
 */
SP_API sp_err sp_sim_run_naive(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                               sp_sim_wave *waves, size_t cap, sp_sim_result *out, sp_diag *d);

/*
 * The same scenario in full fidelity, through the exchange core (engine.h,
 * src/sim/full.c): every position is an engine account that opens its
 * position against a counterparty, a liquidity provider rests the ladder
 * at and beyond the shock price (thinned, rounded down to the lot), the
 * shock is a MARK command and the engine's liquidation engine does the
 * rest (take-over or partial liquidation, orders in its book, insurance
 * fund, ADL); each next mark is the last liquidation fill price.  Fills
 * waves and out like sp_sim_run for n_liq, qty, sold_qty, adl_qty, the
 * marks and the fund (money fields the engine does not report stay 0).
 * Slow: for small scenarios (the agreement test).  SP_EUNSUPPORTED for a
 * SELL shock, resilience, forced_orders false, or a population whose
 * openings liquidate one another; SP_EINVAL, SP_ETOOBIG, SP_ENOMEM.
 */
SP_API sp_err sp_sim_run_full(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                              sp_sim_venue venue, sp_sim_wave *waves, size_t cap,
                              sp_sim_result *out, sp_diag *d);

/* The decomposition: the shock with forced orders and with them removed. */
typedef struct sp_sim_decomp {
    sp_sim_result with;          /* forced orders walk the book */
    sp_sim_result without;       /* same shock, forced orders removed */
    int64_t move_total_bp;       /* |start - extreme| / start, bp, with forced orders */
    int64_t move_exo_bp;         /* |start - shock_px| / start, bp (without) */
    int64_t amplification_milli; /* move_total / move_exo x 1000 (1000 = no amplification) */
    int64_t endogenous_bp; /* share of the total move caused by liquidations, bp of the move */
} sp_sim_decomp;

/*
 * Run s with forced orders and without (waves of the "with" run go to
 * waves), and compute the amplification.  Errors as sp_sim_run.
 */
SP_API sp_err sp_sim_decompose(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                               sp_sim_wave *waves, size_t cap, sp_sim_decomp *out, sp_diag *d);

/* Index into sp_sim_result.lev for a leverage, and the bucket's label ("<=5x", ...). */
SP_API unsigned sp_sim_lev_bucket_of(int32_t leverage);
SP_API const char *sp_sim_lev_bucket_name(unsigned bucket);

/* ---- path replay ------------------------------------------------------------ */

/*
 * Replay a real price path (klines) as the mark, without book impact:
 * every position whose trigger lies within a bar's [low, high] is
 * liquidated in that bar (longs at the low, shorts at the high).  The
 * calibration check: liquidated notional along the real path.  per_bar
 * (OUT, may be NULL) receives the liquidated notional of each bar.
 * SP_EINVAL (no bars).
 */
SP_API sp_err sp_sim_replay(const sp_sim_pop *p, const sp_sim_bar *bars, size_t nbars,
                            int64_t *per_bar, sp_sim_result *out, sp_diag *d);

/* ---- Monte Carlo ------------------------------------------------------------ */

/* The scenario distribution and the run. */
typedef struct sp_sim_mc_cfg {
    uint32_t k;            /* scenarios, 1 .. SP_SIM_MC_MAX */
    uint32_t threads;      /* worker threads, 1 .. SP_SIM_THREADS_MAX */
    uint64_t seed;         /* scenario k uses its own stream derived from (seed, k) */
    uint32_t shock_min_bp; /* shock magnitude, uniform in [min, max] bp (100 .. 1500) */
    uint32_t shock_max_bp;
    uint32_t down_bp;              /* probability that the shock is a fall, bp (7000) */
    uint32_t thin_max_bp;          /* thinning uniform in [0, thin_max] (8000) */
    uint32_t resilience_bp;        /* as sp_sim_shock */
    int64_t insurance_usd;         /* as sp_sim_shock */
    const sp_sim_pop *const *pops; /* leverage-mix variants (borrowed); each scenario draws one */
    size_t npops;
    const sp_sim_market *market; /* borrowed */
    /* Called from worker threads (serialised) as scenarios finish; may be NULL. */
    void (*progress)(void *ctx, uint32_t done, uint32_t total);
    void *progress_ctx;
} sp_sim_mc_cfg;

/* Defaults: k 1000, 1 thread, seed 1, shocks 1%-15%, 70% falls, thinning up to 80%. */
SP_API sp_sim_mc_cfg sp_sim_mc_cfg_default(void);

/* One scenario's draw and outcome. */
typedef struct sp_sim_mc_row {
    int32_t shock_bp;            /* signed exogenous move */
    uint32_t thin_bp;            /* thinning drawn */
    uint32_t pop;                /* population variant drawn */
    uint32_t waves;              /* waves */
    uint64_t n_liq;              /* positions liquidated */
    int64_t notional;            /* liquidated notional, USDT, scale 8 */
    int64_t drawdown_bp;         /* |start - extreme| / start, bp */
    int64_t amplification_milli; /* as sp_sim_decomp */
} sp_sim_mc_row;

/* Quantiles reported: 5%, 25%, 50%, 75%, 95%, 99%. */
#define SP_SIM_MC_QUANTILES 6

/* Fall thresholds of sp_sim_mc_summary.p_fall_bp: 5%, 10%, 15%, 20%, 30%. */
#define SP_SIM_MC_THRESHOLDS 5

/* The distribution over the K scenarios. */
typedef struct sp_sim_mc_summary {
    uint32_t k;                                         /* scenarios */
    int64_t q_notional[SP_SIM_MC_QUANTILES];            /* USDT, scale 8 */
    int64_t q_drawdown_bp[SP_SIM_MC_QUANTILES];         /* bp */
    int64_t q_amplification_milli[SP_SIM_MC_QUANTILES]; /* x 1000 */
    uint32_t p_fall_bp[SP_SIM_MC_THRESHOLDS];           /* P(drawdown > threshold), bp */
    uint64_t hash;                                      /* hash of every row, in scenario order */
} sp_sim_mc_summary;

/* The quantile levels (bp) and fall thresholds (bp) of the summary. */
SP_API uint32_t sp_sim_mc_quantile_bp(unsigned i);
SP_API uint32_t sp_sim_mc_threshold_bp(unsigned i);

/*
 * Run cfg->k scenarios on cfg->threads threads.  Scenario i draws its
 * shock, thinning and population variant from its own RNG stream seeded
 * from (seed, i), so rows and summary are identical for any thread count.
 * rows (OUT, may be NULL) receives k rows in scenario order.  Errors (d
 * says which field): SP_EINVAL, SP_ENOMEM, SP_ESTATE (a thread could not
 * start), or a scenario's error.
 */
SP_API sp_err sp_sim_mc_run(const sp_sim_mc_cfg *cfg, sp_sim_mc_row *rows, sp_sim_mc_summary *sum,
                            sp_diag *d);

/*
 * Run only scenarios first .. first + count - 1 of cfg (on cfg->threads
 * threads) into rows[0..count) (OUT; rows[i] is scenario first + i).  Each
 * scenario is seeded from (seed, index) exactly as in sp_sim_mc_run, so
 * ranges run anywhere (the distributed Monte Carlo of `stampede worker`)
 * give the rows sp_sim_mc_run would.  Errors as sp_sim_mc_run; SP_EINVAL
 * for an empty range or one past cfg->k.  cfg->progress sees done/count.
 */
SP_API sp_err sp_sim_mc_run_range(const sp_sim_mc_cfg *cfg, uint32_t first, uint32_t count,
                                  sp_sim_mc_row *rows, sp_diag *d);

/*
 * The summary of k rows in scenario order (as sp_sim_mc_run computes it:
 * hash of every row in order, quantiles, fall probabilities), for rows
 * gathered from sp_sim_mc_run_range pieces.  SP_EINVAL (k = 0), SP_ENOMEM.
 */
SP_API sp_err sp_sim_mc_summarize(const sp_sim_mc_row *rows, uint32_t k, sp_sim_mc_summary *sum,
                                  sp_diag *d);

/* ---- loading real data (through the feed and book modules) ----------------------- */

/*
 * Read klines (Binance spot or USD-M kline CSV, via sp_feed_decode_file)
 * with open time in [from_ms, to_ms) into a new array *out (caller frees
 * with sp_free), *n bars, in file order.  Errors: SP_EIO, SP_EPARSE,
 * SP_EUNKNOWN_KIND (not a format the feed knows), SP_EINVAL (no bar in the
 * window), SP_ENOMEM.
 */
SP_API sp_err sp_sim_load_bars(const char *path, int64_t from_ms, int64_t to_ms, sp_sim_bar **out,
                               size_t *n, sp_diag *d);

/*
 * Read the first full depth snapshot of `symbol` in a recorded file (Bybit
 * v5 orderbook capture, Binance/Lasota depth snapshot CSV) through the feed
 * decoder into an sp_book, and copy its levels out: *bids / *asks (caller
 * frees with sp_free), best first.  Errors as sp_sim_load_bars, plus
 * SP_ENOTFOUND (no snapshot of the symbol).
 */
SP_API sp_err sp_sim_load_snapshot(const char *path, const char *symbol, sp_sim_level **bids,
                                   size_t *nbids, sp_sim_level **asks, size_t *nasks, sp_diag *d);

SP_END_DECLS

#endif /* STAMPEDE_SIM_H */
