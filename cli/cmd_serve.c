/*
 * cmd_serve.c -- `stampede serve`: the HTTP JSON API and the dashboard.
 *
 * Parses the listen address and limits, starts the server of the api
 * module (sp_api_start: libmicrohttpd on its own threads, the store opened
 * read-only) and waits for SIGINT / SIGTERM (or --for seconds), then stops
 * it cleanly.  With --port-file the bound port is written to a file once
 * the server listens (tests start it on port 0).  Also the demo's last
 * step: where the dashboard is and the command that serves it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"
#include "stampede/api.h"

static const cli_opt opts[] = {
    {"store", "URI", "store to read, opened read-only (default " SP_STORE_DEFAULT_URI ")"},
    {"listen", "HOST:PORT", "address to bind (default 127.0.0.1:8080; port 0 = any free port)"},
    {"web", "DIR", "dashboard directory (default: the repo's web/dist)"},
    {"data", "DIR", "shipped data for the calculator and simulator (default: the repo's data/)"},
    {"threads", "N", "HTTP worker threads (default 2)"},
    {"max-conn", "N", "simultaneous connections (default 2048)"},
    {"timeout", "S", "idle seconds before a connection is dropped (default 10)"},
    {"port-file", "FILE", "write the bound port to FILE once listening"},
    {"for", "S", "stop by itself after S seconds (tests, benchmarks)"},
    {"quiet", NULL, "no access log on stderr"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "serve",
    "[--store URI] [--listen 127.0.0.1:8080] [--web DIR] [--data DIR] [--quiet]",
    "Serve the JSON API (/api/v1/..., OpenAPI at /api/v1/openapi.json, /healthz) and the\n"
    "dashboard (/) from the store, until SIGINT or SIGTERM.  Fill the store first with\n"
    "`stampede ingest --all-shipped`.  Routes, limits and errors: docs/api.md.",
    opts,
    0,
    0,
};

/* Split "HOST:PORT" (HOST may be empty = 127.0.0.1).  false after printing why. */
static bool parse_listen(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *c = strrchr(s, ':');
    if (c == NULL || (size_t)(c - s) >= cap) {
        cli_error("serve", "--listen '%s': want HOST:PORT, e.g. 127.0.0.1:8080", s);
        return false;
    }
    memcpy(host, s, (size_t)(c - s));
    host[c - s] = '\0';
    if (host[0] == '\0')
        snprintf(host, cap, "127.0.0.1");
    int64_t p;
    if (sp_dec_parse(c + 1, strlen(c + 1), 0, &p, NULL) != SP_OK || p < 0 || p > 65535) {
        cli_error("serve", "--listen '%s': port must be 0..65535", s);
        return false;
    }
    *port = (uint16_t)p;
    return true;
}

int cmd_serve(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    char host[64];
    sp_api_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (!parse_listen(cli_has(&a, "listen") ? cli_get(&a, "listen") : "127.0.0.1:8080", host,
                      sizeof(host), &cfg.port))
        return CLI_EXIT_USAGE;
    int64_t threads, conns, timeout, secs;
    if (!cli_get_int(&a, "threads", 1, 64, 2, &threads) ||
        !cli_get_int(&a, "max-conn", 16, 65536, 2048, &conns) ||
        !cli_get_int(&a, "timeout", 1, 3600, 10, &timeout) ||
        !cli_get_int(&a, "for", 0, 86400 * 365, 0, &secs))
        return CLI_EXIT_USAGE;
    cfg.host = host;
    cfg.store_uri = cli_has(&a, "store") ? cli_get(&a, "store") : SP_STORE_DEFAULT_URI;
    cfg.web_root = cli_has(&a, "web") ? cli_get(&a, "web") : SP_SOURCE_DIR "/web/dist";
    cfg.data_dir = cli_has(&a, "data") ? cli_get(&a, "data") : SP_SOURCE_DIR "/data";
    cfg.threads = (unsigned)threads;
    cfg.conn_max = (unsigned)conns;
    cfg.timeout_s = (unsigned)timeout;
    cfg.quiet = cli_has(&a, "quiet");

    /* the server's threads inherit this mask: only sigwait below sees the signals */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    sp_api_server *srv;
    sp_diag d = {0};
    char msg[512];
    if (sp_api_start(&cfg, &srv, &d) != SP_OK) {
        cli_error("serve", "%s%s", sp_diag_format(&d, msg, sizeof(msg)),
                  d.code == SP_ENOTFOUND ? " (fill it with `stampede ingest --all-shipped`)" : "");
        return CLI_EXIT_USAGE;
    }
    uint16_t port = sp_api_port(srv);
    fprintf(stderr,
            "stampede serve: dashboard http://%s:%u/  (API /api/v1/openapi.json, store %s)\n", host,
            (unsigned)port, cfg.store_uri);
    if (cli_has(&a, "port-file")) {
        const char *pf = cli_get(&a, "port-file");
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", pf);
        FILE *f = fopen(tmp, "w");
        if (f == NULL || fprintf(f, "%u\n", (unsigned)port) < 0 || fclose(f) != 0 ||
            rename(tmp, pf) != 0) {
            cli_error("serve", "--port-file %s: %s", pf, strerror(errno));
            sp_api_stop(srv);
            return CLI_EXIT_USAGE;
        }
    }
    int sig = 0;
    if (secs > 0) {
        struct timespec ts = {(time_t)secs, 0};
        sig = sigtimedwait(&set, NULL, &ts);
    } else {
        sigwait(&set, &sig);
    }
    fprintf(stderr, "stampede serve: stopping (%s)\n", sig > 0 ? "signal" : "time is up");
    sp_api_stop(srv);
    return CLI_EXIT_OK;
}

/* ---- demo step ------------------------------------------------------------------- */

/* The dashboard's URL and the exact command that serves the demo's store. */
int demo_serve(const demo_ctx *ctx)
{
    if (ctx->json) {
        printf("\"serve\":{\"url\":\"http://127.0.0.1:8080/\",\"command\":");
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "stampede serve --store %s --listen 127.0.0.1:8080",
                 ctx->store_uri);
        cli_json_str(stdout, cmd);
        printf("}");
        return CLI_EXIT_OK;
    }
    printf("The same report, with charts, the leverage calculator and the cascade simulator,\n"
           "is on the dashboard:\n\n"
           "  stampede serve --store %s --listen 127.0.0.1:8080\n"
           "  then open http://127.0.0.1:8080/\n",
           ctx->store_uri);
    return CLI_EXIT_OK;
}
