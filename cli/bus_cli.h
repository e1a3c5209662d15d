/*
 * bus_cli.h -- the distributed Monte Carlo shared by `stampede stress
 * --nats` (the driver, cmd_stress.c) and `stampede worker` (cmd_worker.c).
 *
 * stress_setup builds the scenario distribution, populations and market
 * from stress options; the driver and every worker run it on the same
 * options (the driver ships them inside each job), so each side holds the
 * same sp_sim_mc_cfg and sp_sim_mc_run_range gives every process the rows
 * the single-process run would.  The job and result messages are
 * documented in docs/internals/bus.md.
 */
#ifndef STAMPEDE_CLI_BUS_H
#define STAMPEDE_CLI_BUS_H

#include "sim_cli.h"
#include "stampede/bus.h"

/* Everything `stampede stress` builds before running. */
typedef struct stress_run {
    sim_env e;           /* options, rules, klines, market */
    bool env_used;       /* e must be freed */
    sp_sim_pop *pops[3]; /* one per leverage-mix variant */
    int64_t nv;          /* variants */
    int64_t smin, smax;  /* shock range, bp */
    int64_t down, thin;  /* fall probability, thinning maximum, bp */
    sp_sim_mc_cfg c;     /* ready for sp_sim_mc_run / _run_range */
} stress_run;

/* cli_parse with the stress option table.  Returns -1 or the exit code. */
int stress_parse(int argc, char **argv, cli_args *a);

/* Build r from parsed stress options.  Returns -1 when ready, else the exit code. */
int stress_setup(const cli_args *a, stress_run *r);

/* Free what stress_setup built (safe after a failed setup). */
void stress_fini(stress_run *r);

/* Print the summary (and --rows) exactly as the single-process run does. */
void stress_print(const stress_run *r, const cli_args *a, const sp_sim_mc_row *rows,
                  const sp_sim_mc_summary *sum, int64_t elapsed_ns);

/*
 * The driver: cut r->c.k scenarios into jobs of --job-size, publish them on
 * the work queue with the options in a (minus the driver-only ones), gather
 * every result row (de-duplicated by scenario; a redone job must give the
 * same rows) into rows[0..k), and summarise with sp_sim_mc_summarize.
 * Returns SP_OK, SP_ETIMEOUT (results missing after --timeout), a worker's
 * error, or the bus's.
 */
sp_err bus_mc_drive(stress_run *r, const cli_args *a, sp_sim_mc_row *rows, sp_sim_mc_summary *sum,
                    sp_diag *d);

#endif
