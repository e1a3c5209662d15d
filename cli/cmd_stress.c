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
 *
 * With --nats URL the same run is distributed (cli/bus_mc.c): the scenario
 * range is cut into jobs on the JetStream work queue, any number of
 * `stampede worker` processes compute them, and this process gathers the
 * rows and summarises them with sp_sim_mc_summarize: the output (hash
 * included) is the same as the single-process run's, bit for bit.
 * stress_setup / stress_print are shared with the worker (bus_cli.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus_cli.h"

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
    {"nats", "URL", "distribute the scenarios as jobs to `stampede worker` processes via NATS"},
    {"job-size", "N", "--nats: scenarios per job (default 1000)"},
    {"timeout", "S", "--nats: give up when the results are not all in after S seconds (600)"},
    {"replicas", "N", "--nats: replicas of the job and result streams when created (default 1)"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "stress",
    "[--scenarios K] [--threads T] [--positions N] [--oi-usd USD] [--seed N] [--json] "
    "[--nats URL] ...",
    "Monte Carlo stress test: K cascade scenarios with random shock size and direction, depth\n"
    "thinning and leverage mix, run across threads (deterministic per seed whatever the thread\n"
    "count).  Prints quantiles of liquidated notional, drawdown and amplification, and the\n"
    "probability that the fall exceeds 5, 10, 15, 20 and 30%.  With --nats the scenarios are\n"
    "jobs on a JetStream work queue computed by `stampede worker` processes; the result is the\n"
    "same, bit for bit.",
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

/* Parse argv with the stress option table (for the worker: argv comes from a job). */
int stress_parse(int argc, char **argv, cli_args *a)
{
    return cli_parse(&spec, argc, argv, a);
}

/*
 * The scenario distribution from the options, one population per
 * leverage-mix variant, one market: everything sp_sim_mc_run needs, in
 * r->c.  Returns -1 when ready, otherwise the exit code (after printing
 * why).  stress_fini frees what was built, whatever the outcome.
 */
int stress_setup(const cli_args *a, stress_run *r)
{
    memset(r, 0, sizeof(*r));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t k, th, res;
    if (!cli_get_int(a, "scenarios", 1, SP_SIM_MC_MAX, 1000, &k) ||
        !cli_get_int(a, "threads", 1, SP_SIM_THREADS_MAX, ncpu > 0 ? ncpu : 1, &th) ||
        !pct_opt(a, "shock-min-pct", 100, 9900, &r->smin) ||
        !pct_opt(a, "shock-max-pct", 1500, 9900, &r->smax) ||
        !pct_opt(a, "down-pct", 7000, 10000, &r->down) ||
        !pct_opt(a, "thin-max-pct", 8000, 9900, &r->thin) ||
        !pct_opt(a, "resilience-pct", 0, 10000, &res) ||
        !cli_get_int(a, "variants", 1, 3, 3, &r->nv))
        return CLI_EXIT_USAGE;
    if (r->smin == 0 || r->smin > r->smax) {
        cli_error("stress", "need 0 < --shock-min-pct <= --shock-max-pct");
        return CLI_EXIT_USAGE;
    }
    int rc;
    r->env_used = true;
    if ((rc = sim_env_setup(&r->e, a, "stress", SP_SOURCE_DIR "/data")) >= 0)
        return rc;
    if (r->e.pos_file)
        r->nv = 1; /* a loaded population has one leverage mix: its own */
    for (int64_t v = 0; v < r->nv; v++)
        if ((rc = sim_env_population(&r->e, r->e.pos_file ? -1 : (int)v, &r->pops[v])) >= 0)
            return rc;
    if ((rc = sim_env_market(&r->e)) >= 0)
        return rc;
    sp_sim_mc_cfg c = sp_sim_mc_cfg_default();
    c.k = (uint32_t)k;
    c.threads = (uint32_t)th;
    c.seed = r->e.pcfg.seed;
    c.shock_min_bp = (uint32_t)r->smin;
    c.shock_max_bp = (uint32_t)r->smax;
    c.down_bp = (uint32_t)r->down;
    c.thin_max_bp = (uint32_t)r->thin;
    c.resilience_bp = (uint32_t)res;
    c.insurance_usd = r->e.insurance;
    c.pops = (const sp_sim_pop *const *)r->pops;
    c.npops = (size_t)r->nv;
    c.market = r->e.mkt;
    r->c = c;
    return -1;
}

/* Free what stress_setup built. */
void stress_fini(stress_run *r)
{
    for (int i = 0; i < 3; i++)
        sp_sim_pop_free(r->pops[i]);
    if (r->env_used)
        sim_env_fini(&r->e);
    memset(r, 0, sizeof(*r));
}

/* Print the summary (and --rows) as a table or JSON; identical for local and distributed runs. */
void stress_print(const stress_run *r, const cli_args *a, const sp_sim_mc_row *rows,
                  const sp_sim_mc_summary *sum, int64_t elapsed_ns)
{
    const sp_sim_mc_cfg *cp = &r->c;
    int64_t k = cp->k, nv = r->nv;
    char b[6][SP_DEC_FMT_MAX];
    if (r->e.json) {
        printf("{\"scenarios\":%u,\"threads\":%u,\"seed\":%llu,\"variants\":%lld,"
               "\"positions\":%zu,\"elapsed_ms\":%lld,\"hash\":\"%016llx\",\"quantiles\":[",
               sum->k, cp->threads, (unsigned long long)cp->seed, (long long)nv,
               sp_sim_pop_count(r->pops[0]), (long long)(elapsed_ns / 1000000),
               (unsigned long long)sum->hash);
        for (unsigned i = 0; i < SP_SIM_MC_QUANTILES; i++)
            printf("%s{\"q_pct\":\"%s\",\"liquidated_usdt\":\"%s\",\"drawdown_pct\":\"%s\","
                   "\"amplification\":\"%s\"}",
                   i ? "," : "", sim_cli_fmt((int64_t)sp_sim_mc_quantile_bp(i) * 1000000, 0, b[0]),
                   sim_cli_fmt(sum->q_notional[i], 0, b[1]),
                   sim_cli_fmt(sum->q_drawdown_bp[i] * 1000000, 2, b[2]),
                   sim_cli_fmt(sum->q_amplification_milli[i] * 100000, 3, b[3]));
        printf("],\"p_fall\":[");
        for (unsigned i = 0; i < SP_SIM_MC_THRESHOLDS; i++)
            printf("%s{\"fall_pct\":\"%s\",\"probability_pct\":\"%s\"}", i ? "," : "",
                   sim_cli_fmt((int64_t)sp_sim_mc_threshold_bp(i) * 1000000, 0, b[0]),
                   sim_cli_fmt((int64_t)sum->p_fall_bp[i] * 1000000, 2, b[1]));
        printf("]");
        if (cli_has(a, "rows")) {
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
        return;
    }
    printf("stress: %u scenarios on %u threads in %lld ms, %zu positions x %lld leverage "
           "mix(es), seed %llu, hash %016llx\n",
           sum->k, cp->threads, (long long)(elapsed_ns / 1000000), sp_sim_pop_count(r->pops[0]),
           (long long)nv, (unsigned long long)cp->seed, (unsigned long long)sum->hash);
    printf("shocks %s%%..%s%% (%s%% falls), thinning 0..%s%%, start %s, %s\n\n",
           sim_cli_fmt(r->smin * 1000000, 2, b[0]), sim_cli_fmt(r->smax * 1000000, 2, b[1]),
           sim_cli_fmt(r->down * 1000000, 0, b[2]), sim_cli_fmt(r->thin * 1000000, 0, b[3]),
           sim_cli_fmt(r->e.start_px, 1, b[4]), r->e.book);
    printf("%9s %20s %14s %14s\n", "quantile", "liquidated USDT", "|move| %", "amplification");
    for (unsigned i = 0; i < SP_SIM_MC_QUANTILES; i++)
        printf("%8s%% %20s %14s %14s\n",
               sim_cli_fmt((int64_t)sp_sim_mc_quantile_bp(i) * 1000000, 0, b[0]),
               sim_cli_fmt(sum->q_notional[i], 0, b[1]),
               sim_cli_fmt(sum->q_drawdown_bp[i] * 1000000, 2, b[2]),
               sim_cli_fmt(sum->q_amplification_milli[i] * 100000, 3, b[3]));
    printf("\n");
    for (unsigned i = 0; i < SP_SIM_MC_THRESHOLDS; i++)
        printf("P(fall > %s%%) = %s%%\n",
               sim_cli_fmt((int64_t)sp_sim_mc_threshold_bp(i) * 1000000, 0, b[0]),
               sim_cli_fmt((int64_t)sum->p_fall_bp[i] * 1000000, 2, b[1]));
    if (cli_has(a, "rows")) {
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

/*
 * `stampede stress`: stress_setup, then sp_sim_mc_run on the threads asked
 * for (default: every online CPU), or with --nats the distributed run
 * (bus_mc_drive), and the summary.
 */
int cmd_stress(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    stress_run r;
    sp_sim_mc_row *rows = NULL;
    if ((rc = stress_setup(&a, &r)) >= 0)
        goto out;
    bar pb = {isatty(2) != 0, 101};
    r.c.progress = progress;
    r.c.progress_ctx = &pb;
    rows = sp_calloc(r.c.k, sizeof(*rows));
    sp_sim_mc_summary sum;
    sp_diag d;
    sp_diag_clear(&d);
    int64_t t0 = sp_clock_mono_ns();
    sp_err err = SP_ENOMEM;
    if (rows && cli_get(&a, "nats"))
        err = bus_mc_drive(&r, &a, rows, &sum, &d);
    else if (rows)
        err = sp_sim_mc_run(&r.c, rows, &sum, &d);
    int64_t t1 = sp_clock_mono_ns();
    if (err != SP_OK) {
        char line[512];
        if (err == SP_ENOMEM && !rows)
            sp_diag_set(&d, err, "out of memory");
        cli_error("stress", "%s", sp_diag_format(&d, line, sizeof(line)));
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    stress_print(&r, &a, rows, &sum, t1 - t0);
    rc = r.e.rejected ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    sp_free(rows);
    stress_fini(&r);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
