/*
 * test_store_util.h -- helpers shared by the store tests: a fresh,
 * empty database per test on the backend under test, and deterministic
 * event generators.
 *
 * The backend is chosen by the environment: with SP_TEST_PG_URI set (a
 * libpq URI without a database name, "postgresql://user@127.0.0.1:PORT",
 * set by tests/integration/pg_server.sh) every test gets a new PostgreSQL
 * database on that server; otherwise a new SQLite file in a temp dir.
 * The same test code runs on both: the suite is run twice.
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef STAMPEDE_HAVE_PG
#include <libpq-fe.h>
#endif

#include "stampede/stampede.h"

#define TSU_UNUSED __attribute__((unused))

/* The PostgreSQL server under test, or NULL for SQLite. */
TSU_UNUSED static const char *tsu_pg_base(void)
{
    const char *b = getenv("SP_TEST_PG_URI");
    return b && *b ? b : NULL;
}

#ifdef STAMPEDE_HAVE_PG
static void tsu_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Run one SQL command on database db of the test server; 0 on success. */
TSU_UNUSED static int tsu_pg_exec(const char *db, const char *sql)
{
    char uri[512];
    snprintf(uri, sizeof(uri), "%s/%s", tsu_pg_base(), db);
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQsetNoticeProcessor(c, tsu_quiet, NULL);
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "tsu_pg_exec(%s): %s", sql, PQerrorMessage(c));
        PQclear(r);
    } else {
        fprintf(stderr, "tsu_pg_exec: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}
#endif

/*
 * A URI for a new, empty store named after tag, written to uri.  Returns
 * 0, or -1 (message on stderr) when the backend cannot provide one.
 * dir receives the temp directory for SQLite ("" for PostgreSQL).
 */
TSU_UNUSED static int tsu_fresh_uri(const char *tag, char *uri, size_t cap, char *dir,
                                    size_t dircap)
{
    static unsigned seq;
    seq++;
    dir[0] = '\0';
    if (tsu_pg_base() != NULL) {
#ifdef STAMPEDE_HAVE_PG
        char db[96], sql[256];
        snprintf(db, sizeof(db), "sp_%s_%u_%u", tag, (unsigned)getpid(), seq);
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", db);
        if (tsu_pg_exec("postgres", sql) != 0)
            return -1;
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
        if (tsu_pg_exec("postgres", sql) != 0)
            return -1;
        snprintf(uri, cap, "%s/%s", tsu_pg_base(), db);
        snprintf(dir, dircap, "%s", db);
        return 0;
#else
        fprintf(stderr, "SP_TEST_PG_URI set but this build has no PostgreSQL\n");
        return -1;
#endif
    }
    snprintf(dir, dircap, "/tmp/sp_store_%s_XXXXXX", tag);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(uri, cap, "sqlite:%s/t.db", dir);
    return 0;
}

/* Remove what tsu_fresh_uri made. */
TSU_UNUSED static void tsu_cleanup(const char *dir)
{
    if (dir[0] == '\0')
        return;
    if (tsu_pg_base() != NULL) {
#ifdef STAMPEDE_HAVE_PG
        char sql[400];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dir);
        tsu_pg_exec("postgres", sql);
#endif
        return;
    }
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

/*
 * Event i of a deterministic stream over nsym symbols of syms (ids
 * 1..nsym): trades with ids, depth updates (bid and ask), klines and
 * funding, one per millisecond from 2026-02-06.  batch is stored in
 * aux[2] of trades so tests can tell which batch a row came from.
 */
TSU_UNUSED static sp_event tsu_event(uint64_t i, uint32_t nsym, int64_t batch)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    uint64_t x = i * 0x9E3779B97F4A7C15ull;
    e.symbol_id = (uint32_t)(i % nsym) + 1;
    e.venue = SP_VENUE_BINANCE_UM;
    e.exch_ts_ns = 1770336000000000000ll + (int64_t)(i / 4) * 1000000;
    e.local_ts_ns = e.exch_ts_ns + 1500000;
    switch (i % 4) {
    case 0:
    case 1:
        e.kind = SP_EV_TRADE;
        e.px = 6000000000000 + (int64_t)(x % 100000000);
        e.qty = (int64_t)(x >> 40) + 1;
        e.aux[0] = (int64_t)i + 1; /* trade id */
        e.aux[2] = batch;
        e.flags = (uint8_t)(x & SP_EVF_SELL);
        break;
    case 2:
        e.kind = SP_EV_DEPTH_UPDATE;
        e.px = 6000000000000 + (int64_t)(i % 1000) * 10000000;
        e.qty = (int64_t)(x % 5000000000);
        e.aux[0] = (int64_t)i;
        e.aux[1] = (int64_t)i + 3;
        e.flags = (uint8_t)((i / 4) & 1);
        break;
    default:
        e.kind = SP_EV_KLINE;
        e.sub = 1; /* 1m */
        e.px = 6100000000000 - (int64_t)i;
        e.qty = (int64_t)i * 1000;
        e.aux[0] = e.px + 5;
        e.aux[1] = e.px + 100;
        e.aux[2] = e.px - 100;
        e.flags = SP_EVF_CLOSED;
        break;
    }
    return e;
}

/* A symbol table holding SYM1 .. SYMn (ids 1..n). */
TSU_UNUSED static sp_symtab *tsu_symtab(uint32_t n)
{
    sp_symtab *t = NULL;
    if (sp_symtab_new(&t) != SP_OK)
        return NULL;
    for (uint32_t k = 1; k <= n; k++) {
        char name[32];
        uint32_t id;
        int len = snprintf(name, sizeof(name), "SYM%u", k);
        if (sp_symtab_intern(t, name, (size_t)len, &id) != SP_OK) {
            sp_symtab_free(t);
            return NULL;
        }
    }
    return t;
}

#endif
