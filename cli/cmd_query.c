/*
 * cmd_query.c -- `stampede query`: read events back out of a store.
 *
 * Selects events by kind, symbol, venue and exchange-time window and
 * prints them as JSON lines or CSV, with prices and quantities as exact
 * decimal text (never through a double): px at 1e-12 for funding and
 * long/short ratios, at 1e-8 otherwise; qty at 1e-8; aux values as the
 * raw integers of event.h (their scale depends on the kind).  --count
 * prints only the number of matching events, --summary the per-kind,
 * per-symbol counts and time spans of the whole store.  The library does
 * the work (sp_store_query / _count / _summary); this file only parses
 * and prints.
 */
#include <string.h>

#include "cli.h"

static const cli_opt opts[] = {
    {"store", "URI", "store to read (default " SP_STORE_DEFAULT_URI ")"},
    {"kind", "K", "event kind: trade, depth_update, liquidation, funding, kline, ..."},
    {"symbol", "S", "only this symbol (as stored, e.g. BTCUSDT)"},
    {"venue", "V", "only this venue: binance, bybit, okx, hyperliquid, ..."},
    {"from", "T", "exchange time >= T (YYYY-MM-DD[THH:MM:SS[.fff]][Z], UTC, or ns)"},
    {"to", "T", "exchange time < T (same forms as --from)"},
    {"limit", "N", "at most N events"},
    {"out", "FMT", "jsonl (default) or csv"},
    {"count", NULL, "print only the number of matching events"},
    {"summary", NULL, "print events per kind and symbol (ignores the filters)"},
    {"json", NULL, "with --count or --summary: print JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "query",
    "[--store URI] --kind K [--symbol S] [--from T] [--to T] [--out jsonl|csv]",
    "Print stored events, oldest first, as JSON lines or CSV.  Prices and quantities are exact\n"
    "decimals; aux0..aux2 are the raw integers documented per kind in docs/internals/event.md.\n"
    "--kind is required unless --count or --summary is given.",
    opts,
    0,
    0,
};

typedef struct out_ctx {
    int csv;
    uint64_t n;
} out_ctx;

/* Price scale of px for a kind (event.h: rates are at SP_EV_RATE_SCALE). */
static unsigned px_scale(unsigned kind)
{
    return kind == SP_EV_FUNDING || kind == SP_EV_LONG_SHORT ? SP_EV_RATE_SCALE : SP_EV_PX_SCALE;
}

static sp_err print_row(void *ctx, const sp_event *ev, const char *symbol)
{
    out_ctx *o = ctx;
    char ts[40], px[SP_DEC_FMT_MAX], qty[SP_DEC_FMT_MAX];
    sp_time_format_iso(ev->exch_ts_ns, ts, sizeof(ts));
    sp_dec_format(ev->px, px_scale(ev->kind), SP_FMT_TRIM, px, sizeof(px));
    sp_dec_format(ev->qty, SP_EV_QTY_SCALE, SP_FMT_TRIM, qty, sizeof(qty));
    const char *side = (ev->flags & SP_EVF_SELL) ? "sell" : "buy";
    if (o->csv) {
        printf("%s,%lld,%s,%s,%s,%u,%s,%u,%s,%s,%lld,%lld,%lld,%lld\n", ts,
               (long long)ev->exch_ts_ns, sp_event_kind_name(ev->kind), sp_venue_name(ev->venue),
               symbol, ev->sub, side, ev->flags, px, qty, (long long)ev->aux[0],
               (long long)ev->aux[1], (long long)ev->aux[2], (long long)ev->local_ts_ns);
    } else {
        printf(
            "{\"ts\":\"%s\",\"exch_ts_ns\":%lld,\"kind\":\"%s\",\"venue\":\"%s\",\"symbol\":", ts,
            (long long)ev->exch_ts_ns, sp_event_kind_name(ev->kind), sp_venue_name(ev->venue));
        cli_json_str(stdout, symbol);
        printf(",\"sub\":%u,\"side\":\"%s\",\"flags\":%u,\"px\":\"%s\",\"qty\":\"%s\","
               "\"aux\":[%lld,%lld,%lld],\"local_ts_ns\":%lld}\n",
               ev->sub, side, ev->flags, px, qty, (long long)ev->aux[0], (long long)ev->aux[1],
               (long long)ev->aux[2], (long long)ev->local_ts_ns);
    }
    o->n++;
    return ferror(stdout) ? SP_EIO : SP_OK;
}

typedef struct sum_ctx {
    int json;
    int first;
} sum_ctx;

static sp_err print_summary(void *ctx, unsigned kind, const char *symbol, uint64_t n,
                            int64_t min_ts, int64_t max_ts)
{
    sum_ctx *c = ctx;
    char lo[40], hi[40];
    sp_time_format_iso(min_ts, lo, sizeof(lo));
    sp_time_format_iso(max_ts, hi, sizeof(hi));
    if (c->json) {
        printf("%s{\"kind\":\"%s\",\"symbol\":", c->first ? "" : ",", sp_event_kind_name(kind));
        cli_json_str(stdout, symbol);
        printf(",\"events\":%llu,\"from\":\"%s\",\"to\":\"%s\"}", (unsigned long long)n, lo, hi);
    } else {
        printf("%-16s %-24s %12llu  %s .. %s\n", sp_event_kind_name(kind), symbol,
               (unsigned long long)n, lo, hi);
    }
    c->first = 0;
    return SP_OK;
}

/* Parse a time option: ISO text or integer nanoseconds. */
static int parse_time(const char *verb, const char *name, const char *v, int64_t *ns)
{
    if (sp_time_parse_iso(v, strlen(v), ns) == SP_OK)
        return 1;
    if (sp_dec_parse(v, strlen(v), 0, ns, NULL) == SP_OK)
        return 1;
    cli_error(verb, "--%s '%s': not a time (YYYY-MM-DD[THH:MM:SS[.fff]][Z] or ns since epoch)",
              name, v);
    return 0;
}

int cmd_query(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    sp_store_filter f = {0};
    const char *v;
    if ((v = cli_get(&a, "kind")) != NULL) {
        f.kind = sp_event_kind_from_name(v);
        if (f.kind == SP_EV_NONE) {
            cli_error("query", "--kind '%s': unknown kind (e.g. trade, liquidation, kline)", v);
            return CLI_EXIT_USAGE;
        }
    } else if (!cli_has(&a, "count") && !cli_has(&a, "summary")) {
        cli_error("query", "--kind is required (see stampede query --help)");
        return CLI_EXIT_USAGE;
    }
    if ((v = cli_get(&a, "venue")) != NULL) {
        f.venue = sp_venue_from_name(v);
        if (f.venue == SP_VENUE_NONE) {
            cli_error("query", "--venue '%s': unknown venue", v);
            return CLI_EXIT_USAGE;
        }
    }
    f.symbol = cli_get(&a, "symbol");
    if ((v = cli_get(&a, "from")) != NULL) {
        if (!parse_time("query", "from", v, &f.from_ns))
            return CLI_EXIT_USAGE;
        f.has_from = 1;
    }
    if ((v = cli_get(&a, "to")) != NULL) {
        if (!parse_time("query", "to", v, &f.to_ns))
            return CLI_EXIT_USAGE;
        f.has_to = 1;
    }
    int64_t limit = 0;
    if (!cli_get_int(&a, "limit", 1, INT64_MAX, 0, &limit))
        return CLI_EXIT_USAGE;
    f.limit = (uint64_t)limit;
    out_ctx o = {0};
    if ((v = cli_get(&a, "out")) != NULL) {
        if (strcmp(v, "csv") == 0)
            o.csv = 1;
        else if (strcmp(v, "jsonl") != 0) {
            cli_error("query", "--out '%s': use jsonl or csv", v);
            return CLI_EXIT_USAGE;
        }
    }

    const char *uri = cli_has(&a, "store") ? cli_get(&a, "store") : SP_STORE_DEFAULT_URI;
    sp_store *s = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err e = sp_store_open(uri, SP_STORE_READONLY, &s, &d);
    if (e != SP_OK) {
        cli_error("query", "%s", d.msg);
        return CLI_EXIT_USAGE;
    }
    int json = cli_has(&a, "json");
    if (cli_has(&a, "summary")) {
        sum_ctx c = {json, 1};
        if (json)
            printf("[");
        e = sp_store_summary(s, print_summary, &c, &d);
        if (json)
            printf("]\n");
    } else if (cli_has(&a, "count")) {
        uint64_t n = 0;
        e = sp_store_count(s, &f, &n, &d);
        if (e == SP_OK && json)
            printf("{\"count\":%llu}\n", (unsigned long long)n);
        else if (e == SP_OK)
            printf("%llu\n", (unsigned long long)n);
    } else {
        if (o.csv)
            printf("ts,exch_ts_ns,kind,venue,symbol,sub,side,flags,px,qty,aux0,aux1,aux2,"
                   "local_ts_ns\n");
        e = sp_store_query(s, &f, print_row, &o, &d);
    }
    sp_store_close(s);
    if (fflush(stdout) != 0 && e == SP_OK) {
        cli_error("query", "writing the output failed");
        return CLI_EXIT_USAGE;
    }
    if (e != SP_OK) {
        cli_error("query", "%s", d.msg[0] ? d.msg : sp_strerror(e));
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}
