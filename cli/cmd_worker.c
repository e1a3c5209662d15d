/*
 * cmd_worker.c -- `stampede worker` and the driver side of `stampede
 * stress --nats`: Monte Carlo scenarios as jobs on a JetStream work queue.
 *
 * Streams (created by whoever comes first):
 *   STAMPEDE_MC_JOBS     subjects mc.job.>, WorkQueue retention: a job is
 *                        deleted once a worker acks it
 *   STAMPEDE_MC_RESULTS  subjects mc.res.>, limits retention, 1 hour
 * A run has a 64-bit id; its jobs go to mc.job.<id>, its results to
 * mc.res.<id>.  Every worker pulls through one shared durable consumer
 * (stampede-mc-worker) with explicit acks and an ack wait (--ack-wait-ms):
 * a job whose worker dies unacked is redelivered to another worker after
 * the ack wait.  A worker publishes the job's rows (Msg-Id <run>-<first>,
 * so a redone job's second result is dropped by the server if still in
 * the duplicate window) and only then acks the job; while computing it
 * tells the server the job is in progress, so a long job is not
 * redelivered under a live worker.  The driver keeps the first result per
 * job, checks that a second one is identical (determinism), and
 * summarises the rows with sp_sim_mc_summarize: the same hash and figures
 * as `stampede stress` without --nats.
 *
 * Job message (little-endian): "SPMJ", u16 version 1, u16 0, u64 run id,
 * u32 first, u32 count, u32 k, u32 argument bytes, then the stress options
 * as NUL-terminated "--name=value" strings.  Result message: "SPMR", u16
 * version 1, u16 status (0 or the sp_err of a failed job), u64 run id, u32
 * first, u32 count, then count rows of 48 bytes (or the error text).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus_cli.h"
#include "stampede/bytes.h"
#include "stampede/hash.h"

#define JOB_MAGIC    0x4A4D5053u /* "SPMJ" */
#define RES_MAGIC    0x524D5053u /* "SPMR" */
#define MC_VERSION   1u
#define JOB_HDR      32u
#define RES_HDR      24u
#define ROW_BYTES    48u
#define JOBS_STREAM  "STAMPEDE_MC_JOBS"
#define RES_STREAM   "STAMPEDE_MC_RESULTS"
#define WORKER_GROUP "stampede-mc-worker"
#define ARGS_MAX     8192u

static const cli_opt opts[] = {
    {"nats", "URL", "NATS server(s), comma-separated (default nats://127.0.0.1:4222)"},
    {"threads", "T", "threads per job (default: the number of online CPUs)"},
    {"ack-wait-ms", "MS", "a job not acknowledged within MS goes to another worker (30000)"},
    {"replicas", "N", "replicas of the job and result streams when created (default 1)"},
    {"idle-exit", "S", "exit after S seconds without a job (default: run until a signal)"},
    {"max-jobs", "N", "exit after N jobs"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "worker",
    "[--nats URL] [--threads T] [--ack-wait-ms MS] [--idle-exit S] [--max-jobs N]",
    "Take Monte Carlo jobs (scenario ranges of a `stampede stress --nats` run) from the\n"
    "JetStream work queue, compute them with the same per-scenario seeding as the\n"
    "single-process run, publish the rows and acknowledge the job.  Any number of workers on\n"
    "any number of machines; a job whose worker dies is redone by another after the ack wait.\n"
    "Exit 0 clean, 2 usage error or no server.",
    opts,
    0,
    0,
};

static void put_row(unsigned char *p, const sp_sim_mc_row *r)
{
    sp_put_le32(p, (uint32_t)r->shock_bp);
    sp_put_le32(p + 4, r->thin_bp);
    sp_put_le32(p + 8, r->pop);
    sp_put_le32(p + 12, r->waves);
    sp_put_le64(p + 16, r->n_liq);
    sp_put_le64(p + 24, (uint64_t)r->notional);
    sp_put_le64(p + 32, (uint64_t)r->drawdown_bp);
    sp_put_le64(p + 40, (uint64_t)r->amplification_milli);
}

static void get_row(const unsigned char *p, sp_sim_mc_row *r)
{
    memset(r, 0, sizeof(*r));
    r->shock_bp = (int32_t)sp_get_le32(p);
    r->thin_bp = sp_get_le32(p + 4);
    r->pop = sp_get_le32(p + 8);
    r->waves = sp_get_le32(p + 12);
    r->n_liq = sp_get_le64(p + 16);
    r->notional = (int64_t)sp_get_le64(p + 24);
    r->drawdown_bp = (int64_t)sp_get_le64(p + 32);
    r->amplification_milli = (int64_t)sp_get_le64(p + 40);
}

/* Options not shipped to workers: they steer the driver only (or each worker sets its own). */
static bool driver_only(const char *name)
{
    static const char *const skip[] = {"nats",    "job-size", "timeout", "replicas",
                                       "threads", "json",     "rows"};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcmp(name, skip[i]) == 0)
            return true;
    return false;
}

static sp_err ensure_streams(sp_bus *bus, int replicas, sp_diag *d)
{
    sp_bus_stream_cfg jobs = {JOBS_STREAM, "mc.job.>", true, replicas, 0};
    sp_bus_stream_cfg res = {RES_STREAM, "mc.res.>", false, replicas, 3600000};
    sp_err rc = sp_bus_stream_ensure(bus, &jobs, d);
    return rc == SP_OK ? sp_bus_stream_ensure(bus, &res, d) : rc;
}

/* ---- the driver ------------------------------------------------------------------ */

/* Check one result message and copy its rows into rows[] (first copy wins, later ones must match).
 */
static sp_err take_result(const unsigned char *p, size_t len, uint64_t run, uint32_t job_size,
                          uint32_t k, sp_sim_mc_row *rows, unsigned char *have, uint32_t *done,
                          sp_diag *d)
{
    if (len < RES_HDR || sp_get_le32(p) != RES_MAGIC || sp_get_le16(p + 4) != MC_VERSION ||
        sp_get_le64(p + 8) != run)
        return sp_diag_set(d, SP_EPARSE, "malformed Monte Carlo result on mc.res");
    uint32_t first = sp_get_le32(p + 16), count = sp_get_le32(p + 20);
    if (sp_get_le16(p + 6) != 0) {
        size_t tl = len - RES_HDR;
        return sp_diag_set(d, (sp_err)sp_get_le16(p + 6), "worker failed scenarios %u+%u: %.*s",
                           first, count, (int)(tl > 200 ? 200 : tl), (const char *)p + RES_HDR);
    }
    if (first % job_size || first >= k || count == 0 || count > k - first ||
        len != RES_HDR + (size_t)count * ROW_BYTES)
        return sp_diag_set(d, SP_EPARSE, "Monte Carlo result with a bad range %u+%u", first, count);
    uint32_t job = first / job_size;
    for (uint32_t i = 0; i < count; i++) {
        sp_sim_mc_row r;
        get_row(p + RES_HDR + (size_t)i * ROW_BYTES, &r);
        if (have[job] && memcmp(&r, &rows[first + i], sizeof(r)) != 0)
            return sp_diag_set(d, SP_ESTATE,
                               "scenario %u computed twice with different rows: "
                               "the workers are not running the same build or data",
                               first + i);
        rows[first + i] = r;
    }
    if (!have[job]) {
        have[job] = 1;
        (*done)++;
    }
    return SP_OK;
}

sp_err bus_mc_drive(stress_run *r, const cli_args *a, sp_sim_mc_row *rows, sp_sim_mc_summary *sum,
                    sp_diag *d)
{
    int64_t job_size, tmo, rep;
    if (!cli_get_int(a, "job-size", 1, SP_SIM_MC_MAX, 1000, &job_size) ||
        !cli_get_int(a, "timeout", 1, 86400, 600, &tmo) ||
        !cli_get_int(a, "replicas", 1, 5, 1, &rep))
        return sp_diag_set(d, SP_EINVAL, "bad --job-size, --timeout or --replicas");
    uint32_t k = r->c.k, js = (uint32_t)job_size, njobs = (k + js - 1) / js;
    /* the options every worker rebuilds the run from */
    unsigned char *job = sp_malloc(JOB_HDR + ARGS_MAX);
    unsigned char *have = sp_calloc(njobs, 1);
    sp_bus *bus = NULL;
    sp_bus_sub *sub = NULL;
    sp_err rc = SP_ENOMEM;
    if (!job || !have) {
        sp_diag_set(d, rc, "Monte Carlo jobs");
        goto out;
    }
    size_t ab = 0;
    for (int i = 0; a->spec->opts[i].name; i++) {
        const char *name = a->spec->opts[i].name, *v = a->val[i];
        if (!v || driver_only(name))
            continue;
        size_t need = strlen(name) + 4 + (a->spec->opts[i].arg_name ? strlen(v) : 0);
        if (ab + need > ARGS_MAX) {
            rc = sp_diag_set(d, SP_ETOOBIG, "stress options longer than %u bytes", ARGS_MAX);
            goto out;
        }
        int n = a->spec->opts[i].arg_name
                    ? snprintf((char *)job + JOB_HDR + ab, need, "--%s=%s", name, v)
                    : snprintf((char *)job + JOB_HDR + ab, need, "--%s", name);
        ab += (size_t)n + 1;
    }
    uint64_t run = sp_fnv1a64(job + JOB_HDR, ab, SP_FNV64_OFFSET);
    run = sp_fnv1a64_i64(run, sp_clock_real_ns());
    run = sp_fnv1a64_i64(run, (int64_t)getpid());
    sp_bus_opts o = sp_bus_opts_default();
    o.replicas = (int)rep;
    if ((rc = sp_bus_open(cli_get(a, "nats"), &o, &bus, d)) != SP_OK ||
        (rc = ensure_streams(bus, (int)rep, d)) != SP_OK)
        goto out;
    char subj[64], id[48];
    snprintf(subj, sizeof(subj), "mc.res.%016llx", (unsigned long long)run);
    if ((rc = sp_bus_sub_open(bus, RES_STREAM, subj, NULL, 30000, 0, &sub, d)) != SP_OK)
        goto out;
    snprintf(subj, sizeof(subj), "mc.job.%016llx", (unsigned long long)run);
    sp_put_le32(job, JOB_MAGIC);
    sp_put_le16(job + 4, MC_VERSION);
    sp_put_le16(job + 6, 0);
    sp_put_le64(job + 8, run);
    sp_put_le32(job + 24, k);
    sp_put_le32(job + 28, (uint32_t)ab);
    for (uint32_t j = 0; j < njobs; j++) {
        uint32_t first = j * js, count = k - first < js ? k - first : js;
        sp_put_le32(job + 16, first);
        sp_put_le32(job + 20, count);
        snprintf(id, sizeof(id), "%016llx-%u", (unsigned long long)run, first);
        if ((rc = sp_bus_publish_raw(bus, subj, job, JOB_HDR + ab, id, NULL, d)) != SP_OK)
            goto out;
    }
    if (isatty(2))
        fprintf(stderr, "stress: run %016llx, %u jobs of %u scenarios on the work queue\n",
                (unsigned long long)run, njobs, js);
    uint32_t done = 0;
    int64_t deadline = sp_clock_mono_ns() + tmo * 1000000000LL;
    while (done < njobs) {
        if (sp_clock_mono_ns() > deadline) {
            rc = sp_diag_set(d, SP_ETIMEOUT,
                             "%u of %u jobs done after %lld s: are `stampede worker` processes "
                             "running against the same NATS?",
                             done, njobs, (long long)tmo);
            goto out;
        }
        sp_bus_msg *m[64];
        size_t got = 0;
        if ((rc = sp_bus_sub_fetch(sub, 64, 1000, m, &got, d)) != SP_OK)
            goto out;
        for (size_t i = 0; i < got; i++) {
            size_t len = 0;
            const unsigned char *p = sp_bus_msg_data(m[i], &len);
            if (rc == SP_OK)
                rc = take_result(p, len, run, js, k, rows, have, &done, d);
            if (rc == SP_OK)
                rc = sp_bus_msg_ack(m[i], d);
            sp_bus_msg_free(m[i]);
        }
        if (rc != SP_OK)
            goto out;
        if (r->c.progress)
            r->c.progress(r->c.progress_ctx, done, njobs);
    }
    rc = sp_sim_mc_summarize(rows, k, sum, d);
out:
    sp_bus_sub_close(sub);
    sp_bus_close(bus);
    sp_free(job);
    sp_free(have);
    return rc;
}

/* ---- the worker ------------------------------------------------------------------ */

/* The run a worker has built (populations and market are reused across a run's jobs). */
typedef struct cached {
    uint64_t run;
    char *args; /* the job's option strings (the env borrows them) */
    char *argv[CLI_MAX_OPTS + 2];
    cli_args a;
    stress_run r;
    bool ready;
} cached;

typedef struct beat {
    sp_bus_msg *m;
    int64_t every_ns, last_ns;
} beat;

/* Progress callback (serialised by sim): keep the job's ack wait from expiring. */
static void heartbeat(void *ctx, uint32_t done, uint32_t total)
{
    (void)done;
    (void)total;
    beat *b = ctx;
    int64_t now = sp_clock_mono_ns();
    if (now - b->last_ns >= b->every_ns) {
        b->last_ns = now;
        sp_bus_msg_progress(b->m, NULL);
    }
}

static void uncache(cached *c)
{
    if (c->ready)
        stress_fini(&c->r);
    sp_free(c->args);
    memset(c, 0, sizeof(*c));
}

/* Build (or reuse) the run of a job from its options; threads are the worker's own. */
static sp_err prepare(cached *c, uint64_t run, const unsigned char *args, uint32_t ab,
                      int64_t threads, sp_diag *d)
{
    if (c->ready && c->run == run)
        return SP_OK;
    uncache(c);
    if (ab == 0 || ab > ARGS_MAX || args[ab - 1] != '\0')
        return sp_diag_set(d, SP_EPARSE, "job options are not NUL-terminated strings");
    c->args = sp_malloc(ab + 32);
    if (!c->args)
        return sp_diag_set(d, SP_ENOMEM, "job options");
    memcpy(c->args, args, ab);
    int n = 0;
    c->argv[n++] = (char *)"stress";
    for (uint32_t off = 0; off < ab && n < CLI_MAX_OPTS; off += (uint32_t)strlen(c->args + off) + 1)
        c->argv[n++] = c->args + off;
    snprintf(c->args + ab, 32, "--threads=%lld", (long long)threads);
    c->argv[n++] = c->args + ab;
    c->argv[n] = NULL;
    /* stress_parse and stress_setup print why on stderr; the job result carries a short reason */
    if (stress_parse(n, c->argv, &c->a) >= 0)
        return sp_diag_set(d, SP_EINVAL, "job options refused by `stampede stress`");
    int rc = stress_setup(&c->a, &c->r);
    c->ready = true;
    c->run = run;
    if (rc >= 0) {
        uncache(c);
        return sp_diag_set(d, SP_EINVAL, "job options: setup failed (exit %d)", rc);
    }
    return SP_OK;
}

/* Publish a failed job's status so the driver stops with the reason instead of waiting. */
static sp_err publish_failure(sp_bus *bus, uint64_t run, uint32_t first, uint32_t count,
                              const sp_diag *why, sp_diag *d)
{
    unsigned char out[RES_HDR + SP_DIAG_MSG_MAX];
    sp_put_le32(out, RES_MAGIC);
    sp_put_le16(out + 4, MC_VERSION);
    sp_put_le16(out + 6, (uint16_t)(why->code ? why->code : SP_EINVAL));
    sp_put_le64(out + 8, run);
    sp_put_le32(out + 16, first);
    sp_put_le32(out + 20, count);
    size_t tl = strlen(why->msg);
    memcpy(out + RES_HDR, why->msg, tl);
    char subj[64];
    snprintf(subj, sizeof(subj), "mc.res.%016llx", (unsigned long long)run);
    return sp_bus_publish_raw(bus, subj, out, RES_HDR + tl, NULL, NULL, d);
}

/* One job: rows of scenarios first..first+count, published, then the job acked. */
static sp_err do_job(sp_bus *bus, sp_bus_msg *m, cached *c, int64_t threads, int64_t ack_wait,
                     uint64_t *scenarios, sp_diag *d)
{
    size_t len = 0;
    const unsigned char *p = sp_bus_msg_data(m, &len);
    if (len < JOB_HDR || sp_get_le32(p) != JOB_MAGIC || sp_get_le16(p + 4) != MC_VERSION ||
        len != JOB_HDR + (size_t)sp_get_le32(p + 28)) {
        /* not a job of ours: ack so it does not come back forever, and say so */
        fprintf(stderr, "stampede worker: dropping a malformed job on %s (%zu bytes)\n",
                sp_bus_msg_subject(m), len);
        return sp_bus_msg_ack(m, d);
    }
    uint64_t run = sp_get_le64(p + 8);
    uint32_t first = sp_get_le32(p + 16), count = sp_get_le32(p + 20), k = sp_get_le32(p + 24);
    fprintf(stderr, "worker: run %016llx job %u+%u (delivery %llu)\n", (unsigned long long)run,
            first, count, (unsigned long long)sp_bus_msg_deliveries(m));
    sp_diag why;
    sp_diag_clear(&why);
    sp_err rc = prepare(c, run, p + JOB_HDR, sp_get_le32(p + 28), threads, &why);
    if (rc == SP_OK && c->r.c.k != k)
        rc = sp_diag_set(&why, SP_EINVAL, "job says %u scenarios, options say %u", k, c->r.c.k);
    sp_sim_mc_row *rows = NULL;
    unsigned char *out = NULL;
    if (rc == SP_OK) {
        rows = sp_calloc(count ? count : 1, sizeof(*rows));
        out = sp_malloc(RES_HDR + (size_t)count * ROW_BYTES);
        if (!rows || !out)
            rc = sp_diag_set(&why, SP_ENOMEM, "job of %u scenarios", count);
    }
    if (rc == SP_OK) {
        beat b = {m, ack_wait * 1000000 / 3, sp_clock_mono_ns()};
        sp_sim_mc_cfg cfg = c->r.c;
        cfg.progress = heartbeat;
        cfg.progress_ctx = &b;
        rc = sp_sim_mc_run_range(&cfg, first, count, rows, &why);
    }
    if (rc == SP_ENOMEM) {
        /* not the job's fault: leave it unacked for another worker */
        sp_free(rows);
        sp_free(out);
        return sp_diag_set(d, rc, "%s", why.msg);
    }
    if (rc != SP_OK) {
        rc = publish_failure(bus, run, first, count, &why, d);
    } else {
        sp_put_le32(out, RES_MAGIC);
        sp_put_le16(out + 4, MC_VERSION);
        sp_put_le16(out + 6, 0);
        sp_put_le64(out + 8, run);
        sp_put_le32(out + 16, first);
        sp_put_le32(out + 20, count);
        for (uint32_t i = 0; i < count; i++)
            put_row(out + RES_HDR + (size_t)i * ROW_BYTES, &rows[i]);
        char subj[64], id[48];
        snprintf(subj, sizeof(subj), "mc.res.%016llx", (unsigned long long)run);
        snprintf(id, sizeof(id), "%016llx-%u", (unsigned long long)run, first);
        rc = sp_bus_publish_raw(bus, subj, out, RES_HDR + (size_t)count * ROW_BYTES, id, NULL, d);
        *scenarios += count;
    }
    sp_free(rows);
    sp_free(out);
    return rc == SP_OK ? sp_bus_msg_ack(m, d) : rc; /* ack only once the result is stored */
}

/* `stampede worker`: pull jobs until a signal, --idle-exit or --max-jobs. */
int cmd_worker(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t th, ackw, rep, idle, maxjobs;
    if (!cli_get_int(&a, "threads", 1, SP_SIM_THREADS_MAX, ncpu > 0 ? ncpu : 1, &th) ||
        !cli_get_int(&a, "ack-wait-ms", 100, 3600000, 30000, &ackw) ||
        !cli_get_int(&a, "replicas", 1, 5, 1, &rep) ||
        !cli_get_int(&a, "idle-exit", 0, 86400, 0, &idle) ||
        !cli_get_int(&a, "max-jobs", 0, INT64_MAX, 0, &maxjobs))
        return CLI_EXIT_USAGE;
    sp_diag d;
    sp_diag_clear(&d);
    char line[SP_DIAG_MSG_MAX + 1200];
    sp_bus *bus = NULL;
    sp_bus_sub *sub = NULL;
    sp_bus_opts o = sp_bus_opts_default();
    o.replicas = (int)rep;
    cached c;
    memset(&c, 0, sizeof(c));
    rc = CLI_EXIT_USAGE;
    if (sp_bus_open(cli_get(&a, "nats"), &o, &bus, &d) != SP_OK ||
        ensure_streams(bus, (int)rep, &d) != SP_OK ||
        sp_bus_sub_open(bus, JOBS_STREAM, "mc.job.>", WORKER_GROUP, ackw, 0, &sub, &d) != SP_OK) {
        cli_error("worker", "%s", sp_diag_format(&d, line, sizeof(line)));
        goto out;
    }
    volatile sig_atomic_t *stop = cli_stop_on_signals(false);
    uint64_t jobs = 0, scenarios = 0, redelivered = 0;
    int64_t t0 = sp_clock_mono_ns(), last = t0;
    while (!*stop && (!maxjobs || jobs < (uint64_t)maxjobs)) {
        sp_bus_msg *m = NULL;
        size_t got = 0;
        if (sp_bus_sub_fetch(sub, 1, 1000, &m, &got, &d) != SP_OK) {
            cli_error("worker", "%s", sp_diag_format(&d, line, sizeof(line)));
            goto out;
        }
        int64_t now = sp_clock_mono_ns();
        if (got == 0) {
            if (idle && now - last >= idle * 1000000000LL)
                break;
            continue;
        }
        if (sp_bus_msg_deliveries(m) > 1)
            redelivered++;
        sp_err e = do_job(bus, m, &c, th, ackw, &scenarios, &d);
        sp_bus_msg_free(m);
        if (e != SP_OK) {
            cli_error("worker", "%s", sp_diag_format(&d, line, sizeof(line)));
            goto out;
        }
        jobs++;
        last = sp_clock_mono_ns();
    }
    double secs = (double)(sp_clock_mono_ns() - t0) / 1e9;
    if (cli_has(&a, "json"))
        printf("{\"jobs\":%llu,\"scenarios\":%llu,\"redelivered\":%llu,\"seconds\":%.3f}\n",
               (unsigned long long)jobs, (unsigned long long)scenarios,
               (unsigned long long)redelivered, secs);
    else
        printf("worker: %llu jobs, %llu scenarios, %llu redelivered jobs, %.2f s\n",
               (unsigned long long)jobs, (unsigned long long)scenarios,
               (unsigned long long)redelivered, secs);
    rc = CLI_EXIT_OK;
out:
    uncache(&c);
    sp_bus_sub_close(sub);
    sp_bus_close(bus);
    return rc;
}
