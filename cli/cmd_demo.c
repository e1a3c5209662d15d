/*
 * cmd_demo.c -- `stampede demo`: the main job on the embedded default.
 *
 * Runs each step of demo_steps.def in order.  The first step is the
 * article's leverage arithmetic: 1,000 USDT of margin on a long BTC
 * position entered at 62,500, at 10x, 20x, 50x and 100x, computed in fixed
 * point (money at SP_MONEY_SCALE, prices and quantities at the event
 * scale), with the naive "principal wiped" move 1/L and the price at which
 * that happens.  Exchange liquidation prices (which come earlier, because
 * of maintenance margin) are the rules module's step.
 */
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static const cli_opt opts[] = {
    {"store", "URI", "store for the demo's data (default sqlite:stampede-demo.db)"},
    {"data", "DIR", "shipped data directory (default: the repo's data/)"},
    {"json", NULL, "print machine-readable JSON instead of tables"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "demo",
    "[--store URI] [--data DIR] [--json]",
    "Run the main job on the embedded default (no server needed): the article's leverage\n"
    "arithmetic and every analysis stampede has built so far, from the data shipped in the repo.",
    opts,
    0,
    0,
};

static const struct {
    int (*fn)(const demo_ctx *ctx);
    const char *title;
} steps[] = {
#define SP_DEMO_STEP(fn, title) {fn, title},
#include "demo_steps.def"
#undef SP_DEMO_STEP
};

int cmd_demo(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    demo_ctx ctx = {
        .store_uri = cli_has(&a, "store") ? cli_get(&a, "store") : "sqlite:stampede-demo.db",
        .data_dir = cli_has(&a, "data") ? cli_get(&a, "data") : SP_SOURCE_DIR "/data",
        .json = cli_has(&a, "json"),
    };
    if (ctx.json)
        printf("{");
    for (size_t i = 0; i < SP_COUNTOF(steps); i++) {
        if (!ctx.json)
            printf("== %s ==\n\n", steps[i].title);
        else if (i > 0)
            printf(",");
        rc = steps[i].fn(&ctx);
        if (rc != CLI_EXIT_OK)
            return rc;
        if (!ctx.json)
            printf("\n");
    }
    if (ctx.json)
        printf("}\n");
    return CLI_EXIT_OK;
}

/* ---- step: the leverage table ------------------------------------------ */

int demo_leverage_table(const demo_ctx *ctx)
{
    const unsigned px_scale = SP_EV_PX_SCALE, qty_scale = SP_EV_QTY_SCALE;
    int64_t margin, entry;
    /* Parsed from text like every other input: exact by construction. */
    if (sp_dec_parse("1000", 4, SP_MONEY_SCALE, &margin, NULL) != SP_OK ||
        sp_dec_parse("62500", 5, px_scale, &entry, NULL) != SP_OK)
        return CLI_EXIT_USAGE;
    static const int64_t levs[] = {10, 20, 50, 100};
    if (ctx->json)
        printf("\"leverage_table\":{\"margin_usdt\":\"1000\",\"entry\":\"62500\",\"rows\":[");
    else
        printf("1,000 USDT of margin, long BTC entered at 62,500 (fixed point, exact)\n\n"
               "%9s %14s %10s %15s %16s\n",
               "leverage", "notional USDT", "size BTC", "naive move", "wiped at price");
    for (size_t i = 0; i < SP_COUNTOF(levs); i++) {
        int64_t L = levs[i], notional, qty, move_bp, wipe, loss;
        /* notional = margin x L; size = notional / entry, rounded down (money and
         * price share scale 8 here, so the quotient is in base units) */
        if (sp_mul_checked(margin, L, &notional) != SP_OK ||
            sp_mul_div(notional, sp_pow10(qty_scale), entry, SP_RND_DOWN, &qty) != SP_OK)
            return CLI_EXIT_USAGE;
        /* naive principal-wiping move = 1/L, in hundredths of a percent */
        if (sp_mul_div(10000, 1, L, SP_RND_HALF_EVEN, &move_bp) != SP_OK)
            return CLI_EXIT_USAGE;
        /* price at which the loss equals the margin: entry x (1 - 1/L), rounded up
         * for a long (the first price at which the principal is gone) */
        if (sp_mul_div(entry, L - 1, L, SP_RND_UP, &wipe) != SP_OK)
            return CLI_EXIT_USAGE;
        /* check: qty x (entry - wipe) = margin, exactly, in money units */
        if (sp_mul_div(qty, entry - wipe, sp_pow10(qty_scale), SP_RND_HALF_EVEN, &loss) != SP_OK ||
            loss != margin) {
            fprintf(stderr, "stampede demo: internal check failed at %lldx\n", (long long)L);
            return CLI_EXIT_USAGE;
        }
        char q[SP_DEC_FMT_MAX], n[SP_DEC_FMT_MAX], w[SP_DEC_FMT_MAX], m[SP_DEC_FMT_MAX];
        sp_dec_format(qty, qty_scale, SP_FMT_TRIM, q, sizeof(q));
        sp_dec_format(notional, SP_MONEY_SCALE, SP_FMT_TRIM, n, sizeof(n));
        sp_dec_format(wipe, px_scale, SP_FMT_TRIM, w, sizeof(w));
        sp_dec_format(move_bp, 2, 0, m, sizeof(m));
        if (ctx->json) {
            printf("%s{\"leverage\":%lld,\"notional_usdt\":\"%s\",\"size_btc\":\"%s\","
                   "\"naive_move_pct\":\"%s\",\"wipe_price\":\"%s\"}",
                   i ? "," : "", (long long)L, n, q, m, w);
        } else {
            printf("%8lldx %14s %10s %14s%% %16s\n", (long long)L, n, q, m, w);
        }
    }
    if (ctx->json)
        printf("]}");
    else
        printf("\nA 10%% fall wipes out 10x; at 50x-100x a 1-2%% move does.  Exchanges liquidate\n"
               "earlier than this (maintenance margin): see `stampede liq --article`.\n");
    return CLI_EXIT_OK;
}
