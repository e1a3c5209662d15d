/*
 * bench_bus.c -- the NATS JetStream bus on real servers (issue 11).
 *
 *   bench_bus STAMPEDE_BIN
 *
 * Run by bench/bench_bus.cmake under tests/integration/pg_server.sh and two
 * nats_server.sh (one single node: SP_BENCH_NATS_1, one 3-node cluster:
 * SP_BENCH_NATS_3; PostgreSQL: SP_TEST_PG_URI).  Measures, each the median
 * of BENCH_RUNS runs with min and max:
 *
 *   1. baseline: core NATS publish (no JetStream, no acks) of the same
 *      encoded batches from this process, to the single node; `nats bench`
 *      (the NATS CLI) is not packaged in Debian 12, so the baseline is our
 *      own code on the plain protocol;
 *   2. sp_bus_publish + sp_bus_flush (async JetStream, acks counted) to the
 *      single node, R1, and to the cluster, R3; ratios against (1);
 *   3. NATS -> PostgreSQL: a durable consumer draining one run's events
 *      into the store (fetch, COPY, commit, ack), events/s;
 *   4. Monte Carlo scenarios/s through `stampede stress --nats` with 1, 2
 *      and 4 `stampede worker` processes (1 thread each) against the
 *      single-process `stampede stress --threads 1` on the same options:
 *      the machine has 2 cores, so 2 workers is the ceiling.
 *
 * Correctness: every run's acks equal its batches, the drained events
 * equal the published ones, the store count at the end equals every
 * event published to the single node, and the distributed Monte Carlo
 * hash equals the single-process one.  Each run publishes distinct events
 * (the run number is folded into the trade ids and times), so the server
 * never drops a run as duplicates.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "stampede/stampede.h"

#ifdef STAMPEDE_HAVE_NATS
#include <nats/nats.h>

extern char **environ;

#define NAME   "bench_bus"
#define EVENTS 200000u
#define BATCH  1024u

static sp_event *events;
static sp_symtab *syms;

/* Run r's events: one symbol, trades with distinct ids and times per run. */
static void make_events(unsigned r)
{
    for (uint32_t i = 0; i < EVENTS; i++) {
        sp_event *e = &events[i];
        memset(e, 0, sizeof(*e));
        e->kind = SP_EV_TRADE;
        e->venue = SP_VENUE_BINANCE_UM;
        e->symbol_id = 1;
        e->flags = (uint8_t)(i & 1);
        int64_t id = (int64_t)r * EVENTS + i + 1;
        e->exch_ts_ns = 1770336000000000000LL + id * 1000;
        e->px = 6000000000000LL + (int64_t)(i % 5000) * 100000000LL;
        e->qty = 100000 + (int64_t)(i % 999);
        e->aux[0] = id;
    }
}

static void die(const char *what, const sp_diag *d)
{
    char line[512];
    fprintf(stderr, NAME ": %s: %s\n", what, d ? sp_diag_format(d, line, sizeof(line)) : "");
    exit(1);
}

/* (1) core NATS: publish the run's encoded batches, then one flush (server has them all). */
static double core_publish(const char *url, unsigned r)
{
    make_events(r);
    natsConnection *nc = NULL;
    if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
        die("core connect", NULL);
    static unsigned char buf[SP_BUS_BATCH_BYTES(SP_SYMBOL_MAX, BATCH)];
    double t0 = bench_now();
    for (uint32_t i = 0; i < EVENTS; i += BATCH) {
        size_t len = 0, n = EVENTS - i < BATCH ? EVENTS - i : BATCH;
        sp_bus_encode(events + i, n, "BTCUSDT", i, buf, sizeof(buf), &len, NULL);
        if (natsConnection_Publish(nc, "core.bench", buf, (int)len) != NATS_OK)
            die("core publish", NULL);
    }
    if (natsConnection_FlushTimeout(nc, 60000) != NATS_OK)
        die("core flush", NULL);
    double t = bench_now() - t0;
    natsConnection_Destroy(nc);
    return t;
}

/* (2) JetStream async publish of run r; returns seconds, checks every batch acked. */
static double js_publish(const char *url, int replicas, unsigned r, uint64_t *acked_total)
{
    make_events(r);
    sp_bus_opts o = sp_bus_opts_default();
    o.replicas = replicas;
    o.batch_events = BATCH;
    sp_bus *b = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_bus_open(url, &o, &b, &d) != SP_OK)
        die("bus open", &d);
    sp_bus_pub_stats st;
    double t0 = bench_now();
    if (sp_bus_publish(b, events, EVENTS, syms, &d) != SP_OK || sp_bus_flush(b, &st, &d) != SP_OK)
        die("publish", &d);
    double t = bench_now() - t0;
    if (st.acked != st.batches || st.duplicates != 0 || st.events != EVENTS) {
        fprintf(stderr, NAME ": run %u: %llu batches, %llu acked, %llu duplicates\n", r,
                (unsigned long long)st.batches, (unsigned long long)st.acked,
                (unsigned long long)st.duplicates);
        exit(1);
    }
    *acked_total += st.acked;
    sp_bus_close(b);
    return t;
}

/* (3) drain EVENTS events of the single node into PostgreSQL through the durable "bench-e2e". */
static double drain(const char *url, sp_store *store, uint64_t *stored)
{
    sp_bus *b = NULL;
    sp_bus_consumer *c = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_bus_open(url, NULL, &b, &d) != SP_OK ||
        sp_bus_consumer_open(b, "bench-e2e", NULL, 60000, &c, &d) != SP_OK)
        die("consumer", &d);
    uint64_t got = 0;
    double t0 = bench_now();
    while (got < EVENTS) {
        sp_bus_fetched f;
        uint64_t ins = 0;
        if (sp_bus_fetch(c, 64, 5000, &f, &d) != SP_OK)
            die("fetch", &d);
        if (f.msgs == 0)
            die("drain: stream ran dry", NULL);
        if (sp_store_append(store, f.ev, f.n, sp_bus_consumer_symtab(c), &ins, &d) != SP_OK ||
            sp_bus_ack(c, &d) != SP_OK)
            die("store/ack", &d);
        got += f.n;
        *stored += ins;
    }
    double t = bench_now() - t0;
    if (got != EVENTS)
        die("drain: more events than one run", NULL);
    sp_bus_consumer_close(c);
    sp_bus_close(b);
    return t;
}

/* Spawn argv; returns the pid. */
static pid_t spawn(char *const argv[], const char *out)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
        die("spawn", NULL);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int wait_ok(pid_t pid)
{
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The "hash" field of a stress JSON output file. */
static void hash_of(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *h = strstr(buf, "\"hash\":\"");
    snprintf(out, cap, "%.16s", h ? h + 8 : "?");
}

#define MC_K "160000"

/* (4) one Monte Carlo run: workers (0 = single process), returns wall seconds. */
static double mc_run(const char *bin, const char *url, int workers, char *hash, size_t cap)
{
    char *ref[] = {(char *)bin, "stress",    "--scenarios", MC_K,     "--positions",
                   "20000",     "--threads", "1",           "--json", NULL};
    char *drv[] = {(char *)bin, "stress",    "--scenarios", MC_K,   "--positions", "20000",
                   "--nats",    (char *)url, "--job-size",  "4000", "--json",      NULL};
    char *wrk[] = {(char *)bin, "worker",      "--nats", (char *)url, "--threads",
                   "1",         "--idle-exit", "2",      NULL};
    pid_t w[4];
    for (int i = 0; i < workers; i++)
        w[i] = spawn(wrk, "/dev/null");
    double t0 = bench_now();
    pid_t p = spawn(workers ? drv : ref, "/tmp/bench_bus_mc.json");
    if (!wait_ok(p))
        die("stress run failed", NULL);
    double t = bench_now() - t0;
    for (int i = 0; i < workers; i++)
        wait_ok(w[i]);
    hash_of("/tmp/bench_bus_mc.json", hash, cap);
    return t;
}

int main(int argc, char **argv)
{
    const char *u1 = getenv("SP_BENCH_NATS_1"), *u3 = getenv("SP_BENCH_NATS_3");
    const char *pg = getenv("SP_TEST_PG_URI");
    bench_help("bench_bus", "STAMPEDE_BIN", argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: bench_bus STAMPEDE_BIN\n");
        return 2;
    }
    if (!u1 || !u3 || !pg) {
        /* start the servers: PostgreSQL, one node, then the cluster, and run again inside */
        char *av[] = {"bash",
                      SP_BUS_IT_DIR "/pg_server.sh",
                      "run",
                      "bash",
                      SP_BUS_IT_DIR "/nats_server.sh",
                      "run",
                      "bash",
                      "-c",
                      "SP_BENCH_NATS_1=$SP_TEST_NATS_URL exec bash " SP_BUS_IT_DIR
                      "/nats_server.sh run --cluster bash -c "
                      "'SP_BENCH_NATS_3=$SP_TEST_NATS_URL exec \"$0\" \"$1\"' \"$0\" \"$1\"",
                      argv[0],
                      argv[1],
                      NULL};
        execvp("bash", av);
        perror("bench_bus: bash");
        return 2;
    }
    events = sp_calloc(EVENTS, sizeof(*events));
    uint32_t id;
    if (!events || sp_symtab_new(&syms) != SP_OK ||
        sp_symtab_intern(syms, "BTCUSDT", 7, &id) != SP_OK)
        die("setup", NULL);
    bench_setup(NAME,
                "%u trades/run, %u events/message (%zu B), %d runs, single node + 3-node "
                "R3 cluster on 127.0.0.1, PostgreSQL 15, fsync on",
                EVENTS, BATCH, (size_t)SP_BUS_BATCH_BYTES(7, BATCH), BENCH_RUNS);
    double core[BENCH_RUNS], one[BENCH_RUNS], r3[BENCH_RUNS], e2e[BENCH_RUNS];
    uint64_t acked = 0, stored = 0;
    char url[512];
    snprintf(url, sizeof(url), "%s/postgres", pg);
    sp_store *store = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_store_open(url, 0, &store, &d) != SP_OK)
        die("store", &d);
    for (unsigned r = 0; r < BENCH_RUNS; r++) {
        core[r] = core_publish(u1, 100 + r);
        one[r] = js_publish(u1, 1, r, &acked);
        e2e[r] = drain(u1, store, &stored);
        r3[r] = js_publish(u3, 3, r, &acked);
    }
    bench_stats sc = bench_stats_of(core, BENCH_RUNS), s1 = bench_stats_of(one, BENCH_RUNS),
                s3 = bench_stats_of(r3, BENCH_RUNS), se = bench_stats_of(e2e, BENCH_RUNS);
    bench_line(NAME, "baseline core NATS publish (no JetStream)", sc, EVENTS, "events");
    bench_line(NAME, "JetStream async publish, 1 node R1", s1, EVENTS, "events");
    bench_line(NAME, "JetStream async publish, 3 nodes R3", s3, EVENTS, "events");
    bench_line(NAME, "NATS -> PostgreSQL sink (fetch, COPY, commit, ack)", se, EVENTS, "events");
    bench_ratio(NAME, "R1 publish vs core NATS", s1, sc);
    bench_ratio(NAME, "R3 publish vs core NATS", s3, sc);
    bench_ratio(NAME, "R3 publish vs R1", s3, s1);
    uint64_t n = 0;
    if (sp_store_count(store, NULL, &n, &d) != SP_OK)
        die("count", &d);
    printf(NAME ": correctness: %llu batches acked, %llu events stored (%llu in the store, want "
                "%u)\n",
           (unsigned long long)acked, (unsigned long long)stored, (unsigned long long)n,
           EVENTS * BENCH_RUNS);
    sp_store_close(store);
    if (n != (uint64_t)EVENTS * BENCH_RUNS || stored != n)
        return 1;

    /*
     * (4) Monte Carlo.  Runs are interleaved (run r of every configuration,
     * then run r + 1) so a change of load on the shared machine hits every
     * configuration alike instead of the one measured at that moment.
     */
    static const int cfgs[] = {0, 1, 2, 4};
    char want[32] = "", h[32];
    double t[4][BENCH_RUNS];
    for (int r = 0; r < BENCH_RUNS; r++)
        for (int c = 0; c < 4; c++) {
            t[c][r] = mc_run(argv[1], u1, cfgs[c], h, sizeof(h));
            if (c == 0 && r == 0)
                snprintf(want, sizeof(want), "%s", h);
            else if (strcmp(h, want) != 0) {
                fprintf(stderr, NAME ": Monte Carlo hash %s != single-process %s\n", h, want);
                return 1;
            }
        }
    bench_stats ms[4];
    for (int c = 0; c < 4; c++) {
        ms[c] = bench_stats_of(t[c], BENCH_RUNS);
        char what[96];
        if (cfgs[c])
            snprintf(what, sizeof(what), "Monte Carlo, %d worker(s) x 1 thread via NATS", cfgs[c]);
        else
            snprintf(what, sizeof(what), "Monte Carlo, one process, 1 thread (baseline)");
        bench_line(NAME, what, ms[c], 160000, "scenarios");
        if (cfgs[c]) {
            snprintf(what, sizeof(what), "%d worker(s) vs one process", cfgs[c]);
            bench_ratio(NAME, what, ms[c], ms[0]);
        }
    }
    printf(NAME ": correctness: Monte Carlo hash %s in every run (distributed = single process)\n",
           want);
    sp_free(events);
    sp_symtab_free(syms);
    return 0;
}

#else

int main(void)
{
    printf("bench_bus: skipped (built without STAMPEDE_WITH_NATS)\n");
    return 0;
}

#endif
