/*
 * pop_csv.c -- loading a population from a CSV file.
 *
 * Format (docs/internals/sim.md): a header line "side,entry_px,qty,leverage"
 * or "side,entry_px,qty,leverage,margin", then one position per line:
 * side "long" or "short", entry price (USDT), size (base units) and margin
 * (USDT) as exact decimals with at most 8 places, leverage an integer
 * 1..1000.  Lines starting with '#' and blank lines are skipped.  A bad
 * row never stops the file: it is reported with its line, column and
 * field, counted, and skipped; the rest is priced with the venue's rules
 * (pop.c).  The file is read once into a bounded buffer.
 */
#include <stdio.h>
#include <string.h>

#include "sim_int.h"

#define LINE_MAX_ 512

typedef struct rowctx {
    const char *path;
    uint64_t line;
    void (*on_reject)(void *ctx, const sp_diag *why);
    void *ctx;
    uint64_t rejected;
} rowctx;

/* Report one bad row (what, line, 1-based column, field) and count it. */
static void reject(rowctx *r, size_t col, const char *field, sp_err code, const char *why)
{
    sp_diag d;
    sp_diag_clear(&d);
    d.source = r->path;
    d.line = r->line;
    d.column = col + 1;
    sp_diag_field(&d, field);
    sp_diag_set(&d, code, "%s", why);
    r->rejected++;
    if (r->on_reject)
        r->on_reject(r->ctx, &d);
}

/* Split s[0..n) at commas into at most max fields. */
static size_t split(const char *s, size_t n, const char **f, size_t *len, size_t *off, size_t max)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < max; i++) {
        if (i == n || s[i] == ',') {
            f[k] = s + start;
            len[k] = i - start;
            off[k] = start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* Parse one data row into *q; false (and a reject) if bad. */
static bool parse_row(rowctx *r, const char *s, size_t n, bool has_margin, sp_sim_pos *q)
{
    const char *f[6];
    size_t len[6], off[6];
    size_t want = has_margin ? 5 : 4;
    size_t k = split(s, n, f, len, off, 6);
    if (k != want) {
        reject(r, 0, "", SP_EPARSE, has_margin ? "expected 5 fields" : "expected 4 fields");
        return false;
    }
    memset(q, 0, sizeof(*q));
    if (len[0] == 4 && memcmp(f[0], "long", 4) == 0)
        q->side = 1;
    else if (len[0] == 5 && memcmp(f[0], "short", 5) == 0)
        q->side = -1;
    else {
        reject(r, off[0], "side", SP_EPARSE, "side must be \"long\" or \"short\"");
        return false;
    }
    static const char *const names[] = {"side", "entry_px", "qty", "leverage", "margin"};
    int64_t v[5] = {0};
    for (size_t i = 1; i < want; i++) {
        sp_diag d;
        sp_diag_clear(&d);
        unsigned scale = i == 3 ? 0 : SP_SIM_SCALE;
        sp_err rc = sp_dec_parse_ex(f[i], len[i], scale, SP_DEC_NO_NEG, SP_RND_EXACT, &v[i], &d);
        if (rc != SP_OK) {
            reject(r, off[i] + (d.column ? d.column - 1 : 0), names[i], rc, d.msg);
            return false;
        }
    }
    if (v[1] <= 0 || v[2] <= 0) {
        reject(r, off[v[1] <= 0 ? 1 : 2], names[v[1] <= 0 ? 1 : 2], SP_ERANGE, "must be > 0");
        return false;
    }
    if (v[3] < 1 || v[3] > 1000) {
        reject(r, off[3], "leverage", SP_ERANGE, "leverage must be 1 .. 1000");
        return false;
    }
    if (has_margin && v[4] <= 0) {
        reject(r, off[4], "margin", SP_ERANGE, "margin must be > 0");
        return false;
    }
    q->entry_px = v[1];
    q->qty = v[2];
    q->leverage = (int32_t)v[3];
    q->margin = has_margin ? v[4] : 0;
    return true;
}

/*
 * Read the file line by line into a growing array (doubling, bounded by
 * SP_SIM_POS_MAX), skipping comments and blank lines, then price the good
 * rows through sp_sim_pop_from.  The header decides whether margin is given.
 */
sp_err sp_sim_pop_load_csv(const char *path, sp_sim_venue venue,
                           void (*on_reject)(void *ctx, const sp_diag *why), void *ctx,
                           uint64_t *rejected, sp_sim_pop **out, sp_diag *d)
{
    if (!path || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sp_diag_set(d, SP_EIO, "%s: cannot open", path);
    rowctx r = {path, 0, on_reject, ctx, 0};
    size_t cap = 1024, n = 0;
    sp_sim_pos *pos = sp_calloc(cap, sizeof(*pos));
    sp_sim_pop *p = NULL;
    sp_err rc = SP_OK;
    bool header = false, has_margin = false;
    char buf[LINE_MAX_ + 2];
    if (!pos) {
        rc = sp_diag_set(d, SP_ENOMEM, "positions");
        goto out_close;
    }
    while (fgets(buf, sizeof(buf), fp)) {
        size_t len = strlen(buf);
        r.line++;
        if (len > LINE_MAX_ && buf[len - 1] != '\n') {
            int c;
            while ((c = fgetc(fp)) != EOF && c != '\n')
                ;
            if (!header) {
                rc = sp_diag_set(d, SP_EPARSE, "%s:%llu: header line too long", path,
                                 (unsigned long long)r.line);
                goto out_close;
            }
            reject(&r, 0, "", SP_ETOOBIG, "line longer than 512 bytes");
            continue;
        }
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (len == 0 || buf[0] == '#')
            continue;
        if (!header) {
            if (strcmp(buf, "side,entry_px,qty,leverage") == 0) {
                header = true;
            } else if (strcmp(buf, "side,entry_px,qty,leverage,margin") == 0) {
                header = has_margin = true;
            } else {
                d ? (void)(d->line = r.line) : (void)0;
                rc = sp_diag_set(d, SP_EPARSE,
                                 "%s:%llu: expected the header side,entry_px,qty,leverage[,margin]",
                                 path, (unsigned long long)r.line);
                goto out_close;
            }
            continue;
        }
        sp_sim_pos q;
        if (!parse_row(&r, buf, len, has_margin, &q))
            continue;
        /* price the row now so a position the venue would not allow is one rejected row,
         * not a failed file */
        sp_sim_pos priced = q;
        sp_diag pd;
        sp_diag_clear(&pd);
        sp_err prc = sp__sim_finish_checked(&venue, &priced, &pd);
        if (prc == SP_ENOMEM) {
            rc = sp_diag_set(d, prc, "positions");
            goto out_close;
        }
        if (prc != SP_OK) {
            reject(&r, 0, has_margin ? "margin" : "qty", prc, pd.msg);
            continue;
        }
        if (n == cap) {
            if (cap >= SP_SIM_POS_MAX) {
                rc = sp_diag_set(d, SP_ETOOBIG, "%s: more than %u positions", path,
                                 (unsigned)SP_SIM_POS_MAX);
                goto out_close;
            }
            sp_sim_pos *np = sp_reallocarray(pos, cap * 2, sizeof(*pos));
            if (!np) {
                rc = sp_diag_set(d, SP_ENOMEM, "positions");
                goto out_close;
            }
            pos = np;
            cap *= 2;
        }
        q.id = (uint32_t)n;
        pos[n++] = q;
    }
    if (ferror(fp)) {
        rc = sp_diag_set(d, SP_EIO, "%s: read error", path);
        goto out_close;
    }
    if (!header) {
        rc = sp_diag_set(d, SP_EPARSE, "%s: empty file (no header)", path);
        goto out_close;
    }
    if (n == 0) {
        rc = sp_diag_set(d, SP_EINVAL, "%s: no usable position (%llu rejected)", path,
                         (unsigned long long)r.rejected);
        goto out_close;
    }
    rc = sp_sim_pop_from(pos, n, venue, &p, d);
    if (rc == SP_OK)
        *out = p;
out_close:
    fclose(fp);
    sp_free(pos);
    if (rejected)
        *rejected = r.rejected;
    return rc;
}
