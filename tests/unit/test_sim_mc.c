/*
 * test_sim_mc.c -- the Monte Carlo driver: identical rows and summary for
 * any thread count, seed sensitivity, ordered quantiles, the per-row
 * draws inside their configured ranges, bad configurations, and the
 * allocation-failure loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "stampede/sim.h"
#include "testalloc.h"

#define ONE 100000000LL

typedef struct fixture {
    sp_sim_bar bars[8];
    sp_sim_pop *pops[3];
    sp_sim_market *m;
} fixture;

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof(f));
    for (int i = 0; i < 8; i++) {
        f.bars[i].low = (66000 + i * 800) * ONE;
        f.bars[i].high = (67500 + i * 900) * ONE;
        f.bars[i].close = (67000 + i * 850) * ONE;
        f.bars[i].quote_vol = 1000000000 * ONE;
    }
    for (unsigned v = 0; v < 3; v++) {
        sp_sim_lev_bucket mix[SP_SIM_LEV_BUCKETS_MAX];
        sp_sim_pop_cfg c = sp_sim_pop_cfg_default();
        c.n = 5000;
        c.oi_usd = 2000000000LL * ONE;
        c.bars = f.bars;
        c.nbars = 8;
        c.mark_px = 72000 * ONE;
        c.seed = 21 + v;
        c.nlev = sp_sim_lev_mix(v, mix, SP_COUNTOF(mix));
        c.lev = mix;
        if (sp_sim_pop_generate(&c, &f.pops[v], NULL) != SP_OK)
            return -1;
    }
    sp_sim_market_cfg mc = sp_sim_market_cfg_default();
    mc.mid_px = 72000 * ONE;
    mc.depth_1pct_usd = 20000000 * ONE;
    if (sp_sim_market_new(&mc, &f.m, NULL) != SP_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 3; i++)
        sp_sim_pop_free(f->pops[i]);
    sp_sim_market_free(f->m);
    return 0;
}

static sp_sim_mc_cfg cfg_of(fixture *f, uint32_t k, uint32_t threads, uint64_t seed)
{
    sp_sim_mc_cfg c = sp_sim_mc_cfg_default();
    c.k = k;
    c.threads = threads;
    c.seed = seed;
    c.pops = (const sp_sim_pop *const *)f->pops;
    c.npops = 3;
    c.market = f->m;
    return c;
}

static void test_deterministic_across_threads(void **state)
{
    fixture *f = *state;
    enum { K = 300 };
    static sp_sim_mc_row r1[K], r2[K], r4[K];
    sp_sim_mc_summary s1, s2, s4;
    sp_diag d;
    sp_sim_mc_cfg c = cfg_of(f, K, 1, 5);
    assert_int_equal(sp_sim_mc_run(&c, r1, &s1, &d), SP_OK);
    c.threads = 2;
    assert_int_equal(sp_sim_mc_run(&c, r2, &s2, &d), SP_OK);
    c.threads = 4;
    assert_int_equal(sp_sim_mc_run(&c, r4, &s4, &d), SP_OK);
    assert_memory_equal(r1, r2, sizeof(r1));
    assert_memory_equal(r1, r4, sizeof(r1));
    assert_memory_equal(&s1, &s2, sizeof(s1));
    assert_memory_equal(&s1, &s4, sizeof(s1));
    c.seed = 6;
    c.threads = 2;
    assert_int_equal(sp_sim_mc_run(&c, r2, &s2, &d), SP_OK);
    assert_int_not_equal(s1.hash, s2.hash);
}

static void test_rows_and_summary(void **state)
{
    fixture *f = *state;
    enum { K = 400 };
    static sp_sim_mc_row r[K];
    sp_sim_mc_summary s;
    sp_diag d;
    sp_sim_mc_cfg c = cfg_of(f, K, 2, 9);
    assert_int_equal(sp_sim_mc_run(&c, r, &s, &d), SP_OK);
    assert_int_equal(s.k, K);
    uint32_t falls = 0, seen_pop[3] = {0};
    for (int i = 0; i < K; i++) {
        int32_t mag = r[i].shock_bp < 0 ? -r[i].shock_bp : r[i].shock_bp;
        assert_true(mag >= (int32_t)c.shock_min_bp && mag <= (int32_t)c.shock_max_bp);
        assert_true(r[i].thin_bp <= c.thin_max_bp);
        assert_true(r[i].pop < 3);
        seen_pop[r[i].pop]++;
        falls += r[i].shock_bp < 0;
        /* a cascade never moves the price less than the shock */
        assert_true(r[i].drawdown_bp + 1 >= mag);
        assert_true(r[i].amplification_milli >= 1000);
    }
    /* 70% falls: 400 draws, 4 sigma ~ 37 */
    assert_true(falls > 243 && falls < 317);
    assert_true(seen_pop[0] && seen_pop[1] && seen_pop[2]);
    for (int i = 1; i < SP_SIM_MC_QUANTILES; i++) {
        assert_true(s.q_notional[i] >= s.q_notional[i - 1]);
        assert_true(s.q_drawdown_bp[i] >= s.q_drawdown_bp[i - 1]);
        assert_true(s.q_amplification_milli[i] >= s.q_amplification_milli[i - 1]);
    }
    for (int i = 1; i < SP_SIM_MC_THRESHOLDS; i++)
        assert_true(s.p_fall_bp[i] <= s.p_fall_bp[i - 1]);
    /* P(fall > 5%) counted by hand */
    uint32_t over = 0;
    for (int i = 0; i < K; i++)
        over += r[i].shock_bp < 0 && r[i].drawdown_bp > 500;
    assert_int_equal(s.p_fall_bp[0], over * 10000 / K);
    /* each row is the single run of its draw */
    sp_sim_shock sh = sp_sim_shock_default();
    sh.move_bp = r[17].shock_bp;
    sh.thin_bp = r[17].thin_bp;
    sp_sim_result res;
    assert_int_equal(sp_sim_run(f->pops[r[17].pop], f->m, &sh, NULL, 0, &res, &d), SP_OK);
    assert_int_equal(res.notional, r[17].notional);
    assert_int_equal(res.n_liq, r[17].n_liq);
}

static void test_bad_cfg(void **state)
{
    fixture *f = *state;
    sp_sim_mc_summary s;
    sp_diag d;
    sp_sim_mc_cfg c = cfg_of(f, 0, 1, 1);
    assert_int_equal(sp_sim_mc_run(&c, NULL, &s, &d), SP_EINVAL);
    c = cfg_of(f, 10, 0, 1);
    assert_int_equal(sp_sim_mc_run(&c, NULL, &s, &d), SP_EINVAL);
    c = cfg_of(f, 10, 1, 1);
    c.shock_min_bp = 2000;
    c.shock_max_bp = 1000;
    assert_int_equal(sp_sim_mc_run(&c, NULL, &s, &d), SP_EINVAL);
    c = cfg_of(f, 10, 1, 1);
    c.npops = 0;
    assert_int_equal(sp_sim_mc_run(&c, NULL, &s, &d), SP_EINVAL);
    c = cfg_of(f, 10, 1, 1);
    c.thin_max_bp = 9950;
    assert_int_equal(sp_sim_mc_run(&c, NULL, &s, &d), SP_EINVAL);
}

static fixture *g_fix;

static sp_err mc_once(void *ctx)
{
    (void)ctx;
    sp_sim_mc_cfg c = cfg_of(g_fix, 20, 2, 3);
    sp_sim_mc_summary s;
    return sp_sim_mc_run(&c, NULL, &s, NULL);
}

static void test_enomem(void **state)
{
    g_fix = *state;
    assert_true(sp_test_enomem_loop(mc_once, NULL, 20) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_rows_and_summary),
        cmocka_unit_test(test_bad_cfg),
        cmocka_unit_test(test_enomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
