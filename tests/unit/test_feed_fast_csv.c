/*
 * test_feed_fast_csv.c -- the fast row path of the Binance aggTrades CSV
 * reader (fast_aggtrade in src/feed/binance_csv.c, digits through
 * fastnum.h) against its strict path.  The reader tries the fast path
 * only from line 2 on, so each row is decoded twice through the public
 * API: as line 1 of a file (strict path; rows starting with a digit are
 * not taken for a header) and as line 2 after a header (fast path first).
 * Both must give the same events, or the same rejection (code, message,
 * column, field).  Rows: the canonical shape, every edge of the digit
 * and decimal rules, every truncation and byte substitutions of one row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"

#define HDR \
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
#define SRC "BTCUSDT-aggTrades-2026-02-06.csv"

typedef struct got {
    sp_event ev[4];
    size_t n;
    sp_diag why[4];
    size_t bad;
} got;

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    got *g = ctx;
    for (size_t i = 0; i < n && g->n < 4; i++)
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

static void decode(const char *text, got *g)
{
    memset(g, 0, sizeof(*g));
    sp_symtab *syms;
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    sp_feed_sink sink = {on_events, on_reject, g};
    sp_diag d;
    sp_diag_clear(&d);
    (void)sp_feed_decode_mem(text, strlen(text), SRC, "binance-aggtrades-csv", syms, &sink, &d);
    sp_symtab_free(syms);
}

/*
 * Row (no newline) as line 1 and as line 2: same outcome.  Returns the
 * number of events (0 for a row starting with a non-digit, not compared).
 */
static size_t agree(const char *row)
{
    char a[512], b[512];
    if (!(row[0] >= '0' && row[0] <= '9'))
        return 0; /* on line 1 such a row is the header: nothing to compare with */
    snprintf(a, sizeof(a), "%s\n", row);
    snprintf(b, sizeof(b), HDR "%s\n", row);
    got s, f;
    decode(a, &s);
    decode(b, &f);
    if (s.n != f.n || s.bad != f.bad)
        fail_msg("\"%s\": strict %zu events %zu rejects, fast %zu events %zu rejects", row, s.n,
                 s.bad, f.n, f.bad);
    if (s.n)
        assert_memory_equal(s.ev, f.ev, s.n * sizeof(sp_event));
    for (size_t i = 0; i < s.bad && i < 4; i++) {
        assert_int_equal(s.why[i].code, f.why[i].code);
        assert_string_equal(s.why[i].msg, f.why[i].msg);
        assert_int_equal(s.why[i].column, f.why[i].column);
        assert_string_equal(s.why[i].field, f.why[i].field);
    }
    return s.n;
}

static const char *ROW = "3000000000,65000.1,0.012,6000000000,6000000002,1770336000123,true";

static void test_canonical_rows(void **state)
{
    (void)state;
    assert_int_equal(agree(ROW), 1);
    assert_int_equal(agree("1,1,1,1,1,1,false"), 1);
    assert_int_equal(agree("123456789012345678,12345678.12345678,1234567890.1,1,2,3,true"), 1);
    got g;
    decode(HDR "3000000000,65000.1,0.012,6000000000,6000000002,1770336000123,true\n", &g);
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
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        agree(rows[i]);
}

static void test_mutations_agree(void **state)
{
    (void)state;
    static const char subst[] = {',', '.', '-', '0', '9', ' ', 'e', '"', 'x', '\t'};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_rows),
        cmocka_unit_test(test_edges_agree),
        cmocka_unit_test(test_mutations_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
