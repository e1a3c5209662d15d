/*
 * cmd_sink.c -- `stampede sink`: the durable JetStream consumer that
 * writes STAMPEDE_EVENTS into a store (PostgreSQL in the scale-out path).
 *
 * Loop: sp_bus_fetch up to --fetch messages, sp_store_append their events
 * in one transaction (PostgreSQL: binary COPY), and only after COMMIT
 * sp_bus_ack them.  A sink killed between the two leaves its messages
 * unacknowledged: they come back after the ack wait and the store, keyed
 * by each event's natural key, skips what it already has.  At-least-once
 * delivery plus an idempotent store is the exactly-once effect.
 * Malformed messages are dead-lettered by the bus (dlq.<subject>, reason
 * in header Stampede-Error) and counted here.
 *
 * It runs until SIGINT/SIGTERM, or --idle-exit seconds without a message,
 * or --max-events stored.  --digest prints the count and digest of every
 * event in the store instead (no NATS): equal to `stampede publish`'s
 * digest of the source when every event arrived exactly once.
 *
 * Exit status: 0 clean; 1 some messages were dead-lettered; 2 usage error,
 * no server, or a store failure (the fetched batch is left unacknowledged).
 */
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "stampede/bus.h"

static const cli_opt opts[] = {
    {"nats", "URL", "NATS server(s), comma-separated (default nats://127.0.0.1:4222)"},
    {"store", "URI", "store to write, e.g. postgres://host/db (default " SP_STORE_DEFAULT_URI ")"},
    {"durable", "NAME", "durable consumer name (default stampede-sink)"},
    {"fetch", "N", "messages per fetch and per transaction (default 64)"},
    {"ack-wait-ms", "MS", "redeliver a message not acknowledged within MS (default 30000)"},
    {"replicas", "N", "replicas of the stream when this creates it (default 1)"},
    {"idle-exit", "S", "exit after S seconds without a message (default: run until a signal)"},
    {"max-events", "N", "exit once N events were stored (new or already present)"},
    {"digest", NULL, "print the count and digest of the events in --store, then exit"},
    {"dlq", NULL, "list the dead-lettered messages (subject, bytes, reason), then exit"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "sink",
    "--nats URL --store URI [--durable NAME] [--idle-exit S] [--json] | --store URI --digest",
    "Consume the JetStream stream STAMPEDE_EVENTS through a durable pull consumer and store the\n"
    "events (PostgreSQL: COPY) in one transaction per fetch, acknowledging only after COMMIT:\n"
    "a sink killed at any point resumes on restart with nothing lost or doubled.  Malformed\n"
    "messages go to dlq.<subject> with their reason.  --digest prints the count and digest of\n"
    "the stored events (compare with `stampede publish`).  Exit 0 clean, 1 some messages\n"
    "dead-lettered, 2 usage error, no server or store failure.",
    opts,
    0,
    0,
};

typedef struct dig {
    uint64_t n, digest;
} dig;

static sp_err dig_row(void *ctx, const sp_event *ev, const char *symbol)
{
    dig *g = ctx;
    g->n++;
    g->digest = sp_bus_digest_add(g->digest, ev, symbol);
    return SP_OK;
}

/* --digest: count and digest every stored event. */
static int digest_store(sp_store *s, bool json)
{
    dig g = {0, 0};
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_store_query(s, NULL, dig_row, &g, &d) != SP_OK) {
        char line[SP_DIAG_MSG_MAX + 1200];
        cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
        return CLI_EXIT_USAGE;
    }
    if (json)
        printf("{\"events\":%llu,\"digest\":\"%016llx\"}\n", (unsigned long long)g.n,
               (unsigned long long)g.digest);
    else
        printf("sink: store holds %llu events, digest %016llx\n", (unsigned long long)g.n,
               (unsigned long long)g.digest);
    return CLI_EXIT_OK;
}

/* --dlq: every message of STAMPEDE_DLQ through an ephemeral consumer, without acking. */
static int list_dlq(sp_bus *bus, bool json)
{
    sp_bus_sub *s = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    char line[SP_DIAG_MSG_MAX + 1200];
    if (sp_bus_sub_open(bus, SP_BUS_DLQ_STREAM, "dlq.>", NULL, 60000, 0, &s, &d) != SP_OK) {
        cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
        return CLI_EXIT_USAGE;
    }
    uint64_t n = 0;
    for (;;) {
        sp_bus_msg *m[64];
        size_t got = 0;
        if (sp_bus_sub_fetch(s, 64, 500, m, &got, &d) != SP_OK) {
            cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
            sp_bus_sub_close(s);
            return CLI_EXIT_USAGE;
        }
        if (got == 0)
            break;
        for (size_t i = 0; i < got; i++, n++) {
            size_t len = 0;
            sp_bus_msg_data(m[i], &len);
            const char *why = sp_bus_msg_header(m[i], "Stampede-Error");
            if (json) {
                printf("{\"subject\":");
                cli_json_str(stdout, sp_bus_msg_subject(m[i]));
                printf(",\"bytes\":%zu,\"reason\":", len);
                cli_json_str(stdout, why ? why : "");
                printf("}\n");
            } else {
                printf("%s  %zu bytes  %s\n", sp_bus_msg_subject(m[i]), len, why ? why : "?");
            }
            sp_bus_msg_free(m[i]);
        }
    }
    sp_bus_sub_close(s);
    if (!json)
        printf("sink: %llu dead-lettered message(s)\n", (unsigned long long)n);
    return CLI_EXIT_OK;
}

/* `stampede sink`: fetch → append (one transaction) → ack, until told to stop. */
int cmd_sink(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    int64_t fetch, ackw, rep, idle, maxev;
    if (!cli_get_int(&a, "fetch", 1, 4096, 64, &fetch) ||
        !cli_get_int(&a, "ack-wait-ms", 100, 3600000, 30000, &ackw) ||
        !cli_get_int(&a, "replicas", 1, 5, 1, &rep) ||
        !cli_get_int(&a, "idle-exit", 0, 86400, 0, &idle) ||
        !cli_get_int(&a, "max-events", 0, INT64_MAX, 0, &maxev))
        return CLI_EXIT_USAGE;
    const char *uri = cli_get(&a, "store") ? cli_get(&a, "store") : SP_STORE_DEFAULT_URI;
    sp_diag d;
    sp_diag_clear(&d);
    char line[SP_DIAG_MSG_MAX + 1200];
    sp_store *st = NULL;
    sp_bus *bus = NULL;
    sp_bus_consumer *c = NULL;
    if (cli_has(&a, "dlq")) {
        if (sp_bus_open(cli_get(&a, "nats"), NULL, &bus, &d) != SP_OK) {
            cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
            return CLI_EXIT_USAGE;
        }
        rc = list_dlq(bus, cli_has(&a, "json"));
        sp_bus_close(bus);
        return rc;
    }
    if (sp_store_open(uri, cli_has(&a, "digest") ? SP_STORE_READONLY : 0, &st, &d) != SP_OK) {
        cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&a, "digest")) {
        rc = digest_store(st, cli_has(&a, "json"));
        sp_store_close(st);
        return rc;
    }
    rc = CLI_EXIT_USAGE;
    sp_bus_opts o = sp_bus_opts_default();
    o.replicas = (int)rep;
    const char *durable = cli_get(&a, "durable") ? cli_get(&a, "durable") : "stampede-sink";
    if (sp_bus_open(cli_get(&a, "nats"), &o, &bus, &d) != SP_OK ||
        sp_bus_consumer_open(bus, durable, NULL, ackw, &c, &d) != SP_OK) {
        cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
        goto out;
    }
    volatile sig_atomic_t *stop = cli_stop_on_signals(false);
    uint64_t events = 0, inserted = 0, msgs = 0, dead = 0, redelivered = 0, txns = 0;
    int64_t t0 = sp_clock_mono_ns(), last_msg = t0;
    while (!*stop) {
        sp_bus_fetched f;
        if (sp_bus_fetch(c, (size_t)fetch, 1000, &f, &d) != SP_OK) {
            cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
            goto out;
        }
        int64_t now = sp_clock_mono_ns();
        if (f.msgs == 0) {
            if (idle && now - last_msg >= idle * 1000000000LL)
                break;
            continue;
        }
        last_msg = now;
        uint64_t ins = 0;
        if (f.n && sp_store_append(st, f.ev, f.n, sp_bus_consumer_symtab(c), &ins, &d) != SP_OK) {
            /* nothing acked: the batch comes back after the ack wait */
            cli_error("sink", "store: %s", sp_diag_format(&d, line, sizeof(line)));
            goto out;
        }
        if (sp_bus_ack(c, &d) != SP_OK) {
            /* committed but not acked: redelivered later and skipped by the store */
            cli_error("sink", "%s", sp_diag_format(&d, line, sizeof(line)));
            goto out;
        }
        events += f.n;
        inserted += ins;
        msgs += f.msgs;
        dead += f.dead;
        redelivered += f.redelivered;
        txns++;
        if (maxev && events >= (uint64_t)maxev)
            break;
    }
    double secs = (double)(sp_clock_mono_ns() - t0) / 1e9;
    if (cli_has(&a, "json"))
        printf("{\"messages\":%llu,\"events\":%llu,\"inserted\":%llu,\"already_stored\":%llu,"
               "\"dead_lettered\":%llu,\"redelivered\":%llu,\"transactions\":%llu,"
               "\"seconds\":%.3f}\n",
               (unsigned long long)msgs, (unsigned long long)events, (unsigned long long)inserted,
               (unsigned long long)(events - inserted), (unsigned long long)dead,
               (unsigned long long)redelivered, (unsigned long long)txns, secs);
    else
        printf("sink: %llu messages, %llu events (%llu new, %llu already stored), %llu "
               "dead-lettered, %llu redelivered, %llu transactions, %.2f s\n",
               (unsigned long long)msgs, (unsigned long long)events, (unsigned long long)inserted,
               (unsigned long long)(events - inserted), (unsigned long long)dead,
               (unsigned long long)redelivered, (unsigned long long)txns, secs);
    rc = dead ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    sp_bus_consumer_close(c);
    sp_bus_close(bus);
    sp_store_close(st);
    return rc;
}
