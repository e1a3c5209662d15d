/*
 * cmd_decode.c -- `stampede decode FILE...`: decode exchange files into
 * normalized events (the library's sp_feed_decode_file), print them as
 * JSON lines or CSV, write rejected records to --errors, and summarise per
 * kind and symbol on stderr (count, first/last exchange time, rejects).
 *
 * Exit: 0 every record decoded, 1 some records rejected, 2 a file was
 * unusable (unreadable, unknown format) or a usage error.  Every file is
 * attempted even after a bad one.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const cli_opt opts[] = {
    {"format", "NAME", "input format (default auto: detected from name and content)"},
    {"out", "FMT", "events on stdout as jsonl (default), csv or none"},
    {"errors", "FILE", "write every rejected record (reason, source, line, offset) as JSON lines"},
    {"formats", NULL, "list the known formats and exit"},
    {"json", NULL, "print the summary as JSON on stderr"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "decode",
    "FILE... [--format auto|NAME] [--out jsonl|csv|none] [--errors FILE]",
    "Decode exchange data files (captures, data dumps, zips, .zst, daily series) into\n"
    "normalized events.  Bad records are counted, written to --errors with their reason\n"
    "and byte offset, and skipped; everything good around them is decoded.  Exit 0 clean,\n"
    "1 some records rejected, 2 an unusable file (unreadable, unknown format).",
    opts,
    0,
    -1,
};

/* One summary row: events of one kind, venue and symbol. */
typedef struct row {
    uint8_t kind, venue;
    uint32_t sym;
    uint64_t n;
    int64_t first, last;
} row;

typedef struct ctx {
    FILE *out;
    int fmt; /* 0 jsonl, 1 csv, 2 none */
    FILE *errors;
    const sp_symtab *syms;
    row *rows;
    size_t nrows, caprows;
    size_t hint;
    uint64_t rejects, file_rejects, events;
    sp_err write_err;
} ctx;

static void print_val(FILE *f, const sp_event *e, unsigned field, int64_t v, bool json)
{
    int sc = sp_feed_field_scale(e, field);
    if (sc < 0) {
        fprintf(f, "%" PRId64, v);
        return;
    }
    char b[SP_DEC_FMT_MAX];
    sp_dec_format(v, (unsigned)sc, SP_FMT_TRIM, b, sizeof(b));
    fprintf(f, json ? "\"%s\"" : "%s", b);
}

static void print_event(ctx *c, const sp_event *e)
{
    const char *sym = sp_symtab_name(c->syms, e->symbol_id);
    int64_t v[5] = {e->px, e->qty, e->aux[0], e->aux[1], e->aux[2]};
    if (c->fmt == 0) {
        fprintf(c->out,
                "{\"kind\":\"%s\",\"venue\":\"%s\",\"symbol\":", sp_event_kind_name(e->kind),
                sp_venue_name(e->venue));
        cli_json_str(c->out, sym ? sym : "");
        fprintf(c->out,
                ",\"sub\":%u,\"flags\":%u,\"side\":\"%s\",\"exch_ts_ns\":%" PRId64
                ",\"local_ts_ns\":%" PRId64 ",\"px\":",
                e->sub, e->flags, (e->flags & SP_EVF_SELL) ? "sell" : "buy", e->exch_ts_ns,
                e->local_ts_ns);
        print_val(c->out, e, 0, v[0], true);
        fputs(",\"qty\":", c->out);
        print_val(c->out, e, 1, v[1], true);
        fputs(",\"aux\":[", c->out);
        for (unsigned i = 2; i < 5; i++) {
            print_val(c->out, e, i, v[i], true);
            fputc(i < 4 ? ',' : ']', c->out);
        }
        fputs("}\n", c->out);
    } else {
        fprintf(c->out, "%s,%s,%s,%u,%u,%" PRId64 ",%" PRId64, sp_event_kind_name(e->kind),
                sp_venue_name(e->venue), sym ? sym : "", e->sub, e->flags, e->exch_ts_ns,
                e->local_ts_ns);
        for (unsigned i = 0; i < 5; i++) {
            fputc(',', c->out);
            print_val(c->out, e, i, v[i], false);
        }
        fputc('\n', c->out);
    }
}

static void count(ctx *c, const sp_event *e)
{
    row *r = NULL;
    if (c->hint < c->nrows) {
        row *h = &c->rows[c->hint];
        if (h->kind == e->kind && h->venue == e->venue && h->sym == e->symbol_id)
            r = h;
    }
    for (size_t i = 0; r == NULL && i < c->nrows; i++) {
        row *h = &c->rows[i];
        if (h->kind == e->kind && h->venue == e->venue && h->sym == e->symbol_id) {
            r = h;
            c->hint = i;
        }
    }
    if (r == NULL) {
        if (c->nrows == c->caprows) {
            size_t nc = c->caprows ? c->caprows * 2 : 64;
            row *nr = sp_reallocarray(c->rows, nc, sizeof(*nr));
            if (nr == NULL)
                return; /* the summary loses a row; decoding goes on */
            c->rows = nr;
            c->caprows = nc;
        }
        r = &c->rows[c->nrows];
        c->hint = c->nrows++;
        memset(r, 0, sizeof(*r));
        r->kind = e->kind;
        r->venue = e->venue;
        r->sym = e->symbol_id;
        r->first = INT64_MAX;
        r->last = INT64_MIN;
    }
    r->n++;
    if (e->exch_ts_ns < r->first)
        r->first = e->exch_ts_ns;
    if (e->exch_ts_ns > r->last)
        r->last = e->exch_ts_ns;
}

static sp_err on_events(void *p, const sp_event *ev, size_t n)
{
    ctx *c = p;
    for (size_t i = 0; i < n; i++) {
        count(c, &ev[i]);
        if (c->fmt != 2)
            print_event(c, &ev[i]);
    }
    c->events += n;
    if (c->fmt != 2 && ferror(c->out)) {
        c->write_err = SP_EIO;
        return SP_EIO; /* stdout closed (e.g. a pipe to head): stop */
    }
    return SP_OK;
}

static void on_reject(void *p, const sp_diag *why)
{
    ctx *c = p;
    c->rejects++;
    c->file_rejects++;
    if (c->errors == NULL)
        return;
    fputs("{\"source\":", c->errors);
    cli_json_str(c->errors, why->source ? why->source : "");
    fprintf(c->errors,
            ",\"line\":%" PRIu64 ",\"column\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"field\":",
            why->line, why->column, why->offset);
    cli_json_str(c->errors, why->field);
    fprintf(c->errors, ",\"code\":\"%s\",\"reason\":", sp_errname(why->code));
    cli_json_str(c->errors, why->msg);
    fputs("}\n", c->errors);
}

/* "2026-02-06T00:19:00Z" (to the second) or "-" for 0. */
static void fmt_ts(int64_t ns, char *out, size_t cap)
{
    if (ns == 0 || ns == INT64_MAX || ns == INT64_MIN) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void summary(const ctx *c, bool json, int files, int unusable)
{
    char a[32], b[32];
    if (json) {
        fprintf(stderr,
                "{\"files\":%d,\"unusable\":%d,\"events\":%" PRIu64 ",\"rejected\":%" PRIu64
                ",\"series\":[",
                files, unusable, c->events, c->rejects);
        for (size_t i = 0; i < c->nrows; i++) {
            const row *r = &c->rows[i];
            const char *sym = sp_symtab_name(c->syms, r->sym);
            fprintf(stderr, "%s{\"kind\":\"%s\",\"venue\":\"%s\",\"symbol\":", i ? "," : "",
                    sp_event_kind_name(r->kind), sp_venue_name(r->venue));
            cli_json_str(stderr, sym ? sym : "");
            fprintf(stderr,
                    ",\"count\":%" PRIu64 ",\"first_ts_ns\":%" PRId64 ",\"last_ts_ns\":%" PRId64
                    "}",
                    r->n, r->first, r->last);
        }
        fputs("]}\n", stderr);
        return;
    }
    fprintf(stderr, "%-14s %-12s %-24s %10s  %-20s  %-20s\n", "kind", "venue", "symbol", "count",
            "first", "last");
    for (size_t i = 0; i < c->nrows; i++) {
        const row *r = &c->rows[i];
        const char *sym = sp_symtab_name(c->syms, r->sym);
        fmt_ts(r->first, a, sizeof(a));
        fmt_ts(r->last, b, sizeof(b));
        fprintf(stderr, "%-14s %-12s %-24s %10" PRIu64 "  %-20s  %-20s\n",
                sp_event_kind_name(r->kind), sp_venue_name(r->venue), sym ? sym : "-", r->n, a, b);
    }
    fprintf(stderr, "files %d (unusable %d), events %" PRIu64 ", rejected records %" PRIu64 "\n",
            files, unusable, c->events, c->rejects);
}

int cmd_decode(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (cli_has(&a, "formats")) {
        for (size_t i = 0; i < sp_feed_format_count(); i++)
            printf("%-34s %s\n", sp_feed_format_name(i), sp_feed_format_help(i));
        return CLI_EXIT_OK;
    }
    if (a.npos == 0) {
        cli_error("decode", "no input file (see --help)");
        return CLI_EXIT_USAGE;
    }
    ctx c;
    memset(&c, 0, sizeof(c));
    c.out = stdout;
    const char *out = cli_get(&a, "out");
    if (out == NULL || strcmp(out, "jsonl") == 0)
        c.fmt = 0;
    else if (strcmp(out, "csv") == 0)
        c.fmt = 1;
    else if (strcmp(out, "none") == 0)
        c.fmt = 2;
    else {
        cli_error("decode", "--out: expected jsonl, csv or none, got \"%s\"", out);
        return CLI_EXIT_USAGE;
    }
    const char *format = cli_get(&a, "format");
    if (format != NULL && strcmp(format, "auto") != 0) {
        bool known = false;
        for (size_t i = 0; i < sp_feed_format_count(); i++)
            known = known || strcmp(sp_feed_format_name(i), format) == 0;
        if (!known) {
            cli_error("decode", "--format: unknown format \"%s\" (see --formats)", format);
            return CLI_EXIT_USAGE;
        }
    }
    const char *errpath = cli_get(&a, "errors");
    if (errpath != NULL) {
        c.errors = fopen(errpath, "w");
        if (c.errors == NULL) {
            cli_error("decode", "--errors: cannot open %s: %s", errpath, strerror(errno));
            return CLI_EXIT_USAGE;
        }
    }
    sp_symtab *syms;
    if (sp_symtab_new(&syms) != SP_OK) {
        cli_error("decode", "out of memory");
        if (c.errors)
            fclose(c.errors);
        return CLI_EXIT_USAGE;
    }
    c.syms = syms;
    if (c.fmt == 1)
        fputs("kind,venue,symbol,sub,flags,exch_ts_ns,local_ts_ns,px,qty,aux0,aux1,aux2\n", c.out);
    sp_feed_sink sink = {on_events, on_reject, &c};
    int unusable = 0;
    for (int i = 0; i < a.npos && c.write_err == SP_OK; i++) {
        sp_diag d;
        c.file_rejects = 0;
        sp_err err = sp_feed_decode_file(a.pos[i], format, syms, &sink, &d);
        if (err != SP_OK && c.write_err == SP_OK) {
            char msg[512];
            cli_error("decode", "%s", sp_diag_format(&d, msg, sizeof(msg)));
            unusable++;
        } else if (c.file_rejects > 0) {
            fprintf(stderr, "stampede decode: %s: %" PRIu64 " record(s) rejected%s\n", a.pos[i],
                    c.file_rejects, errpath ? "" : " (see --errors FILE)");
        }
    }
    fflush(c.out);
    summary(&c, cli_has(&a, "json"), a.npos, unusable);
    if (c.errors && fclose(c.errors) != 0) {
        cli_error("decode", "--errors: write failed");
        unusable++;
    }
    sp_free(c.rows);
    sp_symtab_free(syms);
    if (c.write_err != SP_OK) {
        cli_error("decode", "output write failed");
        return CLI_EXIT_USAGE;
    }
    if (unusable > 0)
        return CLI_EXIT_USAGE;
    return c.rejects > 0 ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
}
