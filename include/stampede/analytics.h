/*
 * analytics.h -- the crash-day metrics: prices, drawdown, volatility,
 * correlation, funding, ETF flows, liquidations, Fear & Greed, heatmap.
 *
 * Every metric is a pure function over in-memory arrays (bars, points,
 * sp_event records), so it can be checked on a hand-computed fixture; a
 * loader (sp_an_load) fills those arrays from an sp_store query, and the
 * report (sp_an_report_build) runs the metrics over the store for one day.
 * The definition of every metric -- window bounds, time zone (always UTC),
 * joins, which column, sample or population statistics -- is written in
 * docs/metrics.md; each function below names its section there.
 *
 * Numbers.  Prices, notionals and flows stay exact: int64 at the event
 * scale (SP_EV_PX_SCALE = 1e-8), summed with overflow checks.  Ratios,
 * returns, volatilities, correlations and indices are double: this is the
 * only module of the library that uses floating point (house style 1.6).
 * No function ever returns NaN or an infinity: a metric that cannot be
 * computed (empty window, a single point, a zero denominator) returns an
 * error code instead (SP_ENOTFOUND for "no data in the window", SP_ERANGE
 * for "too few points", SP_EDIVZERO for a zero variance).
 *
 * Memory.  Output arrays (sp_an_series, sp_an_events, report) are owned by
 * the caller's struct and released with the matching _fini; allocation
 * goes through sp_malloc and fails with SP_ENOMEM leaving the output
 * empty.  Input arrays are borrowed for the call.  Nothing here keeps
 * global state: every function is reentrant and thread-safe on distinct
 * arguments.
 */
#ifndef STAMPEDE_ANALYTICS_H
#define STAMPEDE_ANALYTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/store.h"
#include "stampede/symtab.h"

SP_BEGIN_DECLS

#define SP_AN_NS_PER_SEC  INT64_C(1000000000)
#define SP_AN_NS_PER_HOUR (INT64_C(3600) * SP_AN_NS_PER_SEC)
#define SP_AN_NS_PER_DAY  (INT64_C(86400) * SP_AN_NS_PER_SEC)

/* Events copied out of a store query, with their symbol names. */
typedef struct sp_an_events {
    sp_event *ev;    /* public, read-only: n events, symbol_id = ids of syms */
    size_t n;        /* public, read-only */
    size_t cap;      /* private */
    sp_symtab *syms; /* public, read-only: the names of ev[].symbol_id */
} sp_an_events;

/* ---- series of doubles ------------------------------------------------- */

/* One sample: a UTC timestamp (ns) and a value (unit set by the producer). */
typedef struct sp_an_point {
    int64_t ts_ns; /* UTC, ns since the epoch */
    double v;      /* value; never NaN */
} sp_an_point;

/* A growable, owned series of points in the order pushed. */
typedef struct sp_an_series {
    sp_an_point *p; /* public, read-only: n points */
    size_t n;       /* public, read-only */
    size_t cap;     /* private */
} sp_an_series;

/* An empty series (no allocation). */
SP_API void sp_an_series_init(sp_an_series *s);

/* Append (ts_ns, v).  SP_EINVAL if v is NaN or infinite, SP_ENOMEM. */
SP_API sp_err sp_an_series_push(sp_an_series *s, int64_t ts_ns, double v);

/* Release the points; s is empty again. */
SP_API void sp_an_series_fini(sp_an_series *s);

/*
 * Parse a duration "90s", "15m", "4h", "24h", "7d" (a positive integer and
 * one unit).  OUT: *ns.  SP_EPARSE for bad text, SP_ERANGE past 3650 days.
 */
SP_API sp_err sp_an_parse_duration(const char *s, int64_t *ns);

/* ---- OHLC bars (docs/metrics.md §2) ------------------------------------ */

/* One kline bar; prices at SP_EV_PX_SCALE (exact), volume at SP_EV_QTY_SCALE. */
typedef struct sp_an_bar {
    int64_t open_ns;  /* bar open time, UTC ns */
    int64_t close_ns; /* open_ns + interval: the instant the close price is observed */
    int64_t open;     /* price, scale 1e-8 */
    int64_t high;     /* price, scale 1e-8 */
    int64_t low;      /* price, scale 1e-8 */
    int64_t close;    /* price, scale 1e-8 */
    int64_t volume;   /* base quantity, scale 1e-8 */
} sp_an_bar;

/* Highest high and lowest low of the bars whose open time is in [from, to). */
typedef struct sp_an_extremes {
    int64_t high;    /* scale 1e-8 */
    int64_t high_ns; /* open time of the bar that printed the high (first one on ties) */
    int64_t low;     /* scale 1e-8 */
    int64_t low_ns;  /* open time of the bar that printed the low (first one on ties) */
    size_t bars;     /* bars in the window */
} sp_an_extremes;

/*
 * Extremes of b[0..n) (sorted by open_ns) with open_ns in [from_ns, to_ns).
 * OUT: *out.  SP_ENOTFOUND when no bar is in the window.  §2.1.
 */
SP_API sp_err sp_an_extremes_of(const sp_an_bar *b, size_t n, int64_t from_ns, int64_t to_ns,
                                sp_an_extremes *out);

/* The deepest drawdown from the running high (§2.2). */
typedef struct sp_an_drawdown {
    int64_t peak;      /* running high before the trough, scale 1e-8 */
    int64_t peak_ns;   /* open time of the peak bar */
    int64_t trough;    /* the low that gave the deepest drawdown, scale 1e-8 */
    int64_t trough_ns; /* open time of the trough bar */
    double dd;         /* trough / peak - 1 (<= 0) */
} sp_an_drawdown;

/*
 * Drawdown of each bar's low from the running high (highs of bars 0..i,
 * the bar itself included) over b[0..n) sorted by open_ns.  When series is
 * not NULL, one point per bar (ts = open_ns, v = low_i / runhigh_i - 1) is
 * appended to it.  OUT: *worst.  SP_ENOTFOUND for n == 0, SP_EINVAL for a
 * non-positive price, SP_ENOMEM.
 */
SP_API sp_err sp_an_drawdown_of(const sp_an_bar *b, size_t n, sp_an_series *series,
                                sp_an_drawdown *worst);

/*
 * Change of the close over a window ending at at_ns (§2.3): the close of
 * the bar whose close_ns == at_ns divided by the close of the bar whose
 * close_ns == at_ns - window_ns, minus one.  OUT: *out (a fraction: -0.14
 * for -14%).  SP_ENOTFOUND when either bar is missing (no interpolation).
 */
SP_API sp_err sp_an_change(const sp_an_bar *b, size_t n, int64_t at_ns, int64_t window_ns,
                           double *out);

/* Realised volatility (§2.4). */
typedef struct sp_an_vol {
    double stdev;      /* sample standard deviation of log returns (n - 1) */
    double annualised; /* stdev * sqrt(periods_per_year) */
    size_t returns;    /* log returns used */
} sp_an_vol;

/*
 * Realised volatility of the close-to-close log returns of consecutive
 * bars with close_ns in (from_ns, to_ns]; a return is taken only between
 * adjacent bars (next.open_ns == prev.close_ns), so gaps are skipped, not
 * bridged.  periods_per_year scales it (365 for daily crypto bars, 2190
 * for 4h).  OUT: *out.  SP_ERANGE with fewer than 2 returns.
 */
SP_API sp_err sp_an_realised_vol(const sp_an_bar *b, size_t n, int64_t from_ns, int64_t to_ns,
                                 double periods_per_year, sp_an_vol *out);

/* ---- correlation (§3) -------------------------------------------------- */

typedef enum sp_an_ret {
    SP_AN_RET_LOG = 0,    /* ln(x_t / x_{t-1}) (the default) */
    SP_AN_RET_SIMPLE = 1, /* x_t / x_{t-1} - 1 */
    SP_AN_RET_LEVEL = 2   /* the levels themselves */
} sp_an_ret;

/* "log", "simple", "level"; the value or -1 from a name. */
SP_API const char *sp_an_ret_name(sp_an_ret r);
SP_API int sp_an_ret_from_name(const char *s);

/*
 * Pearson correlation of x[0..n) and y[0..n).  OUT: *r in [-1, 1].
 * SP_ERANGE for n < 3, SP_EDIVZERO when either input is constant.
 */
SP_API sp_err sp_an_pearson(const double *x, const double *y, size_t n, double *r);

/*
 * Correlation of two daily series a and b (each sorted by ts, one point
 * per UTC day; points are matched on their UTC day, a day present in only
 * one series is dropped) using the last `window` returns (or levels) of
 * the common days whose day is <= end_ns's day.  Returns are taken between
 * consecutive COMMON days (a weekend close-to-Monday return for crypto
 * against an equity index).  OUT: *r, *used (pairs used, may be NULL).
 * SP_ERANGE if fewer than `window` pairs exist (window >= 3), SP_EINVAL
 * for a non-positive value with a return type, SP_EDIVZERO, SP_ENOMEM.
 */
SP_API sp_err sp_an_corr(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                         size_t window, sp_an_ret ret, int64_t end_ns, double *r, size_t *used);

/*
 * The same correlation rolled over every common day from the first with a
 * full window: one point per day (ts = the day at 00:00 UTC) appended to
 * out.  Errors as sp_an_corr (a window with zero variance is skipped).
 */
SP_API sp_err sp_an_corr_rolling(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                                 size_t window, sp_an_ret ret, sp_an_series *out);

/* ---- funding (§4) ------------------------------------------------------ */

/* One funding day (UTC). */
typedef struct sp_an_funding_day {
    int64_t day_ns;      /* 00:00 UTC of the day */
    double mean;         /* mean rate per settlement interval (fraction, 0.0001 = 0.01%) */
    double mean_abs;     /* mean of the absolute rates */
    double annualised;   /* mean * (24 / interval_h) * 365 */
    int64_t sum_e12;     /* exact sum of the rates, scale 1e-12 */
    unsigned settles;    /* settlements that day */
    unsigned interval_h; /* settlement interval of the day's last settlement, hours */
} sp_an_funding_day;

/*
 * Group FUNDING events (px = rate at SP_EV_RATE_SCALE, aux1 = interval h;
 * events of other kinds are ignored) by the UTC day of their settlement
 * time rounded to the nearest second (Binance's calc_time carries a few ms
 * of jitter).  Duplicate settlements (same symbol and second) count once.
 * ev must be sorted by exch_ts_ns.  Days are written to out[0..cap) in
 * order; OUT: *n_out.  SP_ETOOBIG when more than cap days exist.
 * Give it one symbol's events (the duplicate check compares neighbours).
 */
SP_API sp_err sp_an_funding_daily(const sp_event *ev, size_t n, sp_an_funding_day *out, size_t cap,
                                  size_t *n_out);

/* The annualised rate of a per-interval rate (rate * 24 / interval_h * 365); 0 for interval 0. */
SP_API double sp_an_funding_annualise(double rate, unsigned interval_h);

/* ---- ETF flows (§5) ---------------------------------------------------- */

/* One calendar month of daily flows (values in US$ millions at scale 1e-8, exact). */
typedef struct sp_an_flow_month {
    int year;               /* e.g. 2026 */
    int month;              /* 1..12 */
    int64_t net;            /* sum of the daily net flows */
    int64_t inflow;         /* sum of the positive days */
    int64_t outflow;        /* sum of the negative days (<= 0) */
    int64_t largest_out;    /* most negative day (0 if none) */
    int64_t largest_out_ns; /* its day, 00:00 UTC (0 if none) */
    unsigned days;          /* trading days with a value */
} sp_an_flow_month;

/*
 * Monthly sums of a daily flow series: SERIES events with px = the day's
 * flow (US$ m at 1e-8) sorted by day, one per day (a repeated day is an
 * SP_EINVAL: the caller filters one fund).  OUT: out[0..cap), *n_out.
 * SP_ETOOBIG past cap months, SP_EOVERFLOW.
 */
SP_API sp_err sp_an_flow_months(const sp_event *ev, size_t n, sp_an_flow_month *out, size_t cap,
                                size_t *n_out);

/* ---- liquidations (§6) ------------------------------------------------- */

/* One group of liquidations: one venue, one symbol, one side. */
typedef struct sp_an_liq_group {
    uint8_t venue;      /* sp_venue */
    bool long_side;     /* true: longs liquidated (the forced order sells) */
    uint32_t symbol_id; /* id of the events' symbol table */
    uint64_t count;     /* liquidation events */
    int64_t notional;   /* sum of notionals, quote (US$), scale 1e-8, exact */
    int64_t largest;    /* largest single notional, scale 1e-8 */
    int64_t largest_ns; /* its exchange time */
} sp_an_liq_group;

/* Totals over a window. */
typedef struct sp_an_liq_total {
    uint64_t count;         /* events */
    int64_t notional;       /* scale 1e-8 */
    int64_t long_notional;  /* longs liquidated, scale 1e-8 */
    int64_t short_notional; /* shorts liquidated, scale 1e-8 */
    int64_t largest;        /* scale 1e-8 */
    int64_t largest_ns;     /* exchange time of the largest */
    uint32_t largest_symbol_id;
    uint8_t largest_venue;
} sp_an_liq_total;

/*
 * The US$ notional of one LIQUIDATION event (§6.1): aux2 when the decoder
 * set it; for Binance COIN-M (inverse, quantity in contracts) the filled
 * contracts (aux1, or qty when 0) times the contract value, US$ 100 for
 * BTCUSD* symbols and US$ 10 for the others; else the average fill price
 * (aux0, or px when 0) times the filled qty, rounded half-even to 1e-8.
 * symbol is the event's symbol name (borrowed, may be NULL).  OUT: *out.
 * SP_EOVERFLOW.
 */
SP_API sp_err sp_an_liq_notional(const sp_event *e, const char *symbol, int64_t *out);

/*
 * Aggregate the LIQUIDATION events of ev[0..n) with exch_ts in [from, to)
 * by (venue, symbol, side) into groups[0..cap) (sorted by notional,
 * largest first) and *total.  syms names ev[].symbol_id (borrowed, may be
 * NULL: then no COIN-M contract value is known and those events count at
 * price x qty).  OUT: *n_groups.  SP_ETOOBIG when more than cap groups
 * exist: groups[] then holds the cap largest, *n_groups = cap and *total
 * is exact (beyond 2048 groups: *n_groups = 0, *total unset).
 * SP_EOVERFLOW, SP_ENOMEM (only when cap is exceeded).  Cost: one hash
 * probe per event; no allocation while the groups fit in cap.
 */
SP_API sp_err sp_an_liq_aggregate(const sp_event *ev, size_t n, const sp_symtab *syms,
                                  int64_t from_ns, int64_t to_ns, sp_an_liq_group *groups,
                                  size_t cap, size_t *n_groups, sp_an_liq_total *total);

/* Traders (forced orders) liquidated: counted or estimated (§6.3). */
typedef struct sp_an_traders {
    uint64_t counted;   /* events of venues that report every liquidation order */
    uint64_t observed;  /* events of throttled venues (at most one per symbol per slot) */
    double estimate;    /* counted + estimated orders behind the throttled events */
    double stderr_est;  /* standard error of the estimate (delta method) */
    uint64_t saturated; /* (symbol, minute) cells with every slot occupied: lower bound only */
} sp_an_traders;

/*
 * Whether venue v pushes at most one liquidation per symbol per slot, and
 * the slot length in ns (Binance USD-M / COIN-M forceOrder: 1000 ms; Bybit
 * allLiquidation: 500 ms).  Per-order venues return false.
 */
SP_API bool sp_an_venue_is_throttled(unsigned venue, int64_t *slot_ns);

/*
 * Count or estimate the liquidation orders behind the LIQUIDATION events
 * of ev[0..n) in [from, to).  For a throttled venue, each (symbol, UTC
 * minute) cell with k occupied slots out of W is a Poisson occupancy
 * sample: the estimated orders are W * -ln(1 - k/W), with variance
 * W * p / (1 - p), p = k/W; a full cell (k = W) uses k = W - 1/2 and is
 * counted in `saturated` (the estimate is then a lower bound).  OUT: *out.
 * SP_ENOMEM.
 */
SP_API sp_err sp_an_liq_traders(const sp_event *ev, size_t n, int64_t from_ns, int64_t to_ns,
                                sp_an_traders *out);

/*
 * The liquidation figures of [from_ns, to_ns) -- exactly what
 * sp_an_liq_aggregate and sp_an_liq_traders give over the same store's
 * events loaded with sp_an_load into an sp_an_events whose table is syms
 * -- computed from the store's per-minute roll-ups (sp_store_liq_minutes):
 * ~1,440 rows per venue, symbol and side a day instead of every event.
 * The window must be whole UTC minutes (from_ns and to_ns multiples of
 * 60 s), else SP_EINVAL: read events for other windows.  The groups'
 * symbols are interned into syms (not borrowed: it is modified) in the
 * order the event path meets them, so group ids, order and ties agree.
 * OUT: groups[0..*n_groups), *total, *traders.  Errors: SP_ETOOBIG as
 * sp_an_liq_aggregate (totals and traders exact), SP_EOVERFLOW (a
 * notional or a sum leaves int64, as on the event path), SP_ERANGE (a
 * throttled venue whose slot is not a multiple of 500 ms), the store's
 * errors (SP_EIO, SP_ECONN, ...), SP_ENOMEM; d says what failed.
 */
SP_API sp_err sp_an_liq_from_rollups(sp_store *s, int64_t from_ns, int64_t to_ns, sp_symtab *syms,
                                     sp_an_liq_group *groups, size_t cap, size_t *n_groups,
                                     sp_an_liq_total *total, sp_an_traders *traders, sp_diag *d);

/* ---- Fear & Greed (§7) ------------------------------------------------- */

/* Weights of our index's components (must sum to > 0; normalised by their sum). */
typedef struct sp_an_fg_weights {
    double volatility; /* 30-day realised volatility, inverted: calm = greed */
    double momentum;   /* close against its 30-day mean */
    double volume;     /* 7-day volume against its 90-day mean */
    double funding;    /* 7-day mean funding rate */
} sp_an_fg_weights;

/* The documented default weights (§7.2). */
SP_API sp_an_fg_weights sp_an_fg_default_weights(void);

/*
 * Our Fear & Greed index from daily closes (v = price, with volume in
 * volume[] when not NULL, aligned by index with close[]) and daily mean
 * funding (may be empty): each component is the percentile rank (0..100)
 * of today's raw value among the previous 365 days' raw values (causal,
 * needs >= 90 days of history); a missing component (no funding that day)
 * has its weight spread over the others.  One point per day appended to
 * out (ts = the day).  SP_EINVAL for bad weights, SP_ENOMEM.
 */
SP_API sp_err sp_an_fg_index(const sp_an_point *close, const double *volume, size_t n,
                             const sp_an_point *funding, size_t nf, const sp_an_fg_weights *w,
                             sp_an_series *out);

/* Agreement of two daily indices on their common UTC days. */
typedef struct sp_an_agreement {
    double corr; /* Pearson correlation of the levels */
    double mad;  /* mean absolute difference, index points */
    size_t days; /* common days */
} sp_an_agreement;

/* OUT: *out.  SP_ERANGE for fewer than 3 common days, SP_EDIVZERO, SP_ENOMEM. */
SP_API sp_err sp_an_agreement_of(const sp_an_point *a, size_t na, const sp_an_point *b, size_t nb,
                                 sp_an_agreement *out);

/*
 * Both Fear & Greed series from loaded events (SERIES "FGI" = published;
 * SERIES PRICE "BTC-USD" with aux0 volume = closes; SERIES FUNDING_MEAN
 * "BTCUSDT" = daily funding), days up to and including to_ns's UTC day,
 * appended to pub and to ours (our index, §7.2); either may be NULL to
 * skip it.  Returns SP_OK (missing inputs give empty series), SP_ENOMEM.
 */
SP_API sp_err sp_an_fg_from_events(const sp_an_events *e, int64_t to_ns, const sp_an_fg_weights *w,
                                   sp_an_series *pub, sp_an_series *ours);

/* The alternative.me band of a value: "Extreme Fear" ... "Extreme Greed" (§7.1). */
SP_API const char *sp_an_fg_label(double v);

/* ---- liquidation heatmap model (§8) ------------------------------------ */

/* One leverage bucket of the assumed mix. */
typedef struct sp_an_lev_bucket {
    double leverage; /* e.g. 25 */
    double share;    /* share of newly opened notional, 0..1 (normalised by the sum) */
} sp_an_lev_bucket;

/* Heatmap parameters. */
typedef struct sp_an_heat_opts {
    const sp_an_lev_bucket *mix; /* borrowed; NULL = the default mix (§8.2) */
    size_t nmix;
    double mmr;        /* maintenance margin rate (fraction), default 0.005 */
    double long_share; /* share of new notional that is long, default 0.5 */
    double band_lo;    /* lowest price band edge (quote units) */
    double band_hi;    /* highest price band edge */
    size_t bands;      /* number of price bands */
} sp_an_heat_opts;

/* A time x price grid of estimated liquidation notional (US$). */
typedef struct sp_an_heatmap {
    size_t steps;   /* rows: one per input bar */
    size_t bands;   /* columns */
    double band_lo; /* price of the lower edge of band 0 */
    double band_w;  /* band width, quote units */
    int64_t *ts_ns; /* steps open times */
    double *longs;  /* steps x bands: long liquidation notional resting in the band */
    double *shorts; /* steps x bands: short liquidation notional resting in the band */
    double *hit;    /* steps: notional whose level the bar's range crossed (liquidated) */
} sp_an_heatmap;

/*
 * Run the model over bars b[0..n) with the notional opened in each bar
 * opened[0..n) (US$, from open-interest increases; negative values close
 * positions pro rata): new positions enter at the bar's close, split by
 * the leverage mix and long share, and rest at their liquidation price
 * entry * (1 -+ 1/L +- mmr) until a later bar's low (longs) or high
 * (shorts) crosses it.  OUT: *out (sp_an_heatmap_fini).  SP_EINVAL for
 * bad options, SP_ENOMEM.
 */
SP_API sp_err sp_an_heatmap_build(const sp_an_bar *b, const double *opened, size_t n,
                                  const sp_an_heat_opts *o, sp_an_heatmap *out);

/*
 * The notional opened in each bar, for the heatmap: from the OPEN_INTEREST
 * events of e (aux0 = OI value in quote units at 1e-8; the last value seen
 * in a bar against the last one before it), or, for bars with no OI
 * reading on either side, proxy_share x the bar's quote volume (volume x
 * close) when proxy_share > 0, else 0.  OUT: opened[0..n).  Returns the
 * number of bars whose value came from open interest in *from_oi.
 */
SP_API void sp_an_heatmap_opened(const sp_an_bar *b, size_t n, const sp_an_events *e,
                                 double proxy_share, double *opened, size_t *from_oi);

/* Release a heatmap. */
SP_API void sp_an_heatmap_fini(sp_an_heatmap *h);

/* ---- loading from the store -------------------------------------------- */

/* Empty set (no allocation). */
SP_API void sp_an_events_init(sp_an_events *e);

/* Release the events and names. */
SP_API void sp_an_events_fini(sp_an_events *e);

/*
 * Append the events f selects from s to e (symbol names interned into
 * e->syms).  Errors of sp_store_query, SP_ETOOBIG past SP_AN_LOAD_MAX
 * events, SP_ENOMEM.
 */
#ifndef SP_AN_LOAD_MAX
#define SP_AN_LOAD_MAX (64u << 20)
#endif
SP_API sp_err sp_an_load(sp_store *s, const sp_store_filter *f, sp_an_events *e, sp_diag *d);

/*
 * Bars from the KLINE events of e with the given interval code (SP_KLINE_*)
 * and symbol, sorted by open time, one per open time.  OUT: *out (caller
 * frees with sp_free), *n.  SP_ENOTFOUND when none, SP_ENOMEM.
 */
SP_API sp_err sp_an_bars_from(const sp_an_events *e, unsigned venue, const char *symbol,
                              unsigned interval, sp_an_bar **out, size_t *n);

/*
 * Points (ts, px as a double at SP_EV_PX_SCALE) of the SERIES events of e
 * with the given series code and symbol, sorted by time, appended to out.
 */
SP_API sp_err sp_an_points_from(const sp_an_events *e, unsigned sub, const char *symbol,
                                sp_an_series *out);

/* ---- the crash-day report (§9) ----------------------------------------- */

#define SP_AN_REPORT_COINS   6  /* BTC, ETH, XRP, SOL, DOGE, BNB */
#define SP_AN_REPORT_MACRO   4  /* ^NDX, QQQ, GC=F, SI=F */
#define SP_AN_REPORT_MONTHS  4  /* the three months before the day's month, and its month */
#define SP_AN_REPORT_GROUPS  64 /* liquidation groups kept */
#define SP_AN_REPORT_FIGS    24 /* headline figures */
#define SP_AN_REPORT_SETTLES 8  /* funding settlements of the day kept */

/* What to report. */
typedef struct sp_an_report_opts {
    int64_t day_ns;     /* the day, 00:00 UTC (2026-02-06 = 1770336000e9) */
    int64_t from_ns;    /* liquidation window start (0 = day_ns) */
    int64_t window_ns;  /* liquidation window length (0 = 24 h) */
    int64_t at_ns;      /* end of the "24h move" window (0 = day_ns + 8 h, §9.3) */
    size_t corr_window; /* returns in the correlation window (0 = 30) */
    sp_an_ret corr_ret; /* return type of the correlation (default log) */
    int liq_source;     /* SP_AN_LIQ_AUTO (0), SP_AN_LIQ_EVENTS or SP_AN_LIQ_ROLLUPS */
} sp_an_report_opts;

/*
 * Where the report's liquidation figures come from (identical results):
 * AUTO = the store's per-minute roll-ups when the window is whole UTC
 * minutes, else the events; EVENTS = always the events; ROLLUPS = the
 * roll-ups (SP_EINVAL for an unaligned window).
 */
#define SP_AN_LIQ_AUTO    0
#define SP_AN_LIQ_EVENTS  1
#define SP_AN_LIQ_ROLLUPS 2

/* One headline figure: the article's number beside the data's (§9.1). */
typedef struct sp_an_figure {
    char key[32];      /* stable identifier, e.g. "btc_ath" */
    char label[64];    /* "BTC all-time high" */
    char article[48];  /* the article's figure as text, "" when the article gives none */
    char data[64];     /* what the data says, as text ("126,199.63 on 2025-10-06") */
    double value;      /* the data value as a number (unit in `unit`); 0 if !has_value */
    bool has_value;    /* false: the data has nothing for this figure (see note) */
    char unit[16];     /* "USDT", "%", "US$ bn", "index", "" */
    char source[96];   /* data file(s), as shipped under data/ */
    char formula[160]; /* the metric, with its docs/metrics.md section */
    char note[224];    /* where and why the article and the data differ ("" if they agree) */
} sp_an_figure;

/* One coin's moves around the day. */
typedef struct sp_an_coin_move {
    char symbol[16]; /* "ETHUSDT" */
    bool has_dd;     /* day-over-day change available */
    double dd;       /* close of the day / close of the previous day - 1 (1d bars) */
    bool has_24h;    /* 24h change at at_ns available */
    double ch24;     /* close at at_ns / close at at_ns - 24 h - 1 (4h bars) */
    int64_t low;     /* low of the day, scale 1e-8 (0 if unknown) */
} sp_an_coin_move;

/* Correlation of BTC with one macro series. */
typedef struct sp_an_macro_corr {
    char symbol[16]; /* "^NDX" */
    bool ok;         /* false: not enough common days */
    double r;        /* correlation */
    size_t used;     /* returns used */
} sp_an_macro_corr;

/* The whole report.  Plain data; no pointers to free. */
typedef struct sp_an_report {
    sp_an_report_opts opts;              /* the options, defaults filled in */
    sp_an_figure fig[SP_AN_REPORT_FIGS]; /* headline table */
    size_t nfig;
    sp_an_coin_move coin[SP_AN_REPORT_COINS]; /* 24h moves by coin */
    size_t ncoin;
    sp_an_macro_corr corr[SP_AN_REPORT_MACRO];   /* BTC vs macro */
    sp_an_flow_month month[SP_AN_REPORT_MONTHS]; /* ETF total flows by month */
    size_t nmonth;
    sp_an_funding_day funding; /* BTCUSDT funding of the day */
    bool has_funding;
    int64_t settle_ns[SP_AN_REPORT_SETTLES];   /* settlement times of the day */
    int64_t settle_rate[SP_AN_REPORT_SETTLES]; /* their rates, scale 1e-12 */
    size_t nsettle;
    sp_an_liq_group group[SP_AN_REPORT_GROUPS]; /* liquidations of the window */
    char group_symbol[SP_AN_REPORT_GROUPS][24]; /* symbol names of group[] */
    size_t ngroup;
    sp_an_liq_total liq;   /* totals of the window */
    sp_an_traders traders; /* forced orders counted / estimated */
    bool has_fg;           /* published F&G of the day found */
    double fg_published;   /* alternative.me value of the day */
    bool has_fg_ours;
    double fg_ours;           /* our index of the day */
    sp_an_agreement fg_agree; /* ours vs published, 2018-02 .. the day */
    bool has_fg_agree;
    uint64_t events_read; /* events loaded from the store */
} sp_an_report;

/*
 * Build the crash-day report for o->day_ns from the store s (see §9 for
 * every figure, its source and formula).  Missing data never fails the
 * report: the figure says "no data" with has_value false.  OUT: *out.
 * Errors: those of sp_store_query (SP_EIO, SP_EBUSY, SP_ECONN), SP_EINVAL
 * for bad options, SP_ENOMEM; d says what.
 */
SP_API sp_err sp_an_report_build(sp_store *s, const sp_an_report_opts *o, sp_an_report *out,
                                 sp_diag *d);

/*
 * Write the report's PNG charts into dir (created if missing; files
 * price_liquidations.png, heatmap.png, correlation.png, etf_flows.png,
 * fear_greed.png), drawn with cairo from the same store and day as r
 * (§10).  A chart whose data is absent from the store is skipped.
 * Errors: SP_EIO (cannot create dir or write a file), the store's errors,
 * SP_ENOMEM; d says what.
 */
SP_API sp_err sp_an_plots_write(sp_store *s, const sp_an_report *r, const char *dir, sp_diag *d);

/*
 * Release the plotting libraries' process-wide caches (cairo static data,
 * the fontconfig configuration), which leak checkers otherwise report.
 * Call once at exit, when no thread is drawing; sp_an_plots_write works
 * again afterwards (the caches are rebuilt).  No-op without cairo.
 */
SP_API void sp_an_plots_cleanup(void);

/* Find a figure by key; NULL if absent. */
SP_API const sp_an_figure *sp_an_report_figure(const sp_an_report *r, const char *key);

SP_END_DECLS

#endif /* STAMPEDE_ANALYTICS_H */
