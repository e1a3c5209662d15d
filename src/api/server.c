/*
 * server.c -- the HTTP server of the API (libmicrohttpd) and its request
 * lifecycle: limits, routing, JSON errors, the response cache, the pool of
 * read-only store handles and the dashboard's static files.
 *
 * Lifecycle of a request.  libmicrohttpd calls uri_begin with the raw URI
 * first: we allocate the request record there (arena, raw URI copy).  The
 * access handler is then called at least twice; the answer is queued only
 * on a later call, never the first (perf-anchors.md §5: queuing on the
 * first call makes 0.9.7x close keep-alive connections, 22 k vs 109 k
 * req/s).  POST bodies arrive in between and are kept up to body_max;
 * a Content-Length past it is answered 413 on the first call (before
 * "100 Continue", so the body is never sent), a chunked body past it is
 * read and dropped and answered 413 at its end.  request_done frees the
 * record.
 *
 * Limits.  Header and request-line memory per connection (libmicrohttpd
 * answers 431/414 itself past it), query length (414 JSON below that),
 * body size (413), simultaneous connections, idle timeout per connection
 * (a slowloris client is dropped after timeout_s), per-request arena.
 * A route never answers 500 for bad input: parameters are validated into
 * 400s, a store that cannot be opened is a 503.
 *
 * Cache.  A route marks its answer cacheable when it depends only on the
 * URI and on data of days that ended before the server started (the
 * immutable past); the MHD_Response is then kept (one reference held by
 * the cache) and queued again for the same URI without recomputing.
 * Static files are cached the same way.  Bounded at SP_API_CACHE_MAX
 * entries; when full, new answers are simply not cached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_int.h"
#include "stampede/alloc.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"
#include "stampede/stampede.h"

/* ---- the response cache --------------------------------------------------------- */

typedef struct cache_ent {
    char *key; /* method + raw URI, NULL = empty slot */
    uint64_t hash;
    struct MHD_Response *resp; /* one reference held by the cache */
    unsigned status;
} cache_ent;

struct sp__api_cache {
    pthread_rwlock_t mu;
    cache_ent ent[SP_API_CACHE_MAX * 2]; /* open addressing, load <= 1/2 */
    size_t n;
};

static uint64_t fnv(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/*
 * The cached response for key[0..n), or NULL.  No reference is taken:
 * entries live until the server stops (no eviction), after the daemon.
 */
static struct MHD_Response *cache_get(sp__api_cache *c, const char *key, size_t n, unsigned *st)
{
    uint64_t h = fnv(key, n);
    struct MHD_Response *r = NULL;
    pthread_rwlock_rdlock(&c->mu);
    for (size_t i = h % SP_COUNTOF(c->ent), k = 0; k < SP_COUNTOF(c->ent);
         i = (i + 1) % SP_COUNTOF(c->ent), k++) {
        const cache_ent *e = &c->ent[i];
        if (e->key == NULL)
            break;
        if (e->hash == h && strncmp(e->key, key, n) == 0 && e->key[n] == '\0') {
            r = e->resp;
            *st = e->status;
            break;
        }
    }
    pthread_rwlock_unlock(&c->mu);
    return r;
}

/* Keep resp for key (the cache takes its own reference by not destroying it). */
static bool cache_put(sp__api_cache *c, const char *key, size_t n, struct MHD_Response *resp,
                      unsigned status)
{
    uint64_t h = fnv(key, n);
    char *k = sp_malloc(n + 1);
    if (k == NULL)
        return false;
    memcpy(k, key, n);
    k[n] = '\0';
    bool kept = false;
    pthread_rwlock_wrlock(&c->mu);
    if (c->n < SP_API_CACHE_MAX) {
        size_t i = h % SP_COUNTOF(c->ent);
        while (c->ent[i].key != NULL && !(c->ent[i].hash == h && strcmp(c->ent[i].key, k) == 0))
            i = (i + 1) % SP_COUNTOF(c->ent);
        if (c->ent[i].key == NULL) { /* a racing thread may have stored it first */
            c->ent[i] = (cache_ent){k, h, resp, status};
            c->n++;
            kept = true;
        }
    }
    pthread_rwlock_unlock(&c->mu);
    if (!kept)
        sp_free(k);
    return kept;
}

static void cache_free(sp__api_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < SP_COUNTOF(c->ent); i++) {
        if (c->ent[i].key) {
            sp_free(c->ent[i].key);
            MHD_destroy_response(c->ent[i].resp);
        }
    }
    pthread_rwlock_destroy(&c->mu);
    sp_free(c);
}

/* ---- store pool ------------------------------------------------------------------- */

/* An idle read-only handle of the server's store, or a new one.  Give it back with _put. */
sp_err sp__api_store_get(sp_api_server *s, sp_store **out, sp_diag *d)
{
    pthread_mutex_lock(&s->pool_mu);
    *out = s->npool ? s->pool[--s->npool] : NULL;
    pthread_mutex_unlock(&s->pool_mu);
    if (*out)
        return SP_OK;
    return sp_store_open(s->store_uri, SP_STORE_READONLY, out, d);
}

void sp__api_store_put(sp_api_server *s, sp_store *st)
{
    if (st == NULL)
        return;
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool < SP_COUNTOF(s->pool)) {
        s->pool[s->npool++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    sp_store_close(st);
}

/* ---- per-request record ------------------------------------------------------------ */

typedef struct rq {
    sp__api_req r; /* what the routes see */
    char *uri;     /* raw URI as received (sp_malloc) */
    size_t uri_len;
    bool seen;     /* the handler has been called once */
    bool too_big;  /* the body passed body_max */
    bool answered; /* a response was queued before the body ended */
    sp_buf body;   /* POST body */
    int64_t t0_ns; /* for the access log */
} rq;

/* MHD_OPTION_URI_LOG_CALLBACK: first sight of a request; its record becomes *req_cls. */
static void *uri_begin(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)con;
    sp_api_server *s = cls;
    rq *q = sp_calloc(1, sizeof(*q));
    if (q == NULL)
        return NULL;
    size_t n = strlen(uri);
    q->uri = sp_malloc(n + 1);
    if (q->uri == NULL) {
        sp_free(q);
        return NULL;
    }
    memcpy(q->uri, uri, n + 1);
    q->uri_len = n;
    q->r.srv = s;
    sp_arena_init(&q->r.arena, 0, SP_API_ARENA_MAX);
    sp_buf_init(&q->body, s->cfg.body_max);
    if (!s->cfg.quiet)
        q->t0_ns = sp_clock_mono_ns();
    return q;
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over (answered, timed out or aborted). */
static void request_done(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    rq *q = *req_cls;
    if (q == NULL)
        return;
    sp__api_sim_forget(&q->r);
    sp_arena_fini(&q->r.arena);
    sp_buf_fini(&q->body);
    sp_free(q->uri);
    sp_free(q);
    *req_cls = NULL;
}

/* ---- responses --------------------------------------------------------------------- */

static enum MHD_Result queue(struct MHD_Connection *con, unsigned status, struct MHD_Response *resp)
{
    enum MHD_Result r = MHD_queue_response(con, status, resp);
    return r;
}

/* Build an MHD response from out (copied). NULL on allocation failure. */
static struct MHD_Response *make_resp(const sp__api_out *out)
{
    const char *data = out->body.data ? out->body.data : "";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        out->body.len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            out->ctype ? out->ctype : "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            out->cacheable ? "public, max-age=3600" : "no-store");
    if (out->ctype && strncmp(out->ctype, "text/html", 9) == 0)
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:");
    return resp;
}

/* A last-resort answer when even the response could not be built. */
static enum MHD_Result answer_static_error(struct MHD_Connection *con)
{
    static const char msg[] =
        "{\"error\":\"unavailable\",\"field\":null,\"detail\":\"out of memory\"}";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(msg) - 1, (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result r = queue(con, 503, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- static files ----------------------------------------------------------------- */

static const char *ctype_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "application/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < SP_COUNTOF(types); i++) {
        size_t k = strlen(types[i].ext);
        if (n > k && strcmp(path + n - k, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

/*
 * Whether a decoded request path may name a file under web_root: only
 * [A-Za-z0-9._-] segments separated by single '/', no segment starting
 * with '.', so "..", hidden files, backslashes, NULs and "//" are refused.
 */
static bool path_is_safe(const char *p)
{
    if (p[0] != '/')
        return false;
    bool seg_start = true;
    for (const char *c = p + 1; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '/') {
            if (seg_start)
                return false;
            seg_start = true;
            continue;
        }
        if (seg_start && ch == '.')
            return false;
        seg_start = false;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

#define STATIC_MAX (16u << 20)

/* Serve path from web_root into o (404 when absent or refused). */
static void serve_static(sp__api_req *r, const char *path, sp__api_out *o)
{
    sp_api_server *s = r->srv;
    if (s->web_root == NULL) {
        sp__api_error(o, 404, "not_found", NULL, "no dashboard configured (serve --web DIR)");
        return;
    }
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    if (!path_is_safe(path)) {
        sp__api_error(o, 404, "not_found", "path", "no such file");
        return;
    }
    char full[4096];
    int k = snprintf(full, sizeof(full), "%s%s", s->web_root, path);
    if (k < 0 || (size_t)k >= sizeof(full)) {
        sp__api_error(o, 404, "not_found", "path", "no such file");
        return;
    }
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX) {
        if (fd >= 0)
            close(fd);
        sp__api_error(o, 404, "not_found", "path", "no such file");
        return;
    }
    char *dst;
    size_t n = (size_t)st.st_size, got = 0;
    if (sp_buf_reserve(&o->body, n + 1, &dst) != SP_OK) {
        close(fd);
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return;
    }
    while (got < n) {
        ssize_t m = read(fd, dst + got, n - got);
        if (m <= 0) {
            if (m < 0 && errno == EINTR)
                continue;
            break;
        }
        got += (size_t)m;
    }
    close(fd);
    if (got != n) {
        sp__api_error(o, 404, "not_found", "path", "file changed while read");
        return;
    }
    sp_buf_commit(&o->body, n);
    o->status = 200;
    o->ctype = ctype_of(path);
    o->cacheable = true;
}

/* ---- routing --------------------------------------------------------------------- */

static void route_health(sp__api_req *r, sp__api_out *o)
{
    sp_api_server *s = r->srv;
    sp__json j = {&o->body, SP_OK};
    sp_store *st = NULL;
    sp_diag d = {0};
    sp_err e = sp__api_store_get(s, &st, &d);
    sp__api_jraw(&j, "{\"status\":");
    sp__api_jraw(&j, e == SP_OK ? "\"ok\"" : "\"degraded\"");
    sp__api_jraw(&j, ",\"store\":");
    sp__api_jstr(&j, e == SP_OK ? sp_store_backend(st) : "unavailable");
    sp__api_jfmt(&j, ",\"dashboard\":%s,\"calculator\":%s,\"simulator\":%s,\"version\":\"%s\"}",
                 s->web_root ? "true" : "false", s->rules ? "true" : "false",
                 s->sim.ok ? "true" : "false", sp_version());
    sp__api_store_put(s, st);
    o->status = e == SP_OK ? 200 : 503;
}

typedef struct route {
    const char *path;
    const char *method; /* "GET" or "POST" */
    void (*fn)(sp__api_req *r, sp__api_out *o);
} route;

static const route routes[] = {
    {"/healthz", "GET", route_health},
    {"/api/v1/openapi.json", "GET", sp__api_route_openapi},
    {"/api/v1/report", "GET", sp__api_route_report},
    {"/api/v1/prices", "GET", sp__api_route_prices},
    {"/api/v1/liquidations", "GET", sp__api_route_liquidations},
    {"/api/v1/heatmap", "GET", sp__api_route_heatmap},
    {"/api/v1/correlation", "GET", sp__api_route_correlation},
    {"/api/v1/funding", "GET", sp__api_route_funding},
    {"/api/v1/etf-flows", "GET", sp__api_route_etf},
    {"/api/v1/fear-greed", "GET", sp__api_route_fg},
    {"/api/v1/extremes", "GET", sp__api_route_extremes},
    {"/api/v1/drawdown", "GET", sp__api_route_drawdown},
    {"/api/v1/change", "GET", sp__api_route_change},
    {"/api/v1/volatility", "GET", sp__api_route_volatility},
    {"/api/v1/liq", "GET", sp__api_route_liq},
    {"/api/v1/simulate", "POST", sp__api_route_simulate},
};

/*
 * Compute the answer of a request into o.  Returns false when the route
 * suspended the connection (a queued simulation) and will answer later.
 */
static bool dispatch(rq *q, const char *method, sp__api_out *o)
{
    sp_api_server *s = q->r.srv;
    const char *qm = memchr(q->uri, '?', q->uri_len);
    size_t plen = qm ? (size_t)(qm - q->uri) : q->uri_len;
    size_t qlen = qm ? q->uri_len - plen - 1 : 0;
    sp_diag d = {0};
    q->r.method = method;
    if (qlen > s->cfg.query_max) {
        char why[96];
        snprintf(why, sizeof(why), "query string of %zu bytes; at most %zu", qlen,
                 s->cfg.query_max);
        sp__api_error(o, 414, "query_too_long", NULL, why);
        return true;
    }
    char *path;
    if (sp_arena_strndup(&q->r.arena, q->uri, plen, &path) != SP_OK) {
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return true;
    }
    q->r.path = path;
    bool is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < SP_COUNTOF(routes); i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        bool ok = strcmp(routes[i].method, "GET") == 0 ? is_get : strcmp(method, "POST") == 0;
        if (!ok) {
            char why[64];
            snprintf(why, sizeof(why), "use %s", routes[i].method);
            sp__api_error(o, 405, "method_not_allowed", NULL, why);
            return true;
        }
        if (q->too_big) {
            char why[64];
            snprintf(why, sizeof(why), "body larger than %zu bytes", s->cfg.body_max);
            sp__api_error(o, 413, "body_too_large", NULL, why);
            return true;
        }
        sp_err e = sp_api_query_parse(&q->r.arena, qm ? qm + 1 : "", qlen, &q->r.q, &d);
        if (e != SP_OK) {
            sp__api_error(o, e == SP_ETOOBIG && d.field[0] == '\0' ? 503 : 400, "bad_parameter",
                          d.field[0] ? d.field : NULL, d.msg);
            return true;
        }
        q->r.body = q->body.data ? q->body.data : "";
        q->r.body_len = q->body.len;
        routes[i].fn(&q->r, o);
        return o->status != 0;
    }
    if (strncmp(path, "/api/", 5) == 0 || !is_get) {
        if (!is_get && strncmp(path, "/api/", 5) != 0)
            sp__api_error(o, 405, "method_not_allowed", NULL, "static files: use GET");
        else
            sp__api_error(o, 404, "not_found", "path", "no such route (see /api/v1/openapi.json)");
        return true;
    }
    if (qlen > 0 && sp_api_query_parse(&q->r.arena, qm + 1, qlen, &q->r.q, &d) != SP_OK) {
        sp__api_error(o, 400, "bad_parameter", d.field[0] ? d.field : NULL, d.msg);
        return true;
    }
    serve_static(&q->r, path, o);
    return true;
}

/* One access-log line on stderr; the URI is cut to 200 bytes, non-printable bytes shown as '?'. */
static void access_log(const sp_api_server *s, const rq *q, const char *method, unsigned st,
                       bool hit)
{
    if (s->cfg.quiet)
        return;
    char u[201];
    size_t n = q->uri_len < 200 ? q->uri_len : 200;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)q->uri[i];
        u[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    u[n] = '\0';
    int64_t us = (sp_clock_mono_ns() - q->t0_ns) / 1000;
    fprintf(stderr, "%s %s %u %lldus%s\n", method, u, st, (long long)us, hit ? " cached" : "");
}

/* Whether the request announces a Content-Length past body_max. */
static bool too_long_body(const sp_api_server *s, struct MHD_Connection *con)
{
    const char *cl =
        MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;
    return cl != NULL && sp_dec_parse(cl, strlen(cl), 0, &n, NULL) == SP_OK &&
           (uint64_t)n > s->cfg.body_max;
}

/* Queue the 413 answer now (libmicrohttpd closes the connection after it). */
static enum MHD_Result answer_413(const sp_api_server *s, const rq *q, struct MHD_Connection *con,
                                  const char *method)
{
    sp__api_out o;
    memset(&o, 0, sizeof(o));
    sp_buf_init(&o.body, 0);
    char why[64];
    snprintf(why, sizeof(why), "body larger than %zu bytes", s->cfg.body_max);
    sp__api_error(&o, 413, "body_too_large", NULL, why);
    struct MHD_Response *resp = make_resp(&o);
    sp_buf_fini(&o.body);
    if (resp == NULL)
        return MHD_NO;
    access_log(s, q, method, 413, false);
    enum MHD_Result r = queue(con, 413, resp);
    MHD_destroy_response(resp);
    return r;
}

/* The libmicrohttpd access handler (see the lifecycle at the top of the file). */
static enum MHD_Result handler(void *cls, struct MHD_Connection *con, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    (void)url;
    (void)version;
    sp_api_server *s = cls;
    rq *q = *req_cls;
    if (q == NULL)
        return answer_static_error(con);
    if (!q->seen) {
        q->seen = true;
        q->r.con = con;
        if (too_long_body(s, con)) { /* refuse before "100 Continue": the body never comes */
            q->answered = true;
            return answer_413(s, q, con, method);
        }
        return MHD_YES; /* answer on a later call: keeps keep-alive (perf-anchors §5) */
    }
    if (q->answered) { /* a 413 went out before the body: discard whatever comes */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        /* past body_max the rest is read and dropped; the 413 goes out at the end */
        if (!q->too_big && sp_buf_append(&q->body, upload, *upload_size) != SP_OK)
            q->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    bool is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    unsigned st = 0;
    if (is_get) {
        struct MHD_Response *hit = cache_get(s->cache, q->uri, q->uri_len, &st);
        if (hit) {
            access_log(s, q, method, st, true);
            return queue(con, st, hit);
        }
    }
    sp__api_out o;
    memset(&o, 0, sizeof(o));
    sp_buf_init(&o.body, 0);
    if (!dispatch(q, method, &o)) {
        sp_buf_fini(&o.body);
        return MHD_YES; /* suspended: the simulation worker resumes us */
    }
    struct MHD_Response *resp = make_resp(&o);
    sp_buf_fini(&o.body);
    if (resp == NULL)
        return answer_static_error(con);
    access_log(s, q, method, o.status, false);
    enum MHD_Result r = queue(con, o.status, resp);
    if (!(is_get && o.status == 200 && o.cacheable &&
          cache_put(s->cache, q->uri, q->uri_len, resp, o.status)))
        MHD_destroy_response(resp);
    return r;
}

/* ---- start and stop ------------------------------------------------------------------ */

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = sp_malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/*
 * Load the calculator's rules from data_dir/rules.  Missing or unreadable
 * data only turns the calculator off (503, said on stderr); running out of
 * memory fails the start.
 */
static sp_err load_rules(sp_api_server *s, sp_diag *d)
{
    char dir[4096];
    sp_diag dd = {0};
    if (s->cfg.data_dir == NULL)
        return SP_OK;
    snprintf(dir, sizeof(dir), "%s/rules", s->cfg.data_dir);
    if (sp_rules_db_new(&s->rules) != SP_OK)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    sp_err e = sp_rules_db_load_dir(s->rules, dir, &dd);
    if (e == SP_OK)
        return SP_OK;
    sp_rules_db_free(s->rules);
    s->rules = NULL;
    if (e == SP_ENOMEM)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    if (!s->cfg.quiet) {
        char msg[512];
        fprintf(stderr, "stampede serve: note: %s: %s (the calculator is off)\n", dir,
                sp_diag_format(&dd, msg, sizeof(msg)));
    }
    return SP_OK;
}

sp_err sp_api_start(const sp_api_cfg *cfg, sp_api_server **out, sp_diag *d)
{
    *out = NULL;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host ? cfg->host : "127.0.0.1", &sin.sin_addr) != 1)
        return sp_diag_set(d, SP_EINVAL, "listen address '%s' is not an IPv4 address", cfg->host);
    sp_api_server *s = sp_calloc(1, sizeof(*s));
    if (s == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->cfg.threads = cfg->threads ? cfg->threads : 2;
    s->cfg.conn_max = cfg->conn_max ? cfg->conn_max : SP_API_CONN_MAX;
    s->cfg.timeout_s = cfg->timeout_s ? cfg->timeout_s : SP_API_TIMEOUT_S;
    s->cfg.query_max = cfg->query_max ? cfg->query_max : SP_API_QUERY_MAX;
    s->cfg.body_max = cfg->body_max ? cfg->body_max : SP_API_BODY_MAX;
    s->cfg.header_max = cfg->header_max ? cfg->header_max : SP_API_HEADER_MAX;
    s->cfg.sim_queue = cfg->sim_queue ? cfg->sim_queue : SP_API_SIM_QUEUE;
    s->cfg.sim_time_ms = cfg->sim_time_ms ? cfg->sim_time_ms : SP_API_SIM_TIME_MS;
    s->started_ns = sp_clock_real_ns();
    pthread_mutex_init(&s->pool_mu, NULL);
    sp_err e = SP_ENOMEM;
    s->store_uri = dup_str(cfg->store_uri ? cfg->store_uri : SP_STORE_DEFAULT_URI);
    s->cache = sp_calloc(1, sizeof(*s->cache));
    if (s->cache)
        pthread_rwlock_init(&s->cache->mu, NULL);
    if (s->store_uri == NULL || s->cache == NULL) {
        sp_diag_set(d, e, "out of memory");
        goto fail;
    }
    if (cfg->web_root && (s->web_root = dup_str(cfg->web_root)) == NULL) {
        sp_diag_set(d, e, "out of memory");
        goto fail;
    }
    sp_store *st;
    if ((e = sp_store_open(s->store_uri, SP_STORE_READONLY, &st, d)) != SP_OK)
        goto fail;
    sp__api_store_put(s, st);
    if ((e = load_rules(s, d)) != SP_OK || (e = sp__api_sim_init(s, d)) != SP_OK)
        goto fail;
    s->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, cfg->port, NULL,
        NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->cfg.conn_max, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)s->cfg.header_max, MHD_OPTION_URI_LOG_CALLBACK,
        uri_begin, s, MHD_OPTION_NOTIFY_COMPLETED, request_done, s, MHD_OPTION_END);
    if (s->mhd == NULL) {
        e = sp_diag_set(d, SP_EIO, "cannot listen on %s:%u (port in use?)",
                        cfg->host ? cfg->host : "127.0.0.1", (unsigned)cfg->port);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return SP_OK;
fail:
    sp_api_stop(s);
    return e;
}

uint16_t sp_api_port(const sp_api_server *s)
{
    return s->port;
}

void sp_api_stop(sp_api_server *s)
{
    if (s == NULL)
        return;
    sp__api_sim_drain(s); /* resumes suspended connections: the daemon must not stop with any */
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    sp__api_sim_fini(s);
    cache_free(s->cache);
    for (size_t i = 0; i < s->npool; i++)
        sp_store_close(s->pool[i]);
    pthread_mutex_destroy(&s->pool_mu);
    sp_rules_db_free(s->rules);
    sp_free(s->store_uri);
    sp_free(s->web_root);
    sp_free(s);
}
