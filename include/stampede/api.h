/*
 * api.h -- the HTTP JSON API and the dashboard's static files (issue 12).
 *
 * An sp_api_server is one libmicrohttpd daemon bound to a loopback (or
 * given) address.  It answers
 *   GET  /healthz                      liveness and what is loaded
 *   GET  /api/v1/openapi.json          the OpenAPI 3 description of all routes
 *   GET  /api/v1/report?day=...        the crash-day report (sp_an_report_build)
 *   GET  /api/v1/{prices,liquidations,heatmap,correlation,funding,
 *                 etf-flows,fear-greed}?...   one analytics metric each
 *   GET  /api/v1/liq?...               the margin calculator (sp_rules_liq),
 *                                      same inputs and answers as `stampede liq`
 *   POST /api/v1/simulate              one bounded cascade simulation (sp_sim)
 *   GET  /, /assets/...                the dashboard from web_root
 * Every error is a JSON object {"error", "field", "detail"} with status
 * 400 (bad parameter), 404, 405, 413 (body too large), 414 (query too long),
 * 429 (simulation queue full), 503 (store unavailable, time limit) --
 * never 500 for bad input (docs/api.md has every route and limit).
 *
 * Invariants.  The store is opened read-only (SP_STORE_READONLY), one
 * handle per worker thread at most, so a SQLite file another process is
 * ingesting into can be served.  A response computed from a window that
 * ended before the server started ("an immutable day") is cached: the same
 * URI is answered from memory afterwards.  Every request has its own arena
 * (bounded) for scratch memory, released when the request completes.
 * Limits (header/body/query size, connections, per-connection timeout,
 * simulation caps and queue) come from sp_api_cfg; 0 selects the default.
 *
 * Threads.  The daemon runs its own threads (a thread pool); sp_api_start
 * returns once it listens.  sp_api_stop stops it and frees everything.
 * Distinct servers are independent.  Not async-signal-safe.
 */
#ifndef STAMPEDE_API_H
#define STAMPEDE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/analytics.h"
#include "stampede/arena.h"
#include "stampede/buf.h"
#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

/* ---- limits (defaults; each overridable at run time through sp_api_cfg) ---- */

#ifndef SP_API_QUERY_MAX
#define SP_API_QUERY_MAX 4096 /* bytes of the query string after '?' */
#endif
#ifndef SP_API_BODY_MAX
#define SP_API_BODY_MAX (64u << 10) /* bytes of a POST body */
#endif
#ifndef SP_API_HEADER_MAX
#define SP_API_HEADER_MAX (32u << 10) /* memory per connection for the request line + headers */
#endif
#ifndef SP_API_CONN_MAX
#define SP_API_CONN_MAX 2048 /* simultaneous connections */
#endif
#ifndef SP_API_TIMEOUT_S
#define SP_API_TIMEOUT_S 10 /* idle seconds before a connection is closed (slowloris) */
#endif
#ifndef SP_API_PARAMS_MAX
#define SP_API_PARAMS_MAX 32 /* query parameters per request */
#endif
#ifndef SP_API_ARENA_MAX
#define SP_API_ARENA_MAX (16u << 20) /* scratch bytes per request */
#endif
#ifndef SP_API_SIM_POS_MAX
#define SP_API_SIM_POS_MAX 200000 /* positions of one simulation request */
#endif
#ifndef SP_API_SIM_SCEN_MAX
#define SP_API_SIM_SCEN_MAX 16 /* shocks (scenarios) of one simulation request */
#endif
#ifndef SP_API_SIM_QUEUE
#define SP_API_SIM_QUEUE 4 /* simulations waiting; one more gets 429 */
#endif
#ifndef SP_API_SIM_TIME_MS
#define SP_API_SIM_TIME_MS 5000 /* time limit of one simulation request, ms */
#endif
#ifndef SP_API_CACHE_MAX
#define SP_API_CACHE_MAX 512 /* cached responses */
#endif

/* How to run a server.  Zero-initialise, then set what you need. */
typedef struct sp_api_cfg {
    const char *store_uri; /* store to read (borrowed during sp_api_start), NULL = default */
    const char *host;      /* IPv4 address to bind, NULL = "127.0.0.1" */
    uint16_t port;         /* TCP port, 0 = any free port (see sp_api_port) */
    const char *web_root;  /* directory of the dashboard (index.html), NULL = none */
    const char *data_dir;  /* the shipped data/ (rules, klines, book snapshot), NULL = none */
    unsigned threads;      /* worker threads, 0 = 2 */
    unsigned conn_max;     /* 0 = SP_API_CONN_MAX */
    unsigned timeout_s;    /* 0 = SP_API_TIMEOUT_S */
    size_t query_max;      /* 0 = SP_API_QUERY_MAX */
    size_t body_max;       /* 0 = SP_API_BODY_MAX */
    size_t header_max;     /* 0 = SP_API_HEADER_MAX */
    unsigned sim_queue;    /* 0 = SP_API_SIM_QUEUE */
    unsigned sim_time_ms;  /* 0 = SP_API_SIM_TIME_MS */
    bool quiet;            /* no access log on stderr */
} sp_api_cfg;

typedef struct sp_api_server sp_api_server;

/* ---- lifecycle ---------------------------------------------------------------- */

/*
 * Open the store (read-only; it must exist), load the rules data and the
 * simulator's inputs from data_dir when given, and start listening.
 * OUT: *out (stop with sp_api_stop).  Errors (d says what): SP_EINVAL (bad
 * host), SP_ENOTFOUND (no store there), the store's open errors, SP_EIO
 * (cannot bind: port in use), SP_ENOMEM.
 */
SP_API sp_err sp_api_start(const sp_api_cfg *cfg, sp_api_server **out, sp_diag *d);

/* The TCP port the server listens on (useful with cfg.port = 0). */
SP_API uint16_t sp_api_port(const sp_api_server *s);

/* Stop listening, wait for the worker threads, free everything.  NULL is a no-op. */
SP_API void sp_api_stop(sp_api_server *s);

/* ---- JSON shared with the CLI ------------------------------------------------- */

/*
 * Append the crash-day report r as one JSON object (no newline) to b:
 * the format `stampede report --json` prints and /api/v1/report serves
 * (docs/api.md).  SP_ETOOBIG past b's ceiling, SP_ENOMEM (b then holds a
 * prefix; reset it).
 */
SP_API sp_err sp_api_report_json(const sp_an_report *r, sp_buf *b);

/* ---- query strings (exposed for the fuzzer and the tests) ---------------------- */

/* One decoded query parameter (NUL-terminated copies in the arena). */
typedef struct sp_api_param {
    const char *key; /* percent-decoded name */
    const char *val; /* percent-decoded value ("" for "key" or "key=") */
    size_t val_len;  /* bytes of val (it may hold a decoded NUL) */
} sp_api_param;

/* The parameters of one query string. */
typedef struct sp_api_query {
    sp_api_param p[SP_API_PARAMS_MAX];
    size_t n;
} sp_api_query;

/*
 * Split a query string qs[0..n) ("a=1&b=x%20y", without the '?') into
 * parameters, percent-decoding '+' and %XX, copies in a.  Keys must be
 * 1..32 bytes of [a-z0-9_-]; a key given twice, a bad escape, a value
 * that is not UTF-8 or holds a control byte is refused.  OUT: *q.
 * Errors (d: field = the parameter, msg = why): SP_EPARSE, SP_ETOOBIG
 * (more than SP_API_PARAMS_MAX parameters, or past the arena), SP_ENOMEM.
 */
SP_API sp_err sp_api_query_parse(sp_arena *a, const char *qs, size_t n, sp_api_query *q,
                                 sp_diag *d);

/* The value of key in q, or NULL. */
SP_API const char *sp_api_query_get(const sp_api_query *q, const char *key);

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
SP_API bool sp_api_utf8_is_valid(const char *s, size_t n);

SP_END_DECLS

#endif /* STAMPEDE_API_H */
