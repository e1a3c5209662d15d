/*
 * bench_api.c -- HTTP throughput of the API against nginx, same bytes.
 *
 * Setup: fills a SQLite store with `stampede ingest --all-shipped`, starts
 * the API server in this process (sp_api_start, 2 worker threads, loopback,
 * no access log), fetches the answers of two routes -- the crash-day report
 * (cached after the first request) and the margin calculator -- and starts
 * nginx (nginx-light, 2 workers, private prefix and config in a temp dir,
 * 127.0.0.1 only) answering the same bytes from memory with `return 200`.
 * Each round runs `wrk -t2 -c64 -d10s --latency` against the four targets;
 * five rounds by default (SP_BENCH_ROUNDS), medians with min/max, and the
 * ratio stampede / nginx per route (target >= 0.8x, perf-anchors.md §5).
 * Correctness: nginx's body must equal ours byte for byte, ours must carry
 * the known figures (BTC ATH 126,199.63; liquidation 56475.90), and wrk
 * must see no non-2xx answer; the bodies' FNV hash is printed.
 * wrk and the servers share the machine's 2 vCPUs: whole-machine numbers.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "stampede/api.h"

#define NAME "bench_api"
#define LIQ_PATH                                                                           \
    "/api/v1/liq?venue=binance&symbol=BTCUSDT&side=long&entry=62500&qty=0.16&margin=1000&" \
    "leverage=10"

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof(a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

/* GET path from 127.0.0.1:port; the body (malloc) or NULL. */
static char *fetch(int port, const char *path, int *status)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        return NULL;
    char req[1024];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, strlen(req)) < 0) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    ssize_t k;
    while (buf && (k = read(fd, buf + n, cap - n - 1)) > 0)
        n += (size_t)k;
    close(fd);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *status = strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : 0;
    char *b = strstr(buf, "\r\n\r\n");
    char *body = b ? strdup(b + 4) : NULL;
    free(buf);
    return body;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Write s[0..n) as an nginx single-quoted string: \\ and ' escaped (geo values are literal). */
static void nginx_str(FILE *f, const char *s, size_t n)
{
    fputc('\'', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '\'')
            fputc('\\', f);
        fputc(s[i], f);
    }
    fputc('\'', f);
}

/*
 * nginx caps one configuration token at 4 KB, so a body is held in geo
 * variables of at most 3,000 bytes each (in memory, no per-request work
 * beyond the concatenation) and `return 200 '${p0}${p1}...'` sends them.
 * Writes the geo blocks for prefix and returns the return-text in ret.
 */
static void nginx_body(FILE *f, const char *prefix, const char *body, char *ret, size_t cap)
{
    size_t n = strlen(body), k = 0, o = 0;
    ret[0] = '\0';
    for (size_t at = 0; at < n; at += 3000, k++) {
        size_t len = n - at < 3000 ? n - at : 3000;
        fprintf(f, "  geo $%s%zu { default ", prefix, k);
        nginx_str(f, body + at, len);
        fprintf(f, "; }\n");
        o += (size_t)snprintf(ret + o, cap - o, "${%s%zu}", prefix, k);
    }
}

/* One wrk run: req/s and p50/p99 latency (ms); false on failure or non-2xx answers. */
static bool wrk(int port, const char *path, double *rps, double *p50, double *p99)
{
    char cmd[1024], line[512];
    snprintf(cmd, sizeof(cmd), "wrk -t2 -c64 -d10s --latency 'http://127.0.0.1:%d%s' 2>&1", port,
             path);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return false;
    bool bad = false;
    *rps = *p50 = *p99 = 0;
    while (fgets(line, sizeof(line), p)) {
        char *v;
        if ((v = strstr(line, "Requests/sec:")))
            *rps = strtod(v + 13, NULL);
        else if (strstr(line, "Non-2xx") || strstr(line, "Socket errors"))
            bad = bad || strstr(line, "Non-2xx") != NULL;
        else if (strstr(line, "    50%"))
            *p50 = strtod(strstr(line, "50%") + 3, NULL) * (strstr(line, "us") ? 0.001 : 1);
        else if (strstr(line, "    99%"))
            *p99 = strtod(strstr(line, "99%") + 3, NULL) * (strstr(line, "us") ? 0.001 : 1);
    }
    return pclose(p) == 0 && !bad && *rps > 0;
}

int main(int argc, char **argv)
{
    bench_help(NAME, "[STAMPEDE_BIN (default stampede)] [DB (default bench-api.db)]", argc, argv);
    const char *cli = argc > 1 ? argv[1] : "stampede";
    const char *db = argc > 2 ? argv[2] : "bench-api.db";
    int rounds = getenv("SP_BENCH_ROUNDS") ? atoi(getenv("SP_BENCH_ROUNDS")) : BENCH_RUNS;
    if (rounds < 1 || rounds > 50)
        rounds = BENCH_RUNS;
    if (system("command -v wrk >/dev/null && command -v nginx >/dev/null") != 0) {
        fprintf(stderr, NAME ": needs wrk and nginx (apt-get install wrk nginx-light)\n");
        return 1;
    }
    char cmd[2048], uri[1200];
    snprintf(cmd, sizeof(cmd),
             "'%s' ingest --all-shipped --store 'sqlite:%s' --no-progress --brief "
             "--errors /dev/null >/dev/null 2>&1; test $? -le 1",
             cli, db);
    if (system(cmd) != 0) {
        fprintf(stderr, NAME ": ingest into %s failed\n", db);
        return 1;
    }
    snprintf(uri, sizeof(uri), "sqlite:%s", db);
    sp_api_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = uri;
    cfg.data_dir = SP_SOURCE_DIR "/data";
    cfg.quiet = true;
    cfg.threads = 2;
    sp_api_server *srv;
    sp_diag d = {0};
    if (sp_api_start(&cfg, &srv, &d) != SP_OK) {
        fprintf(stderr, NAME ": cannot start the server: %s\n", d.msg);
        return 1;
    }
    int ours = sp_api_port(srv), st1 = 0, st2 = 0;
    char *rep = fetch(ours, "/api/v1/report", &st1), *liq = fetch(ours, LIQ_PATH, &st2);
    if (!rep || !liq || st1 != 200 || st2 != 200 || !strstr(rep, "126,199.63 on 2025-10-06") ||
        !strstr(liq, "\"liq_price\":\"56475.90\"")) {
        fprintf(stderr, NAME ": the routes do not give the known answers (%d, %d)\n", st1, st2);
        return 1;
    }
    /* nginx: same bytes, from memory */
    char dir[] = "/tmp/bench_api_nginx_XXXXXX", path[512];
    if (mkdtemp(dir) == NULL)
        return 1;
    int nport = free_port();
    snprintf(path, sizeof(path), "%s/nginx.conf", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 1;
    fprintf(f,
            "worker_processes 2;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
            "events { worker_connections 1024; }\nhttp {\n  access_log off;\n"
            "  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n"
            "  fastcgi_temp_path %s/fcgi;\n  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n"
            "  default_type application/json;\n",
            dir, dir, dir, dir, dir, dir, dir);
    char ret_rep[512], ret_liq[512];
    nginx_body(f, "rep", rep, ret_rep, sizeof(ret_rep));
    nginx_body(f, "liq", liq, ret_liq, sizeof(ret_liq));
    fprintf(f,
            "  server {\n    listen 127.0.0.1:%d;\n"
            "    location = /api/v1/report { return 200 '%s'; }\n"
            "    location = /api/v1/liq { return 200 '%s'; }\n  }\n}\n",
            nport, ret_rep, ret_liq);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "nginx -p %s -c %s 2>&1", dir, path);
    if (system(cmd) != 0) {
        fprintf(stderr, NAME ": nginx did not start (see %s/error.log)\n", dir);
        return 1;
    }
    usleep(300000);
    char *nrep = fetch(nport, "/api/v1/report", &st1), *nliq = fetch(nport, LIQ_PATH, &st2);
    int rc = 0;
    if (!nrep || !nliq || strcmp(nrep, rep) != 0 || strcmp(nliq, liq) != 0) {
        fprintf(stderr, NAME ": nginx does not serve the same bytes\n");
        rc = 1;
        goto out;
    }
    bench_setup(NAME,
                "wrk -t2 -c64 -d10s, %d rounds; stampede (libmicrohttpd, 2 threads) "
                "vs nginx (2 workers, return 200 from memory), 127.0.0.1",
                rounds);
    bench_setup(NAME, "bodies: report %zu bytes (fnv %016llx), liq %zu bytes (fnv %016llx)",
                strlen(rep), (unsigned long long)fnv(rep), strlen(liq),
                (unsigned long long)fnv(liq));
    static const char *const what[4] = {"report stampede", "report nginx", "liq stampede",
                                        "liq nginx"};
    double rps[4][50], p50[4][50], p99[4][50];
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 4; k++) {
            int port = k % 2 == 0 ? ours : nport;
            if (!wrk(port, k < 2 ? "/api/v1/report" : LIQ_PATH, &rps[k][r], &p50[k][r],
                     &p99[k][r])) {
                fprintf(stderr, NAME ": wrk failed or saw non-2xx answers on %s\n", what[k]);
                rc = 1;
                goto out;
            }
            printf(NAME ": round %d %-16s %10.0f req/s  p50 %.3f ms  p99 %.3f ms\n", r + 1, what[k],
                   rps[k][r], p50[k][r], p99[k][r]);
            fflush(stdout);
        }
    }
    bench_stats s[4], l50[4], l99[4];
    for (int k = 0; k < 4; k++) {
        s[k] = bench_stats_of(rps[k], rounds);
        l50[k] = bench_stats_of(p50[k], rounds);
        l99[k] = bench_stats_of(p99[k], rounds);
        printf(NAME ": %-16s median %.0f req/s (min %.0f, max %.0f), p50 %.3f ms, p99 %.3f ms\n",
               what[k], s[k].median, s[k].min, s[k].max, l50[k].median, l99[k].median);
    }
    printf(NAME ": ratio report stampede/nginx: %.2fx\n", s[0].median / s[1].median);
    printf(NAME ": ratio liq stampede/nginx: %.2fx\n", s[2].median / s[3].median);
    printf(NAME ": correct: same bytes as nginx, no non-2xx answers\n");
out:
    snprintf(cmd, sizeof(cmd), "kill -QUIT $(cat %s/nginx.pid) 2>/dev/null; sleep 0.3; rm -rf %s",
             dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, NAME ": could not stop nginx (%s)\n", dir);
    sp_api_stop(srv);
    free(rep);
    free(liq);
    free(nrep);
    free(nliq);
    return rc;
}
