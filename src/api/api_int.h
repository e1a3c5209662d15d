/*
 * api_int.h -- private pieces of the HTTP API (src/api/): the server
 * state, the per-request context the route handlers see, and the JSON
 * writer helpers.  Not installed.
 */
#ifndef STAMPEDE_API_INT_H
#define STAMPEDE_API_INT_H

#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "stampede/api.h"
#include "stampede/rules.h"
#include "stampede/sim.h"
#include "stampede/store.h"

/* What a route handler produces: a status and a JSON (or other) body. */
typedef struct sp__api_out {
    unsigned status;   /* HTTP status */
    sp_buf body;       /* the body (JSON unless ctype says otherwise) */
    const char *ctype; /* static content type, NULL = application/json */
    bool cacheable;    /* the answer depends only on the URI and immutable data */
} sp__api_out;

/* The simulator's fixed inputs, loaded once at start. */
typedef struct sp__api_simenv {
    bool ok;            /* false: no data_dir or loading failed; simulate answers 503 */
    sp_rules_db *db;    /* rules data (NULL when the built-in venue is used) */
    sp_sim_venue venue; /* Binance USD-M BTCUSDT */
    sp_sim_bar *bars;   /* entry history: the 30 days before 2026-02-05 (sp_free) */
    size_t nbars;
    sp_sim_level *bids; /* shipped Bybit snapshot (sp_free), may be NULL */
    sp_sim_level *asks;
    size_t nb, na;
    int64_t start_px; /* last close before 2026-02-05, scale 8 */
} sp__api_simenv;

typedef struct sp__api_cache sp__api_cache;
typedef struct sp__api_simq sp__api_simq;

struct sp_api_server {
    struct MHD_Daemon *mhd;
    sp_api_cfg cfg;  /* limits resolved (no zeros) */
    char *store_uri; /* owned copy */
    char *web_root;  /* owned copy, NULL = no dashboard */
    uint16_t port;
    pthread_mutex_t pool_mu; /* guards pool[] */
    sp_store *pool[64];      /* idle read-only store handles */
    size_t npool;
    sp_rules_db *rules; /* calculator rules (NULL: /api/v1/liq answers 503) */
    sp__api_simenv sim;
    sp__api_cache *cache;
    sp__api_simq *simq;
    int64_t started_ns; /* wall clock at start: windows ending before are immutable */
};

/* Per-request context handed to the routes. */
typedef struct sp__api_req {
    sp_api_server *srv;
    sp_arena arena;     /* scratch, reset when the request completes */
    const char *path;   /* decoded path without the query (arena) */
    const char *method; /* "GET", "POST", ... (MHD's string) */
    sp_api_query q;     /* parsed parameters */
    const char *body;   /* POST body (arena), NUL-terminated */
    size_t body_len;
    struct MHD_Connection *con; /* the connection (for suspend / resume) */
    void *sim;                  /* the simulation job of this request, NULL = none */
} sp__api_req;

/* ---- JSON writing into an sp_buf (errors are sticky in *e) -------------------- */

typedef struct sp__json {
    sp_buf *b;
    sp_err e; /* first error, SP_OK while writing succeeded */
} sp__json;

void sp__api_jraw(sp__json *j, const char *s);
void sp__api_jfmt(sp__json *j, const char *fmt, ...) SP_PRINTF(2, 3);
/* A JSON string literal of s (invalid UTF-8 bytes become U+FFFD). */
void sp__api_jstr(sp__json *j, const char *s);
void sp__api_jstrn(sp__json *j, const char *s, size_t n);
/* A fixed-point value as an exact decimal string literal ("123.45"). */
void sp__api_jdec(sp__json *j, int64_t v, unsigned scale);
/* The same value as a JSON number written from its exact decimal text (no double). */
void sp__api_jdecnum(sp__json *j, int64_t v, unsigned scale);
/* A double (analytics ratios) as a JSON number with 10 significant digits, null if not finite. */
void sp__api_jnum(sp__json *j, double v);
/* An ISO-8601 UTC time string literal. */
void sp__api_jtime(sp__json *j, int64_t ns);
/* The day "YYYY-MM-DD" of ns as a string literal. */
void sp__api_jday(sp__json *j, int64_t ns);

/* Set out to an error {error, field, detail} with status. */
void sp__api_error(sp__api_out *out, unsigned status, const char *error, const char *field,
                   const char *detail);

/* ---- parameters -------------------------------------------------------------- */

/*
 * Typed parameter readers.  Each returns true with *out set (dflt when the
 * parameter is absent) or false after writing a 400 error naming the field.
 */
bool sp__api_p_day(sp__api_req *r, sp__api_out *o, const char *key, int64_t dflt, int64_t *out);
bool sp__api_p_time(sp__api_req *r, sp__api_out *o, const char *key, int64_t dflt, int64_t *out);
bool sp__api_p_int(sp__api_req *r, sp__api_out *o, const char *key, int64_t min, int64_t max,
                   int64_t dflt, int64_t *out);
bool sp__api_p_dur(sp__api_req *r, sp__api_out *o, const char *key, int64_t dflt, int64_t *out);
bool sp__api_p_sym(sp__api_req *r, sp__api_out *o, const char *key, const char *dflt,
                   const char **out);
/* Refuse parameters not in allowed (NULL-terminated); false after a 400. */
bool sp__api_p_only(sp__api_req *r, sp__api_out *o, const char *const *allowed);

/* ---- shared route helpers (routes_an.c) ---------------------------------------- */

/*
 * Finish o: 200 with the JSON j wrote, cacheable when the window ended at
 * to_ns before the server started; or a 503 when j failed (out of memory,
 * answer too large).
 */
void sp__api_finish(const sp__api_req *r, sp__api_out *o, const sp__json *j, int64_t to_ns);
/* The store filter of kind / venue (0 = any) / symbol (NULL = any) over [from, to). */
sp_store_filter sp__api_filter(unsigned kind, unsigned venue, const char *sym, int64_t from,
                               int64_t to);
/* Load the events f selects from a pooled store handle, appended to e.  false after writing the
 * error (400 too much data, 503). */
bool sp__api_load(sp__api_req *r, sp__api_out *o, const sp_store_filter *f, sp_an_events *e);
/* A series as [[ms, value], ...] (times in milliseconds since the epoch). */
void sp__api_jseries(sp__json *j, const sp_an_point *p, size_t n);

/* from/to parameters with defaults, checked (from < to, at most 10 years).  false after a 400. */
bool sp__api_window(sp__api_req *r, sp__api_out *o, int64_t dfrom, int64_t dto, int64_t *from,
                    int64_t *to);
/* venue and interval parameters (iv may be NULL).  false after a 400. */
bool sp__api_venue_iv(sp__api_req *r, sp__api_out *o, const char *dv, const char *di,
                      unsigned *venue, unsigned *iv);
/*
 * Bars of (venue, symbol, interval) with open time in [from, to) from the
 * store (sp_an_load + sp_an_bars_from).  OUT: *b (sp_free), *n.  false
 * after writing the error (404 no bars, 400 more than 20,000, 503).
 */
bool sp__api_load_bars(sp__api_req *r, sp__api_out *o, unsigned venue, const char *symbol,
                       unsigned iv, int64_t from, int64_t to, sp_an_bar **b, size_t *n);

/* ---- store pool --------------------------------------------------------------- */

sp_err sp__api_store_get(sp_api_server *s, sp_store **out, sp_diag *d);
void sp__api_store_put(sp_api_server *s, sp_store *st);

/* ---- routes -------------------------------------------------------------------- */

void sp__api_route_report(sp__api_req *r, sp__api_out *o);
void sp__api_route_prices(sp__api_req *r, sp__api_out *o);
void sp__api_route_liquidations(sp__api_req *r, sp__api_out *o);
void sp__api_route_heatmap(sp__api_req *r, sp__api_out *o);
void sp__api_route_correlation(sp__api_req *r, sp__api_out *o);
void sp__api_route_funding(sp__api_req *r, sp__api_out *o);
void sp__api_route_etf(sp__api_req *r, sp__api_out *o);
void sp__api_route_fg(sp__api_req *r, sp__api_out *o);
void sp__api_route_liq(sp__api_req *r, sp__api_out *o);
void sp__api_route_extremes(sp__api_req *r, sp__api_out *o);
void sp__api_route_drawdown(sp__api_req *r, sp__api_out *o);
void sp__api_route_change(sp__api_req *r, sp__api_out *o);
void sp__api_route_volatility(sp__api_req *r, sp__api_out *o);
void sp__api_route_openapi(sp__api_req *r, sp__api_out *o);

/* The OpenAPI document (static text). */
extern const char sp__api_openapi_json[];

/* ---- simulation queue ------------------------------------------------------------ */

sp_err sp__api_sim_init(sp_api_server *s, sp_diag *d);
void sp__api_sim_fini(sp_api_server *s);
/* Stop the worker; queued jobs are answered 503 and resumed. */
void sp__api_sim_drain(sp_api_server *s);
/*
 * POST /api/v1/simulate: on the first call validates and enqueues the job
 * (429 when the queue is full) and suspends the connection, leaving
 * o->status 0; the worker resumes it and the next call writes the answer.
 */
void sp__api_route_simulate(sp__api_req *r, sp__api_out *o);
/* The request is over: detach its job (the worker frees it). */
void sp__api_sim_forget(sp__api_req *r);

#endif
