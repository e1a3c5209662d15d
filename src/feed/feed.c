/*
 * feed.c -- the decoder framework: format registry and detection, reading
 * (plain files, memory, .zip members with libzip, .zst with libzstd),
 * record framing, batching to the sink, and the reject path.
 *
 * A format is either line-framed (CSV, JSONL, captures: one record per
 * line) or a whole JSON document.  Line framing streams the input through
 * one bounded buffer of SP_MSG_MAX + 64 KiB: a line longer than
 * SP_MSG_MAX is rejected ("line longer than ...") and skipped up to its
 * newline without ever being held whole, so a 1 GB line costs no memory.
 * Each bad line goes to sink->reject with source, 1-based line, the byte
 * offset of the offending byte in the (decompressed) stream, the column
 * within the line and the field; decoding goes on with the next line.
 * Events are copied into a batch of SP_FEED_BATCH and flushed to
 * sink->events; a sink error stops the file and is returned.  A format
 * may also have a bulk path (sp__feed_bulk_of: aggTrades CSV) that the
 * framing offers the rest of the block before each memchr; it takes whole
 * lines while they are ones it decodes exactly like the per-line path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zip.h>
#include <zstd.h>

#include "feed/feed_int.h"
#include "stampede/alloc.h"
#include "stampede/buf.h"
#include "stampede/limits.h"

/* Bytes of the line-framing buffer beyond SP_MSG_MAX (read granularity). */
#define FRAME_SLACK (64u * 1024u)

/* Largest whole-document input (JSON documents), bytes. */
#ifndef SP_FEED_DOC_MAX
#define SP_FEED_DOC_MAX (256u << 20)
#endif

struct sp__feed_run {
    sp_symtab *syms;
    const sp_feed_sink *sink;
    const char *source; /* diagnostics name */
    const char *path;   /* name used for symbol hints (basename taken by formats) */
    sp_event batch[SP_FEED_BATCH];
    size_t nbatch;
    sp_event *scratch; /* SP_FEED_MSG_EVENTS_MAX events */
    void *state;
    sp_err sink_err;
    uint64_t rejects;
};

/* ---- registry ---------------------------------------------------------- */

static const sp__feed_format *const families[] = {
    sp__feed_fmt_capture,
    sp__feed_fmt_binance_csv,
    sp__feed_fmt_series,
};

static const sp__feed_format *format_at(size_t i)
{
    for (size_t f = 0; f < SP_COUNTOF(families); f++) {
        size_t k = 0;
        while (families[f][k].name != NULL)
            k++;
        if (i < k)
            return &families[f][i];
        i -= k;
    }
    return NULL;
}

size_t sp_feed_format_count(void)
{
    size_t n = 0;
    while (format_at(n) != NULL)
        n++;
    return n;
}

const char *sp_feed_format_name(size_t i)
{
    const sp__feed_format *f = format_at(i);
    return f ? f->name : NULL;
}

const char *sp_feed_format_help(size_t i)
{
    const sp__feed_format *f = format_at(i);
    return f ? f->help : NULL;
}

static const sp__feed_format *format_named(const char *name)
{
    for (size_t i = 0;; i++) {
        const sp__feed_format *f = format_at(i);
        if (f == NULL || strcmp(f->name, name) == 0)
            return f;
    }
}

/* ---- detection --------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

/* The first line of head that does not start with '#' (lasota adds report lines). */
static void first_line(const char *head, size_t n, const char **l, size_t *ln)
{
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(head + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - head) : n;
        if (head[i] != '#') {
            *l = head + i;
            *ln = e - i;
            if (*ln > 0 && (*l)[*ln - 1] == '\r')
                (*ln)--;
            return;
        }
        i = e + 1;
    }
    *l = head;
    *ln = 0;
}

static bool starts(const char *l, size_t ln, const char *prefix)
{
    size_t k = strlen(prefix);
    return ln >= k && memcmp(l, prefix, k) == 0;
}

static bool has(const char *l, size_t ln, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= ln; i++) {
        if (memcmp(l + i, needle, k) == 0)
            return true;
    }
    return false;
}

/* Header line -> format, for the CSV formats whose header is their signature. */
static const struct {
    const char *header;
    const char *format;
} csv_headers[] = {
    {"calc_time,funding_interval_hours,last_funding_rate", "binance-funding-csv"},
    {"open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
     "taker_buy_quote_volume,ignore",
     "binance-klines-csv"},
    {"open_time,open,high,low,close,volume,close_time,quote_asset_volume,number_of_trades",
     "binance-spot-klines-csv"},
    {"agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker",
     "binance-aggtrades-csv"},
    {"id,price,qty,quote_qty,time,is_buyer_maker", "binance-trades-csv"},
    {"time,side,order_type,time_in_force,original_quantity,price,average_price,order_status,"
     "last_fill_quantity,accumulated_fill_quantity",
     "binance-liquidation-snapshot-csv"},
    {"timestamp,percentage,depth,notional", "binance-bookdepth-csv"},
    {"create_time,symbol,sum_open_interest,sum_open_interest_value,", "binance-metrics-csv"},
    {"Date,Open,High,Low,Close", "yfinance-csv"},
    {"date,FGI", "fear-greed-csv"},
    {"date,IBIT,", "farside-etf-csv"},
    {"Date,Total", "farside-etf-total-csv"},
    {"date,rank,name,symbol,price", "coingecko-csv"},
    {"time,user,liquidated_ntl_pos,liquidated_account_value,leverage_type",
     "hyperliquid-liquidations-csv"},
    {"ticker,net_volume,net_notional_usd,total_pnl,num_adl_events,avg_price",
     "hyperliquid-adl-net-csv"},
    {"coin,adl_notional,closed_pnl,leverage_realtime,pnl_percent,is_negative_equity,num_users,"
     "num_events",
     "hyperliquid-adl-coin-csv"},
    {"date,funding_mean,funding_abs", "daily-funding-mean-csv"},
    {"date,price,volume", "daily-price-volume-csv"},
    {"TimestampOfReceive,TimestampOfRequest,LastUpdateId,IsAsk,Price,Quantity",
     "lasota-depth-snapshot-csv"},
    {"TimestampOfReceive,Stream,EventType,EventTime,TransactionTime,Symbol,FirstUpdateId,",
     "lasota-depth-diff-csv"},
    {"TimestampOfReceive,Stream,EventType,EventTime,TransactionTime,Symbol,TradeId,",
     "lasota-trades-csv"},
    {"TimestampOfReceiveUS,TimestampOfReceive,Stream,EventType,", "lasota-merged-csv"},
};

/* data.binance.vision file names: SYMBOL-<kind>-YYYY-MM[-DD].csv */
static const struct {
    const char *part;
    const char *format;
} dump_names[] = {
    {"-aggTrades-", "binance-aggtrades-csv"},
    {"-trades-", "binance-trades-csv"},
    {"-fundingRate-", "binance-funding-csv"},
    {"-liquidationSnapshot-", "binance-liquidation-snapshot-csv"},
    {"-bookDepth-", "binance-bookdepth-csv"},
    {"-metrics-", "binance-metrics-csv"},
};

const char *sp_feed_detect(const char *path, const char *head, size_t n)
{
    const char *l;
    size_t ln;
    first_line(head ? head : "", head ? n : 0, &l, &ln);
    const char *bn = path ? base_name(path) : "";
    size_t bl = strlen(bn);

    /* captures: their first line is unmistakable */
    if (starts(l, ln, "wss://") && has(l, ln, "binance"))
        return "binance-ws-capture";
    if (starts(l, ln, "https://") && has(l, ln, "binance.com") && has(l, ln, "/depth"))
        return "binance-rest-capture";
    if (starts(l, ln, "{\"t\":") && (has(l, ln, "\"conn\"") || has(l, ln, "\"BYBIT\"")))
        return "bybit-capture";
    for (size_t i = 0; i < SP_COUNTOF(csv_headers); i++) {
        if (starts(l, ln, csv_headers[i].header))
            return csv_headers[i].format;
    }
    if (has(bn, bl, ".json") && starts(l, ln, "{")) {
        if (has(head, n, "farside"))
            return "farside-etf-json";
        if (has(head, n, "\"total_adl_notional\"") || has(head, n, "\"analysis_type\""))
            return "hyperliquid-adl-summary-json";
    }
    /* raw message streams, one JSON message per line */
    if (starts(l, ln, "{\"stream\":") || starts(l, ln, "{\"e\":"))
        return "binance-ws-jsonl";
    if (starts(l, ln, "{\"topic\":") || (starts(l, ln, "{\"") && has(l, ln, "\"topic\":")))
        return "bybit-jsonl";
    if (starts(l, ln, "{\"arg\":") || (starts(l, ln, "{\"") && has(l, ln, "\"arg\":")))
        return "okx-jsonl";
    /* data.binance.vision dumps without a header line (older files) */
    for (size_t i = 0; i < SP_COUNTOF(dump_names); i++) {
        if (has(bn, bl, dump_names[i].part))
            return dump_names[i].format;
    }
    static const char *const ivs[] = {"-1m-",  "-3m-", "-5m-", "-15m-", "-30m-",
                                      "-1h-",  "-2h-", "-4h-", "-6h-",  "-8h-",
                                      "-12h-", "-1d-", "-3d-", "-1w-",  "-1mo-"};
    for (size_t i = 0; i < SP_COUNTOF(ivs); i++) {
        if (has(bn, bl, ivs[i]) && ln > 0 && l[0] >= '0' && l[0] <= '9')
            return "binance-klines-csv";
    }
    return NULL;
}

/* ---- emitting and rejecting ------------------------------------------- */

static sp_err flush(sp__feed_run *r)
{
    if (r->nbatch == 0)
        return SP_OK;
    sp_err rc = SP_OK;
    if (r->sink->events)
        rc = r->sink->events(r->sink->ctx, r->batch, r->nbatch);
    r->nbatch = 0;
    if (rc != SP_OK)
        r->sink_err = rc;
    return rc;
}

sp_err sp__feed_emit(sp__feed_run *r, const sp_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r->nbatch == SP_FEED_BATCH) {
            sp_err rc = flush(r);
            if (rc != SP_OK)
                return rc;
        }
        r->batch[r->nbatch++] = ev[i];
    }
    return SP_OK;
}

sp_event *sp__feed_room(sp__feed_run *r, size_t *room)
{
    *room = SP_FEED_BATCH - r->nbatch;
    return r->batch + r->nbatch;
}

void sp__feed_commit(sp__feed_run *r, size_t k)
{
    r->nbatch += k;
}

sp_event *sp__feed_scratch(sp__feed_run *r)
{
    return r->scratch;
}

sp_symtab *sp__feed_syms(sp__feed_run *r)
{
    return r->syms;
}

const char *sp__feed_source(sp__feed_run *r)
{
    return r->path;
}

void *sp__feed_state(sp__feed_run *r)
{
    return r->state;
}

sp_err sp__feed_name_symbol(sp__feed_run *r, const char *stops, uint32_t *id, sp_diag *d)
{
    if (r->path == NULL) {
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, SP_EINVAL, "the symbol comes from the file name; none given");
    }
    const char *b = base_name(r->path);
    size_t n = strcspn(b, stops);
    sp_err rc = sp_symtab_intern(r->syms, b, n, id);
    if (rc != SP_OK) {
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, rc, "no symbol in the file name \"%s\"", b);
    }
    return SP_OK;
}

void sp__feed_reject(sp__feed_run *r, sp_diag *d)
{
    d->source = r->source;
    r->rejects++;
    if (r->sink->reject)
        r->sink->reject(r->sink->ctx, d);
}

/* ---- readers ----------------------------------------------------------- */

/* A byte source: read up to cap bytes; 0 at the end, -1 on error (d filled). */
typedef struct reader {
    long (*read)(struct reader *rd, char *buf, size_t cap, sp_diag *d);
    FILE *f;
    zip_file_t *zf;
    const char *mem;
    size_t mem_len, mem_pos;
    ZSTD_DStream *zs;
    char *zin;
    ZSTD_inBuffer zib;
    bool zeof;
} reader;

static long read_file(reader *rd, char *buf, size_t cap, sp_diag *d)
{
    size_t n = fread(buf, 1, cap, rd->f);
    if (n == 0 && ferror(rd->f)) {
        sp_diag_set(d, SP_EIO, "read error");
        return -1;
    }
    return (long)n;
}

static long read_mem(reader *rd, char *buf, size_t cap, sp_diag *d)
{
    (void)d;
    size_t n = rd->mem_len - rd->mem_pos;
    if (n > cap)
        n = cap;
    memcpy(buf, rd->mem + rd->mem_pos, n);
    rd->mem_pos += n;
    return (long)n;
}

static long read_zip(reader *rd, char *buf, size_t cap, sp_diag *d)
{
    zip_int64_t n = zip_fread(rd->zf, buf, cap);
    if (n < 0) {
        sp_diag_set(d, SP_EIO, "zip member read error: %s", zip_file_strerror(rd->zf));
        return -1;
    }
    return (long)n;
}

#define ZIN_CAP (128u * 1024u)

static long read_zst(reader *rd, char *buf, size_t cap, sp_diag *d)
{
    ZSTD_outBuffer ob = {buf, cap, 0};
    while (ob.pos == 0) {
        if (rd->zib.pos == rd->zib.size) {
            if (rd->zeof)
                return 0;
            size_t n = fread(rd->zin, 1, ZIN_CAP, rd->f);
            if (n == 0) {
                if (ferror(rd->f)) {
                    sp_diag_set(d, SP_EIO, "read error");
                    return -1;
                }
                rd->zeof = true;
                return 0;
            }
            rd->zib.src = rd->zin;
            rd->zib.size = n;
            rd->zib.pos = 0;
        }
        size_t ret = ZSTD_decompressStream(rd->zs, &ob, &rd->zib);
        if (ZSTD_isError(ret)) {
            sp_diag_set(d, SP_EPARSE, "zstd: %s", ZSTD_getErrorName(ret));
            return -1;
        }
    }
    return (long)ob.pos;
}

/* ---- framing ----------------------------------------------------------- */

static sp_err do_line(sp__feed_run *r, const sp__feed_format *fmt, const char *line, size_t n,
                      uint64_t lineno, uint64_t off, sp_diag *d)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n == 0)
        return SP_OK;
    if (n > SP_MSG_MAX) { /* only reachable when framing memory in place */
        sp_diag rj;
        sp_diag_clear(&rj);
        sp_diag_set(&rj, SP_ETOOBIG, "line longer than %u bytes", (unsigned)SP_MSG_MAX);
        rj.line = lineno;
        rj.offset = off;
        sp__feed_reject(r, &rj);
        return SP_OK;
    }
    sp_diag rd; /* cleared field by field: a full memset per line shows in profiles */
    rd.code = SP_OK;
    rd.msg[0] = '\0';
    rd.field[0] = '\0';
    rd.source = NULL;
    rd.line = rd.column = rd.offset = 0;
    bool fatal = false;
    sp_err rc = fmt->line(r, line, n, lineno, &rd, &fatal);
    if (rc == SP_OK)
        return SP_OK;
    if (r->sink_err != SP_OK) {
        sp_diag_set(d, rc, "sink stopped decoding");
        return rc;
    }
    rd.line = lineno;
    rd.offset = off + (rd.column ? rd.column - 1 : 0);
    rd.source = r->source;
    if (fatal || rc == SP_ENOMEM) {
        *d = rd;
        return rc;
    }
    sp__feed_reject(r, &rd);
    return SP_OK;
}

/*
 * Frame lines from rd through buf (cap bytes), buf[0..len) already filled.
 */
static sp_err frame_lines(sp__feed_run *r, const sp__feed_format *fmt, reader *rd, char *buf,
                          size_t cap, size_t len, bool eof, sp_diag *d)
{
    uint64_t base = 0, lineno = 0;
    bool skipping = false;
    sp__feed_bulk_fn bulk = sp__feed_bulk_of(fmt);
    for (;;) {
        size_t start = 0;
        for (;;) {
            if (bulk != NULL && !skipping) {
                uint64_t lines;
                sp_err rc;
                start += bulk(r, buf + start, len - start, lineno, &lines, &rc);
                lineno += lines;
                if (rc != SP_OK) {
                    sp_diag_set(d, rc, "sink stopped decoding");
                    return rc;
                }
            }
            char *nl = memchr(buf + start, '\n', len - start);
            if (nl == NULL)
                break;
            size_t e = (size_t)(nl - buf);
            if (skipping) {
                skipping = false;
            } else {
                lineno++;
                sp_err rc = do_line(r, fmt, buf + start, e - start, lineno, base + start, d);
                if (rc != SP_OK)
                    return rc;
            }
            start = e + 1;
        }
        if (!skipping && len - start > SP_MSG_MAX) {
            lineno++;
            sp_diag rj;
            sp_diag_clear(&rj);
            sp_diag_set(&rj, SP_ETOOBIG, "line longer than %u bytes", (unsigned)SP_MSG_MAX);
            rj.line = lineno;
            rj.offset = base + start;
            sp__feed_reject(r, &rj);
            skipping = true;
        }
        if (skipping) {
            start = len; /* drop the overlong line's bytes */
        }
        if (eof) {
            if (start < len && !skipping) {
                lineno++;
                sp_err rc = do_line(r, fmt, buf + start, len - start, lineno, base + start, d);
                if (rc != SP_OK)
                    return rc;
            }
            return SP_OK;
        }
        memmove(buf, buf + start, len - start);
        base += start;
        len -= start;
        long got = rd->read(rd, buf + len, cap - len, d);
        if (got < 0) {
            d->source = r->source;
            return d->code;
        }
        if (got == 0)
            eof = true;
        len += (size_t)got;
    }
}

/* Fill buf as far as possible (for detection). */
static sp_err fill(reader *rd, char *buf, size_t cap, size_t *len, bool *eof, sp_diag *d)
{
    *len = 0;
    *eof = false;
    while (*len < cap) {
        long got = rd->read(rd, buf + *len, cap - *len, d);
        if (got < 0)
            return d->code;
        if (got == 0) {
            *eof = true;
            break;
        }
        *len += (size_t)got;
        if (*len >= 4096)
            break;
    }
    return SP_OK;
}

/* Decode one stream: detect, allocate per-run state, frame, flush. */
static sp_err run_stream(const char *source, const char *hint, const char *format, reader *rd,
                         sp_symtab *syms, const sp_feed_sink *sink, sp_diag *d)
{
    static const sp_feed_sink null_sink = {NULL, NULL, NULL};
    sp_err rc;
    size_t cap = SP_MSG_MAX + FRAME_SLACK;
    /* bytes already in memory are framed in place: no copy, no frame buffer */
    bool in_mem = rd->mem != NULL;
    char *buf = NULL;
    if (!in_mem && (buf = sp_malloc(cap)) == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    sp__feed_run *r = sp_calloc(1, sizeof(*r));
    sp_event *scratch = sp_malloc(SP_FEED_MSG_EVENTS_MAX * sizeof(sp_event));
    if (r == NULL || scratch == NULL) {
        rc = sp_diag_set(d, SP_ENOMEM, "out of memory");
        goto out_free;
    }
    r->syms = syms;
    r->sink = sink ? sink : &null_sink;
    r->source = source;
    r->path = hint;
    r->scratch = scratch;

    size_t len;
    bool eof;
    if (in_mem) {
        /* frame_lines never writes to its buffer when eof is set from the start */
        buf = (char *)(uintptr_t)rd->mem;
        len = rd->mem_len;
        eof = true;
    } else if ((rc = fill(rd, buf, cap, &len, &eof, d)) != SP_OK) {
        d->source = source;
        goto out_free;
    }
    const sp__feed_format *fmt;
    if (format == NULL || strcmp(format, "auto") == 0) {
        const char *name = sp_feed_detect(hint, buf, len);
        if (name == NULL) {
            rc = sp_diag_set(d, SP_EUNKNOWN_KIND, "format not recognised (use --format)");
            d->source = source;
            goto out_free;
        }
        fmt = format_named(name);
    } else {
        fmt = format_named(format);
        if (fmt == NULL) {
            rc = sp_diag_set(d, SP_EUNKNOWN_KIND, "unknown format \"%s\"", format);
            d->source = source;
            goto out_free;
        }
    }
    if (fmt->state_size) {
        r->state = sp_calloc(1, fmt->state_size);
        if (r->state == NULL) {
            rc = sp_diag_set(d, SP_ENOMEM, "out of memory");
            goto out_free;
        }
    }
    if (fmt->line) {
        rc = frame_lines(r, fmt, rd, buf, cap, len, eof, d);
    } else if (in_mem) {
        if (len > SP_FEED_DOC_MAX)
            rc = sp_diag_set(d, SP_ETOOBIG, "document larger than %u bytes",
                             (unsigned)SP_FEED_DOC_MAX);
        else
            rc = fmt->doc(r, buf, len, d);
        d->source = source;
    } else {
        sp_buf all;
        sp_buf_init(&all, SP_FEED_DOC_MAX);
        rc = sp_buf_append(&all, buf, len);
        while (rc == SP_OK && !eof) {
            long got = rd->read(rd, buf, cap, d);
            if (got < 0) {
                rc = d->code;
                break;
            }
            if (got == 0)
                eof = true;
            else
                rc = sp_buf_append(&all, buf, (size_t)got);
        }
        if (rc == SP_OK)
            rc = fmt->doc(r, all.data ? all.data : "", all.len, d);
        else if (rc == SP_ETOOBIG)
            sp_diag_set(d, rc, "document larger than %u bytes", (unsigned)SP_FEED_DOC_MAX);
        else if (rc == SP_ENOMEM)
            sp_diag_set(d, rc, "out of memory");
        sp_buf_fini(&all);
        d->source = source;
    }
    if (rc == SP_OK && fmt->end != NULL) {
        rc = fmt->end(r, d);
        d->source = source;
    }
    if (rc == SP_OK)
        rc = flush(r);
    if (rc != SP_OK && r->sink_err != SP_OK)
        sp_diag_set(d, rc, "sink stopped decoding");
    if (fmt->state_fini && r->state)
        fmt->state_fini(r->state);
out_free:
    if (r)
        sp_free(r->state);
    sp_free(scratch);
    sp_free(r);
    if (!in_mem)
        sp_free(buf);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static sp_err decode_zip(const char *path, const char *format, sp_symtab *syms,
                         const sp_feed_sink *sink, sp_diag *d)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (z == NULL) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        sp_diag_set(d, SP_EIO, "cannot open zip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        d->source = path;
        return SP_EIO;
    }
    sp_err rc = SP_OK;
    zip_int64_t n = zip_get_num_entries(z, 0);
    char source[1024];
    for (zip_int64_t i = 0; i < n && rc == SP_OK; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
        if (name == NULL || ends_with(name, "/"))
            continue;
        zip_file_t *zf = zip_fopen_index(z, (zip_uint64_t)i, 0);
        if (zf == NULL) {
            rc = sp_diag_set(d, SP_EIO, "cannot open zip member %s: %s", name, zip_strerror(z));
            d->source = path;
            break;
        }
        snprintf(source, sizeof(source), "%s:%s", path, name);
        reader rd = {0};
        rd.read = read_zip;
        rd.zf = zf;
        rc = run_stream(source, name, format, &rd, syms, sink, d);
        if (rc != SP_OK && d->source == source)
            d->source = path; /* source is a stack buffer: do not leak it */
        zip_fclose(zf);
    }
    zip_close(z);
    return rc;
}

sp_err sp_feed_decode_file(const char *path, const char *format, sp_symtab *syms,
                           const sp_feed_sink *sink, sp_diag *d)
{
    sp_diag tmp;
    if (d == NULL)
        d = &tmp;
    sp_diag_clear(d);
    if (path == NULL || syms == NULL)
        return sp_diag_set(d, SP_EINVAL, "path and symbol table are required");
    if (ends_with(path, ".zip"))
        return decode_zip(path, format, syms, sink, d);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        sp_diag_set(d, SP_EIO, "cannot open: %s", strerror(errno));
        d->source = path;
        return SP_EIO;
    }
    reader rd = {0};
    rd.f = f;
    sp_err rc;
    if (ends_with(path, ".zst")) {
        rd.read = read_zst;
        rd.zs = ZSTD_createDStream();
        rd.zin = sp_malloc(ZIN_CAP);
        if (rd.zs == NULL || rd.zin == NULL) {
            rc = sp_diag_set(d, SP_ENOMEM, "out of memory");
        } else {
            ZSTD_initDStream(rd.zs);
            /* detection by the name without ".zst" */
            char hint[1024];
            size_t hl = strlen(path) - 4;
            if (hl >= sizeof(hint))
                hl = sizeof(hint) - 1;
            memcpy(hint, path, hl);
            hint[hl] = '\0';
            rc = run_stream(path, hint, format, &rd, syms, sink, d);
        }
        ZSTD_freeDStream(rd.zs);
        sp_free(rd.zin);
    } else {
        rd.read = read_file;
        rc = run_stream(path, path, format, &rd, syms, sink, d);
    }
    fclose(f);
    return rc;
}

sp_err sp_feed_decode_mem(const void *data, size_t len, const char *source, const char *format,
                          sp_symtab *syms, const sp_feed_sink *sink, sp_diag *d)
{
    sp_diag tmp;
    if (d == NULL)
        d = &tmp;
    sp_diag_clear(d);
    if ((data == NULL && len > 0) || syms == NULL)
        return sp_diag_set(d, SP_EINVAL, "data and symbol table are required");
    if (source && (ends_with(source, ".zip") || ends_with(source, ".zst")))
        return sp_diag_set(d, SP_EUNSUPPORTED, "compressed input must be decoded from a file");
    reader rd = {0};
    rd.read = read_mem;
    rd.mem = data ? data : "";
    rd.mem_len = len;
    return run_stream(source ? source : "(memory)", source, format, &rd, syms, sink, d);
}
