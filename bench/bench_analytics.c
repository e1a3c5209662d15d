/*
 * bench_analytics.c -- the 24h liquidation report over 10^7 stored events
 * (issue 10, bench/RESULTS.md "analytics"), against the plain SQL GROUP BY
 * that computes the same totals, in the same process on the same file.
 *
 *   bench_analytics [N] [DIR]   N liquidation events (default 10^7) in one
 *                               24h window, SQLite file under DIR (/tmp);
 *                               the PostgreSQL phases run when SP_TEST_PG_URI
 *                               is set (bench_analytics_pg runs this through
 *                               tests/integration/pg_server.sh)
 *
 * Workload (fixed seed, no wall clock): N LIQUIDATION events spread evenly
 * over 2026-02-06 (8.64 ms apart at 10^7), 16 symbols, three venues
 * (Binance USD-M and Bybit, throttled; OKX, per order), both sides,
 * notionals 1..4,000 US$ at 1e-8.  Ingest (sp_store_append, 65,536 per
 * batch) is timed once and reported, not compared.
 *
 * Measured, BENCH_RUNS times each:
 *   ours  sp_an_load (sp_store_query of kind = liquidation, exch_ts in the
 *         24h window) + sp_an_liq_aggregate (venue x symbol x side: count,
 *         notional, largest) + sp_an_liq_traders (the slot estimator);
 *   roll  sp_an_liq_from_rollups: the same figures from the store's
 *         per-minute roll-ups (liq_minute, written at ingest; schema 3):
 *         1,440 x groups rows instead of N events -- the report's path for
 *         minute-aligned windows;
 *   agg   sp_an_liq_aggregate + traders alone on the loaded array (no I/O);
 *   base  SELECT venue, symbol_id, flags & 1, count(*), sum(aux2),
 *         max(aux2) FROM event WHERE kind = 4 AND exch_ts_ns in the window
 *         GROUP BY 1, 2, 3 -- straight through sqlite3 on the same file.
 * With PostgreSQL the same three are measured on a database filled by
 * sp_store (day partitions), the baseline through libpq.
 * Correctness: the group count, total count and exact notional sum of ours
 * and of the SQL must be equal, and roll must give the same group hash,
 * totals and bit-identical traders estimate as ours (exit 1 otherwise); a
 * hash of the groups is printed.  Ingest is timed with the roll-ups being
 * maintained (compare with a build of the previous commit for their cost).
 */
#include <sqlite3.h>
#include <stdio.h>
#ifdef STAMPEDE_HAVE_PG
#include <libpq-fe.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "stampede/analytics.h"
#include "stampede/stampede.h"

#define NAME  "bench_analytics"
#define BATCH 65536
#define NSYM  16
#define DAY0  INT64_C(1770336000000000000) /* 2026-02-06 00:00 UTC */
#define DAYNS INT64_C(86400000000000)

static sp_event gen(uint64_t i, uint64_t n)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    e.kind = SP_EV_LIQUIDATION;
    e.symbol_id = (uint32_t)(x % NSYM) + 1;
    static const uint8_t venues[3] = {SP_VENUE_BINANCE_UM, SP_VENUE_BYBIT, SP_VENUE_OKX};
    e.venue = venues[(x >> 8) % 3];
    e.flags = (uint8_t)((x >> 12) & 1u);
    e.exch_ts_ns = DAY0 + (int64_t)((__int128)i * DAYNS / (__int128)n);
    e.px = 6000000000000 + (int64_t)((x >> 16) % 100000000000ull);
    e.qty = 1 + (int64_t)((x >> 20) % 10000000);
    e.aux[0] = e.px;
    e.aux[1] = e.qty;
    e.aux[2] = 100000000 + (int64_t)((x >> 24) % 400000000000ull); /* 1 .. 4,000 US$ */
    return e;
}

static int ingest(const char *uri, uint64_t n)
{
    sp_store *s;
    sp_symtab *syms;
    sp_diag d = {0};
    if (sp_store_open(uri, 0, &s, &d) != SP_OK || sp_symtab_new(&syms) != SP_OK) {
        fprintf(stderr, NAME ": open %s: %s\n", uri, d.msg);
        return -1;
    }
    char name[16];
    for (int k = 1; k <= NSYM; k++) {
        uint32_t id;
        snprintf(name, sizeof(name), "SYM%02dUSDT", k);
        sp_symtab_intern(syms, name, strlen(name), &id);
    }
    sp_event *b = malloc(BATCH * sizeof(*b));
    for (uint64_t i = 0; i < n;) {
        size_t k = 0;
        while (k < BATCH && i < n)
            b[k++] = gen(i++, n);
        if (sp_store_append(s, b, k, syms, NULL, &d) != SP_OK) {
            fprintf(stderr, NAME ": append: %s\n", d.msg);
            return -1;
        }
    }
    free(b);
    sp_symtab_free(syms);
    sp_store_close(s);
    return 0;
}

typedef struct result {
    size_t groups;
    uint64_t count;
    __int128 notional;
    uint64_t hash;
} result;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h;
}

/* Hash of the groups in a canonical order: (venue, symbol name, side, count, notional). */
static uint64_t groups_hash(sp_an_liq_group *g, size_t n, const sp_symtab *syms)
{
    uint64_t h = 0;
    for (int v = 0; v < 16; v++)
        for (uint32_t s = 1; s <= NSYM; s++) {
            char name[16];
            snprintf(name, sizeof(name), "SYM%02uUSDT", s);
            for (int side = 0; side < 2; side++)
                for (size_t i = 0; i < n; i++)
                    if (g[i].venue == v && g[i].long_side == side &&
                        strcmp(sp_symtab_name(syms, g[i].symbol_id), name) == 0)
                        h = mix(mix(mix(h, (uint64_t)v * 64 + s * 2 + (uint64_t)side), g[i].count),
                                (uint64_t)g[i].notional);
        }
    return h;
}

static int ours(sp_store *s, bool io, sp_an_events *keep, result *r, sp_an_traders *tr)
{
    sp_an_events e;
    sp_an_events_init(&e);
    sp_an_events *ep = keep;
    if (io) {
        sp_store_filter f = {.kind = SP_EV_LIQUIDATION,
                             .from_ns = DAY0,
                             .to_ns = DAY0 + DAYNS,
                             .has_from = 1,
                             .has_to = 1};
        sp_diag d = {0};
        if (sp_an_load(s, &f, &e, &d) != SP_OK) {
            fprintf(stderr, NAME ": load: %s\n", d.msg);
            return -1;
        }
        ep = &e;
    }
    sp_an_liq_group g[256];
    size_t ng;
    sp_an_liq_total t;
    if (sp_an_liq_aggregate(ep->ev, ep->n, ep->syms, DAY0, DAY0 + DAYNS, g, 256, &ng, &t) !=
            SP_OK ||
        sp_an_liq_traders(ep->ev, ep->n, DAY0, DAY0 + DAYNS, tr) != SP_OK)
        return -1;
    r->groups = ng;
    r->count = t.count;
    r->notional = t.notional;
    r->hash = groups_hash(g, ng, ep->syms);
    if (io) {
        if (keep != NULL && keep->n == 0)
            *keep = e;
        else
            sp_an_events_fini(&e);
    }
    return 0;
}

/* The figures from the roll-ups; *tr gets the traders estimate. */
static int roll(sp_store *s, result *r, sp_an_traders *tr)
{
    sp_symtab *syms = NULL;
    sp_an_liq_group g[256];
    size_t ng;
    sp_an_liq_total t;
    sp_diag d = {0};
    if (sp_symtab_new(&syms) != SP_OK)
        return -1;
    if (sp_an_liq_from_rollups(s, DAY0, DAY0 + DAYNS, syms, g, 256, &ng, &t, tr, &d) != SP_OK) {
        fprintf(stderr, NAME ": roll-ups: %s\n", d.msg);
        sp_symtab_free(syms);
        return -1;
    }
    r->groups = ng;
    r->count = t.count;
    r->notional = t.notional;
    r->hash = groups_hash(g, ng, syms);
    sp_symtab_free(syms);
    return 0;
}

static int same_traders(const sp_an_traders *a, const sp_an_traders *b)
{
    return a->counted == b->counted && a->observed == b->observed && a->saturated == b->saturated &&
           a->estimate == b->estimate && a->stderr_est == b->stderr_est;
}

static int base(sqlite3 *db, result *r)
{
    sqlite3_stmt *st;
    const char *sql = "SELECT venue, symbol_id, flags & 1, count(*), sum(aux2), max(aux2) FROM "
                      "event WHERE kind = 4 AND exch_ts_ns >= ?1 AND exch_ts_ns < ?2 "
                      "GROUP BY 1, 2, 3";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, DAY0);
    sqlite3_bind_int64(st, 2, DAY0 + DAYNS);
    memset(r, 0, sizeof(*r));
    while (sqlite3_step(st) == SQLITE_ROW) {
        r->groups++;
        r->count += (uint64_t)sqlite3_column_int64(st, 3);
        r->notional += sqlite3_column_int64(st, 4);
        bench_sink((uint64_t)sqlite3_column_int64(st, 5));
    }
    sqlite3_finalize(st);
    return 0;
}

#ifdef STAMPEDE_HAVE_PG
static const char *const pg_sql =
    "SELECT venue, symbol_id, flags & 1, count(*), sum(aux2), max(aux2) FROM event WHERE kind = 4 "
    "AND exch_ts_ns >= 1770336000000000000 AND exch_ts_ns < 1770422400000000000 GROUP BY 1, 2, 3";

static int base_pg(PGconn *c, result *r)
{
    PGresult *q = PQexec(c, pg_sql);
    if (PQresultStatus(q) != PGRES_TUPLES_OK) {
        fprintf(stderr, NAME ": pg: %s", PQerrorMessage(c));
        PQclear(q);
        return -1;
    }
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < PQntuples(q); i++) {
        r->groups++;
        r->count += strtoull(PQgetvalue(q, i, 3), NULL, 10);
        r->notional += strtoll(PQgetvalue(q, i, 4), NULL, 10);
    }
    PQclear(q);
    return 0;
}

/* The PostgreSQL phases; returns 0 when they ran and matched (or were skipped). */
static int pg_phases(uint64_t n)
{
    const char *b = getenv("SP_TEST_PG_URI");
    if (b == NULL || *b == '\0') {
        printf(NAME ": postgres: skipped (SP_TEST_PG_URI not set; run bench_analytics_pg)\n");
        return 0;
    }
    char uri[600];
    snprintf(uri, sizeof(uri), "%s/postgres", b);
    PGconn *adm = PQconnectdb(uri);
    PGresult *q = PQexec(adm, "DROP DATABASE IF EXISTS sp_bench_an");
    PQclear(q);
    q = PQexec(adm, "CREATE DATABASE sp_bench_an");
    PQclear(q);
    PQfinish(adm);
    snprintf(uri, sizeof(uri), "%s/sp_bench_an", b);
    double t0 = bench_now();
    if (ingest(uri, n) != 0)
        return 1;
    printf(NAME ": postgres ingest (not compared): %.2f s\n", bench_now() - t0);
    sp_store *s;
    sp_diag d = {0};
    PGconn *c = PQconnectdb(uri);
    if (sp_store_open(uri, SP_STORE_READONLY, &s, &d) != SP_OK || PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, NAME ": pg reopen: %s\n", d.msg);
        return 1;
    }
    PQclear(PQexec(c, "ANALYZE event"));
    double so[BENCH_RUNS], sb[BENCH_RUNS], sr[BENCH_RUNS];
    result ro = {0}, rb = {0}, rr = {0};
    sp_an_traders tr, trr;
    for (int k = 0; k < BENCH_RUNS; k++) {
        double a = bench_now();
        if (base_pg(c, &rb) != 0)
            return 1;
        sb[k] = bench_now() - a;
        a = bench_now();
        if (ours(s, true, NULL, &ro, &tr) != 0)
            return 1;
        so[k] = bench_now() - a;
        a = bench_now();
        if (roll(s, &rr, &trr) != 0)
            return 1;
        sr[k] = bench_now() - a;
    }
    bench_stats bo = bench_stats_of(so, BENCH_RUNS), bb = bench_stats_of(sb, BENCH_RUNS),
                br = bench_stats_of(sr, BENCH_RUNS);
    bench_line(NAME, "postgres ours: 24h report (load + aggregate + traders)", bo, (double)n,
               "events");
    bench_line(NAME, "postgres roll: 24h report from the per-minute roll-ups", br, (double)n,
               "events");
    bench_line(NAME, "postgres base: SQL GROUP BY via libpq", bb, (double)n, "events");
    bench_ratio(NAME, "postgres 24h report vs GROUP BY", bo, bb);
    bench_ratio(NAME, "postgres roll-up report vs GROUP BY", br, bb);
    bench_ratio(NAME, "postgres roll-up report vs event report", br, bo);
    printf(NAME ": postgres roll-up report median %.3f s: target < 1 s %s\n", br.median,
           br.median < 1.0 ? "MET" : "NOT met");
    int ok = ro.groups == rb.groups && ro.count == rb.count && ro.notional == rb.notional &&
             rr.hash == ro.hash && rr.count == ro.count && rr.notional == ro.notional &&
             same_traders(&tr, &trr);
    printf(NAME ": postgres check: groups %zu/%zu, events %llu/%llu, notional %lld/%lld, hash "
                "%016llx: %s\n",
           ro.groups, rb.groups, (unsigned long long)ro.count, (unsigned long long)rb.count,
           (long long)ro.notional, (long long)rb.notional, (unsigned long long)ro.hash,
           ok ? "OK" : "MISMATCH");
    sp_store_close(s);
    PQfinish(c);
    return ok ? 0 : 1;
}
#endif

int main(int argc, char **argv)
{
    bench_help(NAME, "[EVENTS (default 10000000)] [DIR for the SQLite file (default /tmp)]", argc,
               argv);
    uint64_t n = bench_arg_count(NAME, argc, argv, 1, 10000000ull, 1, 1000000000ull);
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[512], uri[600];
    snprintf(path, sizeof(path), "%s/bench_analytics_%d.db", dir, (int)getpid());
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    bench_setup(NAME,
                "%llu liquidation events in one 24h window (2026-02-06), %d symbols, "
                "3 venues, seed fixed; SQLite file %s",
                (unsigned long long)n, NSYM, path);
    double t0 = bench_now();
    if (ingest(uri, n) != 0)
        return 1;
    printf(NAME ": ingest (not compared): %.2f s, %.0f events/s\n", bench_now() - t0,
           (double)n / (bench_now() - t0));

    sp_store *s;
    sp_diag d = {0};
    sqlite3 *db;
    if (sp_store_open(uri, SP_STORE_READONLY, &s, &d) != SP_OK ||
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, NAME ": reopen failed\n");
        return 1;
    }
    double so[BENCH_RUNS], sa[BENCH_RUNS], sb[BENCH_RUNS], sr[BENCH_RUNS];
    result ro = {0}, ra = {0}, rb = {0}, rr = {0};
    sp_an_traders tr = {0}, trr = {0};
    sp_an_events kept;
    sp_an_events_init(&kept);
    for (int k = 0; k < BENCH_RUNS; k++) {
        double a = bench_now();
        if (base(db, &rb) != 0)
            return 1;
        sb[k] = bench_now() - a;
        a = bench_now();
        if (ours(s, true, &kept, &ro, &tr) != 0)
            return 1;
        so[k] = bench_now() - a;
        a = bench_now();
        if (ours(s, false, &kept, &ra, &tr) != 0)
            return 1;
        sa[k] = bench_now() - a;
        a = bench_now();
        if (roll(s, &rr, &trr) != 0)
            return 1;
        sr[k] = bench_now() - a;
    }
    bench_stats bo = bench_stats_of(so, BENCH_RUNS), ba = bench_stats_of(sa, BENCH_RUNS),
                bb = bench_stats_of(sb, BENCH_RUNS), br = bench_stats_of(sr, BENCH_RUNS);
    bench_line(NAME, "ours: 24h report from SQLite (load + aggregate + traders)", bo, (double)n,
               "events");
    bench_line(NAME, "roll: 24h report from the per-minute roll-ups (SQLite)", br, (double)n,
               "events");
    bench_ratio(NAME, "roll-up report vs GROUP BY", br, bb);
    bench_ratio(NAME, "roll-up report vs event report", br, bo);
    printf(NAME ": roll-up report median %.3f s: target < 1 s %s\n", br.median,
           br.median < 1.0 ? "MET" : "NOT met");
    bench_line(NAME, "ours: aggregate + traders on the loaded array", ba, (double)n, "events");
    bench_line(NAME, "base: SQL GROUP BY in sqlite3 (same file)", bb, (double)n, "events");
    bench_ratio(NAME, "24h report vs GROUP BY", bo, bb);
    printf(NAME ": traders estimate %.0f +- %.0f from %llu throttled + %llu counted events, %llu "
                "saturated minutes\n",
           tr.estimate, tr.stderr_est, (unsigned long long)tr.observed,
           (unsigned long long)tr.counted, (unsigned long long)tr.saturated);
    int ok = ro.groups == rb.groups && ro.count == rb.count && ro.notional == rb.notional &&
             ra.hash == ro.hash && ro.count == n && rr.hash == ro.hash && rr.count == ro.count &&
             rr.notional == ro.notional && same_traders(&tr, &trr);
    printf(NAME ": roll-up check: groups %zu, events %llu, notional %lld, hash %016llx, traders "
                "%.17g: %s\n",
           rr.groups, (unsigned long long)rr.count, (long long)rr.notional,
           (unsigned long long)rr.hash, trr.estimate,
           rr.hash == ro.hash && same_traders(&tr, &trr) ? "identical to the event path"
                                                         : "MISMATCH");
    printf(NAME ": check: groups %zu/%zu, events %llu/%llu, notional %lld/%lld (1e-8 US$), "
                "hash %016llx: %s\n",
           ro.groups, rb.groups, (unsigned long long)ro.count, (unsigned long long)rb.count,
           (long long)ro.notional, (long long)rb.notional, (unsigned long long)ro.hash,
           ok ? "OK" : "MISMATCH");
    sp_an_events_fini(&kept);
    sqlite3_close(db);
    sp_store_close(s);
    char side[600];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof(side), "%s%s", path, sfx[i]);
        unlink(side);
    }
#ifdef STAMPEDE_HAVE_PG
    if (pg_phases(n) != 0)
        ok = 0;
#endif
    return ok ? 0 : 1;
}
