/*
 * test_store_util.h -- helpers shared by the store-backed tests (test_store*,
 * test_analytics_rollup): a fresh, empty database per test on the backend
 * under test, the cmocka fixture built on it, deterministic event
 * generators (the store-appending feed sink is testharness.h's sp_test_sink).
 *
 * The backend is chosen by the environment: with SP_TEST_PG_URI set (a
 * libpq URI without a database name, "postgresql://user@127.0.0.1:PORT",
 * set by tests/integration/pg_server.sh) every test gets a new PostgreSQL
 * database on that server; otherwise a new SQLite file in a temp dir.
 * The same test code runs on both: the suites are run twice.
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stampede/stampede.h"

/* The PostgreSQL server under test, or NULL for SQLite. */
const char *tsu_pg_base(void);

#ifdef STAMPEDE_HAVE_PG
/* Run one SQL command on database db of the test server; 0 on success. */
int tsu_pg_exec(const char *db, const char *sql);
#endif

/*
 * A URI for a new, empty store named after tag, written to uri.  Returns
 * 0, or -1 (message on stderr) when the backend cannot provide one.
 * dir receives the temp directory for SQLite (the database name for
 * PostgreSQL).
 */
int tsu_fresh_uri(const char *tag, char *uri, size_t cap, char *dir, size_t dircap);

/*
 * Wait until the killed writers' server sessions on the store at uri have
 * ended (PostgreSQL; no-op for SQLite): 0, or -1 after 20 s.
 */
int tsu_wait_writers_gone(const char *uri);

/* Remove what tsu_fresh_uri made. */
void tsu_cleanup(const char *dir);

/*
 * Event i of a deterministic stream over nsym symbols of syms (ids
 * 1..nsym): trades with ids, depth updates (bid and ask), klines and
 * funding, one per millisecond from 2026-02-06.  batch is stored in
 * aux[2] of trades so tests can tell which batch a row came from.
 */
sp_event tsu_event(uint64_t i, uint32_t nsym, int64_t batch);

/* A symbol table holding SYM1 .. SYMn (ids 1..n), or NULL. */
sp_symtab *tsu_symtab(uint32_t n);

/* A symbol table holding names[0..n) (ids 1..n), or NULL. */
sp_symtab *tsu_symtab_of(const char *const *names, size_t n);

/*
 * The per-test fixture: a fresh store open read-write and a symbol table.
 * tsu_fx_new(tag, names, n) makes one (names NULL: SYM1 .. SYMn), or
 * returns NULL with the reason on stderr; tsu_fx_free closes, drops the
 * database and frees (NULL is fine).
 */
typedef struct tsu_fx {
    char uri[512];
    char dir[256];
    sp_store *s;
    sp_symtab *syms;
} tsu_fx;

tsu_fx *tsu_fx_new(const char *tag, const char *const *names, size_t n);
void tsu_fx_free(tsu_fx *f);

/* Run sql on the test database behind f->uri, bypassing the store; fails the cmocka test on error.
 */
void tsu_raw_sql(const tsu_fx *f, const char *sql);

/* A cmocka teardown for a state made by tsu_fx_new: tsu_fx_free(*state), 0. */
int tsu_fx_teardown(void **state);

/*
 * Allocation failures across open + body + close: f->s is closed first
 * (the test allocator must not see blocks made before it was installed),
 * then sp_test_enomem_loop runs "open f->uri; body(s, f->syms, ctx);
 * close" with allocation 1, 2, ... failing, at most max_steps times; then
 * f->s is opened again (NULL if that fails).  Returns the steps taken.
 */
uint64_t tsu_fx_enomem(tsu_fx *f, sp_err (*body)(sp_store *s, sp_symtab *syms, void *ctx),
                       void *ctx, uint64_t max_steps);

/*
 * A liquidation: venue, symbol id, exchange time ts, sell (a long
 * liquidated: SP_EVF_SELL), the notional in aux[2]; every other field 0.
 */
sp_event tsu_liq(uint8_t venue, uint32_t sym, int64_t ts, bool sell, int64_t notional);

#endif
