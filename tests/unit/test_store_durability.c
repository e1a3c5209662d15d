/*
 * test_store_durability.c -- kill -9 an ingest at random points and check
 * that no acknowledged batch is lost, no batch is half there, and a re-run
 * completes the set without duplicates.  Runs on SQLite (ctest
 * test_store_durability) and on a real PostgreSQL (test_store_durability_pg,
 * through tests/integration/pg_server.sh).
 *
 * The ingest is a child process appending NB batches of BS trades (batch
 * number in aux[2], a unique trade id in aux[0]) and writing "b\n" on a pipe
 * after each sp_store_append returned SP_OK: that line is the
 * acknowledgement.  The parent reads acks and sends SIGKILL after a number
 * of acks plus a delay, both drawn from a fixed-seed RNG, so the kill lands
 * before, inside and after commits across runs, reproducibly per seed.
 * Every third event is a liquidation, so each check also asserts that the
 * per-minute roll-up (liq_minute) equals the recomputation from the events
 * that survived: the roll-up commits with its batch, never apart.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "test_store_util.h"

#define NB       12      /* batches per ingest */
#define BS       1500    /* events per batch */
#define LIQ_BASE 1000000 /* notional of a batch-b liquidation: LIQ_BASE + b */
#define MINUTES  4       /* minutes the liquidations span */

static sp_event trade(int batch, int i)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    e.kind = SP_EV_TRADE;
    e.venue = SP_VENUE_BINANCE_UM;
    e.symbol_id = (uint32_t)(i % 3) + 1;
    e.exch_ts_ns = 1770336000000000000ll + (int64_t)(batch * BS + i) * 1000000;
    e.px = 6000000000000 + i;
    e.qty = 100000 + batch;
    e.aux[0] = (int64_t)batch * BS + i + 1;
    e.aux[2] = batch;
    if (i % 3 == 2) {
        /* a liquidation, 10 ms apart: the batches spread over 3 minutes */
        e.kind = SP_EV_LIQUIDATION;
        e.exch_ts_ns = 1770336000000000000ll + (int64_t)(batch * BS + i) * 10000000;
        e.flags = (uint8_t)(i & SP_EVF_SELL);
        e.aux[2] = LIQ_BASE + batch; /* the notional; the batch is recoverable */
    }
    return e;
}

/* The ingest: append every batch, ack each on fd.  Returns the exit status. */
static int ingest(const char *uri, int fd)
{
    sp_symtab *syms = tsu_symtab(3);
    sp_store *s = NULL;
    sp_diag d = {0};
    if (syms == NULL || sp_store_open(uri, 0, &s, &d) != SP_OK) {
        fprintf(stderr, "child open: %s\n", d.msg);
        return 3;
    }
    static sp_event ev[BS];
    for (int b = 0; b < NB; b++) {
        for (int i = 0; i < BS; i++)
            ev[i] = trade(b, i);
        uint64_t ins = 0;
        if (sp_store_append(s, ev, BS, syms, &ins, &d) != SP_OK) {
            fprintf(stderr, "child append %d: %s\n", b, d.msg);
            return 4;
        }
        char line[48];
        int n = snprintf(line, sizeof(line), "%d %llu\n", b, (unsigned long long)ins);
        if (write(fd, line, (size_t)n) != n)
            return 5;
    }
    sp_store_close(s);
    sp_symtab_free(syms);
    return 0;
}

/* Per (minute, symbol SYMn, side): the roll-up cell recomputed from events, or read. */
typedef struct rcell {
    uint64_t count;
    int64_t notional;
    uint64_t slots[2];
} rcell;

typedef struct tally {
    uint64_t per_batch[NB];
    uint64_t other;
    rcell want[MINUTES][4][2]; /* from the events */
    rcell got[MINUTES][4][2];  /* from liq_minute */
    uint64_t bad_rows;
} tally;

static sp_err count_batch(void *ctx, const sp_event *ev, const char *sym)
{
    tally *t = ctx;
    int64_t b = ev->kind == SP_EV_LIQUIDATION ? ev->aux[2] - LIQ_BASE : ev->aux[2];
    if ((ev->kind == SP_EV_TRADE || ev->kind == SP_EV_LIQUIDATION) && b >= 0 && b < NB)
        t->per_batch[b]++;
    else
        t->other++;
    if (ev->kind == SP_EV_LIQUIDATION) {
        int64_t off = ev->exch_ts_ns - 1770336000000000000ll;
        int64_t m = off / 60000000000ll, slot = off % 60000000000ll / 500000000;
        uint32_t y = (uint32_t)(sym[3] - '0');
        if (m < 0 || m >= MINUTES || y < 1 || y > 3)
            t->other++;
        else {
            rcell *c = &t->want[m][y][ev->flags & SP_EVF_SELL];
            c->count++;
            c->notional += ev->aux[2];
            c->slots[slot / 64] |= UINT64_C(1) << (slot % 64);
        }
    }
    return SP_OK;
}

static sp_err read_rollup(void *ctx, const sp_store_liq_minute *r, const char *sym)
{
    tally *t = ctx;
    int64_t m = r->minute - 1770336000000000000ll / 60000000000ll;
    uint32_t y = (uint32_t)(sym[3] - '0');
    if (m < 0 || m >= MINUTES || y < 1 || y > 3 || r->bad != 0) {
        t->bad_rows++;
        return SP_OK;
    }
    rcell *c = &t->got[m][y][r->sell];
    c->count = r->count;
    c->notional = r->notional;
    c->slots[0] = r->slots[0];
    c->slots[1] = r->slots[1];
    return SP_OK;
}

static void check_store(const char *uri, const int *acked, int seed, uint64_t *present)
{
    sp_store *s = NULL;
    sp_diag d = {0};
    if (sp_store_open(uri, SP_STORE_READONLY, &s, &d) != SP_OK) {
        /* killed before the schema was created: nothing may have been acked */
        for (int b = 0; b < NB; b++)
            assert_int_equal(acked[b], 0);
        *present = 0;
        return;
    }
    static tally t;
    memset(&t, 0, sizeof(t));
    assert_int_equal(sp_store_query(s, NULL, count_batch, &t, &d), SP_OK);
    assert_int_equal(sp_store_liq_minutes(s, NULL, read_rollup, &t, &d), SP_OK);
    sp_store_close(s);
    assert_int_equal(t.other, 0);
    assert_int_equal(t.bad_rows, 0);
    if (memcmp(t.want, t.got, sizeof(t.want)) != 0)
        fail_msg("seed %d: the liquidation roll-up differs from the surviving events", seed);
    *present = 0;
    for (int b = 0; b < NB; b++) {
        if (t.per_batch[b] != 0 && t.per_batch[b] != BS)
            fail_msg("seed %d: batch %d is partial: %llu of %d events", seed, b,
                     (unsigned long long)t.per_batch[b], BS);
        if (acked[b] && t.per_batch[b] != BS)
            fail_msg("seed %d: acknowledged batch %d lost", seed, b);
        *present += t.per_batch[b];
    }
}

/* One run: start, kill at a random point, check, re-run to completion, check. */
static void kill_run(const char *uri, int seed)
{
    sp_rng r;
    sp_rng_seed(&r, 0x5EED0000u + (uint64_t)seed);
    int after_acks = (int)sp_rng_below(&r, NB);
    /* SQLite commits a batch in about a millisecond, PostgreSQL in a few */
    long delay_us = (long)sp_rng_below(&r, tsu_pg_base() ? 40000 : 4000);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        _exit(ingest(uri, p[1]));
    }
    close(p[1]);
    int acked[NB] = {0};
    FILE *in = fdopen(p[0], "r");
    char line[64];
    int nack = 0;
    while (nack < after_acks && fgets(line, sizeof(line), in) != NULL) {
        int64_t b = -1;
        char *sp = strchr(line, ' ');
        if (sp == NULL || sp_dec_parse(line, (size_t)(sp - line), 0, &b, NULL) != SP_OK || b < 0 ||
            b >= NB)
            fail_msg("bad ack line '%s'", line);
        acked[b] = 1;
        nack++;
    }
    struct timespec ts = {0, delay_us * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    /* acks written before the kill landed count too: read what is in the pipe */
    while (fgets(line, sizeof(line), in) != NULL) {
        char *sp = strchr(line, ' ');
        int64_t b = -1;
        if (sp && sp_dec_parse(line, (size_t)(sp - line), 0, &b, NULL) == SP_OK && b >= 0 && b < NB)
            acked[b] = 1;
    }
    fclose(in);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* a COMMIT the killed client sent may still land: check once it has (or not) */
    assert_int_equal(tsu_wait_writers_gone(uri), 0);
    uint64_t present = 0;
    check_store(uri, acked, seed, &present);

    /* re-run: completes the set, adds exactly what was missing */
    assert_int_equal(pipe(p), 0);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(ingest(uri, p[1]));
    }
    close(p[1]);
    in = fdopen(p[0], "r");
    uint64_t added = 0;
    while (fgets(line, sizeof(line), in) != NULL) {
        char *sp = strchr(line, ' ');
        int64_t ins = 0;
        if (sp && sp_dec_parse(sp + 1, strcspn(sp + 1, "\n"), 0, &ins, NULL) == SP_OK)
            added += (uint64_t)ins;
    }
    fclose(in);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int all[NB];
    for (int b = 0; b < NB; b++)
        all[b] = 1;
    uint64_t after = 0;
    check_store(uri, all, seed, &after);
    assert_int_equal(after, (uint64_t)NB * BS);
    assert_int_equal(added, (uint64_t)NB * BS - present);
    printf("# seed %d: killed after %d acks + %ld us: %llu events present, re-run added %llu\n",
           seed, after_acks, delay_us, (unsigned long long)present, (unsigned long long)added);
}

static void test_kill9_at_random_points(void **state)
{
    (void)state;
    int runs = tsu_pg_base() ? 4 : 10;
    for (int seed = 1; seed <= runs; seed++) {
        char uri[512], dir[256];
        assert_int_equal(tsu_fresh_uri("kill", uri, sizeof(uri), dir, sizeof(dir)), 0);
        kill_run(uri, seed);
        tsu_cleanup(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_at_random_points),
    };
    return cmocka_run_group_tests_name(tsu_pg_base() ? "store durability (postgres)"
                                                     : "store durability (sqlite)",
                                       tests, NULL, NULL);
}
