/*
 * cmd_engine.c -- `stampede engine run COMMANDS.jsonl`: replay a command
 * file through the exchange core (src/engine) for one venue's rules and
 * print every event it produces, then a summary (insurance fund, fees,
 * liquidations, ADL, the state hash).
 *
 * Instruments come from the rules data (data/rules, or --rules DIR): every
 * linear instrument of the venue, with its latest verified tier table.
 * Malformed lines are reported on stderr with file, line and field, and
 * skipped; the rest of the file still runs (exit 1).  Exchange rejects
 * (insufficient margin, ...) are events, not errors.  With --store URI the
 * events are also written to the store (sqlite:PATH).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "demo.h"
#include "stampede/engine.h"
#include "stampede/store.h"

static const cli_opt opts[] = {
    {"venue", "NAME", "rule set: binance (default) | bybit | okx (linear contracts)"},
    {"rules", "DIR", "rules data directory (default: the repo's data/rules)"},
    {"accounts", "N", "largest account id (default 100000)"},
    {"store", "URI", "also store the events (e.g. sqlite:engine.db)"},
    {"quiet", NULL, "print the summary only"},
    {"json", NULL, "print events and the summary as JSON lines"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "engine",
    "run COMMANDS.jsonl [--venue binance] [--rules DIR] [--store URI] [--json] [--quiet]",
    "Replay a JSON-lines command file through the exchange core: deposits, orders matched in\n"
    "the book with fees, mark and index prices, funding, and the liquidation engine (insurance\n"
    "fund, auto-deleveraging).  One command per line, decimals as JSON strings, e.g.\n"
    "  {\"cmd\":\"order\",\"account\":1,\"symbol\":\"BTCUSDT\",\"id\":1,\"side\":\"buy\","
    "\"price\":\"62500\",\"qty\":\"0.16\"}\n"
    "Commands: deposit withdraw insurance leverage margin_mode position_mode order cancel amend\n"
    "mark index funding tick (docs/internals/engine.md).  Exit 0 ok, 1 some lines malformed\n"
    "(the rest ran), 2 usage or unusable input.",
    opts,
    2,
    2,
};

typedef struct run_ctx {
    const sp_symtab *syms;
    bool json, quiet;
    sp_event *store_ev; /* events kept for --store */
    size_t nstore, capstore;
    bool store_full;
    const char *path;
} run_ctx;

static void dec(FILE *f, int64_t v, unsigned scale)
{
    char t[SP_DEC_FMT_MAX];
    sp_dec_format(v, scale, SP_FMT_TRIM, t, sizeof(t));
    fputs(t, f);
}

static const char *liq_sub(unsigned sub)
{
    switch (sub) {
    case SP_ENG_LIQ_TRIGGER:
        return "trigger";
    case SP_ENG_LIQ_PARTIAL:
        return "partial";
    case SP_ENG_LIQ_TAKEOVER:
        return "takeover";
    case SP_ENG_LIQ_ADL:
        return "to_adl";
    default:
        return "?";
    }
}

static const char *ins_sub(unsigned sub)
{
    switch (sub) {
    case SP_ENG_INS_FEE:
        return "liquidation_fee";
    case SP_ENG_INS_FILL:
        return "liquidation_fill";
    case SP_ENG_INS_RESIDUAL:
        return "residual";
    case SP_ENG_INS_SEED:
        return "seed";
    default:
        return "?";
    }
}

/* One event as a JSON object (all values exact decimal strings). */
static void print_json(const run_ctx *r, const sp_event *ev)
{
    const char *sym = ev->symbol_id ? sp_symtab_name(r->syms, ev->symbol_id) : NULL;
    printf("{\"kind\":\"%s\"", sp_event_kind_name(ev->kind));
    if (sym)
        printf(",\"symbol\":\"%s\"", sym);
    printf(",\"ts_ns\":%lld", (long long)ev->exch_ts_ns);
    if (ev->kind == SP_EV_LIQ_ENGINE)
        printf(",\"step\":\"%s\"", liq_sub(ev->sub));
    if (ev->kind == SP_EV_INSURANCE)
        printf(",\"reason\":\"%s\"", ins_sub(ev->sub));
    if (ev->kind != SP_EV_INSURANCE) {
        printf(",\"side\":\"%s\",\"px\":\"", ev->flags & SP_EVF_SELL ? "sell" : "buy");
        dec(stdout, ev->px,
            ev->kind == SP_EV_FUNDING || ev->kind == SP_EV_FUNDING_PAY ? SP_EV_RATE_SCALE
                                                                       : SP_EV_PX_SCALE);
        printf("\",\"qty\":\"");
        dec(stdout, ev->qty, SP_EV_QTY_SCALE);
        printf("\"");
    }
    switch (ev->kind) {
    case SP_EV_FILL:
        printf(",\"order\":%lld,\"account\":%lld,\"fee\":\"", (long long)ev->aux[0],
               (long long)ev->aux[1]);
        dec(stdout, ev->aux[2], SP_EV_PX_SCALE);
        printf("\",\"maker\":%s,\"liquidation\":%s", ev->flags & SP_EVF_MAKER ? "true" : "false",
               ev->sub ? "true" : "false");
        break;
    case SP_EV_CANCEL:
    case SP_EV_REJECT:
        printf(",\"order\":%lld,\"account\":%lld,\"code\":%lld,\"reason\":", (long long)ev->aux[0],
               (long long)ev->aux[1], (long long)ev->aux[2]);
        cli_json_str(stdout, sp_engine_reason_text((unsigned)ev->aux[2]));
        break;
    case SP_EV_LIQ_ENGINE:
        printf(",\"account\":%lld,\"mark\":\"", (long long)ev->aux[0]);
        dec(stdout, ev->aux[1], SP_EV_PX_SCALE);
        printf("\",\"%s\":\"", ev->sub == SP_ENG_LIQ_TRIGGER ? "maint_margin" : "fee");
        dec(stdout, ev->aux[2], SP_EV_PX_SCALE);
        printf("\"");
        break;
    case SP_EV_INSURANCE:
        printf(",\"change\":\"");
        dec(stdout, ev->aux[0], SP_EV_PX_SCALE);
        printf("\",\"balance\":\"");
        dec(stdout, ev->aux[1], SP_EV_PX_SCALE);
        printf("\",\"account\":%lld", (long long)ev->aux[2]);
        break;
    case SP_EV_ADL:
        printf(",\"account\":%lld,\"liquidated\":%lld,\"score\":\"", (long long)ev->aux[0],
               (long long)ev->aux[1]);
        dec(stdout, ev->aux[2], SP_EV_PX_SCALE);
        printf("\"");
        break;
    case SP_EV_FUNDING:
    case SP_EV_FUNDING_PAY:
        printf(",\"mark\":\"");
        dec(stdout, ev->aux[0], SP_EV_PX_SCALE);
        printf("\",\"account\":%lld,\"amount\":\"", (long long)ev->aux[1]);
        dec(stdout, ev->aux[2], SP_EV_PX_SCALE);
        printf("\"");
        break;
    case SP_EV_MARK:
        printf(",\"index\":\"");
        dec(stdout, ev->aux[0], SP_EV_PX_SCALE);
        printf("\"");
        break;
    default:
        break;
    }
    printf("}\n");
}

/* One event as a line of text. */
static void print_text(const run_ctx *r, const sp_event *ev)
{
    const char *sym = ev->symbol_id ? sp_symtab_name(r->syms, ev->symbol_id) : "-";
    const char *side = ev->flags & SP_EVF_SELL ? "sell" : "buy";
    switch (ev->kind) {
    case SP_EV_FILL:
        printf("fill        %s %-4s ", sym, side);
        dec(stdout, ev->qty, 8);
        printf(" @ ");
        dec(stdout, ev->px, 8);
        printf("  account %lld order %lld fee ", (long long)ev->aux[1], (long long)ev->aux[0]);
        dec(stdout, ev->aux[2], 8);
        printf("%s%s\n", ev->flags & SP_EVF_MAKER ? " (maker)" : " (taker)",
               ev->sub ? " [liquidation]" : "");
        return;
    case SP_EV_CANCEL:
    case SP_EV_REJECT:
        printf("%-11s %s account %lld order %lld qty ",
               ev->kind == SP_EV_CANCEL ? "cancel" : "reject", sym, (long long)ev->aux[1],
               (long long)ev->aux[0]);
        dec(stdout, ev->qty, 8);
        printf(": %lld %s\n", (long long)ev->aux[2], sp_engine_reason_text((unsigned)ev->aux[2]));
        return;
    case SP_EV_LIQ_ENGINE:
        printf("liquidation %s %-8s account %lld %s ", sym, liq_sub(ev->sub), (long long)ev->aux[0],
               side);
        dec(stdout, ev->qty, 8);
        printf(" @ ");
        dec(stdout, ev->px, 8);
        printf("  (mark ");
        dec(stdout, ev->aux[1], 8);
        printf(")\n");
        return;
    case SP_EV_INSURANCE:
        printf("insurance   %s %s ", sym, ins_sub(ev->sub));
        dec(stdout, ev->aux[0], 8);
        printf(" -> balance ");
        dec(stdout, ev->aux[1], 8);
        printf("\n");
        return;
    case SP_EV_ADL:
        printf("adl         %s account %lld %s ", sym, (long long)ev->aux[0], side);
        dec(stdout, ev->qty, 8);
        printf(" @ ");
        dec(stdout, ev->px, 8);
        printf(" (liquidated account %lld, score ", (long long)ev->aux[1]);
        dec(stdout, ev->aux[2], 8);
        printf(")\n");
        return;
    case SP_EV_FUNDING_PAY:
        return; /* per-position payments only in --json */
    case SP_EV_FUNDING:
        printf("funding     %s rate ", sym);
        dec(stdout, ev->px, SP_EV_RATE_SCALE);
        printf(" paid ");
        dec(stdout, ev->aux[2], 8);
        printf("\n");
        return;
    case SP_EV_MARK:
        printf("mark        %s ", sym);
        dec(stdout, ev->px, 8);
        printf("\n");
        return;
    default:
        return;
    }
}

static void sink(void *ctx, const sp_event *ev)
{
    run_ctx *r = ctx;
    if (r->capstore) {
        if (r->nstore == r->capstore) {
            size_t cap = r->capstore * 2;
            sp_event *n = sp_reallocarray(r->store_ev, cap, sizeof(*n));
            if (!n) {
                r->store_full = true;
                return;
            }
            r->store_ev = n;
            r->capstore = cap;
        }
        sp_event e = *ev;
        /* distinct natural keys for the store: the event's sequence in this run */
        e.local_ts_ns = (int64_t)r->nstore;
        r->store_ev[r->nstore++] = e;
    }
    if (r->quiet)
        return;
    if (r->json)
        print_json(r, ev);
    else
        print_text(r, ev);
}

static void on_bad(void *ctx, const sp_diag *d)
{
    const run_ctx *r = ctx;
    char line[SP_DIAG_MSG_MAX + 128];
    (void)r;
    sp_diag_format(d, line, sizeof(line));
    fprintf(stderr, "stampede engine: %s\n", line);
}

static bool read_file(const char *path, sp_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char chunk[65536];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (sp_buf_append(b, chunk, n) != SP_OK) {
            ok = false;
            break;
        }
    if (ferror(f))
        ok = false;
    fclose(f);
    return ok;
}

int cmd_engine(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (strcmp(a.pos[0], "run") != 0) {
        cli_error("engine", "unknown sub-command '%s' (try: stampede engine run FILE)", a.pos[0]);
        return CLI_EXIT_USAGE;
    }
    const char *vname = cli_has(&a, "venue") ? cli_get(&a, "venue") : "binance";
    sp_venue venue = sp_venue_from_name(vname);
    if (venue == SP_VENUE_NONE || !sp_rules_get(venue, SP_CONTRACT_LINEAR)) {
        cli_error("engine", "--venue: no linear rule set for '%s'", vname);
        return CLI_EXIT_USAGE;
    }
    int64_t naccts;
    if (!cli_get_int(&a, "accounts", 1, SP_ENGINE_POOL_MAX / 2, 100000, &naccts))
        return CLI_EXIT_USAGE;
    const char *rules_dir =
        cli_has(&a, "rules") ? cli_get(&a, "rules") : SP_SOURCE_DIR "/data/rules";
    run_ctx r;
    memset(&r, 0, sizeof(r));
    r.json = cli_has(&a, "json");
    r.quiet = cli_has(&a, "quiet");
    r.path = a.pos[1];
    sp_rules_db *db = NULL;
    sp_symtab *syms = NULL;
    sp_engine *e = NULL;
    sp_store *store = NULL;
    sp_buf buf;
    sp_buf_init(&buf, (size_t)1 << 30);
    sp_diag d;
    sp_diag_clear(&d);
    rc = CLI_EXIT_USAGE;
    if (sp_rules_db_new(&db) != SP_OK || sp_symtab_new(&syms) != SP_OK) {
        cli_error("engine", "out of memory");
        goto out;
    }
    r.syms = syms;
    if (sp_rules_db_load_dir(db, rules_dir, &d) != SP_OK) {
        char m[SP_DIAG_MSG_MAX + 128];
        cli_error("engine", "--rules %s: %s", rules_dir, sp_diag_format(&d, m, sizeof(m)));
        goto out;
    }
    if (!read_file(r.path, &buf)) {
        cli_error("engine", "%s: cannot read the file", r.path);
        goto out;
    }
    if (cli_has(&a, "store")) {
        sp_diag_clear(&d);
        if (sp_store_open(cli_get(&a, "store"), 0, &store, &d) != SP_OK) {
            char m[SP_DIAG_MSG_MAX + 128];
            cli_error("engine", "--store: %s", sp_diag_format(&d, m, sizeof(m)));
            goto out;
        }
        r.capstore = 1024;
        r.store_ev = sp_calloc(r.capstore, sizeof(*r.store_ev));
        if (!r.store_ev) {
            cli_error("engine", "out of memory");
            goto out;
        }
    }
    sp_engine_config cfg = sp_engine_config_default(venue);
    cfg.max_accounts = (uint32_t)naccts;
    cfg.max_positions = (uint32_t)naccts * 2;
    cfg.max_orders = 1u << 16;
    sp_engine_sink s = {sink, &r};
    if (sp_engine_new(&cfg, &s, &e) != SP_OK) {
        cli_error("engine", "cannot create the engine (out of memory?)");
        goto out;
    }
    size_t ninst = 0;
    for (size_t i = 0; i < sp_rules_db_instrument_count(db); i++) {
        const sp_instrument *in = sp_rules_db_instrument_at(db, i);
        if (in->venue != venue || in->contract != SP_CONTRACT_LINEAR)
            continue;
        const sp_tier_table *t = sp_rules_db_tiers(db, venue, in->symbol, 99991231, false);
        uint32_t id;
        if (sp_symtab_intern(syms, in->symbol, strlen(in->symbol), &id) != SP_OK)
            continue;
        if (sp_engine_add_instrument(e, in, t, id, NULL) == SP_OK)
            ninst++;
    }
    if (ninst == 0) {
        cli_error("engine", "no linear %s instrument with margin data in %s", vname, rules_dir);
        goto out;
    }
    sp_engine_log_stats st;
    sp_err er =
        sp_engine_run_log(e, buf.data ? buf.data : "", buf.len, true, r.path, 1, on_bad, &r, &st);
    if (er != SP_OK) {
        cli_error("engine", "%s: %s", r.path, sp_strerror(er));
        goto out;
    }
    if (store) {
        uint64_t ins = 0;
        sp_diag_clear(&d);
        if (r.store_full || sp_store_append(store, r.store_ev, r.nstore, syms, &ins, &d) != SP_OK) {
            char m[SP_DIAG_MSG_MAX + 128];
            cli_error("engine", "--store: %s",
                      r.store_full ? "out of memory" : sp_diag_format(&d, m, sizeof(m)));
            goto out;
        }
    }
    sp_engine_stats es;
    sp_engine_get_stats(e, &es);
    uint64_t h = sp_engine_state_hash(e);
    int asset = sp_engine_asset(e, "USDT");
    int64_t fund = asset >= 0 ? sp_engine_insurance(e, (uint32_t)asset) : 0;
    int64_t fees = asset >= 0 ? sp_engine_fees(e, (uint32_t)asset) : 0;
    sp_diag_clear(&d);
    bool inv = sp_engine_check(e, &d) == SP_OK;
    if (r.json) {
        printf("{\"summary\":{\"venue\":\"%s\",\"lines\":%llu,\"commands\":%llu,\"malformed\":%llu,"
               "\"rejected\":%llu,\"fills\":%llu,\"liquidations\":%llu,\"partial\":%llu,"
               "\"adl\":%llu,\"insurance_usdt\":\"",
               vname, (unsigned long long)st.lines, (unsigned long long)st.commands,
               (unsigned long long)st.malformed, (unsigned long long)st.rejected,
               (unsigned long long)es.fills, (unsigned long long)es.liquidations,
               (unsigned long long)es.partials, (unsigned long long)es.adl);
        dec(stdout, fund, 8);
        printf("\",\"fees_usdt\":\"");
        dec(stdout, fees, 8);
        printf("\",\"invariants\":%s,\"state_hash\":\"%016llx\"}}\n", inv ? "true" : "false",
               (unsigned long long)h);
    } else {
        printf("\n%s: %llu commands (%llu malformed, %llu rejected by the exchange), %llu fills, "
               "%llu liquidations (%llu partial), %llu ADL\n",
               r.path, (unsigned long long)st.commands, (unsigned long long)st.malformed,
               (unsigned long long)st.rejected, (unsigned long long)es.fills,
               (unsigned long long)es.liquidations, (unsigned long long)es.partials,
               (unsigned long long)es.adl);
        printf("insurance fund ");
        cli_print_money(stdout, fund, 8, 8);
        printf(" USDT, fees ");
        cli_print_money(stdout, fees, 8, 8);
        printf(" USDT, invariants %s, state hash %016llx\n", inv ? "hold" : d.msg,
               (unsigned long long)h);
    }
    rc = st.malformed ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
    if (!inv)
        rc = CLI_EXIT_PARTIAL;
out:
    sp_engine_free(e);
    sp_store_close(store);
    sp_free(r.store_ev);
    sp_symtab_free(syms);
    sp_rules_db_free(db);
    sp_buf_fini(&buf);
    return rc;
}

/* ---- demo step: the article's trader through the exchange core ------------------ */

typedef struct demo_seen {
    int64_t trigger_mark, takeover_px, fee, fill_change, fund_after, fund_fill_px, fund_fill_qty;
    uint64_t liquidations;
} demo_seen;

static void demo_sink(void *ctx, const sp_event *ev)
{
    demo_seen *s = ctx;
    if (ev->kind == SP_EV_LIQ_ENGINE && ev->sub == SP_ENG_LIQ_TRIGGER && !s->trigger_mark)
        s->trigger_mark = ev->aux[1];
    if (ev->kind == SP_EV_LIQ_ENGINE && ev->sub == SP_ENG_LIQ_TAKEOVER) {
        s->takeover_px = ev->px;
        s->liquidations++;
    }
    if (ev->kind == SP_EV_INSURANCE && ev->sub == SP_ENG_INS_FEE)
        s->fee += ev->aux[0];
    if (ev->kind == SP_EV_INSURANCE && ev->sub == SP_ENG_INS_FILL) {
        s->fill_change += ev->aux[0];
        s->fund_fill_px = ev->px;
        s->fund_fill_qty += ev->qty;
    }
    if (ev->kind == SP_EV_INSURANCE)
        s->fund_after = ev->aux[1];
}

int demo_engine_article(const demo_ctx *ctx)
{
    char dir[4096], path[4096];
    snprintf(dir, sizeof(dir), "%s/rules", ctx->data_dir);
    snprintf(path, sizeof(path), "%s/scenarios/article_trader.jsonl", ctx->data_dir);
    sp_rules_db *db = NULL;
    sp_engine *e = NULL;
    sp_buf buf;
    sp_buf_init(&buf, (size_t)1 << 24);
    demo_seen s;
    memset(&s, 0, sizeof(s));
    int rc = CLI_EXIT_USAGE;
    sp_diag d;
    sp_diag_clear(&d);
    const sp_instrument *in = NULL;
    const sp_tier_table *t = NULL;
    if (sp_rules_db_new(&db) != SP_OK || sp_rules_db_load_dir(db, dir, &d) != SP_OK ||
        !(in = sp_rules_db_instrument(db, SP_VENUE_BINANCE_UM, "BTCUSDT")) ||
        !read_file(path, &buf)) {
        cli_error("demo", "engine step: cannot load %s or %s", dir, path);
        goto out;
    }
    t = sp_rules_db_tiers(db, SP_VENUE_BINANCE_UM, "BTCUSDT", 99991231, false);
    sp_engine_config cfg = sp_engine_config_default(SP_VENUE_BINANCE_UM);
    cfg.max_accounts = cfg.max_positions = cfg.max_orders = 64;
    sp_engine_sink sk = {demo_sink, &s};
    sp_engine_log_stats st;
    if (sp_engine_new(&cfg, &sk, &e) != SP_OK ||
        sp_engine_add_instrument(e, in, t, 1, NULL) != SP_OK ||
        sp_engine_run_log(e, buf.data ? buf.data : "", buf.len, true, path, 1, NULL, NULL, &st) !=
            SP_OK ||
        st.malformed) {
        cli_error("demo", "engine step: the scenario did not run");
        goto out;
    }
    /* what `stampede liq` prints for the same position */
    sp_rules_pos rp = {.inst = in,
                       .tiers = t,
                       .mode = SP_MARGIN_ISOLATED,
                       .side = 1,
                       .qty = 16000000,
                       .entry_px = 6250000000000,
                       .margin = 100000000000};
    sp_rules_out ro;
    if (sp_rules_liq(&rp, &ro) != SP_OK) {
        cli_error("demo", "engine step: no liquidation price from the rules");
        goto out;
    }
    bool inv = sp_engine_check(e, &d) == SP_OK;
    bool same = s.trigger_mark == ro.liq_px;
    if (ctx->json) {
        printf("\"engine_article\":{\"liq_price\":\"");
        dec(stdout, ro.liq_px, 8);
        printf("\",\"liquidated_at_mark\":\"");
        dec(stdout, s.trigger_mark, 8);
        printf("\",\"same\":%s,\"liquidation_fee\":\"", same ? "true" : "false");
        dec(stdout, s.fee, 8);
        printf("\",\"fund_fill_change\":\"");
        dec(stdout, s.fill_change, 8);
        printf("\",\"insurance_after\":\"");
        dec(stdout, s.fund_after, 8);
        printf("\",\"invariants\":%s}", inv ? "true" : "false");
    } else {
        printf("The article's trader through the exchange core "
               "(data/scenarios/article_trader.jsonl):\n"
               "1,000 USDT isolated at 10x, long 0.16 BTC at 62,500 on Binance BTCUSDT, the mark "
               "walked down.\n\n");
        printf("  liquidation price (stampede liq)        ");
        cli_print_money(stdout, ro.liq_px, 8, 2);
        printf("\n  engine liquidated at mark               ");
        cli_print_money(stdout, s.trigger_mark, 8, 2);
        printf("   %s (nothing at 56,476.00)\n", same ? "same price" : "DIFFERENT");
        printf("  liquidation fee to the insurance fund   ");
        cli_print_money(stdout, s.fee, 8, 3);
        printf(
            " USDT (all the equity left at that mark)\n  position taken over at bankruptcy price ");
        cli_print_money(stdout, s.takeover_px, 8, 2);
        printf("\n  fund sold it in the book at             ");
        cli_print_money(stdout, s.fund_fill_px, 8, 2);
        printf(" -> fund ");
        cli_print_money(stdout, s.fill_change, 8, 3);
        printf(" USDT, balance ");
        cli_print_money(stdout, s.fund_after, 8, 3);
        printf(" USDT\n  invariants (money conserved, long = short, nobody below zero): %s\n",
               inv ? "hold" : d.msg);
    }
    rc = same && inv ? CLI_EXIT_OK : CLI_EXIT_PARTIAL;
out:
    sp_engine_free(e);
    sp_rules_db_free(db);
    sp_buf_fini(&buf);
    return rc;
}
