/*
 * test_api_server.c -- the api module in-process: query-string parsing,
 * the JSON string writer, the report's JSON, and a real server started on
 * 127.0.0.1 (port 0) over a temporary SQLite store, spoken to with raw
 * sockets: routes, errors, the cache, a HEAD, keep-alive, and
 * sp_api_start under allocation failure (every failing step returns
 * SP_ENOMEM and leaks nothing).  The end-to-end tests over the shipped data
 * are test_api.sh and test_web_browser.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api_int.h"
#include "testalloc.h"

static char db_uri[512];

static int setup(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "/tmp/sp_api_test_%d.db", (int)getpid());
    unlink(path);
    snprintf(db_uri, sizeof(db_uri), "sqlite:%s", path);
    sp_store *st;
    sp_diag d = {0};
    assert_int_equal(sp_store_open(db_uri, 0, &st, &d), SP_OK);
    sp_store_close(st);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *p = db_uri + 7;
    char w[600];
    unlink(p);
    snprintf(w, sizeof(w), "%s-wal", p);
    unlink(w);
    snprintf(w, sizeof(w), "%s-shm", p);
    unlink(w);
    return 0;
}

/* Send req to 127.0.0.1:port and read the answer until the server closes. */
static char *http(uint16_t port, const char *req)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    ssize_t k;
    while ((k = read(fd, buf + n, cap - n - 1)) > 0) {
        n += (size_t)k;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    close(fd);
    return buf;
}

static char *get(uint16_t port, const char *target)
{
    char req[2048];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target);
    return http(port, req);
}

static int status_of(const char *resp)
{
    return strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : 0;
}

static const char *body_of(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : "";
}

/* ---- query strings ------------------------------------------------------------------------ */

static sp_err parse(sp_arena *a, const char *qs, sp_api_query *q, sp_diag *d)
{
    sp_diag_clear(d);
    return sp_api_query_parse(a, qs, strlen(qs), q, d);
}

static void test_query_parse(void **state)
{
    (void)state;
    sp_arena a;
    sp_arena_init(&a, 0, 1 << 20);
    sp_api_query q;
    sp_diag d;
    assert_int_equal(parse(&a, "day=2026-02-06&symbol=GC%3DF&x=a+b&flag&&e=", &q, &d), SP_OK);
    assert_int_equal(q.n, 5);
    assert_string_equal(sp_api_query_get(&q, "day"), "2026-02-06");
    assert_string_equal(sp_api_query_get(&q, "symbol"), "GC=F");
    assert_string_equal(sp_api_query_get(&q, "x"), "a b");
    assert_string_equal(sp_api_query_get(&q, "flag"), "");
    assert_string_equal(sp_api_query_get(&q, "e"), "");
    assert_null(sp_api_query_get(&q, "nope"));
    /* refusals, each with the field and why */
    assert_int_equal(parse(&a, "a=1&a=2", &q, &d), SP_EPARSE);
    assert_string_equal(d.field, "a");
    assert_int_equal(parse(&a, "a=%4", &q, &d), SP_EPARSE);
    assert_int_equal(parse(&a, "a=%zz", &q, &d), SP_EPARSE);
    assert_int_equal(parse(&a, "a=%C3%28", &q, &d), SP_EPARSE);
    assert_non_null(strstr(d.msg, "UTF-8"));
    assert_int_equal(parse(&a, "a=%0A", &q, &d), SP_EPARSE);
    assert_int_equal(parse(&a, "A=1", &q, &d), SP_EPARSE);
    assert_int_equal(parse(&a, "=1", &q, &d), SP_EPARSE);
    char many[1024] = "";
    for (int i = 0; i <= SP_API_PARAMS_MAX; i++) {
        char kv[16];
        snprintf(kv, sizeof(kv), "k%d=1&", i);
        strcat(many, kv);
    }
    assert_int_equal(parse(&a, many, &q, &d), SP_ETOOBIG);
    /* UTF-8 rules */
    assert_true(sp_api_utf8_is_valid("\xe2\x82\xac\xf0\x9f\x98\x80", 7));
    assert_false(sp_api_utf8_is_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(sp_api_utf8_is_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(sp_api_utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(sp_api_utf8_is_valid("\xe2\x82", 2));         /* truncated */
    sp_arena_fini(&a);
}

static void test_json_string_escapes(void **state)
{
    (void)state;
    sp_buf b;
    sp_buf_init(&b, 0);
    sp__json j = {&b, SP_OK};
    sp__api_jstrn(&j, "a\"b\\c\n\x01\xff\xe2\x82\xac", 11);
    assert_int_equal(j.e, SP_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\\ufffd\xe2\x82\xac\"");
    sp_buf_reset(&b);
    sp__api_jdecnum(&j, -12345000000, 8);
    sp__api_jraw(&j, " ");
    sp__api_jdec(&j, 5, 12);
    assert_string_equal(b.data, "-123.45 \"0.000000000005\"");
    sp_buf_fini(&b);
    /* a bounded buffer: the error sticks */
    sp_buf_init(&b, 8);
    sp__json k = {&b, SP_OK};
    sp__api_jstr(&k, "far too long for eight bytes");
    assert_int_equal(k.e, SP_ETOOBIG);
    sp_buf_fini(&b);
}

static void test_report_json_shape(void **state)
{
    (void)state;
    static sp_an_report r;
    memset(&r, 0, sizeof(r));
    r.opts.day_ns = INT64_C(20490) * SP_AN_NS_PER_DAY;
    r.opts.from_ns = r.opts.day_ns;
    r.opts.window_ns = SP_AN_NS_PER_DAY;
    r.opts.corr_window = 30;
    r.nfig = 1;
    snprintf(r.fig[0].key, sizeof(r.fig[0].key), "btc_ath");
    snprintf(r.fig[0].label, sizeof(r.fig[0].label), "BTC \"ATH\"");
    r.fig[0].has_value = true;
    r.fig[0].value = 126199.63;
    r.liq.notional = 123456789;
    sp_buf b;
    sp_buf_init(&b, 0);
    assert_int_equal(sp_api_report_json(&r, &b), SP_OK);
    assert_non_null(strstr(b.data,
                           "{\"day\":\"2026-02-06\",\"events_read\":0,\"figures\":[{\"key\":"
                           "\"btc_ath\",\"label\":\"BTC \\\"ATH\\\"\",\"article\":null"));
    assert_non_null(strstr(b.data, "\"value\":126199.63"));
    assert_non_null(strstr(b.data, "\"notional\":\"1.23456789\""));
    assert_int_equal(b.data[b.len - 1], '}');
    sp_buf_fini(&b);
    sp_buf_init(&b, 64); /* too small: SP_ETOOBIG, never an overflow */
    assert_int_equal(sp_api_report_json(&r, &b), SP_ETOOBIG);
    sp_buf_fini(&b);
}

/* ---- a real server -------------------------------------------------------------------------- */

static void test_server_routes_and_errors(void **state)
{
    (void)state;
    sp_api_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = db_uri;
    cfg.quiet = true;
    cfg.web_root = sp_test_path("web/dist");
    sp_api_server *s;
    sp_diag d = {0};
    assert_int_equal(sp_api_start(&cfg, &s, &d), SP_OK);
    uint16_t port = sp_api_port(s);
    assert_true(port > 0);

    char *r = get(port, "/healthz");
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(body_of(r), "\"status\":\"ok\",\"store\":\"sqlite\""));
    assert_non_null(strstr(body_of(r), "\"calculator\":false,\"simulator\":false"));
    free(r);
    /* an empty store: the report has no data -> 404, not 500 */
    r = get(port, "/api/v1/report");
    assert_int_equal(status_of(r), 404);
    assert_non_null(strstr(body_of(r), "\"error\":\"no_data\",\"field\":\"day\""));
    free(r);
    r = get(port, "/api/v1/prices");
    assert_int_equal(status_of(r), 404);
    free(r);
    /* without rules data the calculator and the simulator are 503 */
    r = get(port, "/api/v1/liq?venue=binance");
    assert_int_equal(status_of(r), 503);
    free(r);
    r = http(port, "POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                   "Connection: close\r\n\r\n{}");
    assert_int_equal(status_of(r), 503);
    free(r);
    r = get(port, "/api/v1/report?day=2026-02-30");
    assert_int_equal(status_of(r), 400);
    assert_non_null(strstr(body_of(r), "\"field\":\"day\""));
    free(r);
    r = http(port, "DELETE /api/v1/report HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 405);
    free(r);
    r = get(port, "/api/v1/openapi.json");
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(body_of(r), "\"openapi\":\"3.0.3\""));
    free(r);
    /* the same URI again comes from the cache, byte for byte */
    char *r2 = get(port, "/api/v1/openapi.json");
    assert_string_equal(body_of(r2), sp__api_openapi_json);
    free(r2);
    /* HEAD: headers, no body */
    r = http(port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(status_of(r), 200);
    assert_string_equal(body_of(r), "");
    free(r);
    /* static files and traversal */
    r = get(port, "/");
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(r, "text/html"));
    free(r);
    r = get(port, "/../CMakeLists.txt");
    assert_int_equal(status_of(r), 404);
    free(r);
    r = get(port, "/.%2e/CMakeLists.txt");
    assert_int_equal(status_of(r), 404);
    free(r);
    /* keep-alive: two requests on one connection, both answered */
    r = http(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                   "Connection: close\r\n\r\n");
    const char *second = strstr(r + 1, "HTTP/1.1 200");
    assert_int_equal(status_of(r), 200);
    assert_non_null(second);
    free(r);
    sp_api_stop(s);
}

static void test_start_errors(void **state)
{
    (void)state;
    sp_api_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = "sqlite:/nonexistent/dir/x.db";
    cfg.quiet = true;
    sp_api_server *s = NULL;
    sp_diag d = {0};
    assert_int_not_equal(sp_api_start(&cfg, &s, &d), SP_OK);
    assert_null(s);
    cfg.store_uri = db_uri;
    cfg.host = "not-an-ip";
    assert_int_equal(sp_api_start(&cfg, &s, &d), SP_EINVAL);
    /* the port of a running server is taken */
    cfg.host = NULL;
    sp_api_server *a;
    assert_int_equal(sp_api_start(&cfg, &a, &d), SP_OK);
    cfg.port = sp_api_port(a);
    assert_int_equal(sp_api_start(&cfg, &s, &d), SP_EIO);
    assert_non_null(strstr(d.msg, "cannot listen"));
    sp_api_stop(a);
    sp_api_stop(NULL);
}

/* The simulation's time limit: past it the answer is a 503 "time_limit", not a late 200. */
static void test_simulate_time_limit(void **state)
{
    (void)state;
    sp_api_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = db_uri;
    cfg.quiet = true;
    cfg.data_dir = sp_test_path("data");
    cfg.sim_time_ms = 1;
    sp_api_server *s;
    sp_diag d = {0};
    assert_int_equal(sp_api_start(&cfg, &s, &d), SP_OK);
    const char body[] = "{\"positions\":200000,\"shocks_pct\":[-2,-4,-6,-8]}";
    char req[512];
    snprintf(req, sizeof(req),
             "POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen(body), body);
    char *r = http(sp_api_port(s), req);
    assert_int_equal(status_of(r), 503);
    assert_non_null(strstr(body_of(r), "\"error\":\"time_limit\""));
    free(r);
    /* a small one within a generous limit answers */
    sp_api_stop(s);
    cfg.sim_time_ms = 60000;
    assert_int_equal(sp_api_start(&cfg, &s, &d), SP_OK);
    snprintf(req, sizeof(req),
             "POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Length: 36\r\n"
             "Connection: close\r\n\r\n{\"positions\":2000,\"shocks_pct\":[-9]}");
    r = http(sp_api_port(s), req);
    assert_int_equal(status_of(r), 200);
    assert_non_null(strstr(body_of(r), "\"positions\":2000"));
    free(r);
    sp_api_stop(s);
}

static sp_err start_stop(void *ctx)
{
    const sp_api_cfg *cfg = ctx;
    sp_api_server *s;
    sp_diag d = {0};
    sp_err e = sp_api_start(cfg, &s, &d);
    if (e == SP_OK)
        sp_api_stop(s);
    return e;
}

static void test_start_enomem(void **state)
{
    (void)state;
    sp_api_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.store_uri = db_uri;
    cfg.quiet = true;
    cfg.web_root = "/nonexistent";
    uint64_t steps = sp_test_enomem_loop(start_stop, &cfg, 10000);
    assert_true(steps > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_parse),
        cmocka_unit_test(test_json_string_escapes),
        cmocka_unit_test(test_report_json_shape),
        cmocka_unit_test_setup_teardown(test_server_routes_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulate_time_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_enomem, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
