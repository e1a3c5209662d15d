/*
 * cmd_stress.c -- `stampede stress`: Monte Carlo of liquidation cascades.
 *
 * Builds the population once per leverage-mix variant (default, low,
 * high: the documented range of docs/internals/sim.md) and the market
 * once, then runs K scenarios on T threads through sp_sim_mc_run: shock
 * size and direction, depth thinning and the mix are drawn per scenario
 * from its own seeded stream, so the output is the same for any thread
 * count.  Prints quantiles of liquidated notional, drawdown and
 * amplification, and the probability that the fall exceeds 5..30%.  A
 * progress bar is drawn on stderr when it is a terminal.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim_cli.h"

static const cli_opt opts[] = {
    SIM_CLI_COMMON_OPTS,
    {"scenarios", "K", "scenarios to run (default 1000)"},
    {"threads", "T", "worker threads (default: the number of online CPUs)"},
    {"shock-min-pct", "PCT", "smallest exogenous move, percent (default 1)"},
    {"shock-max-pct", "PCT", "largest exogenous move, percent (default 15)"},
    {"down-pct", "PCT", "probability that the move is a fall, percent (default 70)"},
    {"thin-max-pct", "PCT", "largest depth thinning, percent (default 80)"},
    {"resilience-pct", "PCT", "consumed depth refilled between waves, percent (default 0)"},
    {"variants", "N", "leverage-mix variants drawn from: 1 default, 2 +low, 3 +high (default 3)"},
    {"rows", NULL, "also print every scenario (JSON: \"rows\", table: one line each)"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "stress",
    "[--scenarios K] [--threads T] [--positions N] [--oi-usd USD] [--seed N] [--json] ...",
    "Monte Carlo stress test: K cascade scenarios with random shock size and direction, depth\n"
    "thinning and leverage mix, run across threads (deterministic per seed whatever the thread\n"
    "count).  Prints quantiles of liquidated notional, drawdown and amplification, and the\n"
    "probability that the fall exceeds 5, 10, 15, 20 and 30%.",
    opts,
    0,
    0,
};

typedef struct bar {
    bool tty;
    uint32_t last;
} bar;

/* Draw "[#####.....]  42% 420/1000" on stderr when it is a terminal, once per percent. */
static void progress(void *ctx, uint32_t done, uint32_t total)
{
    bar *b = ctx;
    uint32_t pct = (uint32_t)((uint64_t)done * 100 / total);
    if (!b->tty || (pct == b->last && done != total))
        return;
    b->last = pct;
    char line[64];
    uint32_t fill = pct / 5;
    for (uint32_t i = 0; i < 20; i++)
        line[i] = i < fill ? '#' : '.';
    line[20] = '\0';
    fprintf(stderr, "\r[%s] %3u%% %u/%u", line, pct, done, total);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static bool pct_opt(const cli_args *a, const char *name, int64_t dflt, int64_t max, int64_t *out)
{
    if (!sim_cli_num(a, name, 2, dflt, out))
        return false;
    if (*out < 0 || *out > max) {
        cli_error("stress", "--%s must be 0 .. %lld%%", name, (long long)(max / 100));
        return false;
    }
    return true;
}

/*
 * `stampede stress`: the scenario distribution from the options, one
 * population per leverage-mix variant, one market, then sp_sim_mc_run on
 * the threads asked for (default: every online CPU) and the summary.
 */
int cmd_stress(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t k, th, smin, smax, down, thin, res, nv;
    if (!cli_get_int(&a, "scenarios", 1, SP_SIM_MC_MAX, 1000, &k) ||
        !cli_get_int(&a, "threads", 1, SP_SIM_THREADS_MAX, ncpu > 0 ? ncpu : 1, &th) ||
        !pct_opt(&a, "shock-min-pct", 100, 9900, &smin) ||
        !pct_opt(&a, "shock-max-pct", 1500, 9900, &smax) ||
        !pct_opt(&a, "down-pct", 7000, 10000, &down) ||
        !pct_opt(&a, "thin-max-pct", 8000, 9900, &thin) ||
        !pct_opt(&a, "resilience-pct", 0, 10000, &res) ||
        !cli_get_int(&a, "variants", 1, 3, 3, &nv))
        return CLI_EXIT_USAGE;
    if (smin == 0 || smin > smax) {
        cli_error("stress", "need 0 < --shock-min-pct <= --shock-max-pct");
        return CLI_EXIT_USAGE;
    }
    sim_env e;
    sp_sim_pop *pops[3] = {NULL, NULL, NULL};
    sp_sim_mc_row *rows = NULL;
    if ((rc = sim_env_setup(&e, &a, "stress", SP_SOURCE_DIR "/data")) >= 0)
        goto out;
    if (e.pos_file)
        nv = 1; /* a loaded population has one leverage mix: its own */
    for (int64_t v = 0; v < nv; v++)
        if ((rc = sim_env_population(&e, e.pos_file ? -1 : (int)v, &pops[v])) >= 0)
            goto out;
    if ((rc = sim_env_market(&e)) >= 0)
        goto out;
    sp_sim_mc_cfg c = sp_sim_mc_cfg_default();
    c.k = (uint32_t)k;
    c.threads = (uint32_t)th;
    c.seed = e.pcfg.seed;
    c.shock_min_bp = (uint32_t)smin;
    c.shock_max_bp = (uint32_t)smax;
    c.down_bp = (uint32_t)down;
    c.thin_max_bp = (uint32_t)thin;
    c.resilience_bp = (uint32_t)res;
    c.insurance_usd = e.insurance;
    c.pops = (const sp_sim_pop *const *)pops;
    c.npops = (size_t)nv;
    c.market = e.mkt;
    bar pb = {isatty(2) != 0, 101};
    c.progress = progress;
    c.progress_ctx = &pb;
    rows = sp_calloc((size_t)k, sizeof(*rows));
    sp_sim_mc_summary sum;
    sp_diag d;
    sp_diag_clear(&d);
    int64_t t0 = sp_clock_mono_ns();
    sp_err err = rows ? sp_sim_mc_run(&c, rows, &sum, &d) : SP_ENOMEM;
    int64_t t1 = sp_clock_mono_ns();
    if (err != SP_OK) {
        char line[512];
        if (err == SP_ENOMEM && !rows)
            sp_diag_set(&d, err, "out of memory");
        cli_error("stress", "%s", sp_diag_format(&d, line, sizeof(line)));
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    char b[6][SP_DEC_FMT_MAX];
    if (e.json) {
        printf("{\"scenarios\":%u,\"threads\":%u,\"seed\":%llu,\"variants\":%lld,"
               "\"positions\":%zu,\"elapsed_ms\":%lld,\"hash\":\"%016llx\",\"quantiles\":[",
               sum.k, c.threads, (unsigned long long)c.seed, (long long)nv,
               sp_sim_pop_count(pops[0]), (long long)((t1 - t0) / 1000000),
               (unsigned long long)sum.hash);
        for (unsigned i = 0; i < SP_SIM_MC_QUANTILES; i++)
            printf("%s{\"q_pct\":\"%s\",\"liquidated_usdt\":\"%s\",\"drawdown_pct\":\"%s\","
                   "\"amplification\":\"%s\"}",
                   i ? "," : "", sim_cli_fmt((int64_t)sp_sim_mc_quantile_bp(i) * 1000000, 0, b[0]),
                   sim_cli_fmt(sum.q_notional[i], 0, b[1]),
                   sim_cli_fmt(sum.q_drawdown_bp[i] * 1000000, 2, b[2]),
                   sim_cli_fmt(sum.q_amplification_milli[i] * 100000, 3, b[3]));
        printf("],\"p_fall\":[");
        for (unsigned i = 0; i < SP_SIM_MC_THRESHOLDS; i++)
            printf("%s{\"fall_pct\":\"%s\",\"probability_pct\":\"%s\"}", i ? "," : "",
                   sim_cli_fmt((int64_t)sp_sim_mc_threshold_bp(i) * 1000000, 0, b[0]),
                   sim_cli_fmt((int64_t)sum.p_fall_bp[i] * 1000000, 2, b[1]));
        printf("]");
        if (cli_has(&a, "rows")) {
            printf(",\"rows\":[");
            for (int64_t i = 0; i < k; i++)
                printf("%s{\"shock_pct\":\"%s\",\"thin_pct\":\"%s\",\"variant\":%u,\"waves\":%u,"
                       "\"traders\":%llu,\"liquidated_usdt\":\"%s\",\"drawdown_pct\":\"%s\","
                       "\"amplification\":\"%s\"}",
                       i ? "," : "", sim_cli_fmt((int64_t)rows[i].shock_bp * 1000000, 2, b[0]),
                       sim_cli_fmt((int64_t)rows[i].thin_bp * 1000000, 2, b[1]), rows[i].pop,
                       rows[i].waves, (unsigned long long)rows[i].n_liq,
                       sim_cli_fmt(rows[i].notional, 0, b[2]),
                       sim_cli_fmt(rows[i].drawdown_bp * 1000000, 2, b[3]),
                       sim_cli_fmt(rows[i].amplification_milli * 100000, 3, b[4]));
            printf("]");
        }
        printf("}\n");
    } else {
        printf("stress: %u scenarios on %u threads in %lld ms, %zu positions x %lld leverage "
               "mix(es), seed %llu, hash %016llx\n",
               sum.k, c.threads, (long long)((t1 - t0) / 1000000), sp_sim_pop_count(pops[0]),
               (long long)nv, (unsigned long long)c.seed, (unsigned long long)sum.hash);
        printf("shocks %s%%..%s%% (%s%% falls), thinning 0..%s%%, start %s, %s\n\n",
               sim_cli_fmt(smin * 1000000, 2, b[0]), sim_cli_fmt(smax * 1000000, 2, b[1]),
               sim_cli_fmt(down * 1000000, 0, b[2]), sim_cli_fmt(thin * 1000000, 0, b[3]),
               sim_cli_fmt(e.start_px, 1, b[4]), e.book);
        printf("%9s %20s %14s %14s\n", "quantile", "liquidated USDT", "|move| %", "amplification");
        for (unsigned i = 0; i < SP_SIM_MC_QUANTILES; i++)
            printf("%8s%% %20s %14s %14s\n",
                   sim_cli_fmt((int64_t)sp_sim_mc_quantile_bp(i) * 1000000, 0, b[0]),
                   sim_cli_fmt(sum.q_notional[i], 0, b[1]),
                   sim_cli_fmt(sum.q_drawdown_bp[i] * 1000000, 2, b[2]),
                   sim_cli_fmt(sum.q_amplification_milli[i] * 100000, 3, b[3]));
        printf("\n");
        for (unsigned i = 0; i < SP_SIM_MC_THRESHOLDS; i++)
            printf("P(fall > %s%%) = %s%%\n",
                   sim_cli_fmt((int64_t)sp_sim_mc_threshold_bp(i) * 1000000, 0, b[0]),
                   sim_cli_fmt((int64_t)sum.p_fall_bp[i] * 1000000, 2, b[1]));
        if (cli_has(&a, "rows")) {
            printf("\n%8s %9s %7s %5s %9s %18s %10s %8s\n", "shock%", "thin%", "mix", "waves",
                   "traders", "liquidated USDT", "drawdown%", "ampl");
            for (int64_t i = 0; i < k; i++)
                printf("%8s %9s %7u %5u %9llu %18s %10s %8s\n",
                       sim_cli_fmt((int64_t)rows[i].shock_bp * 1000000, 2, b[0]),
                       sim_cli_fmt((int64_t)rows[i].thin_bp * 1000000, 2, b[1]), rows[i].pop,
                       rows[i].waves, (unsigned long long)rows[i].n_liq,
                       sim_cli_fmt(rows[i].notional, 0, b[2]),
                       sim_cli_fmt(rows[i].drawdown_bp * 1000000, 2, b[3]),
                       sim_cli_fmt(rows[i].amplification_milli * 100000, 3, b[4]));
        }
    }
    rc = e.rejected ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    sp_free(rows);
    for (int i = 0; i < 3; i++)
        sp_sim_pop_free(pops[i]);
    sim_env_fini(&e);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
