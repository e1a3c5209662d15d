/*
 * cmd_replay_server.c -- `stampede replay-server`: serve recorded captures
 * over WebSocket on 127.0.0.1 like the venue would (live.h,
 * src/feed/replay_server.c), with optional faults, until SIGINT/SIGTERM.
 *
 * The first line on stdout is "listening 127.0.0.1:PORT" (flushed), so a
 * test started with --listen 127.0.0.1:0 reads the port the kernel chose.
 * At the end a summary (sessions, frames, faults fired, REST requests)
 * goes to stderr, or to stdout as JSON with --json.
 */
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "stampede/live.h"

static const cli_opt opts[] = {
    {"listen", "HOST:PORT", "address to listen on (default 127.0.0.1:0 = any free port)"},
    {"speed", "X", "1x (recorded timing), Nx (N times faster) or max (default max)"},
    {"faults", "SPEC",
     "inject faults: drop@N,malformed@N,gap@N[:K],stall@N:2s,oversize@N[:BYTES],burst@N:K"},
    {"json", NULL, "print the final summary as JSON on stdout"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "replay-server",
    "CAPTURE... [--listen 127.0.0.1:PORT] [--speed 1x|Nx|max] [--faults SPEC]",
    "Play recorded captures (the cryptofeed Binance USD-M ws + REST captures, the Bybit v5\n"
    "JSONL capture) to WebSocket clients, answering subscriptions and pings like the venue,\n"
    "and the Binance REST depth path /fapi/v1/depth.  Fault frame numbers N count the data\n"
    "frames the server sends (1-based).  Runs until SIGINT/SIGTERM.  Exit 2 on a usage error,\n"
    "an unreadable capture or an address that cannot be bound.",
    opts,
    1,
    -1,
};

int cmd_replay_server(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    char host[256] = "127.0.0.1";
    int64_t port = 0;
    const char *listen = cli_get(&a, "listen");
    if (listen) {
        const char *colon = strrchr(listen, ':');
        if (colon == NULL || (size_t)(colon - listen) >= sizeof(host) ||
            sp_dec_parse(colon + 1, strlen(colon + 1), 0, &port, NULL) != SP_OK || port < 0 ||
            port > 65535) {
            cli_error("replay-server", "--listen: expected HOST:PORT (port 0..65535), got \"%s\"",
                      listen);
            return CLI_EXIT_USAGE;
        }
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    unsigned speed = 0;
    const char *sp = cli_get(&a, "speed");
    if (sp && strcmp(sp, "max") != 0) {
        size_t n = strlen(sp);
        int64_t x;
        if (n < 2 || sp[n - 1] != 'x' || sp_dec_parse(sp, n - 1, 0, &x, NULL) != SP_OK || x < 1 ||
            x > 1000000) {
            cli_error("replay-server", "--speed: expected 1x, Nx or max, got \"%s\"", sp);
            return CLI_EXIT_USAGE;
        }
        speed = (unsigned)x;
    }
    sp_fault faults[SP_LIVE_FAULTS_MAX];
    size_t nf = 0;
    sp_diag d;
    char msg[512];
    const char *fs = cli_get(&a, "faults");
    if (fs && sp_fault_parse(fs, faults, SP_LIVE_FAULTS_MAX, &nf, &d) != SP_OK) {
        cli_error("replay-server", "%s", sp_diag_format(&d, msg, sizeof(msg)));
        return CLI_EXIT_USAGE;
    }
    sp_replay_opts o;
    memset(&o, 0, sizeof(o));
    o.captures = (const char *const *)a.pos;
    o.ncaptures = (size_t)a.npos;
    o.host = host;
    o.port = (int)port;
    o.speed_x = speed;
    o.faults = faults;
    o.nfaults = nf;
    sp_replay_server *s;
    if (sp_replay_server_new(&o, &s, &d) != SP_OK) {
        cli_error("replay-server", "%s", sp_diag_format(&d, msg, sizeof(msg)));
        return CLI_EXIT_USAGE;
    }
    volatile sig_atomic_t *stop = cli_stop_on_signals(true);
    printf("listening %s:%d\n", host, sp_replay_server_port(s));
    fflush(stdout);
    sp_replay_server_run(s, stop);
    sp_replay_stats st = sp_replay_server_stats(s);
    sp_replay_server_free(s);
    FILE *f = cli_has(&a, "json") ? stdout : stderr;
    if (cli_has(&a, "json"))
        fprintf(f,
                "{\"sessions\":%" PRIu64 ",\"frames\":%" PRIu64 ",\"faults\":%" PRIu64
                ",\"rest\":%" PRIu64 ",\"subscribe\":%" PRIu64 "}\n",
                st.sessions, st.frames, st.faults, st.rest, st.subscribe);
    else
        fprintf(f,
                "stampede replay-server: %" PRIu64 " sessions, %" PRIu64 " frames, %" PRIu64
                " faults fired, %" PRIu64 " REST answers\n",
                st.sessions, st.frames, st.faults, st.rest);
    return CLI_EXIT_OK;
}
