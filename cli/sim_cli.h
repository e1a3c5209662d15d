/*
 * sim_cli.h -- the setup shared by `stampede simulate`, `stampede stress`
 * and the demo's simulation step (cli/cmd_simulate.c): the population and
 * market options, and building both from the shipped data.
 */
#ifndef STAMPEDE_CLI_SIM_H
#define STAMPEDE_CLI_SIM_H

#include "cli.h"
#include "stampede/sim.h"

/* The options every simulator verb takes (an initializer list for a cli_opt table). */
#define SIM_CLI_COMMON_OPTS                                                                      \
    {"venue", "NAME", "venue whose rules price the positions: binance (default), bybit"},        \
        {"symbol", "SYM", "instrument (default BTCUSDT)"},                                       \
        {"rules", "DIR", "exchange rules data (default: the repo's data/rules)"},                \
        {"positions", "N", "positions to generate (default 100000)"},                            \
        {"positions-file", "CSV", "load positions (side,entry_px,qty,leverage[,margin])"},       \
        {"oi-usd", "USD", "open interest to generate, e.g. 8e9 (default 8e9)"},                  \
        {"long-pct", "PCT", "long share of open interest, percent (default 50)"},                \
        {"lev-mix", "NAME", "leverage mix: default, low, high (default: default)"},              \
        {"size-alpha", "A", "Pareto exponent of position sizes (default 1.5)"},                  \
        {"at", "TIME", "scenario start, UTC (default 2026-02-05T00:00:00)"},                     \
        {"entry-days", "D", "days of price history entries are drawn from (default 30)"},        \
        {"klines", "CSV", "kline file for entry prices (default: Binance spot BTCUSDT 4h)"},     \
        {"price", "PX", "start price (default: the last kline close before --at)"},              \
        {"book", "SPEC",                                                                         \
         "shipped:bybit-btcusdt (default), shipped:binance-spot-btcusdt, model, "                \
         "or a capture file"},                                                                   \
        {"depth-1pct-usd", "USD", "square-root depth: notional within 1% of mid (default 5e7)"}, \
        {"insurance-usd", "USD", "insurance fund at the start (default 1e9)"},                   \
        {"seed", "N", "random seed (default 7)"},                                                \
    {                                                                                            \
        "json", NULL, "print JSON instead of tables"                                             \
    }

/* Everything a simulator verb builds before running. */
typedef struct sim_env {
    const char *verb;       /* for messages */
    sp_rules_db *db;        /* NULL when the built-in venue is used */
    sp_sim_venue venue;     /* rules of the positions */
    const char *venue_name; /* "binance", "bybit" */
    const char *symbol;     /* "BTCUSDT" */
    int64_t at_ms;          /* scenario start */
    int64_t start_px;       /* start mark, scale 8 */
    sp_sim_bar *bars;       /* entry history (sp_free) */
    size_t nbars;
    sp_sim_level *bids, *asks; /* snapshot (sp_free) */
    size_t nb, na;
    const char *book;     /* the --book value */
    int64_t depth_1pct;   /* scale 8 */
    int64_t insurance;    /* scale 8 */
    sp_sim_pop_cfg pcfg;  /* generator calibration */
    const char *pos_file; /* --positions-file or NULL */
    uint64_t rejected;    /* rows rejected from pos_file */
    sp_sim_market *mkt;   /* built market */
    bool json;
} sim_env;

/* Parse the common options and load rules, klines and the snapshot.  Returns -1 or an exit code. */
int sim_env_setup(sim_env *e, const cli_args *a, const char *verb, const char *data_dir);

/* Generate (or load) one population with the env's calibration and mix variant (-1 = --lev-mix). */
int sim_env_population(sim_env *e, int variant, sp_sim_pop **out);

/* Build e->mkt.  Returns -1 or an exit code. */
int sim_env_market(sim_env *e);

/* Free everything. */
void sim_env_fini(sim_env *e);

/* Parse "8e9", "-8", "1.5e-2" exactly at scale; false after printing why. */
bool sim_cli_num(const cli_args *a, const char *name, unsigned scale, int64_t dflt, int64_t *out);

/* Format v (scale 8) with `places` decimals into buf (>= SP_DEC_FMT_MAX); returns buf. */
const char *sim_cli_fmt(int64_t v, unsigned places, char *buf);

#endif
