/*
 * test_feed_fast_csv.c -- the two fast ways of the Binance aggTrades CSV
 * reader (src/feed/binance_csv.c) against its strict path:
 *   - the fast row (fast_aggtrade, per line, digits through fastnum.h),
 *     tried from line 2 on;
 *   - the bulk path (aggtrades_bulk: canonical lines parsed straight from
 *     the framing block into the event batch), which only takes a line
 *     from line 2 on with at least 128 bytes after its start.
 * Each row under test is decoded through the public API as line 1 of a
 * file of its own (strict path; rows starting with a digit are not taken
 * for a header), as line 2 after a header with nothing behind it (the fast
 * row first) and as line 2 with canonical padding rows behind it (the bulk
 * path first, then the per-line ways).  All must give the same events, or
 * the same rejection (code, message, column, field, line + 1, offset), and
 * the padding rows are all kept.  Rows: the canonical shape, every edge of
 * the digit and decimal rules, every truncation and byte substitutions of
 * one row.  Also: batch boundaries over a large file (a sink that checks
 * every batch), a sink error stopping the file at the same point as per
 * line, CRLF lines, and a bad row between good ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stampede/stampede.h"

#define HDR \
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
#define SRC  "BTCUSDT-aggTrades-2026-02-06.csv"
#define PAD  "3000000001,65000.2,0.010,6000000003,6000000004,1770336000124,false\n"
#define NPAD 3

typedef struct got {
    sp_event ev[8];
    size_t n;
    sp_diag why[4];
    size_t bad;
} got;

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    got *g = ctx;
    for (size_t i = 0; i < n && g->n < 8; i++)
        g->ev[g->n++] = ev[i];
    return SP_OK;
}

static void on_reject(void *ctx, const sp_diag *why)
{
    got *g = ctx;
    if (g->bad < 4)
        g->why[g->bad] = *why;
    g->bad++;
}

static void decode(const char *text, size_t n, got *g)
{
    memset(g, 0, sizeof(*g));
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    sp_feed_sink sink = {on_events, on_reject, g};
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_feed_decode_mem(text, n, SRC, "binance-aggtrades-csv", syms, &sink, &d),
                     SP_OK);
    sp_symtab_free(syms);
}

/*
 * Row (no newline) alone as line 1, and as line 2 followed by npad padding
 * rows (0: the fast row's way; NPAD: the bulk path's): same outcome.
 * Returns the number of events of the row (0 for a row starting with a
 * non-digit, not compared).
 */
static size_t agree_at(const char *row, size_t npad)
{
    if (!(row[0] >= '0' && row[0] <= '9'))
        return 0; /* on line 1 such a row is the header: nothing to compare with */
    char a[512], b[1024];
    int an = snprintf(a, sizeof(a), "%s\n", row);
    int bn = snprintf(b, sizeof(b), HDR "%s\n", row);
    for (size_t i = 0; i < npad; i++)
        bn += snprintf(b + bn, sizeof(b) - (size_t)bn, PAD);
    got s, f;
    decode(a, (size_t)an, &s);
    decode(b, (size_t)bn, &f);
    if (s.n + npad != f.n || s.bad != f.bad)
        fail_msg("\"%s\" + %zu rows: strict %zu events %zu rejects, fast %zu events %zu rejects",
                 row, npad, s.n, s.bad, f.n, f.bad);
    if (s.n)
        assert_memory_equal(s.ev, f.ev, s.n * sizeof(sp_event));
    for (size_t i = 0; i < npad; i++) {
        assert_int_equal(f.ev[s.n + i].aux[0], 3000000001LL);
        assert_int_equal(f.ev[s.n + i].flags, 0);
    }
    for (size_t i = 0; i < s.bad && i < 4; i++) {
        assert_int_equal(s.why[i].code, f.why[i].code);
        assert_string_equal(s.why[i].msg, f.why[i].msg);
        assert_int_equal(s.why[i].column, f.why[i].column);
        assert_string_equal(s.why[i].field, f.why[i].field);
        assert_int_equal(s.why[i].line + 1, f.why[i].line);
        assert_int_equal(s.why[i].offset + sizeof(HDR) - 1, f.why[i].offset);
    }
    return s.n;
}

/* Both ways; the number of events of the row. */
static size_t agree(const char *row)
{
    size_t n = agree_at(row, 0);
    assert_int_equal(agree_at(row, NPAD), n);
    return n;
}

static const char *ROW = "3000000000,65000.1,0.012,6000000000,6000000002,1770336000123,true";

static void test_canonical_rows(void **state)
{
    (void)state;
    assert_int_equal(agree(ROW), 1);
    assert_int_equal(agree("1,1,1,1,1,1,false"), 1);
    assert_int_equal(agree("123456789012345678,12345678.12345678,1234567890.1,1,2,3,true"), 1);
    got g;
    const char *one = HDR "3000000000,65000.1,0.012,6000000000,6000000002,1770336000123,true\n";
    decode(one, strlen(one), &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.ev[0].px, 6500010000000LL);
    assert_int_equal(g.ev[0].qty, 1200000LL);
    assert_int_equal(g.ev[0].aux[0], 3000000000LL);
    assert_int_equal(g.ev[0].aux[1], 6000000000LL);
    assert_int_equal(g.ev[0].aux[2], 6000000002LL);
    assert_int_equal(g.ev[0].exch_ts_ns, 1770336000123LL * 1000000);
    assert_int_equal(g.ev[0].flags, SP_EVF_MAKER | SP_EVF_SELL);
}

static void test_edges_agree(void **state)
{
    (void)state;
    static const char *rows[] = {
        /* the fast row's edges */
        "1234567890123456789,1,1,1,1,1,true",  /* 19-digit id */
        "99999999999999999999,1,1,1,1,1,true", /* past int64 */
        "0001,1,1,1,1,1,true",                 /* leading zeros */
        "1,1.123456789,1,1,1,1,true",          /* too many places */
        "1,1.,1,1,1,1,true",                   /* no digit after the point */
        "1,.5,1,1,1,1,true",                   /* no integer digit */
        "1,-1,1,1,1,1,true",                   /* negative price */
        "1,1e3,1,1,1,1,true",                  /* exponent */
        "1,12345678901.5,1,1,1,1,true",        /* 11 + 8 digits: past the fast limit */
        "1,1234567890,1,1,1,1,true",           /* 10 + 8 digits: at the limit */
        "1,1,1,1,1,9223372036855,true", /* ms * 1e6 past int64: the old fast bound (1e14) overflowed
                                         */
        "1,1,1,1,1,9223372036854,true", /* the last ms that fits */
        "1,1,1,1,1,100000000000001,true",                 /* time past the fast bound */
        "1,1,1,1,1,1,TRUE",                               /* maker flag spelling */
        "1,1,1,1,1,1,true,extra",                         /* extra column */
        "1,1,1,1,1,1",                                    /* missing column */
        "1,1,1,1,1,1,",                                   /* empty flag */
        "1,\"1\",1,1,1,1,true",                           /* quoted field */
        "1, 1,1,1,1,1,true",                              /* space */
        "12345678,12345678.1234567,12345678,1,1,1,false", /* 8-digit runs */
        "123456789012345678,1,1,1,1,1,true",              /* 18 digits */
        /* the bulk path's edges */
        "3000000000,65000.1,0.012,6000000000,6000000002,1770336000123,true",
        "1,1,1,1,1,1,false",
        "12345678,1234567.12345678,1.1,12345678,123456789,1234567890123,true", /* word edges */
        "1234567890123456,1,1,1,1,1,true",     /* 16 digits: the bulk limit */
        "12345678901234567,1,1,1,1,1,true",    /* 17: per-line fast path */
        "123456789012345678,1,1,1,1,1,true",   /* 18 */
        "1234567890123456789,1,1,1,1,1,true",  /* 19: strict */
        "99999999999999999999,1,1,1,1,1,true", /* past int64 */
        "0001,0001.10000000,1,1,1,1,true",     /* leading zeros, 8 places */
        "1,1.123456789,1,1,1,1,true",          /* too many places */
        "1,12345678.1,1,1,1,1,true",           /* 8 integer digits: past one word */
        "1,1234567890,1,1,1,1,true",           /* 10 + 8 digits: at the decimal limit */
        "1,12345678901,1,1,1,1,true",          /* past it */
        "1,1.,1,1,1,1,true",
        "1,.5,1,1,1,1,true",
        "1,-1,1,1,1,1,true",
        "1,1e3,1,1,1,1,true",
        "1,1,1,1,1,9223372036854,true", /* the last ms that fits ms * 1e6 */
        "1,1,1,1,1,9223372036855,true",
        "1,1,1,1,1,100000000000001,true", /* microseconds */
        "1,1,1,1,1,1,TRUE",
        "1,1,1,1,1,1,truex",
        "1,1,1,1,1,1,fals",
        "1,1,1,1,1,1,true,extra",
        "1,1,1,1,1,1,true,",
        "1,1,1,1,1,1",
        "1,1,1,1,1,1,",
        "1,\"1\",1,1,1,1,true",
        "1, 1,1,1,1,1,true",
        "1,1,1,,1,1,true",
        "1,1,1,1,1,1,true\r", /* CRLF: the per-line path strips the CR */
        "1,1,1,1,1,1,false\r",
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        agree(rows[i]);
}

static void test_mutations_agree(void **state)
{
    (void)state;
    static const char subst[] = {',', '.', '-', '0', '9', ' ', 'e', '"', 'x', '\t', '\r'};
    char m[128];
    size_t n = strlen(ROW);
    for (size_t len = 1; len <= n; len++) {
        memcpy(m, ROW, len);
        m[len] = '\0';
        agree(m);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(subst); k++) {
            memcpy(m, ROW, n + 1);
            m[i] = subst[k];
            agree(m);
        }
    }
}

/* A sink checking batch sizes and row order over a file of many rows. */
typedef struct seq {
    uint64_t next_id, batches, events, bad;
    size_t stop_after; /* fail the call after this many batches, 0 = never */
} seq;

static sp_err seq_events(void *ctx, const sp_event *ev, size_t n)
{
    seq *s = ctx;
    assert_true(n >= 1 && n <= SP_FEED_BATCH);
    for (size_t i = 0; i < n; i++) {
        if (s->next_id == 5000)
            s->next_id++; /* the bad row */
        assert_int_equal(ev[i].aux[0], (int64_t)s->next_id);
        assert_int_equal(ev[i].px, (int64_t)(s->next_id % 1000) * 100000000 + 10000000);
        assert_int_equal(ev[i].exch_ts_ns, (int64_t)(1770336000000LL + s->next_id) * 1000000);
        s->next_id++;
    }
    s->events += n;
    s->batches++;
    if (s->stop_after && s->batches == s->stop_after)
        return SP_EIO;
    return SP_OK;
}

static void seq_reject(void *ctx, const sp_diag *why)
{
    seq *s = ctx;
    assert_int_equal(why->line, 5001 + 1); /* the header is line 1 */
    assert_string_equal(why->field, "price");
    s->bad++;
}

static char *many_rows(size_t rows, size_t *len, bool crlf)
{
    size_t cap = rows * 80 + sizeof(HDR);
    char *b = malloc(cap);
    assert_non_null(b);
    size_t n = (size_t)snprintf(b, cap, HDR);
    for (size_t i = 0; i < rows; i++) {
        n += (size_t)snprintf(b + n, cap - n, "%zu,%zu.1%s,0.5,%zu,%zu,%llu,%s%s\n", i, i % 1000,
                              i == 5000 ? "x" : "", 2 * i, 2 * i + 1,
                              1770336000000ULL + (unsigned long long)i, i % 3 ? "true" : "false",
                              crlf ? "\r" : "");
    }
    *len = n;
    return b;
}

/* 20,000 rows (1.3 MB) from memory, or from a file: past the 1 MiB + 64 KiB frame buffer. */
static void run_many(bool crlf, size_t stop_after, bool file)
{
    size_t len;
    char *text = many_rows(20000, &len, crlf);
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    seq s = {0, 0, 0, 0, stop_after};
    sp_feed_sink sink = {seq_events, seq_reject, &s};
    sp_diag d;
    sp_err rc;
    if (file) {
        char dir[] = "/tmp/sp_bulk_XXXXXX", path[64];
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/%s", dir, SRC);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        rc = sp_feed_decode_file(path, "binance-aggtrades-csv", syms, &sink, &d);
        assert_int_equal(remove(path), 0);
        assert_int_equal(rmdir(dir), 0);
    } else {
        rc = sp_feed_decode_mem(text, len, SRC, "binance-aggtrades-csv", syms, &sink, &d);
    }
    if (stop_after) {
        assert_int_equal(rc, SP_EIO);
        assert_string_equal(d.msg, "sink stopped decoding");
        assert_int_equal(s.events, stop_after * SP_FEED_BATCH);
        assert_int_equal(s.bad, stop_after * SP_FEED_BATCH > 5000 ? 1 : 0);
    } else {
        assert_int_equal(rc, SP_OK);
        assert_int_equal(s.events, 20000 - 1);
        assert_int_equal(s.bad, 1);
        assert_int_equal(s.batches, (20000 - 1 + SP_FEED_BATCH - 1) / SP_FEED_BATCH);
    }
    sp_symtab_free(syms);
    free(text);
}

static void test_many_rows(void **state)
{
    (void)state;
    run_many(false, 0, false);
    run_many(true, 0, false);
    run_many(false, 0, true);
    run_many(true, 0, true);
}

/* The sink's error stops the file when the next event needs a flush, as per line. */
static void test_sink_stop(void **state)
{
    (void)state;
    run_many(false, 1, false);
    run_many(false, 6, false);
    run_many(false, 6, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_rows),  cmocka_unit_test(test_edges_agree),
        cmocka_unit_test(test_mutations_agree), cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_sink_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
