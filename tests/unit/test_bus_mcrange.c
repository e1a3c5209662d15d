/*
 * test_bus_mcrange.c -- the two sim entry points the distributed Monte
 * Carlo rests on (sp_sim_mc_run_range, sp_sim_mc_summarize; added for
 * issue 11): scenario ranges computed separately, on any thread count and
 * in any order, give exactly the rows of one sp_sim_mc_run, and the
 * summary of the gathered rows equals its summary bit for bit; bad ranges
 * are refused; allocation failure is clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"

#define ONE 100000000LL

static sp_sim_bar bars[8];
static sp_sim_pop *pops[2];
static sp_sim_market *mkt;

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 8; i++) {
        bars[i].low = (66000 + i * 800) * ONE;
        bars[i].high = (67500 + i * 900) * ONE;
        bars[i].close = (67000 + i * 850) * ONE;
        bars[i].quote_vol = 1000000000 * ONE;
    }
    for (unsigned v = 0; v < 2; v++) {
        sp_sim_lev_bucket mix[SP_SIM_LEV_BUCKETS_MAX];
        sp_sim_pop_cfg c = sp_sim_pop_cfg_default();
        c.n = 3000;
        c.oi_usd = 2000000000LL * ONE;
        c.bars = bars;
        c.nbars = 8;
        c.mark_px = 72000 * ONE;
        c.seed = 31 + v;
        c.nlev = sp_sim_lev_mix(v, mix, SP_COUNTOF(mix));
        c.lev = mix;
        if (sp_sim_pop_generate(&c, &pops[v], NULL) != SP_OK)
            return -1;
    }
    sp_sim_market_cfg mc = sp_sim_market_cfg_default();
    mc.mid_px = 72000 * ONE;
    mc.depth_1pct_usd = 20000000 * ONE;
    return sp_sim_market_new(&mc, &mkt, NULL) == SP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        sp_sim_pop_free(pops[i]);
    sp_sim_market_free(mkt);
    return 0;
}

static sp_sim_mc_cfg cfg(uint32_t k, uint32_t threads)
{
    sp_sim_mc_cfg c = sp_sim_mc_cfg_default();
    c.k = k;
    c.threads = threads;
    c.seed = 77;
    c.pops = (const sp_sim_pop *const *)pops;
    c.npops = 2;
    c.market = mkt;
    return c;
}

enum { K = 257 };

static void test_ranges_equal_one_run(void **state)
{
    (void)state;
    static sp_sim_mc_row full[K], pieces[K];
    sp_sim_mc_summary s_full, s_pieces;
    sp_diag d;
    sp_diag_clear(&d);
    sp_sim_mc_cfg c = cfg(K, 2);
    assert_int_equal(sp_sim_mc_run(&c, full, &s_full, &d), SP_OK);
    /* uneven pieces, computed last-first, each with its own thread count */
    const uint32_t cut[][2] = {{200, 57}, {64, 136}, {1, 63}, {0, 1}};
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        sp_sim_mc_cfg ci = cfg(K, (uint32_t)(1 + i % 3));
        assert_int_equal(sp_sim_mc_run_range(&ci, cut[i][0], cut[i][1], pieces + cut[i][0], &d),
                         SP_OK);
    }
    assert_memory_equal(full, pieces, sizeof(full));
    assert_int_equal(sp_sim_mc_summarize(pieces, K, &s_pieces, &d), SP_OK);
    assert_memory_equal(&s_full, &s_pieces, sizeof(s_full));
    /* one changed row changes the summary hash */
    pieces[100].n_liq++;
    assert_int_equal(sp_sim_mc_summarize(pieces, K, &s_pieces, &d), SP_OK);
    assert_true(s_pieces.hash != s_full.hash);
}

static void test_bad_ranges(void **state)
{
    (void)state;
    static sp_sim_mc_row rows[K];
    sp_sim_mc_summary s;
    sp_diag d;
    sp_diag_clear(&d);
    sp_sim_mc_cfg c = cfg(K, 1);
    assert_int_equal(sp_sim_mc_run_range(&c, 0, 0, rows, &d), SP_EINVAL);
    assert_int_equal(sp_sim_mc_run_range(&c, K, 1, rows, &d), SP_EINVAL);
    assert_int_equal(sp_sim_mc_run_range(&c, K - 2, 3, rows, &d), SP_EINVAL);
    assert_int_equal(sp_sim_mc_run_range(&c, 0xffffffffu, 2, rows, &d), SP_EINVAL);
    assert_int_equal(sp_sim_mc_run_range(&c, 0, 1, NULL, &d), SP_EINVAL);
    c.npops = 0;
    assert_int_equal(sp_sim_mc_run_range(&c, 0, 1, rows, &d), SP_EINVAL);
    assert_int_equal(sp_sim_mc_summarize(rows, 0, &s, &d), SP_EINVAL);
    assert_int_equal(sp_sim_mc_summarize(NULL, 3, &s, &d), SP_EINVAL);
}

static sp_err range_and_summary(void *ctx)
{
    (void)ctx;
    sp_sim_mc_row rows[12];
    sp_sim_mc_summary s;
    sp_sim_mc_cfg c = cfg(40, 2);
    sp_err rc = sp_sim_mc_run_range(&c, 28, 12, rows, NULL);
    return rc == SP_OK ? sp_sim_mc_summarize(rows, 12, &s, NULL) : rc;
}

static void test_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(range_and_summary, NULL, 20) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_equal_one_run),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_enomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
