/*
 * cmd_publish.c -- `stampede publish`: decode exchange files and publish
 * the events to NATS JetStream (stream STAMPEDE_EVENTS, subjects
 * ev.<venue>.<kind>.<symbol>).
 *
 * Each FILE goes through sp_feed_decode_file (as `stampede ingest`);
 * events go to sp_bus_publish, which cuts deterministic batches per
 * subject and publishes them asynchronously with bounded in-flight acks;
 * sp_bus_flush waits for every ack, republishing failures with the same
 * Msg-Id.  Publishing the same files again inside the stream's duplicate
 * window is therefore de-duplicated by the server ("duplicates" in the
 * summary).  The summary also prints the count and the order-independent
 * digest (sp_bus_digest_add) of the decoded events, which `stampede sink
 * --digest` reproduces from the store: the end-to-end exactly-once check.
 * --dry-run decodes and digests without a server.  --raw SUBJECT sends
 * each file's bytes as one message, undecoded: how the tests put a
 * malformed message on ev.> to see it dead-lettered.
 *
 * Exit status: 0 all published; 1 some records rejected by a decoder (the
 * rest published); 2 usage error, unusable file, or publish failure.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "stampede/bus.h"
#include "stampede/feed.h"

static const cli_opt opts[] = {
    {"nats", "URL", "NATS server(s), comma-separated (default nats://127.0.0.1:4222)"},
    {"format", "F", "decoder to use for every FILE (default: auto-detect)"},
    {"replicas", "N", "replicas of the stream when this creates it (default 1)"},
    {"batch", "N", "events per message (default 1024, at most 4096)"},
    {"inflight", "N", "unacknowledged messages at most (default 256)"},
    {"timeout-ms", "MS", "connect / ack timeout (default 10000)"},
    {"errors", "FILE", "write rejected records' reasons here (default: count only)"},
    {"dry-run", NULL, "decode and digest only, publish nothing (no server needed)"},
    {"raw", "SUBJECT", "publish each FILE's bytes unchanged as one message on SUBJECT (testing)"},
    {"no-progress", NULL, "no progress line even on a terminal"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "publish",
    "[--nats URL] [--replicas N] [--batch N] [--dry-run] [--json] FILE...",
    "Decode exchange data files and publish the events to the JetStream stream STAMPEDE_EVENTS\n"
    "(subjects ev.<venue>.<kind>.<symbol>), asynchronously with bounded in-flight acks.  Each\n"
    "message carries a Msg-Id made from its events' natural keys, so publishing the same file\n"
    "twice is de-duplicated by the server.  Prints events, batches, acks, duplicates and the\n"
    "digest of the events (compare with `stampede sink --digest`).  Exit 0 all published, 1 some\n"
    "records rejected, 2 usage error, unusable file or publish failure.",
    opts,
    1,
    -1,
};

typedef struct pub {
    sp_bus *bus; /* NULL in --dry-run */
    sp_symtab *syms;
    uint64_t decoded, rejected, digest;
    FILE *errors;
    sp_diag diag; /* why publishing failed */
    bool tty;
    int64_t t0_ns, last_ns;
    size_t file_i, file_n;
} pub;

static void progress(pub *p, bool final)
{
    if (!p->tty)
        return;
    int64_t now = sp_clock_mono_ns();
    if (!final && now - p->last_ns < 200000000)
        return;
    p->last_ns = now;
    double secs = (double)(now - p->t0_ns) / 1e9;
    fprintf(stderr, "\r\033[K[%zu/%zu] %llu events published  %.0f ev/s", p->file_i, p->file_n,
            (unsigned long long)p->decoded, secs > 0 ? (double)p->decoded / secs : 0.0);
    if (final)
        fputc('\n', stderr);
}

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    pub *p = ctx;
    for (size_t i = 0; i < n; i++)
        p->digest = sp_bus_digest_add(
            p->digest, &ev[i], ev[i].symbol_id ? sp_symtab_name(p->syms, ev[i].symbol_id) : NULL);
    p->decoded += n;
    progress(p, false);
    return p->bus ? sp_bus_publish(p->bus, ev, n, p->syms, &p->diag) : SP_OK;
}

static void on_reject(void *ctx, const sp_diag *why)
{
    pub *p = ctx;
    p->rejected++;
    if (p->errors) {
        char line[SP_DIAG_MSG_MAX + 1200];
        fprintf(p->errors, "%s\n", sp_diag_format(why, line, sizeof(line)));
    }
}

/* --raw: each file's bytes as one message on subject. */
static int publish_raw(sp_bus *bus, const char *subject, const cli_args *a)
{
    char line[SP_DIAG_MSG_MAX + 1200];
    for (int i = 0; i < a->npos; i++) {
        FILE *f = fopen(a->pos[i], "rb");
        if (!f) {
            cli_error("publish", "cannot read %s", a->pos[i]);
            return CLI_EXIT_USAGE;
        }
        static char buf[SP_MSG_MAX];
        size_t n = fread(buf, 1, sizeof(buf), f);
        bool more = fgetc(f) != EOF;
        fclose(f);
        if (more) {
            cli_error("publish", "%s: larger than one message (%u bytes)", a->pos[i],
                      (unsigned)SP_MSG_MAX);
            return CLI_EXIT_USAGE;
        }
        sp_diag d;
        sp_diag_clear(&d);
        bool dup = false;
        if (sp_bus_publish_raw(bus, subject, buf, n, NULL, &dup, &d) != SP_OK) {
            cli_error("publish", "%s", sp_diag_format(&d, line, sizeof(line)));
            return CLI_EXIT_USAGE;
        }
        printf("publish: %zu raw bytes of %s on %s\n", n, a->pos[i], subject);
    }
    return CLI_EXIT_OK;
}

/*
 * `stampede publish`: connect (unless --dry-run), decode every FILE into
 * sp_bus_publish, flush (every ack in), print the summary.
 */
int cmd_publish(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    sp_bus_opts o = sp_bus_opts_default();
    int64_t rep, batch, infl, tmo;
    if (!cli_get_int(&a, "replicas", 1, 5, 1, &rep) ||
        !cli_get_int(&a, "batch", 1, SP_BUS_BATCH_MAX, 1024, &batch) ||
        !cli_get_int(&a, "inflight", 1, 65536, 256, &infl) ||
        !cli_get_int(&a, "timeout-ms", 100, 600000, 10000, &tmo))
        return CLI_EXIT_USAGE;
    o.replicas = (int)rep;
    o.batch_events = (uint32_t)batch;
    o.max_inflight = (uint32_t)infl;
    o.timeout_ms = tmo;
    pub p;
    memset(&p, 0, sizeof(p));
    p.tty = !cli_has(&a, "no-progress") && isatty(2);
    p.t0_ns = sp_clock_mono_ns();
    p.file_n = (size_t)a.npos;
    rc = CLI_EXIT_USAGE;
    sp_diag d;
    sp_diag_clear(&d);
    char line[SP_DIAG_MSG_MAX + 1200];
    if (cli_get(&a, "errors") && !(p.errors = fopen(cli_get(&a, "errors"), "w"))) {
        cli_error("publish", "cannot write %s", cli_get(&a, "errors"));
        return CLI_EXIT_USAGE;
    }
    if (sp_symtab_new(&p.syms) != SP_OK) {
        cli_error("publish", "out of memory");
        goto out;
    }
    if (!cli_has(&a, "dry-run") && sp_bus_open(cli_get(&a, "nats"), &o, &p.bus, &d) != SP_OK) {
        cli_error("publish", "%s", sp_diag_format(&d, line, sizeof(line)));
        goto out;
    }
    if (cli_get(&a, "raw")) {
        rc = p.bus ? publish_raw(p.bus, cli_get(&a, "raw"), &a) : CLI_EXIT_USAGE;
        goto out;
    }
    sp_feed_sink sink = {on_events, on_reject, &p};
    for (int i = 0; i < a.npos; i++) {
        p.file_i = (size_t)i + 1;
        sp_diag_clear(&d);
        sp_err e = sp_feed_decode_file(a.pos[i], cli_get(&a, "format"), p.syms, &sink, &d);
        if (e != SP_OK) {
            progress(&p, true);
            const sp_diag *why = p.diag.code != SP_OK ? &p.diag : &d;
            cli_error("publish", "%s: %s", a.pos[i], sp_diag_format(why, line, sizeof(line)));
            goto out;
        }
    }
    sp_bus_pub_stats st;
    memset(&st, 0, sizeof(st));
    if (p.bus && sp_bus_flush(p.bus, &st, &d) != SP_OK) {
        progress(&p, true);
        cli_error("publish", "%s", sp_diag_format(&d, line, sizeof(line)));
        goto out;
    }
    progress(&p, true);
    double secs = (double)(sp_clock_mono_ns() - p.t0_ns) / 1e9;
    if (cli_has(&a, "json"))
        printf("{\"files\":%d,\"events\":%llu,\"rejected\":%llu,\"digest\":\"%016llx\","
               "\"batches\":%llu,\"acked\":%llu,\"duplicates\":%llu,\"retried\":%llu,"
               "\"published\":%s,\"seconds\":%.3f}\n",
               a.npos, (unsigned long long)p.decoded, (unsigned long long)p.rejected,
               (unsigned long long)p.digest, (unsigned long long)st.batches,
               (unsigned long long)st.acked, (unsigned long long)st.duplicates,
               (unsigned long long)st.retried, p.bus ? "true" : "false", secs);
    else
        printf("publish: %llu events from %d file(s), %llu rejected, digest %016llx\n"
               "%s%llu batches, %llu acked (%llu duplicates already in the stream), %llu "
               "retried, %.2f s\n",
               (unsigned long long)p.decoded, a.npos, (unsigned long long)p.rejected,
               (unsigned long long)p.digest,
               p.bus ? "" : "dry run: ", (unsigned long long)st.batches,
               (unsigned long long)st.acked, (unsigned long long)st.duplicates,
               (unsigned long long)st.retried, secs);
    rc = p.rejected ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    sp_bus_close(p.bus);
    sp_symtab_free(p.syms);
    if (p.errors)
        fclose(p.errors);
    return rc;
}
