/*
 * cmd_report.c -- `stampede report`: the crash-day report.
 *
 * Opens the store read-only, asks the library for the report of one UTC
 * day (sp_an_report_build: every figure with the article's number beside
 * the data's, the source file, the formula and where they differ), and
 * prints it as tables or JSON; --plots DIR also writes the PNG charts
 * (sp_an_plots).  This file only parses and prints.
 */
#include <math.h>
#include <string.h>

#include "cli.h"
#include "demo.h"
#include "stampede/analytics.h"
#include "stampede/api.h"

static const cli_opt opts[] = {
    {"store", "URI", "store to read (default " SP_STORE_DEFAULT_URI ")"},
    {"day", "DATE", "the day, YYYY-MM-DD UTC (default 2026-02-06)"},
    {"window", "DUR", "liquidation window length: 1h, 4h, 12h, 24h (default) or any Nm/Nh/Nd"},
    {"from", "T", "liquidation window start (default: the day's 00:00 UTC)"},
    {"at", "T", "end of the 24h moves by coin (default: the day 08:00 UTC, see docs/metrics.md)"},
    {"corr-window", "N", "returns in the correlation window (default 30)"},
    {"corr-ret", "R", "correlation input: log (default), simple or level"},
    {"plots", "DIR", "also write PNG charts into DIR (created if missing)"},
    {"json", NULL, "print JSON instead of tables"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "report",
    "[--store URI] [--day 2026-02-06] [--window 24h] [--json] [--plots DIR]",
    "Print the crash-day report from the store: the article's figures side by side with what the\n"
    "data says (all-time high and low, drawdown, 24h moves by coin, funding, ETF monthly flows,\n"
    "Fear & Greed, BTC/Nasdaq correlation, liquidations), each with its source file and formula,\n"
    "and a line where the article and the data differ and why.  Definitions: docs/metrics.md.\n"
    "Fill the store first with `stampede ingest --all-shipped`.",
    opts,
    0,
    0,
};

static bool parse_time(const char *name, const char *v, int64_t *ns)
{
    if (sp_time_parse_iso(v, strlen(v), ns) == SP_OK)
        return true;
    cli_error("report", "--%s: not a UTC date or time: \"%s\"", name, v);
    return false;
}

static void day_text(int64_t ns, char *out, size_t cap)
{
    char iso[40];
    sp_time_format_iso(ns, iso, sizeof(iso));
    iso[10] = ' ';
    iso[16] = '\0';
    snprintf(out, cap, "%s", iso);
}

/* v at scale, rounded half-even to places, grouped, right-aligned in width. */
static void money(int64_t v, unsigned scale, unsigned places, int width)
{
    char raw[SP_DEC_FMT_MAX], out[SP_DEC_FMT_MAX + 16];
    int64_t r = 0;
    size_t o = 0;
    if (sp_rescale(v, scale, places, SP_RND_HALF_EVEN, &r) != SP_OK) {
        printf("%*s", width, "?");
        return;
    }
    sp_dec_format(r, places, 0, raw, sizeof(raw));
    const char *p = raw;
    if (*p == '-')
        out[o++] = *p++;
    size_t ilen = strcspn(p, ".");
    for (size_t i = 0; p[i] != '\0'; i++) {
        if (i > 0 && i < ilen && (ilen - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = p[i];
    }
    out[o] = '\0';
    printf("%*s", width, out);
}

static void print_text(const sp_an_report *r, const char *uri)
{
    char a[40], b[40];
    day_text(r->opts.day_ns, a, sizeof(a));
    a[10] = '\0';
    printf("Crash-day report for %s (UTC), store %s, %llu events read\n\n", a, uri,
           (unsigned long long)r->events_read);
    printf("%-44s %-12s %s\n", "figure", "article", "data");
    printf("%-44s %-12s %s\n", "------", "-------", "----");
    for (size_t i = 0; i < r->nfig; i++) {
        const sp_an_figure *f = &r->fig[i];
        char lbl[96];
        if (f->unit[0] && strcmp(f->unit, "%") != 0)
            snprintf(lbl, sizeof(lbl), "%s [%s]", f->label, f->unit);
        else
            snprintf(lbl, sizeof(lbl), "%s", f->label);
        printf("%-44s %-12s %s\n", lbl, f->article[0] ? f->article : "-", f->data);
        printf("    source:  %s\n    formula: %s\n", f->source, f->formula);
        if (f->note[0])
            printf("    differs: %s\n", f->note);
    }
    printf("\n24h moves by coin (Binance spot)       day d/d   24h to ");
    day_text(r->opts.at_ns, b, sizeof(b));
    printf("%s   low of the day\n", b);
    for (size_t i = 0; i < r->ncoin; i++) {
        const sp_an_coin_move *m = &r->coin[i];
        printf("  %-36s", m->symbol);
        if (m->has_dd)
            printf(" %+7.2f%%", m->dd * 100);
        else
            printf(" %8s", "n/a");
        if (m->has_24h)
            printf("   %+7.2f%%              ", m->ch24 * 100);
        else
            printf("   %8s              ", "n/a");
        if (m->low > 0)
            money(m->low, SP_EV_PX_SCALE, m->low < 1000000000 ? 5 : 2, 12);
        printf("\n");
    }
    printf("\nUS spot BTC ETF flows (Farside total, US$ m)     net     inflow    outflow  largest "
           "outflow\n");
    for (size_t i = 0; i < r->nmonth; i++) {
        const sp_an_flow_month *m = &r->month[i];
        printf("  %04d-%02d (%2u days)                   ", m->year, m->month, m->days);
        money(m->net, SP_EV_PX_SCALE, 1, 10);
        money(m->inflow, SP_EV_PX_SCALE, 1, 11);
        money(m->outflow, SP_EV_PX_SCALE, 1, 11);
        money(m->largest_out, SP_EV_PX_SCALE, 1, 11);
        if (m->largest_out_ns) {
            day_text(m->largest_out_ns, b, sizeof(b));
            b[10] = '\0';
            printf(" on %s", b);
        }
        printf("\n");
    }
    printf("\nBTCUSDT funding settlements of the day (Binance USD-M)\n");
    for (size_t i = 0; i < r->nsettle; i++) {
        day_text(r->settle_ns[i], b, sizeof(b));
        printf("  %s  ", b);
        cli_print_money(stdout, r->settle_rate[i], SP_EV_RATE_SCALE, 8);
        printf("\n");
    }
    printf("\nBTC correlation, %zu %s returns ending on the day\n", r->opts.corr_window,
           sp_an_ret_name(r->opts.corr_ret));
    for (size_t i = 0; i < SP_AN_REPORT_MACRO; i++) {
        if (r->corr[i].ok)
            printf("  %-6s %+.3f (%zu)\n", r->corr[i].symbol, r->corr[i].r, r->corr[i].used);
        else
            printf("  %-6s n/a (too few common days in the store)\n", r->corr[i].symbol);
    }
    day_text(r->opts.from_ns, a, sizeof(a));
    day_text(r->opts.from_ns + r->opts.window_ns, b, sizeof(b));
    printf("\nLiquidations %s .. %s: %llu events", a, b, (unsigned long long)r->liq.count);
    if (r->liq.count > 0) {
        printf(", US$ ");
        cli_print_money(stdout, r->liq.notional, SP_EV_PX_SCALE, 0);
        printf(" (longs ");
        cli_print_money(stdout, r->liq.long_notional, SP_EV_PX_SCALE, 0);
        printf(", shorts ");
        cli_print_money(stdout, r->liq.short_notional, SP_EV_PX_SCALE, 0);
        printf("); largest ");
        cli_print_money(stdout, r->liq.largest, SP_EV_PX_SCALE, 0);
        printf("\n  traders: %llu counted + %llu throttled events -> %.0f +- %.0f orders%s\n",
               (unsigned long long)r->traders.counted, (unsigned long long)r->traders.observed,
               r->traders.estimate, r->traders.stderr_est,
               r->traders.saturated ? " (lower bound: saturated minutes)" : "");
        printf("  %-12s %-16s %-6s %8s %18s %16s\n", "venue", "symbol", "side", "count",
               "notional US$", "largest US$");
        for (size_t i = 0; i < r->ngroup; i++) {
            const sp_an_liq_group *g = &r->group[i];
            printf("  %-12s %-16s %-6s %8llu ", sp_venue_name(g->venue), r->group_symbol[i],
                   g->long_side ? "long" : "short", (unsigned long long)g->count);
            money(g->notional, SP_EV_PX_SCALE, 2, 18);
            money(g->largest, SP_EV_PX_SCALE, 2, 17);
            printf("\n");
        }
    } else {
        printf(" (the shipped data has no liquidation feed for this window)\n");
    }
}

/*
 * The report as JSON: one writer, sp_api_report_json (src/api/json.c),
 * shared with GET /api/v1/report so the two never drift apart.
 */
static void print_json(const sp_an_report *r)
{
    sp_buf b;
    sp_buf_init(&b, 0);
    sp_err e = sp_api_report_json(r, &b);
    if (e == SP_OK) {
        fwrite(b.data, 1, b.len, stdout);
        putchar('\n');
    } else {
        cli_error("report", "JSON: %s", sp_strerror(e));
    }
    sp_buf_fini(&b);
}

/* Build, print and optionally plot the report; returns the exit code. */
static int run_report(const char *uri, const sp_an_report_opts *o, bool json, const char *plots)
{
    sp_store *st = NULL;
    sp_diag d = {0};
    char msg[512];
    if (sp_store_open(uri, SP_STORE_READONLY, &st, &d) != SP_OK) {
        cli_error("report", "%s: %s (fill it with `stampede ingest --all-shipped`)", uri,
                  sp_diag_format(&d, msg, sizeof(msg)));
        return CLI_EXIT_USAGE;
    }
    static sp_an_report r; /* about 40 KB: not on the stack */
    sp_err err = sp_an_report_build(st, o, &r, &d);
    if (err != SP_OK) {
        cli_error("report", "%s", sp_diag_format(&d, msg, sizeof(msg)));
        sp_store_close(st);
        return CLI_EXIT_USAGE;
    }
    if (r.events_read == 0) {
        cli_error("report",
                  "%s holds none of the report's series (run `stampede ingest "
                  "--all-shipped` first)",
                  uri);
        sp_store_close(st);
        return CLI_EXIT_USAGE;
    }
    if (json)
        print_json(&r);
    else
        print_text(&r, uri);
    int out = CLI_EXIT_OK;
    if (plots != NULL) {
        err = sp_an_plots_write(st, &r, plots, &d);
        sp_an_plots_cleanup();
        if (err != SP_OK) {
            cli_error("report", "%s", sp_diag_format(&d, msg, sizeof(msg)));
            out = CLI_EXIT_PARTIAL;
        } else if (!json) {
            printf("\ncharts written to %s/\n", plots);
        }
    }
    sp_store_close(st);
    return out;
}

int cmd_report(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    sp_an_report_opts o;
    memset(&o, 0, sizeof(o));
    const char *uri = cli_has(&a, "store") ? cli_get(&a, "store") : SP_STORE_DEFAULT_URI;
    const char *day = cli_has(&a, "day") ? cli_get(&a, "day") : "2026-02-06";
    if (strlen(day) != 10 || sp_time_parse_iso(day, 10, &o.day_ns) != SP_OK) {
        cli_error("report", "--day: want a date YYYY-MM-DD, got \"%s\"", day);
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&a, "window") &&
        sp_an_parse_duration(cli_get(&a, "window"), &o.window_ns) != SP_OK) {
        cli_error("report", "--window: want a duration like 1h, 4h, 24h, 90m, 2d; got \"%s\"",
                  cli_get(&a, "window"));
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&a, "from") && !parse_time("from", cli_get(&a, "from"), &o.from_ns))
        return CLI_EXIT_USAGE;
    if (cli_has(&a, "at") && !parse_time("at", cli_get(&a, "at"), &o.at_ns))
        return CLI_EXIT_USAGE;
    int64_t cw;
    if (!cli_get_int(&a, "corr-window", 3, 3650, 30, &cw))
        return CLI_EXIT_USAGE;
    o.corr_window = (size_t)cw;
    if (cli_has(&a, "corr-ret")) {
        int r = sp_an_ret_from_name(cli_get(&a, "corr-ret"));
        if (r < 0) {
            cli_error("report", "--corr-ret: want log, simple or level; got \"%s\"",
                      cli_get(&a, "corr-ret"));
            return CLI_EXIT_USAGE;
        }
        o.corr_ret = (sp_an_ret)r;
    }
    return run_report(uri, &o, cli_has(&a, "json"), cli_get(&a, "plots"));
}

/* ---- demo step ------------------------------------------------------------ */

/*
 * The crash-day report of 2026-02-06 from the demo's store (filled by the
 * ingest step before it), with the default window.
 */
int demo_report(const demo_ctx *ctx)
{
    sp_an_report_opts o;
    memset(&o, 0, sizeof(o));
    o.day_ns = INT64_C(20490) * SP_AN_NS_PER_DAY; /* 2026-02-06 */
    if (ctx->json)
        printf("\"report\":");
    return run_report(ctx->store_uri, &o, ctx->json, NULL);
}
