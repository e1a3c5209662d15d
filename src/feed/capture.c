/*
 * capture.c -- recorded WebSocket / REST captures and raw message streams.
 *
 * Formats (line-framed, one record per line):
 *   binance-ws-capture    cryptofeed "<recv epoch s>: <exact JSON>" lines of
 *                         a Binance USD-M connection; the first line names
 *                         the connection ("wss://... <-> <epoch>") and is
 *                         not a record.
 *   binance-rest-capture  cryptofeed "<url> -> <epoch>: <JSON>" lines of the
 *                         REST depth snapshots; the symbol comes from the
 *                         url's symbol= parameter.
 *   bybit-capture         cryptofeed JSONL {"t":"recv"|"send"|"http"|
 *                         "connect"|"header","conn","ts","data":"<frame>"}
 *                         (plain or .zst); "recv" frames are decoded with a
 *                         per-connection Bybit context (spot connections are
 *                         recognised by their "connect" address); other
 *                         record types carry no market data and are skipped.
 *                         The outer record is read with the same scanner
 *                         and the frame text unescaped before the decoder.
 *   binance-ws-jsonl, bybit-jsonl, okx-jsonl: one raw message per line.
 */
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"

/* Parse "<seconds>[.<fraction>]" (up to 9 places) as ns. */
static sp_err epoch_s(const char *p, size_t n, int64_t *ns, sp_diag *d)
{
    sp_err rc = sp_dec_parse_ex(p, n, 9, SP_DEC_NO_NEG, SP_RND_EXACT, ns, d);
    if (rc != SP_OK)
        sp_diag_field(d, "recv_epoch");
    return rc;
}

/* Emit the scratch events of one decoded message. */
static sp_err emit_scratch(sp__feed_run *r, size_t n)
{
    return sp__feed_emit(r, sp__feed_scratch(r), n);
}

/* Shift a message-relative column to a line-relative one. */
static void shift(sp_diag *d, size_t by)
{
    if (d->column)
        d->column += by;
    else
        d->column = by + 1;
}

static sp_err ws_capture_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                              sp_diag *d, bool *fatal)
{
    (void)fatal;
    if (lineno == 1 && n > 6 && memcmp(line, "wss://", 6) == 0)
        return SP_OK; /* connection header */
    const char *colon = memchr(line, ':', n);
    if (colon == NULL || (size_t)(colon - line) + 2 > n || colon[1] != ' ') {
        sp_diag_field(d, "line");
        return sp_diag_set(d, SP_EPARSE, "expected \"<epoch>: <json>\"");
    }
    int64_t lts;
    sp_err rc = epoch_s(line, (size_t)(colon - line), &lts, d);
    if (rc != SP_OK)
        return rc;
    size_t off = (size_t)(colon - line) + 2;
    size_t got;
    rc = sp_feed_binance_ws(line + off, n - off, lts, sp__feed_syms(r), sp__feed_scratch(r),
                            SP_FEED_MSG_EVENTS_MAX, &got, d);
    if (rc != SP_OK) {
        shift(d, off);
        return rc;
    }
    return emit_scratch(r, got);
}

static sp_err rest_capture_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                sp_diag *d, bool *fatal)
{
    (void)lineno;
    (void)fatal;
    /* <url> -> <epoch>: <json> */
    const char *arrow = NULL;
    for (size_t i = 0; i + 4 <= n; i++) {
        if (memcmp(line + i, " -> ", 4) == 0) {
            arrow = line + i;
            break;
        }
    }
    if (arrow == NULL) {
        sp_diag_field(d, "line");
        return sp_diag_set(d, SP_EPARSE, "expected \"<url> -> <epoch>: <json>\"");
    }
    size_t ul = (size_t)(arrow - line);
    const char *sym = NULL;
    size_t sl = 0;
    for (size_t i = 0; i + 7 <= ul; i++) {
        if (memcmp(line + i, "symbol=", 7) == 0) {
            sym = line + i + 7;
            while (sym + sl < arrow && sym[sl] != '&')
                sl++;
            break;
        }
    }
    if (sym == NULL || sl == 0) {
        sp_diag_field(d, "url");
        return sp_diag_set(d, SP_ENOTFOUND, "no symbol= in the request url");
    }
    sp_venue venue;
    if (ul > 24 && memcmp(line, "https://fapi.binance.com", 24) == 0)
        venue = SP_VENUE_BINANCE_UM;
    else if (ul > 23 && memcmp(line, "https://api.binance.com", 23) == 0)
        venue = SP_VENUE_BINANCE_SPOT;
    else {
        sp_diag_field(d, "url");
        return sp_diag_set(d, SP_EUNKNOWN_KIND, "not a Binance REST depth url");
    }
    const char *ep = arrow + 4;
    const char *colon = memchr(ep, ':', (size_t)(line + n - ep));
    if (colon == NULL || colon + 2 > line + n || colon[1] != ' ') {
        sp_diag_field(d, "line");
        return sp_diag_set(d, SP_EPARSE, "expected \"<epoch>: <json>\" after the url");
    }
    int64_t lts;
    sp_err rc = epoch_s(ep, (size_t)(colon - ep), &lts, d);
    if (rc != SP_OK)
        return rc;
    uint32_t id;
    if ((rc = sp_symtab_intern(sp__feed_syms(r), sym, sl, &id)) != SP_OK) {
        sp_diag_field(d, "symbol");
        return sp_diag_set(d, rc, "bad symbol in the url");
    }
    size_t off = (size_t)(colon - line) + 2;
    size_t got;
    rc = sp_feed_binance_depth_snapshot(line + off, n - off, id, venue, lts, sp__feed_scratch(r),
                                        SP_FEED_MSG_EVENTS_MAX, &got, d);
    if (rc != SP_OK) {
        shift(d, off);
        return rc;
    }
    return emit_scratch(r, got);
}

/* ---- Bybit capture (JSONL) --------------------------------------------- */

#define BYBIT_CONNS 16

typedef struct bybit_state {
    struct {
        char name[48];
        sp_feed_bybit *ctx;
    } conn[BYBIT_CONNS];
    size_t n;
    char *frame; /* SP_MSG_MAX bytes: one unescaped frame */
} bybit_state;

static void bybit_state_fini(void *st)
{
    bybit_state *b = st;
    for (size_t i = 0; i < b->n; i++)
        sp_feed_bybit_free(b->conn[i].ctx);
    sp_free(b->frame);
}

/* The context of connection `name`, created (spot or not) on first sight. */
static sp_err bybit_conn(bybit_state *b, const char *name, bool spot, bool create,
                         sp_feed_bybit **out)
{
    for (size_t i = 0; i < b->n; i++) {
        if (strcmp(b->conn[i].name, name) == 0) {
            *out = b->conn[i].ctx;
            return SP_OK;
        }
    }
    if (!create)
        return SP_ENOTFOUND;
    if (b->n == BYBIT_CONNS || strlen(name) >= sizeof(b->conn[0].name))
        return SP_ETOOBIG;
    sp_err rc = sp_feed_bybit_new(spot, &b->conn[b->n].ctx);
    if (rc != SP_OK)
        return rc;
    memcpy(b->conn[b->n].name, name, strlen(name) + 1);
    *out = b->conn[b->n++].ctx;
    return SP_OK;
}

/* Unescape a JSON string body v[0..n) into out (cap bytes).  OUT: *on. */
static sp_err unescape(const char *v, size_t n, char *out, size_t cap, size_t *on)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 4 > cap)
            return SP_ETOOBIG;
        if (v[i] != '\\') {
            out[o++] = v[i];
            continue;
        }
        char e = v[++i]; /* the scanner validated every escape */
        switch (e) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned cp = 0;
            for (int k = 1; k <= 4; k++) {
                char h = v[i + (size_t)k];
                cp = cp * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            i += 4;
            /* frames are ASCII JSON; other code points are kept as UTF-8 (surrogates as-is) */
            if (cp < 0x80) {
                out[o++] = (char)cp;
            } else if (cp < 0x800) {
                out[o++] = (char)(0xc0 | (cp >> 6));
                out[o++] = (char)(0x80 | (cp & 0x3f));
            } else {
                out[o++] = (char)(0xe0 | (cp >> 12));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[o++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default: /* " \ / */
            out[o++] = e;
            break;
        }
    }
    *on = o;
    return SP_OK;
}

/*
 * The outer record is read with the same scanner (its "ts" is a JSON number
 * of seconds with microseconds, taken exactly from its text, never through a
 * float) and the frame text is unescaped into the run's frame buffer.
 */
static sp_err bybit_capture_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                 sp_diag *d, bool *fatal)
{
    (void)lineno;
    bybit_state *st = sp__feed_state(r);
    sp__js s;
    sp__jsobj o;
    sp__js_obj_init(&o);
    sp__js_init(&s, line, n, d);
    sp_err rc = sp__js_obj(&s, &o);
    if (rc == SP_OK)
        rc = sp__js_end(&s);
    if (rc != SP_OK)
        return rc;
    const char *t, *conn;
    size_t tn, cn;
    if ((rc = sp__js_str(&s, &o, "t", &t, &tn)) != SP_OK)
        return rc;
#define T_IS(lit) (tn == sizeof(lit) - 1 && memcmp(t, lit, tn) == 0)
    if (T_IS("header") || T_IS("send") || T_IS("http"))
        return SP_OK; /* no market data: our own requests, reference REST pages */
    if ((rc = sp__js_str(&s, &o, "conn", &conn, &cn)) != SP_OK)
        return rc;
    char cname[48];
    if (cn >= sizeof(cname))
        return sp__js_fail(&s, conn, "conn", SP_ETOOBIG, "connection name too long");
    memcpy(cname, conn, cn);
    cname[cn] = '\0';
    sp_feed_bybit *ctx;
    if (T_IS("connect")) {
        const char *addr;
        size_t an;
        if ((rc = sp__js_str(&s, &o, "addr", &addr, &an)) != SP_OK)
            return rc;
        bool spot = an >= 12 && memcmp(addr + an - 12, "/public/spot", 12) == 0;
        rc = bybit_conn(st, cname, spot, true, &ctx);
        if (rc != SP_OK) {
            *fatal = rc == SP_ENOMEM;
            return sp_diag_set(d, rc, "cannot track connection \"%s\"", cname);
        }
        return SP_OK;
    }
    if (!T_IS("recv"))
        return sp__js_fail(&s, t, "t", SP_EUNKNOWN_KIND, "unknown capture record type \"%.*s\"",
                           (int)(tn > 20 ? 20 : tn), t);
#undef T_IS
    int64_t lts;
    const sp__jsf *ts = sp__js_get(&o, "ts");
    if (ts == NULL || ts->type != JS_NUM)
        return sp__js_fail(&s, ts ? ts->v : line, "ts", ts ? SP_EPARSE : SP_ENOTFOUND,
                           "receive time \"ts\" must be a number of seconds");
    if ((rc = sp__js_dec_span(&s, ts->v, ts->vn, "ts", 9, &lts)) != SP_OK)
        return rc;
    if (bybit_conn(st, cname, false, false, &ctx) != SP_OK) {
        /* a capture cut before its connect record: assume a linear connection */
        if ((rc = bybit_conn(st, cname, false, true, &ctx)) != SP_OK) {
            *fatal = rc == SP_ENOMEM;
            return sp_diag_set(d, rc, "cannot track connection \"%s\"", cname);
        }
    }
    const sp__jsf *df = sp__js_get(&o, "data");
    if (df == NULL || df->type != JS_STR)
        return sp__js_fail(&s, df ? df->v : line, "data", df ? SP_EPARSE : SP_ENOTFOUND,
                           "recv record without a \"data\" string");
    if (st->frame == NULL) {
        st->frame = sp_malloc(SP_MSG_MAX);
        if (st->frame == NULL) {
            *fatal = true;
            return sp_diag_set(d, SP_ENOMEM, "out of memory");
        }
    }
    size_t fl;
    if (unescape(df->v, df->vn, st->frame, SP_MSG_MAX, &fl) != SP_OK)
        return sp__js_fail(&s, df->v, "data", SP_ETOOBIG, "frame longer than %u bytes",
                           (unsigned)SP_MSG_MAX);
    size_t got;
    rc = sp_feed_bybit_v5(ctx, st->frame, fl, lts, sp__feed_syms(r), sp__feed_scratch(r),
                          SP_FEED_MSG_EVENTS_MAX, &got, d);
    if (rc != SP_OK) {
        /* the decoder's column is inside the unescaped frame: report the frame's start */
        d->column = (uint64_t)(df->v - line) + 1;
        return rc;
    }
    return emit_scratch(r, got);
}

/* ---- raw message streams ----------------------------------------------- */

static sp_err binance_jsonl_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                 sp_diag *d, bool *fatal)
{
    (void)lineno;
    (void)fatal;
    size_t got;
    sp_err rc = sp_feed_binance_ws(line, n, 0, sp__feed_syms(r), sp__feed_scratch(r),
                                   SP_FEED_MSG_EVENTS_MAX, &got, d);
    return rc == SP_OK ? emit_scratch(r, got) : rc;
}

static sp_err bybit_jsonl_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                               sp_diag *d, bool *fatal)
{
    (void)lineno;
    bybit_state *st = sp__feed_state(r);
    sp_feed_bybit *ctx;
    sp_err rc = bybit_conn(st, "jsonl", false, true, &ctx);
    if (rc != SP_OK) {
        *fatal = true;
        return sp_diag_set(d, rc, "out of memory");
    }
    size_t got;
    rc = sp_feed_bybit_v5(ctx, line, n, 0, sp__feed_syms(r), sp__feed_scratch(r),
                          SP_FEED_MSG_EVENTS_MAX, &got, d);
    return rc == SP_OK ? emit_scratch(r, got) : rc;
}

static sp_err okx_jsonl_line(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                             sp_diag *d, bool *fatal)
{
    (void)lineno;
    (void)fatal;
    size_t got;
    sp_err rc = sp_feed_okx_v5(line, n, 0, sp__feed_syms(r), sp__feed_scratch(r),
                               SP_FEED_MSG_EVENTS_MAX, &got, d);
    return rc == SP_OK ? emit_scratch(r, got) : rc;
}

const sp__feed_format sp__feed_fmt_capture[] = {
    {"binance-ws-capture", "cryptofeed Binance USD-M WebSocket capture (<epoch>: <json>)",
     ws_capture_line, NULL, 0, NULL, NULL},
    {"binance-rest-capture",
     "cryptofeed Binance REST depth-snapshot capture (<url> -> <epoch>: ..)", rest_capture_line,
     NULL, 0, NULL, NULL},
    {"bybit-capture", "cryptofeed Bybit v5 JSONL capture (.jsonl or .jsonl.zst)",
     bybit_capture_line, NULL, sizeof(bybit_state), bybit_state_fini, NULL},
    {"binance-ws-jsonl", "Binance USD-M WebSocket messages, one per line", binance_jsonl_line, NULL,
     0, NULL, NULL},
    {"bybit-jsonl", "Bybit v5 public frames, one per line", bybit_jsonl_line, NULL,
     sizeof(bybit_state), bybit_state_fini, NULL},
    {"okx-jsonl", "OKX v5 public messages, one per line", okx_jsonl_line, NULL, 0, NULL, NULL},
    {NULL, NULL, NULL, NULL, 0, NULL, NULL},
};
