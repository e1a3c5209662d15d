/*
 * cmd_ingest.c -- `stampede ingest`: decode exchange files and store them.
 *
 * Each FILE goes through sp_feed_decode_file (format auto-detected unless
 * --format names one); decoded events are gathered into batches of
 * --batch events, each stored by one sp_store_append (one transaction:
 * a killed ingest leaves whole batches, and re-running it adds only what
 * is missing because the store skips events whose natural key is
 * present).  Rejected records are counted and their reasons (what and
 * where: file, line, byte offset, field) written one per line to the
 * --errors file.  On a terminal, a progress line shows bytes, events per
 * second and an ETA; at the end a summary lists events per kind and
 * symbol, per file, and the rejected records.  --all-shipped ingests every
 * file under the repo's data/ that a decoder recognises (the demo's data).
 *
 * Exit status: 0 all stored; 1 some records rejected (the rest stored);
 * 2 usage error, an unusable file, or a store failure (disk full, locked,
 * read-only: the message says which; nothing of the failing batch stored).
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "demo.h"
#include "stampede/feed.h"

static const cli_opt opts[] = {
    {"store", "URI", "store to write (default " SP_STORE_DEFAULT_URI ")"},
    {"all-shipped", NULL, "ingest every decodable file under the shipped data/ directory"},
    {"data", "DIR", "data directory for --all-shipped (default: the repo's data/)"},
    {"format", "F", "decoder to use for every FILE (default: auto-detect)"},
    {"errors", "FILE", "write rejected records' reasons here (default stampede-ingest.errors)"},
    {"batch", "N", "events per transaction (default 65536)"},
    {"no-progress", NULL, "no progress line even on a terminal"},
    {"verbose", NULL, "list every file and every (kind, symbol), not only the largest"},
    {"brief", NULL, "summary per kind only (no per-file or per-symbol lines)"},
    {"json", NULL, "print the summary as JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "ingest",
    "[--store URI] [--errors FILE] (--all-shipped | FILE...)",
    "Decode exchange data files (formats auto-detected) and store the events.  Re-ingesting a\n"
    "file stores nothing twice: events are keyed by venue, kind, symbol, time and exchange id.\n"
    "Exit 0 when everything was stored, 1 when some records were rejected (reasons in the\n"
    "--errors file), 2 on a usage error, an unusable file or a store failure.",
    opts,
    0,
    -1,
};

/* Per (kind, symbol) counts of this run. */
typedef struct ks_count {
    uint64_t decoded;
} ks_count;

typedef struct ingest {
    sp_store *store;
    sp_symtab *syms;
    sp_event *batch;     /* pending events */
    size_t nbatch;       /* events in batch */
    size_t capbatch;     /* batch size (--batch) */
    ks_count *by_ks;     /* [kind * cap_sym + symbol_id] */
    uint32_t cap_sym;    /* symbol slots per kind in by_ks */
    uint64_t f_decoded;  /* this file */
    uint64_t f_inserted; /* this file */
    uint64_t f_rejected; /* this file */
    uint64_t decoded;    /* all files */
    uint64_t inserted;   /* all files */
    uint64_t rejected;   /* all files */
    const char *errors_path;
    FILE *errors;       /* opened on the first reject */
    int errors_failed;  /* could not open the errors file */
    sp_diag store_diag; /* why the store failed */
    sp_err store_err;   /* first store failure */
    /* progress */
    int tty;
    int64_t t0_ns;
    int64_t last_draw_ns;
    uint64_t bytes_total;
    uint64_t bytes_done; /* files finished */
    size_t file_i, file_n;
} ingest;

#define NKINDS 64

/* Count events of (kind, symbol) in by_ks, growing the symbol dimension. */
static int tally(ingest *g, const sp_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t sym = ev[i].symbol_id;
        unsigned kind = ev[i].kind < NKINDS ? ev[i].kind : 0;
        if (sym >= g->cap_sym) {
            uint32_t ncap = g->cap_sym ? g->cap_sym : 64;
            while (ncap <= sym)
                ncap *= 2;
            ks_count *nb = calloc((size_t)ncap * NKINDS, sizeof(*nb));
            if (nb == NULL)
                return -1;
            for (unsigned k = 0; k < NKINDS && g->by_ks; k++)
                memcpy(nb + (size_t)k * ncap, g->by_ks + (size_t)k * g->cap_sym,
                       g->cap_sym * sizeof(*nb));
            free(g->by_ks);
            g->by_ks = nb;
            g->cap_sym = ncap;
        }
        g->by_ks[(size_t)kind * g->cap_sym + sym].decoded++;
    }
    return 0;
}

static void draw_progress(ingest *g, int final)
{
    if (!g->tty)
        return;
    int64_t now = sp_clock_mono_ns();
    if (!final && now - g->last_draw_ns < 200000000)
        return;
    g->last_draw_ns = now;
    double secs = (double)(now - g->t0_ns) / 1e9;
    double evs = secs > 0 ? (double)g->decoded / secs : 0;
    double bps = secs > 0 ? (double)g->bytes_done / secs : 0;
    double eta = bps > 0 && g->bytes_total > g->bytes_done
                     ? (double)(g->bytes_total - g->bytes_done) / bps
                     : 0;
    fprintf(stderr, "\r\033[K[%zu/%zu] %.1f/%.1f MB  %llu events  %.0f ev/s  %.1f MB/s  ETA %.0f s",
            g->file_i, g->file_n, (double)g->bytes_done / 1e6, (double)g->bytes_total / 1e6,
            (unsigned long long)g->decoded, evs, bps / 1e6, eta);
    if (final)
        fputc('\n', stderr);
}

/* Store the pending batch (one transaction). */
static sp_err flush(ingest *g)
{
    if (g->nbatch == 0)
        return SP_OK;
    uint64_t ins = 0;
    sp_err rc = sp_store_append(g->store, g->batch, g->nbatch, g->syms, &ins, &g->store_diag);
    if (rc != SP_OK) {
        g->store_err = rc;
        return rc;
    }
    g->f_inserted += ins;
    g->inserted += ins;
    g->nbatch = 0;
    return SP_OK;
}

static sp_err on_events(void *ctx, const sp_event *ev, size_t n)
{
    ingest *g = ctx;
    if (tally(g, ev, n) != 0)
        return SP_ENOMEM;
    g->f_decoded += n;
    g->decoded += n;
    while (n > 0) {
        size_t room = g->capbatch - g->nbatch;
        size_t k = n < room ? n : room;
        memcpy(g->batch + g->nbatch, ev, k * sizeof(*ev));
        g->nbatch += k;
        ev += k;
        n -= k;
        if (g->nbatch == g->capbatch) {
            sp_err rc = flush(g);
            if (rc != SP_OK)
                return rc;
        }
    }
    draw_progress(g, 0);
    return SP_OK;
}

static void on_reject(void *ctx, const sp_diag *why)
{
    ingest *g = ctx;
    g->f_rejected++;
    g->rejected++;
    if (g->errors == NULL && !g->errors_failed) {
        g->errors = fopen(g->errors_path, "a");
        if (g->errors == NULL) {
            g->errors_failed = 1;
            cli_error("ingest", "cannot write rejected records to %s", g->errors_path);
        }
    }
    if (g->errors) {
        char line[SP_DIAG_MSG_MAX + 1200];
        fprintf(g->errors, "%s\n", sp_diag_format(why, line, sizeof(line)));
    }
}

/* ---- file lists ------------------------------------------------------------ */

typedef struct paths {
    char **v;
    size_t n, cap;
} paths;

static int paths_add(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 64;
        char **nv = realloc(p->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        p->v = nv;
        p->cap = ncap;
    }
    p->v[p->n] = strdup(s);
    return p->v[p->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir, recursively (documentation and checksums left out). */
static int walk(const char *dir, paths *out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        size_t l = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            rc = walk(path, out);
        else if (S_ISREG(st.st_mode) && !(l > 3 && strcmp(e->d_name + l - 3, ".md") == 0) &&
                 strcmp(e->d_name, "SHA256SUMS") != 0)
            rc = paths_add(out, path);
    }
    closedir(d);
    return rc;
}

/* ---- summary ------------------------------------------------------------------ */

/* Rows of the text summary per kind before "(+N more symbols)", unless --verbose. */
#define TOP_SYMBOLS 8

static const ks_count *sort_row; /* the row cmp_count_desc sorts by */

static int cmp_count_desc(const void *a, const void *b)
{
    uint64_t x = sort_row[*(const uint32_t *)a].decoded, y = sort_row[*(const uint32_t *)b].decoded;
    if (x != y)
        return x > y ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void print_by_kind_symbol(const ingest *g, int json, int verbose, int brief)
{
    int first = 1;
    if (!json)
        printf("\n%-18s %-32s %12s\n", "kind", "symbol", "decoded");
    for (unsigned k = 0; k < NKINDS; k++) {
        const ks_count *row = g->by_ks ? &g->by_ks[(size_t)k * g->cap_sym] : NULL;
        uint64_t total = 0, nsym = 0;
        for (uint32_t s = 0; row && s < g->cap_sym; s++) {
            total += row[s].decoded;
            nsym += row[s].decoded != 0;
        }
        if (total == 0)
            continue;
        if (json && brief) {
            printf("%s\"%s\":%llu", first ? "" : ",", sp_event_kind_name(k),
                   (unsigned long long)total);
            first = 0;
            continue;
        }
        if (json) {
            for (uint32_t s = 0; s < g->cap_sym; s++) {
                if (row[s].decoded == 0)
                    continue;
                const char *name = s ? sp_symtab_name(g->syms, s) : "";
                printf("%s{\"kind\":\"%s\",\"symbol\":", first ? "" : ",", sp_event_kind_name(k));
                cli_json_str(stdout, name ? name : "?");
                printf(",\"decoded\":%llu}", (unsigned long long)row[s].decoded);
                first = 0;
            }
            continue;
        }
        printf("%-18s %-32s %12llu\n", sp_event_kind_name(k), "(all symbols)",
               (unsigned long long)total);
        if (brief)
            continue;
        /* the largest symbols first */
        uint32_t *ids = calloc(nsym, sizeof(*ids));
        uint64_t shown = 0;
        if (ids != NULL) {
            size_t m = 0;
            for (uint32_t s = 0; s < g->cap_sym; s++)
                if (row[s].decoded != 0)
                    ids[m++] = s;
            sort_row = row;
            qsort(ids, m, sizeof(*ids), cmp_count_desc);
            for (; shown < m && (verbose || shown < TOP_SYMBOLS); shown++) {
                const char *name = ids[shown] ? sp_symtab_name(g->syms, ids[shown]) : "(none)";
                printf("%-18s %-32s %12llu\n", "", name ? name : "?",
                       (unsigned long long)row[ids[shown]].decoded);
            }
            free(ids);
        }
        if (shown < nsym)
            printf("%-18s (+%llu more symbols; --verbose lists them)\n", "",
                   (unsigned long long)(nsym - shown));
    }
}

int cmd_ingest(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    int all = cli_has(&a, "all-shipped");
    if (all == (a.npos > 0)) {
        cli_error("ingest", "give FILE... or --all-shipped (exactly one of them)");
        return CLI_EXIT_USAGE;
    }
    int64_t batch = 0;
    if (!cli_get_int(&a, "batch", 1, 1 << 22, 65536, &batch))
        return CLI_EXIT_USAGE;
    const char *format = cli_get(&a, "format");
    int json = cli_has(&a, "json");
    int brief = cli_has(&a, "brief");

    paths files = {0};
    if (all) {
        const char *dir = cli_has(&a, "data") ? cli_get(&a, "data") : SP_SOURCE_DIR "/data";
        if (walk(dir, &files) != 0 || files.n == 0) {
            cli_error("ingest", "--all-shipped: cannot read %s (or it holds no file)", dir);
            return CLI_EXIT_USAGE;
        }
        qsort(files.v, files.n, sizeof(*files.v), cmp_str);
    } else {
        for (int i = 0; i < a.npos; i++)
            if (paths_add(&files, a.pos[i]) != 0)
                return CLI_EXIT_USAGE;
    }

    /* a file-size limit (ulimit -f) must give an error, not a silent kill */
    signal(SIGXFSZ, SIG_IGN);

    ingest g = {0};
    g.capbatch = (size_t)batch;
    g.errors_path = cli_has(&a, "errors") ? cli_get(&a, "errors") : "stampede-ingest.errors";
    g.tty = !cli_has(&a, "no-progress") && isatty(2);
    g.file_n = files.n;
    const char *uri = cli_has(&a, "store") ? cli_get(&a, "store") : SP_STORE_DEFAULT_URI;
    sp_diag d;
    sp_diag_clear(&d);
    int exit_code = CLI_EXIT_OK;
    if (sp_store_open(uri, 0, &g.store, &d) != SP_OK) {
        cli_error("ingest", "%s", d.msg);
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    g.batch = calloc(g.capbatch, sizeof(*g.batch));
    if (g.batch == NULL || sp_symtab_new(&g.syms) != SP_OK) {
        cli_error("ingest", "out of memory");
        exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < files.n; i++) {
        struct stat st;
        if (stat(files.v[i], &st) == 0)
            g.bytes_total += (uint64_t)st.st_size;
    }
    g.t0_ns = sp_clock_mono_ns();
    if (json)
        printf("{\"store\":");
    if (json) {
        cli_json_str(stdout, uri);
        printf(",\"files\":[");
    }
    size_t skipped = 0, failed = 0;
    sp_feed_sink sink = {on_events, on_reject, &g};
    for (size_t i = 0; i < files.n; i++) {
        const char *path = files.v[i];
        g.file_i = i + 1;
        g.f_decoded = g.f_inserted = g.f_rejected = 0;
        sp_diag_clear(&d);
        sp_err e = sp_feed_decode_file(path, format, g.syms, &sink, &d);
        if (g.store_err == SP_OK && flush(&g) != SP_OK && e == SP_OK)
            e = g.store_err;
        const char *status = "ok";
        if (g.store_err != SP_OK) {
            status = "store failed";
        } else if (e == SP_EUNKNOWN_KIND && all) {
            status = "skipped (no decoder for this format)";
            skipped++;
        } else if (e != SP_OK) {
            status = "unusable";
            failed++;
            char line[SP_DIAG_MSG_MAX + 1200];
            if (g.tty)
                fputs("\r\033[K", stderr);
            cli_error("ingest", "%s: %s", path, sp_diag_format(&d, line, sizeof(line)));
        }
        if (e == SP_OK && g.store_err == SP_OK)
            sp_store_log_ingest(g.store, path, g.f_decoded, g.f_inserted, g.f_rejected, NULL);
        struct stat st;
        if (stat(path, &st) == 0)
            g.bytes_done += (uint64_t)st.st_size;
        draw_progress(&g, 0);
        if (json && brief) {
            /* files are summarised in the totals */
        } else if (json) {
            printf("%s{\"path\":", i ? "," : "");
            cli_json_str(stdout, path);
            printf(",\"status\":");
            cli_json_str(stdout, status);
            printf(",\"decoded\":%llu,\"new\":%llu,\"rejected\":%llu}",
                   (unsigned long long)g.f_decoded, (unsigned long long)g.f_inserted,
                   (unsigned long long)g.f_rejected);
        } else if (!(e == SP_EUNKNOWN_KIND && all) &&
                   ((!brief && (cli_has(&a, "verbose") || files.n <= 20)) || e != SP_OK ||
                    g.store_err != SP_OK || g.f_rejected > 0)) {
            if (g.tty)
                fputs("\r\033[K", stderr);
            printf("%-8s %10llu decoded %10llu new %8llu rejected  %s\n",
                   e == SP_OK && g.store_err == SP_OK ? "ok" : "FAILED",
                   (unsigned long long)g.f_decoded, (unsigned long long)g.f_inserted,
                   (unsigned long long)g.f_rejected, path);
        }
        if (g.store_err != SP_OK)
            break;
    }
    draw_progress(&g, 1);
    double secs = (double)(sp_clock_mono_ns() - g.t0_ns) / 1e9;
    if (json) {
        printf(brief ? "],\"by_kind\":{" : "],\"by_kind_symbol\":[");
        print_by_kind_symbol(&g, 1, 0, brief);
        printf(brief ? "}," : "],");
        printf("\"decoded\":%llu,\"new\":%llu,\"rejected\":%llu,\"skipped_files\":%zu,"
               "\"failed_files\":%zu,\"seconds\":%.3f,\"errors_file\":",
               (unsigned long long)g.decoded, (unsigned long long)g.inserted,
               (unsigned long long)g.rejected, skipped, failed, secs);
        if (g.rejected)
            cli_json_str(stdout, g.errors_path);
        else
            printf("null");
        printf("}\n");
    } else {
        print_by_kind_symbol(&g, 0, cli_has(&a, "verbose"), brief);
        printf("\n%llu events decoded, %llu new in %s (%llu already stored), %llu records "
               "rejected, in %.2f s",
               (unsigned long long)g.decoded, (unsigned long long)g.inserted, uri,
               (unsigned long long)(g.decoded - g.inserted), (unsigned long long)g.rejected, secs);
        printf("; %zu file(s)", files.n);
        if (skipped)
            printf(", %zu skipped (no decoder)", skipped);
        printf("\n");
        if (g.rejected)
            printf("reasons of the rejected records: %s\n", g.errors_path);
    }
    if (g.store_err != SP_OK) {
        cli_error("ingest", "%s (nothing of the failing batch was stored; re-run to complete)",
                  g.store_diag.msg);
        exit_code = CLI_EXIT_USAGE;
    } else if (failed) {
        exit_code = CLI_EXIT_USAGE;
    } else if (g.rejected) {
        exit_code = CLI_EXIT_PARTIAL;
    }
out:
    if (g.errors)
        fclose(g.errors);
    sp_store_close(g.store);
    sp_symtab_free(g.syms);
    free(g.batch);
    free(g.by_ks);
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    return exit_code;
}

/*
 * The demo's first data step (DESIGN §3, step 1): ingest every shipped file
 * into the demo's store, with the per-kind summary.  Idempotent, so running
 * the demo twice stores nothing twice.
 */
int demo_ingest(const demo_ctx *ctx)
{
    char *argv[] = {"ingest",
                    "--store",
                    (char *)ctx->store_uri,
                    "--all-shipped",
                    "--data",
                    (char *)ctx->data_dir,
                    "--brief",
                    "--no-progress",
                    "--errors",
                    "stampede-demo.errors",
                    ctx->json ? "--json" : NULL,
                    NULL};
    int argc = ctx->json ? 11 : 10;
    if (ctx->json)
        printf("\"ingest\":");
    int rc = cmd_ingest(argc, argv);
    /* rejected records are expected in real data: the demo goes on */
    return rc == CLI_EXIT_PARTIAL ? CLI_EXIT_OK : rc;
}
