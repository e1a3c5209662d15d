/*
 * test_sim_pop.c -- the simulator's populations: the calibrated generator
 * (determinism, totals, survival at the start price, tier leverage caps),
 * exact liquidation prices (the article's vector, the rules module against
 * the private adapter), the CSV loader (good rows, every kind of bad row,
 * bad files) and allocation-failure loops for every constructor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim_int.h"
#include "stampede/stampede.h"
#include "stampede/sim.h"
#include "testalloc.h"

#define ONE 100000000LL

/* A small synthetic price history: 10 bars between 60,000 and 75,000. */
static sp_sim_bar bars[10];

static void make_bars(void)
{
    for (int i = 0; i < 10; i++) {
        bars[i].open_ms = 1769000000000LL + i * 14400000LL;
        bars[i].low = (60000 + i * 1000) * ONE;
        bars[i].high = (61500 + i * 1300) * ONE;
        bars[i].close = (61000 + i * 1200) * ONE;
        bars[i].quote_vol = (int64_t)(1000 + 100 * i) * 1000000 * ONE;
    }
}

static sp_sim_pop_cfg small_cfg(uint64_t n, uint64_t seed)
{
    make_bars();
    sp_sim_pop_cfg c = sp_sim_pop_cfg_default();
    c.n = n;
    c.oi_usd = 2000000000LL * ONE;
    c.bars = bars;
    c.nbars = 10;
    c.mark_px = 70000 * ONE;
    c.seed = seed;
    return c;
}

static void test_generate_deterministic(void **state)
{
    sp_sim_pop_cfg c = small_cfg(5000, 42);
    sp_sim_pop *a = NULL, *b = NULL, *x = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_generate(&c, &a, &d), SP_OK);
    assert_int_equal(sp_sim_pop_generate(&c, &b, &d), SP_OK);
    c.seed = 43;
    assert_int_equal(sp_sim_pop_generate(&c, &x, &d), SP_OK);
    sp_sim_pop_info ia, ib, ix;
    sp_sim_pop_info_get(a, &ia);
    sp_sim_pop_info_get(b, &ib);
    sp_sim_pop_info_get(x, &ix);
    assert_int_equal(ia.hash, ib.hash);
    assert_int_equal(ia.n, ib.n);
    assert_memory_equal(sp_sim_pop_at(a, 0), sp_sim_pop_at(b, 0), sizeof(sp_sim_pos) * ia.n);
    assert_int_not_equal(ia.hash, ix.hash);
    sp_sim_pop_free(a);
    sp_sim_pop_free(b);
    sp_sim_pop_free(x);
}

static void test_generate_calibration(void **state)
{
    sp_sim_pop_cfg c = small_cfg(20000, 7);
    c.long_bp = 6000;
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_OK);
    sp_sim_pop_info in;
    sp_sim_pop_info_get(p, &in);
    assert_int_equal(in.n + in.dropped, 20000);
    /* totals: long share of OI within lot rounding (one lot x max price per position) */
    int64_t slack = (int64_t)in.n * 100000 * 76000 / 1; /* lot 0.001 BTC x 76,000 at scale 8 */
    int64_t want_long = c.oi_usd / 10 * 6;
    int64_t dl = in.oi_long - want_long;
    int64_t ds = in.oi_short - (c.oi_usd - want_long);
    assert_true(dl < slack && dl > -slack);
    assert_true(ds < slack && ds > -slack);
    /* long count near 60% (binomial, 20,000 draws: 4 sigma ~ 280) */
    assert_true(in.n_long > 11700 && in.n_long < 12300);
    const sp_sim_venue v = sp_sim_venue_builtin();
    for (size_t i = 0; i < in.n; i++) {
        const sp_sim_pos *q = sp_sim_pop_at(p, i);
        assert_int_equal(q->id, i);
        /* alive at the start price */
        if (q->side > 0)
            assert_true(q->liq_px < c.mark_px);
        else
            assert_true(q->liq_px > c.mark_px);
        /* on the tick and lot, entry inside the history */
        assert_int_equal(q->entry_px % v.inst->tick, 0);
        assert_int_equal(q->qty % v.inst->lot, 0);
        assert_true(q->entry_px >= 60000 * ONE && q->entry_px <= 73200 * ONE);
        /* liquidation strictly between entry and bankruptcy */
        if (q->side > 0 && q->liq_px > 0)
            assert_true(q->bk_px < q->liq_px && q->liq_px < q->entry_px);
        if (q->side < 0)
            assert_true(q->entry_px < q->liq_px && q->liq_px < q->bk_px);
        /* leverage within the tier's maximum for the entry notional (spec §2.3) */
        int64_t n = (int64_t)((__int128)q->qty * q->entry_px / ONE);
        int k = sp_tier_find(v.tiers, n);
        assert_true(k >= 0);
        assert_true(q->leverage <= v.tiers->tier[k].max_leverage);
    }
    assert_true(in.nearest_long < c.mark_px);
    assert_true(in.nearest_short > c.mark_px);
    sp_sim_pop_free(p);
}

/* The article's example: 1,000 USDT at 10x, long 0.16 BTC from 62,500 (spec §6). */
static void test_article_vector(void **state)
{
    sp_sim_pos pos[2];
    memset(pos, 0, sizeof(pos));
    pos[0].side = 1;
    pos[0].entry_px = 62500 * ONE;
    pos[0].qty = 16000000;
    pos[0].leverage = 10;
    pos[0].margin = 1000 * ONE;
    pos[1] = pos[0];
    pos[1].side = -1;
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_from(pos, 2, sp_sim_venue_builtin(), &p, &d), SP_OK);
    /* LP = (q EP - WB) / (q (1 - 0.4%)) = 9000 / 0.15936 = 56475.903614457..., floored */
    assert_int_equal(sp_sim_pop_at(p, 0)->liq_px, 5647590361445LL);
    assert_int_equal(sp_sim_pop_at(p, 0)->bk_px, 56250 * ONE);
    assert_int_equal(sp_sim_pop_at(p, 0)->tier, 1);
    /* short: (q EP + WB) / (q (1 + 0.4%)) = 11000 / 0.16064 = 68475.99601593..., ceiling */
    assert_int_equal(sp_sim_pop_at(p, 1)->liq_px, 6847609561753LL);
    assert_int_equal(sp_sim_pop_at(p, 1)->bk_px, 68750 * ONE);
    sp_sim_pop_free(p);
}

/* The rules module (when built in) and the private adapter agree on every position. */
static void test_rules_match_adapter(void **state)
{
    sp_sim_pop_cfg c = small_cfg(3000, 11);
    c.oi_usd = 30000000000LL * ONE; /* big positions: several tiers */
    c.size_max_ratio = 1000000;
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_OK);
    sp_sim_venue v = sp_sim_venue_builtin();
    int tiers_seen = 0;
    for (size_t i = 0; i < sp_sim_pop_count(p); i++) {
        sp_sim_pos a = *sp_sim_pop_at(p, i);
        assert_int_equal(sp__sim_liq_adapter(&v, &a), SP_OK);
        assert_int_equal(a.liq_px, sp_sim_pop_at(p, i)->liq_px);
        assert_int_equal(a.bk_px, sp_sim_pop_at(p, i)->bk_px);
        tiers_seen |= 1 << a.tier;
    }
    assert_true(__builtin_popcount((unsigned)tiers_seen) >= 3);
    if (!sp__sim_have_rules())
        print_message("note: rules module not built in; compared the adapter with itself\n");
    sp_sim_pop_free(p);
}

static void test_generate_bad_params(void **state)
{
    sp_sim_pop *p = NULL;
    sp_diag d;
    sp_sim_pop_cfg c = small_cfg(10, 1);
    c.n = 0;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    c = small_cfg(10, 1);
    c.oi_usd = -1;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    c = small_cfg(10, 1);
    c.long_bp = 10001;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    c = small_cfg(10, 1);
    c.nbars = 0;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    assert_non_null(strstr(d.msg, "price history"));
    c = small_cfg(10, 1);
    c.mark_px = 0;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    c = small_cfg(10, 1);
    sp_sim_lev_bucket bad = {0, 5};
    c.lev = &bad;
    c.nlev = 1;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    c = small_cfg(10, 1);
    c.venue.inst = NULL;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_EINVAL);
    /* a notional past the last tier (1.8 bn) is capped there, and counted */
    c = small_cfg(1, 1);
    c.oi_usd = 5000000000LL * ONE;
    c.long_bp = 10000;
    assert_int_equal(sp_sim_pop_generate(&c, &p, &d), SP_OK);
    sp_sim_pop_info in;
    sp_sim_pop_info_get(p, &in);
    assert_int_equal(in.capped + in.dropped, 1);
    if (in.n)
        assert_true(in.oi_long <= 1800000000LL * ONE);
    sp_sim_pop_free(p);
    p = NULL;
    assert_null(p);
}

static void test_lev_mix(void **state)
{
    sp_sim_lev_bucket m[SP_SIM_LEV_BUCKETS_MAX];
    for (unsigned v = 0; v < 3; v++) {
        size_t n = sp_sim_lev_mix(v, m, SP_COUNTOF(m));
        assert_true(n >= 5);
        uint32_t mass_5_25 = 0, total = 0;
        for (size_t i = 0; i < n; i++) {
            total += m[i].weight;
            if (m[i].leverage >= 5 && m[i].leverage <= 25)
                mass_5_25 += m[i].weight;
        }
        assert_true(mass_5_25 * 2 > total);    /* most of the mass at 5x-25x */
        assert_true(m[n - 1].leverage >= 100); /* a tail to 100x+ */
    }
    assert_int_equal(sp_sim_lev_mix(3, m, SP_COUNTOF(m)), 0);
    assert_int_equal(sp_sim_lev_bucket_of(5), 0);
    assert_int_equal(sp_sim_lev_bucket_of(6), 1);
    assert_int_equal(sp_sim_lev_bucket_of(125), 5);
    assert_string_equal(sp_sim_lev_bucket_name(5), ">100x");
    assert_string_equal(sp_sim_lev_bucket_name(9), "?");
}

/* ---- CSV loader ------------------------------------------------------------ */

typedef struct rejects {
    int n;
    uint64_t lines[16];
    char fields[16][SP_DIAG_FIELD_MAX];
} rejects;

static void on_reject(void *ctx, const sp_diag *why)
{
    rejects *r = ctx;
    if (r->n < 16) {
        r->lines[r->n] = why->line;
        memcpy(r->fields[r->n], why->field, sizeof(why->field));
    }
    r->n++;
}

static void test_csv_good(void **state)
{
    sp_sim_pop *p = NULL;
    uint64_t rej = 99;
    sp_diag d;
    assert_int_equal(sp_sim_pop_load_csv(sp_test_path("tests/data/sim/positions.csv"),
                                         sp_sim_venue_builtin(), NULL, NULL, &rej, &p, &d),
                     SP_OK);
    assert_int_equal(rej, 0);
    assert_int_equal(sp_sim_pop_count(p), 4);
    assert_int_equal(sp_sim_pop_at(p, 0)->liq_px, 5647590361445LL); /* the article */
    assert_int_equal(sp_sim_pop_at(p, 2)->qty, 123400000);
    assert_int_equal(sp_sim_pop_at(p, 2)->margin, 431903085000LL);
    assert_int_equal(sp_sim_pop_at(p, 3)->side, -1);
    sp_sim_pop_free(p);
}

static void test_csv_bad_rows(void **state)
{
    sp_sim_pop *p = NULL;
    uint64_t rej = 0;
    rejects r;
    memset(&r, 0, sizeof(r));
    sp_diag d;
    assert_int_equal(sp_sim_pop_load_csv(sp_test_path("tests/data/sim/positions_bad.csv"),
                                         sp_sim_venue_builtin(), on_reject, &r, &rej, &p, &d),
                     SP_OK);
    assert_int_equal(sp_sim_pop_count(p), 2);
    assert_int_equal(rej, 7);
    assert_int_equal(r.n, 7);
    static const uint64_t lines[7] = {3, 4, 5, 6, 7, 8, 11};
    static const char *const fields[7] = {"side", "entry_px", "qty",     "leverage",
                                          "",     "entry_px", "entry_px"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r.lines[i], lines[i]);
        assert_string_equal(r.fields[i], fields[i]);
    }
    sp_sim_pop_free(p);
}

/* Rows the venue would not allow are rejected rows, not a failed file. */
static void test_csv_unallowed_rows(void **state)
{
    sp_sim_pop *p = NULL;
    uint64_t rej = 0;
    rejects r;
    memset(&r, 0, sizeof(r));
    sp_diag d;
    assert_int_equal(sp_sim_pop_load_csv(sp_test_path("tests/data/sim/positions_margin.csv"),
                                         sp_sim_venue_builtin(), on_reject, &r, &rej, &p, &d),
                     SP_OK);
    assert_int_equal(sp_sim_pop_count(p), 1);
    assert_int_equal(rej, 2);
    assert_int_equal(r.lines[0], 2); /* 1 USDT of margin on 84,000 USDT: below maintenance */
    assert_string_equal(r.fields[0], "margin");
    assert_int_equal(r.lines[1], 4); /* 1.875 bn USDT: past the last bracket (1.8 bn) */
    assert_int_equal(sp_sim_pop_at(p, 0)->side, -1);
    sp_sim_pop_free(p);
}

static void test_csv_bad_files(void **state)
{
    sp_sim_pop *p = NULL;
    sp_diag d;
    assert_int_equal(sp_sim_pop_load_csv(sp_test_path("tests/data/sim/none.csv"),
                                         sp_sim_venue_builtin(), NULL, NULL, NULL, &p, &d),
                     SP_EIO);
    assert_int_equal(sp_sim_pop_load_csv(sp_test_path("tests/data/sim/positions_noheader.csv"),
                                         sp_sim_venue_builtin(), NULL, NULL, NULL, &p, &d),
                     SP_EPARSE);
    assert_non_null(strstr(d.msg, "header"));
    assert_null(p);
}

/* ---- allocation failures ------------------------------------------------------- */

static sp_err gen_once(void *ctx)
{
    (void)ctx;
    sp_sim_pop_cfg c = small_cfg(200, 3);
    sp_sim_pop *p = NULL;
    sp_err rc = sp_sim_pop_generate(&c, &p, NULL);
    sp_sim_pop_free(p);
    return rc;
}

static sp_err csv_once(void *ctx)
{
    (void)ctx;
    sp_sim_pop *p = NULL;
    sp_err rc = sp_sim_pop_load_csv(sp_test_path("tests/data/sim/positions.csv"),
                                    sp_sim_venue_builtin(), NULL, NULL, NULL, &p, NULL);
    sp_sim_pop_free(p);
    return rc;
}

static void test_enomem(void **state)
{
    assert_true(sp_test_enomem_loop(gen_once, NULL, 100) > 1);
    assert_true(sp_test_enomem_loop(csv_once, NULL, 100) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_deterministic),
        cmocka_unit_test(test_generate_calibration),
        cmocka_unit_test(test_article_vector),
        cmocka_unit_test(test_rules_match_adapter),
        cmocka_unit_test(test_generate_bad_params),
        cmocka_unit_test(test_lev_mix),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_bad_rows),
        cmocka_unit_test(test_csv_unallowed_rows),
        cmocka_unit_test(test_csv_bad_files),
        cmocka_unit_test(test_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
