/*
 * replay_server.c -- a loopback WebSocket server that plays the shipped
 * captures like the venue would (live.h), for the connector's tests and
 * benchmark and for `stampede replay-server`.
 *
 * Captures are loaded whole into playlists keyed by the venue path a
 * client connects to:
 *   /stream, /ws...       Binance USD-M, from a cryptofeed "<epoch>: <json>"
 *                         ws capture (combined-stream frames)
 *   /v5/public/linear     Bybit v5, from the cryptofeed JSONL capture
 *   /v5/public/spot       (plain or .zst): "recv" frames of the connection
 *                         whose "connect" address has that path
 * A session plays the frames whose stream ("stream" of Binance, "topic"
 * of Bybit) it subscribed to, in capture order, at recorded timing / N
 * or back to back; it answers subscribe and ping messages as the venue
 * documents them.  Playback is a market: each playlist has one position
 * (the furthest frame any session reached) and a new session resumes
 * where the previous one of the same path ended, so a client that
 * reconnects loses only what it missed.
 *
 * REST: GET /fapi/v1/depth?symbol=S&limit=N answers from the REST
 * capture while the market has not passed that snapshot; later it answers
 * a snapshot rebuilt from the captured one plus every depth update the
 * market passed (Binance USD-M rule: updates with u < lastUpdateId are
 * older than the snapshot), up to and including the symbol's next depth
 * message, whose final id u becomes lastUpdateId -- so that message
 * covers the snapshot (U <= lastUpdateId <= u) as on the real venue.
 *
 * Faults (grammar in live.h) count data frames sent by the whole server.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <zstd.h>

#include "stampede/alloc.h"
#include "stampede/buf.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"
#include "stampede/limits.h"
#include "stampede/live.h"

#define PLAYLISTS 4
#define KEY_MAX   64
#define SUBS_MAX  1024

typedef struct level {
    int64_t px;  /* SP_EV_PX_SCALE */
    int64_t qty; /* SP_EV_QTY_SCALE */
} level;

typedef struct levels {
    level *v;
    size_t n, cap;
} levels;

typedef struct frame {
    int64_t ts_ns;        /* recorded receive time */
    char *text;           /* owned */
    size_t n;             /* bytes */
    char key[KEY_MAX];    /* stream / topic, "" = none (not played) */
    int sym;              /* depth message: index into s->bsyms, -1 otherwise */
    bool snap;            /* Bybit orderbook snapshot (resets the book) */
    int64_t seq;          /* Bybit orderbook seq */
    int64_t first, last;  /* Binance depth U, u */
    int64_t exch_ms;      /* Binance depth E (ms) */
    size_t lev_at, lev_n; /* Binance depth levels in s->lev */
} frame;

typedef struct playlist {
    char path[32];
    frame *f;
    size_t n, cap;
    size_t resume; /* where the next session starts */
    size_t market; /* furthest frame any session passed */
} playlist;

/*
 * One order book the market implies: a Binance symbol (captured REST
 * snapshot + diffs) or a Bybit orderbook topic (snapshot + deltas).
 */
typedef struct bsym {
    char name[SP_SYMBOL_MAX + 1]; /* exchange symbol */
    char topic[KEY_MAX];          /* Bybit topic, "" for Binance */
    const struct playlist *pl;    /* Bybit: its playlist */
    uint32_t id;
    size_t first_snap; /* Bybit: 1 + index of the topic's first snapshot frame, 0 none */
    int64_t last_u, last_seq, last_ms; /* Bybit: of the last frame applied */
    char *snap;                        /* captured REST body (owned), NULL if none */
    size_t snap_n;
    int64_t snap_id; /* its lastUpdateId */
    levels bids, asks;
    size_t upto; /* playlist frames [0, upto) applied to bids/asks */
} bsym;

typedef struct session {
    sp_replay_server *s;
    playlist *pl;
    size_t cur;
    bool ws, streaming;
    char **subs;
    size_t nsubs;
    char *reply[64]; /* control replies waiting to be sent (owned) */
    char *snap[16];  /* Bybit snapshots to queue after the subscribe reply (owned) */
    size_t nsnap;
    size_t nreply;
    uint64_t skip_depth, burst_left;
    bool drop_pending;   /* drop fault: close at the next writeable */
    int64_t stall_until; /* monotonic ns */
    int64_t base_mono;   /* pacing: monotonic time of base_ts */
    int64_t base_ts;     /* pacing: recorded time played at base_mono */
    char *http;          /* REST body (owned) */
    size_t http_n;
} session;

struct sp_replay_server {
    sp_replay_opts o;
    sp_fault faults[SP_LIVE_FAULTS_MAX];
    bool fired[SP_LIVE_FAULTS_MAX];
    playlist pl[PLAYLISTS];
    size_t npl;
    bsym *bsyms;
    size_t nbsyms;
    level *lev;    /* all Binance depth levels of the playlist, in frame order */
    uint8_t *side; /* per level: 1 = ask */
    size_t nlev, caplev;
    sp_symtab *syms;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    int port;
    lws_sorted_usec_list_t sul;
    volatile sig_atomic_t *stop;
    bool done;
    sp_replay_stats st;
};

/* ---- loading ------------------------------------------------------------- */

/* The playlist served at `path`, created on first use; NULL when all PLAYLISTS are taken. */
static playlist *playlist_for(sp_replay_server *s, const char *path)
{
    for (size_t i = 0; i < s->npl; i++) {
        if (strcmp(s->pl[i].path, path) == 0)
            return &s->pl[i];
    }
    if (s->npl == PLAYLISTS)
        return NULL;
    playlist *p = &s->pl[s->npl++];
    snprintf(p->path, sizeof(p->path), "%s", path);
    return p;
}

/* The value of `"name":"` in t[0..n) within its first 200 bytes. */
static void key_of(const char *t, size_t n, const char *name, char *out)
{
    out[0] = '\0';
    size_t nl = strlen(name), lim = n < 200 ? n : 200;
    for (size_t i = 0; i + nl + 4 < lim; i++) {
        if (t[i] == '"' && memcmp(t + i + 1, name, nl) == 0 && t[i + 1 + nl] == '"' &&
            t[i + 2 + nl] == ':' && t[i + 3 + nl] == '"') {
            const char *v = t + i + 4 + nl;
            size_t k = 0;
            while (v + k < t + n && v[k] != '"' && k + 1 < KEY_MAX)
                k++;
            memcpy(out, v, k);
            out[k] = '\0';
            return;
        }
    }
}

/* Room for one more level in L (256 first, then doubling). */
static sp_err levels_reserve(levels *L)
{
    if (L->n < L->cap)
        return SP_OK;
    size_t nc = L->cap ? L->cap * 2 : 256;
    level *nv = sp_reallocarray(L->v, nc, sizeof(*nv));
    if (nv == NULL)
        return SP_ENOMEM;
    L->v = nv;
    L->cap = nc;
    return SP_OK;
}

/*
 * Append a frame (text copied) to p.  keyname names the JSON member whose
 * string value is the frame's stream key ("stream" for Binance, "topic" for
 * Bybit, "" when the caller sets it, as for OKX).
 */
static sp_err push_frame(playlist *p, int64_t ts, const char *text, size_t n, const char *keyname)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 1024;
        frame *nf = sp_reallocarray(p->f, nc, sizeof(*nf));
        if (nf == NULL)
            return SP_ENOMEM;
        p->f = nf;
        p->cap = nc;
    }
    frame *f = &p->f[p->n];
    memset(f, 0, sizeof(*f));
    if ((f->text = sp_strndup(text, n)) == NULL)
        return SP_ENOMEM;
    f->n = n;
    f->ts_ns = ts;
    f->sym = -1;
    if (keyname[0])
        key_of(text, n, keyname, f->key);
    p->n++;
    return SP_OK;
}

/* Read a whole capture into memory, decompressing it when it starts with the zstd magic. */
static sp_err read_all(const char *path, char **out, size_t *n, sp_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sp_diag_set(d, SP_EIO, "cannot open %s", path);
    sp_buf b;
    sp_buf_init(&b, 1u << 30);
    char tmp[65536];
    size_t got;
    sp_err rc = SP_OK;
    while (rc == SP_OK && (got = fread(tmp, 1, sizeof(tmp), f)) > 0)
        rc = sp_buf_append(&b, tmp, got);
    if (rc == SP_OK && ferror(f))
        rc = SP_EIO;
    fclose(f);
    if (rc != SP_OK) {
        sp_buf_fini(&b);
        return sp_diag_set(d, rc, "cannot read %s", path);
    }
    size_t len = b.len;
    if (len > 4 && memcmp(b.data, "\x28\xb5\x2f\xfd", 4) == 0) {
        /* .zst: decompress in streaming fashion */
        sp_buf z;
        sp_buf_init(&z, 1u << 30);
        ZSTD_DStream *ds = ZSTD_createDStream();
        if (ds == NULL) {
            sp_buf_fini(&b);
            return sp_diag_set(d, SP_ENOMEM, "out of memory");
        }
        ZSTD_initDStream(ds);
        ZSTD_inBuffer in = {b.data, len, 0};
        while (rc == SP_OK && in.pos < in.size) {
            ZSTD_outBuffer ob = {tmp, sizeof(tmp), 0};
            size_t r = ZSTD_decompressStream(ds, &ob, &in);
            if (ZSTD_isError(r))
                rc = sp_diag_set(d, SP_EPARSE, "%s: %s", path, ZSTD_getErrorName(r));
            else
                rc = sp_buf_append(&z, tmp, ob.pos);
        }
        ZSTD_freeDStream(ds);
        sp_buf_fini(&b);
        if (rc != SP_OK) {
            sp_buf_fini(&z);
            return rc;
        }
        b = z;
        len = z.len;
    }
    if (b.data == NULL) {
        sp_buf_fini(&b);
        return sp_diag_set(d, SP_EPARSE, "%s is empty", path);
    }
    *out = b.data;
    *n = len;
    return SP_OK;
}

/* "<s>.<fraction>" receive time as ns (exact, up to 9 places); 0 when unreadable. */
static int64_t epoch_ns(const char *p, size_t n)
{
    int64_t v = 0;
    if (sp_dec_parse_ex(p, n, 9, SP_DEC_NO_NEG, SP_RND_EXACT, &v, NULL) != SP_OK)
        return 0;
    return v;
}

/* A zeroed book appended past s->nbsyms (the caller fills it, then counts it).  OUT: *b. */
static sp_err bsym_add(sp_replay_server *s, bsym **b)
{
    bsym *nb = sp_reallocarray(s->bsyms, s->nbsyms + 1, sizeof(*nb));
    if (nb == NULL)
        return SP_ENOMEM;
    s->bsyms = nb;
    *b = &nb[s->nbsyms];
    memset(*b, 0, sizeof(**b));
    return SP_OK;
}

/* The Binance book of interned symbol id, created on first sight.  OUT: *out index. */
static sp_err bsym_for(sp_replay_server *s, uint32_t id, int *out)
{
    for (size_t i = 0; i < s->nbsyms; i++) {
        if (s->bsyms[i].id == id) {
            *out = (int)i;
            return SP_OK;
        }
    }
    bsym *b;
    if (bsym_add(s, &b) != SP_OK)
        return SP_ENOMEM;
    b->id = id;
    snprintf(b->name, sizeof(b->name), "%s", sp_symtab_name(s->syms, id));
    *out = (int)s->nbsyms++;
    return SP_OK;
}

/* The book of Bybit topic `topic` on playlist pl, created on first sight. */
static sp_err book_for(sp_replay_server *s, const playlist *pl, const char *topic, const char *sym,
                       int *out)
{
    for (size_t i = 0; i < s->nbsyms; i++) {
        if (s->bsyms[i].pl == pl && strcmp(s->bsyms[i].topic, topic) == 0) {
            *out = (int)i;
            return SP_OK;
        }
    }
    bsym *b;
    if (bsym_add(s, &b) != SP_OK)
        return SP_ENOMEM;
    b->pl = pl;
    snprintf(b->topic, sizeof(b->topic), "%s", topic);
    if (strncmp(sym, "spot:", 5) == 0)
        sym += 5;
    snprintf(b->name, sizeof(b->name), "%s", sym);
    *out = (int)s->nbsyms++;
    return SP_OK;
}

/* Append one decoded depth level to the shared level array (frames index into it). */
static sp_err push_level(sp_replay_server *s, int64_t px, int64_t qty, bool sell)
{
    if (s->nlev == s->caplev) {
        size_t nc = s->caplev ? s->caplev * 2 : 4096;
        level *nl = sp_reallocarray(s->lev, nc, sizeof(*nl));
        if (nl == NULL)
            return SP_ENOMEM;
        s->lev = nl;
        uint8_t *ns = sp_realloc(s->side, nc);
        if (ns == NULL)
            return SP_ENOMEM;
        s->side = ns;
        s->caplev = nc;
    }
    s->lev[s->nlev].px = px;
    s->lev[s->nlev].qty = qty;
    s->side[s->nlev++] = sell ? 1 : 0;
    return SP_OK;
}

/* The got decoded levels of ev as frame f's levels (appended to the shared array). */
static sp_err frame_levels(sp_replay_server *s, frame *f, const sp_event *ev, size_t got)
{
    f->lev_at = s->nlev;
    for (size_t i = 0; i < got; i++) {
        sp_err rc = push_level(s, ev[i].px, ev[i].qty, ev[i].flags & SP_EVF_SELL);
        if (rc != SP_OK)
            return rc;
    }
    f->lev_n = got;
    return SP_OK;
}

/* Decode a Binance depth frame's levels into s->lev (the server's book input). */
static sp_err index_depth(sp_replay_server *s, frame *f, sp_event *ev)
{
    size_t got = 0;
    sp_err rc =
        sp_feed_binance_ws(f->text, f->n, 0, s->syms, ev, SP_FEED_MSG_EVENTS_MAX, &got, NULL);
    if (rc == SP_ENOMEM)
        return rc;
    if (rc != SP_OK || got == 0 || ev[0].kind != SP_EV_DEPTH_UPDATE)
        return SP_OK; /* not a depth message (or a bad one: played as is) */
    rc = bsym_for(s, ev[0].symbol_id, &f->sym);
    if (rc != SP_OK)
        return rc;
    f->first = ev[0].aux[0];
    f->last = ev[0].aux[1];
    f->exch_ms = ev[0].exch_ts_ns / 1000000;
    return frame_levels(s, f, ev, got);
}

/* Decode a Bybit orderbook frame's levels (the server's book input). */
static sp_err index_bybit(sp_replay_server *s, playlist *p, sp_feed_bybit *ctx, frame *f,
                          sp_event *ev)
{
    size_t got = 0;
    sp_err rc =
        sp_feed_bybit_v5(ctx, f->text, f->n, 0, s->syms, ev, SP_FEED_MSG_EVENTS_MAX, &got, NULL);
    if (rc == SP_ENOMEM)
        return rc;
    if (rc != SP_OK || got == 0 || strncmp(f->key, "orderbook.", 10) != 0 ||
        (ev[0].kind != SP_EV_BOOK_LEVEL && ev[0].kind != SP_EV_DEPTH_UPDATE))
        return SP_OK; /* not an orderbook message (or a bad one: played as is) */
    rc = book_for(s, p, f->key, sp_symtab_name(s->syms, ev[0].symbol_id), &f->sym);
    if (rc != SP_OK)
        return rc;
    f->snap = ev[0].kind == SP_EV_BOOK_LEVEL;
    f->first = f->last = ev[0].aux[0];
    f->seq = ev[0].aux[2];
    f->exch_ms = ev[0].exch_ts_ns / 1000000;
    bsym *b = &s->bsyms[f->sym];
    if (f->snap && b->first_snap == 0)
        b->first_snap = (size_t)(f - p->f) + 1;
    return frame_levels(s, f, ev, got);
}

/* The line of buf[0, n) at *at (without its '\n'), *at moved past it.  OUT: *ln its length. */
static char *next_line(char *buf, size_t n, size_t *at, size_t *ln)
{
    char *line = buf + *at;
    char *nl = memchr(line, '\n', n - *at);
    *ln = nl ? (size_t)(nl - line) : n - *at;
    *at += *ln + 1;
    return line;
}

/* A cryptofeed "<epoch>: <json>" Binance capture -> the /stream playlist, depth indexed. */
static sp_err load_binance_ws(sp_replay_server *s, char *buf, size_t n, sp_diag *d)
{
    playlist *p = playlist_for(s, "/stream");
    if (p == NULL)
        return sp_diag_set(d, SP_ETOOBIG, "too many playlists");
    sp_event *ev = sp_calloc(SP_FEED_MSG_EVENTS_MAX, sizeof(*ev));
    if (ev == NULL)
        return SP_ENOMEM;
    sp_err rc = SP_OK;
    for (size_t at = 0; at < n && rc == SP_OK;) {
        size_t ln;
        const char *line = next_line(buf, n, &at, &ln);
        const char *colon = memchr(line, ':', ln);
        if (ln == 0 || memcmp(line, "wss://", 6) == 0 || colon == NULL || colon + 2 > line + ln)
            continue;
        size_t off = (size_t)(colon - line) + 2;
        rc = push_frame(p, epoch_ns(line, (size_t)(colon - line)), line + off, ln - off, "stream");
        if (rc == SP_OK)
            rc = index_depth(s, &p->f[p->n - 1], ev);
    }
    sp_free(ev);
    return rc;
}

/*
 * A cryptofeed REST capture: the first depth snapshot of each symbol is
 * kept as captured (served verbatim) and seeds that symbol's book.
 */
static sp_err load_binance_rest(sp_replay_server *s, char *buf, size_t n, sp_diag *d)
{
    sp_event *ev = sp_calloc(SP_FEED_MSG_EVENTS_MAX, sizeof(*ev));
    if (ev == NULL)
        return SP_ENOMEM;
    sp_err rc = SP_OK;
    for (size_t at = 0; at < n && rc == SP_OK;) {
        size_t ln;
        char *line = next_line(buf, n, &at, &ln);
        char *sym = memmem(line, ln, "symbol=", 7);
        char *body = memmem(line, ln, ": {", 3);
        if (sym == NULL || body == NULL)
            continue;
        sym += 7;
        size_t sl = 0;
        while (sym + sl < line + ln && sym[sl] != '&' && sym[sl] != ' ')
            sl++;
        uint32_t id;
        if (sl == 0 || sl > SP_SYMBOL_MAX)
            continue;
        if ((rc = sp_symtab_intern(s->syms, sym, sl, &id)) != SP_OK) {
            if (rc == SP_ENOMEM)
                break;
            rc = SP_OK;
            continue;
        }
        int bi;
        if ((rc = bsym_for(s, id, &bi)) != SP_OK)
            break;
        bsym *b = &s->bsyms[bi];
        if (b->snap != NULL)
            continue; /* the first snapshot of a symbol is the one replayed */
        body += 2;
        size_t bn = (size_t)(line + ln - body), got = 0;
        rc = sp_feed_binance_depth_snapshot(body, bn, id, SP_VENUE_BINANCE_UM, 0, ev,
                                            SP_FEED_MSG_EVENTS_MAX, &got, NULL);
        if (rc == SP_ENOMEM)
            break;
        if (rc != SP_OK) {
            rc = SP_OK; /* not a snapshot: nothing to serve for it */
            continue;
        }
        if ((b->snap = sp_strndup(body, bn)) == NULL) {
            rc = SP_ENOMEM;
            break;
        }
        b->snap_n = bn;
        b->snap_id = got ? ev[0].aux[0] : 0;
        for (size_t i = 0; i < got && rc == SP_OK; i++) {
            levels *L = (ev[i].flags & SP_EVF_SELL) ? &b->asks : &b->bids;
            if ((rc = levels_reserve(L)) != SP_OK)
                break;
            L->v[L->n].px = ev[i].px;
            L->v[L->n++].qty = ev[i].qty;
        }
    }
    sp_free(ev);
    if (rc != SP_OK)
        sp_diag_set(d, rc, "out of memory");
    return rc;
}

/*
 * A cryptofeed Bybit JSONL capture: "connect" records map each recorded
 * connection to the path it used (/v5/public/linear, /v5/public/spot);
 * its "recv" frames go to that playlist in order, orderbook topics indexed
 * with a decoder context per connection (tickers deltas need the state).
 */
static sp_err load_bybit(sp_replay_server *s, char *buf, size_t n, sp_diag *d)
{
    /* conn name -> playlist, from the "connect" records */
    char names[PLAYLISTS][48];
    playlist *pls[PLAYLISTS];
    sp_feed_bybit *ctx[PLAYLISTS] = {NULL};
    size_t nn = 0;
    sp_err rc = SP_OK;
    sp_event *ev = sp_calloc(SP_FEED_MSG_EVENTS_MAX, sizeof(*ev));
    if (ev == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    for (size_t at = 0; at < n && rc == SP_OK;) {
        size_t ln;
        const char *line = next_line(buf, n, &at, &ln);
        if (ln == 0)
            continue;
        json_t *r = json_loadb(line, ln, 0, NULL);
        if (r == NULL)
            continue;
        const char *t = json_string_value(json_object_get(r, "t"));
        const char *cn = json_string_value(json_object_get(r, "conn"));
        if (t && cn && strcmp(t, "connect") == 0 && nn < PLAYLISTS) {
            const char *addr = json_string_value(json_object_get(r, "addr"));
            const char *path = addr ? strstr(addr, "/v5/") : NULL;
            if (path && (pls[nn] = playlist_for(s, path)) != NULL) {
                rc = sp_feed_bybit_new(strstr(path, "spot") != NULL, &ctx[nn]);
                if (rc == SP_OK) {
                    snprintf(names[nn], sizeof(names[nn]), "%s", cn);
                    nn++;
                }
            }
        } else if (t && cn && strcmp(t, "recv") == 0) {
            json_t *data = json_object_get(r, "data");
            json_t *ts = json_object_get(r, "ts");
            for (size_t i = 0; i < nn && json_is_string(data); i++) {
                if (strcmp(names[i], cn) != 0)
                    continue;
                /* the recorded time, exact to the printed digits */
                char tsb[48];
                int w =
                    json_is_real(ts) ? snprintf(tsb, sizeof(tsb), "%.6f", json_real_value(ts)) : 0;
                int64_t tns = w > 0 ? epoch_ns(tsb, (size_t)w) : 0;
                rc = push_frame(pls[i], tns, json_string_value(data), json_string_length(data),
                                "topic");
                if (rc == SP_OK)
                    rc = index_bybit(s, pls[i], ctx[i], &pls[i]->f[pls[i]->n - 1], ev);
            }
        }
        json_decref(r);
    }
    for (size_t i = 0; i < nn; i++)
        sp_feed_bybit_free(ctx[i]);
    sp_free(ev);
    if (rc != SP_OK)
        sp_diag_set(d, rc, "out of memory");
    return rc;
}

/* OKX frame key "channel:instId" (or "channel:instType") from its "arg" object. */
static void okx_key(const char *t, size_t n, char *out)
{
    char ch[KEY_MAX], id[KEY_MAX];
    key_of(t, n, "channel", ch);
    key_of(t, n, "instId", id);
    if (id[0] == '\0')
        key_of(t, n, "instType", id);
    out[0] = '\0';
    size_t cl = strlen(ch), il = strlen(id);
    if (cl && il && cl + il + 2 <= KEY_MAX) {
        memcpy(out, ch, cl);
        out[cl] = ':';
        memcpy(out + cl + 1, id, il + 1);
    }
}

/* okx-jsonl: one OKX v5 public message per line, no receive times. */
static sp_err load_okx(sp_replay_server *s, char *buf, size_t n, sp_diag *d)
{
    playlist *p = playlist_for(s, "/ws/v5/public");
    if (p == NULL)
        return sp_diag_set(d, SP_ETOOBIG, "too many playlists");
    for (size_t at = 0; at < n;) {
        size_t ln;
        const char *line = next_line(buf, n, &at, &ln);
        if (ln == 0 || strncmp(line, "{\"arg\":", 7) != 0)
            continue; /* event replies are generated, not replayed */
        sp_err rc = push_frame(p, 0, line, ln, "");
        if (rc != SP_OK)
            return sp_diag_set(d, rc, "out of memory");
        okx_key(line, ln, p->f[p->n - 1].key);
    }
    return SP_OK;
}

/* Load one capture, its kind told by its first bytes. */
static sp_err load_capture(sp_replay_server *s, const char *path, sp_diag *d)
{
    char *buf;
    size_t n;
    sp_err rc = read_all(path, &buf, &n, d);
    if (rc != SP_OK)
        return rc;
    if (n > 6 && memcmp(buf, "wss://", 6) == 0)
        rc = load_binance_ws(s, buf, n, d);
    else if (n > 8 && memcmp(buf, "https://", 8) == 0)
        rc = load_binance_rest(s, buf, n, d);
    else if (n > 5 && memcmp(buf, "{\"t\":", 5) == 0)
        rc = load_bybit(s, buf, n, d);
    else if (n > 7 && memcmp(buf, "{\"arg\":", 7) == 0)
        rc = load_okx(s, buf, n, d);
    else
        rc = sp_diag_set(
            d, SP_EPARSE,
            "%s: not a capture the replay server plays (binance ws/REST, bybit, okx JSONL)", path);
    sp_free(buf);
    return rc;
}

/* ---- the Binance book the market implies ----------------------------------- */

/*
 * Set (qty > 0) or remove (qty 0) the level at px in a side kept sorted
 * best first (bids descending, asks ascending), by binary search.
 */
static sp_err set_level(levels *L, bool desc, int64_t px, int64_t qty)
{
    size_t lo = 0, hi = L->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        bool before = desc ? L->v[mid].px > px : L->v[mid].px < px;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    bool found = lo < L->n && L->v[lo].px == px;
    if (qty == 0) {
        if (found) {
            memmove(&L->v[lo], &L->v[lo + 1], (L->n - lo - 1) * sizeof(level));
            L->n--;
        }
        return SP_OK;
    }
    if (found) {
        L->v[lo].qty = qty;
        return SP_OK;
    }
    sp_err rc = levels_reserve(L);
    if (rc != SP_OK)
        return rc;
    memmove(&L->v[lo + 1], &L->v[lo], (L->n - lo) * sizeof(level));
    L->v[lo].px = px;
    L->v[lo].qty = qty;
    L->n++;
    return SP_OK;
}

/* Apply the symbol's depth frames [b->upto, to] of playlist p. */
/* Apply the book's frames from where it stopped through index `to` (monotonic). */
static sp_err advance_book(sp_replay_server *s, playlist *p, int bi, size_t to)
{
    bsym *b = &s->bsyms[bi];
    for (; b->upto <= to && b->upto < p->n; b->upto++) {
        const frame *f = &p->f[b->upto];
        if (f->sym != bi || f->last < b->snap_id)
            continue; /* another symbol, or older than the captured snapshot */
        if (f->snap)
            b->bids.n = b->asks.n = 0; /* a Bybit snapshot replaces the book */
        b->last_u = f->last;
        b->last_seq = f->seq;
        b->last_ms = f->exch_ms;
        for (size_t i = 0; i < f->lev_n; i++) {
            size_t k = f->lev_at + i;
            bool sell = s->side[k] != 0;
            sp_err rc = set_level(sell ? &b->asks : &b->bids, !sell, s->lev[k].px, s->lev[k].qty);
            if (rc != SP_OK)
                return rc;
        }
    }
    return SP_OK;
}

/* [["px","qty"],...] of the best `limit` levels, exact decimal text. */
static sp_err render_levels(sp_buf *o, const levels *L, size_t limit)
{
    sp_err rc = sp_buf_putc(o, '[');
    for (size_t i = 0; i < L->n && i < limit && rc == SP_OK; i++) {
        char px[SP_DEC_FMT_MAX], q[SP_DEC_FMT_MAX];
        sp_dec_format(L->v[i].px, SP_EV_PX_SCALE, SP_FMT_TRIM, px, sizeof(px));
        sp_dec_format(L->v[i].qty, SP_EV_QTY_SCALE, SP_FMT_TRIM, q, sizeof(q));
        rc = sp_buf_printf(o, "%s[\"%s\",\"%s\"]", i ? "," : "", px, q);
    }
    return rc == SP_OK ? sp_buf_putc(o, ']') : rc;
}

/* Both sides of a book: the bids' levels, `sep` (the asks' key), the asks' levels. */
static sp_err render_sides(sp_buf *o, const levels *bids, const char *sep, const levels *asks,
                           size_t limit)
{
    sp_err rc = render_levels(o, bids, limit);
    if (rc == SP_OK)
        rc = sp_buf_puts(o, sep);
    return rc == SP_OK ? render_levels(o, asks, limit) : rc;
}

/*
 * The body of GET /fapi/v1/depth for symbol `name` (rule in the file
 * comment): the captured snapshot while the market has not passed it,
 * else the implied book through the symbol's next depth message.
 */
static sp_err depth_body(sp_replay_server *s, const char *name, size_t limit, char **out, size_t *n)
{
    playlist *p = playlist_for(s, "/stream");
    bsym *b = NULL;
    int bi = -1;
    for (size_t i = 0; i < s->nbsyms; i++) {
        if (s->bsyms[i].topic[0] == '\0' && strcmp(s->bsyms[i].name, name) == 0) {
            b = &s->bsyms[i];
            bi = (int)i;
        }
    }
    if (b == NULL || b->snap == NULL || p == NULL)
        return SP_ENOTFOUND;
    size_t at = SIZE_MAX, last = SIZE_MAX;
    for (size_t i = 0; i < p->n; i++) {
        if (p->f[i].sym != bi)
            continue;
        last = i;
        if (i >= p->market) {
            at = i;
            break;
        }
    }
    if (at == SIZE_MAX)
        at = last;
    if (at == SIZE_MAX || p->f[at].last < b->snap_id) {
        *out = sp_strndup(b->snap, b->snap_n);
        *n = b->snap_n;
        return *out ? SP_OK : SP_ENOMEM;
    }
    sp_err rc = advance_book(s, p, bi, at);
    if (rc != SP_OK)
        return rc;
    sp_buf o;
    sp_buf_init(&o, 0);
    rc = sp_buf_printf(
        &o, "{\"lastUpdateId\":%" PRId64 ",\"E\":%" PRId64 ",\"T\":%" PRId64 ",\"bids\":",
        p->f[at].last, p->f[at].exch_ms, p->f[at].exch_ms);
    if (rc == SP_OK)
        rc = render_sides(&o, &b->bids, ",\"asks\":", &b->asks, limit);
    if (rc == SP_OK)
        rc = sp_buf_putc(&o, '}');
    if (rc != SP_OK) {
        sp_buf_fini(&o);
        return rc;
    }
    *out = o.data;
    *n = o.len;
    return SP_OK;
}

/*
 * Bybit v5 sends a snapshot of the book when an orderbook topic is
 * subscribed ("Orderbook": snapshot first, then deltas).  A session that
 * resumes past the capture's first snapshot of the topic gets the book the
 * market implies at its position, with u = the last delta passed, so the
 * next delta continues it (u + 1).  OUT: *out (owned), NULL when the
 * captured snapshot is still ahead (it will be played).
 */
static sp_err bybit_snapshot(sp_replay_server *s, playlist *p, size_t cur, const char *topic,
                             char **out)
{
    *out = NULL;
    int bi = -1;
    for (size_t i = 0; i < s->nbsyms; i++) {
        if (s->bsyms[i].pl == p && strcmp(s->bsyms[i].topic, topic) == 0)
            bi = (int)i;
    }
    if (bi < 0 || s->bsyms[bi].first_snap == 0 || cur < s->bsyms[bi].first_snap)
        return SP_OK;
    sp_err rc = advance_book(s, p, bi, cur - 1);
    if (rc != SP_OK)
        return rc;
    const bsym *b = &s->bsyms[bi];
    sp_buf o;
    sp_buf_init(&o, 0);
    rc = sp_buf_printf(&o,
                       "{\"topic\":\"%s\",\"type\":\"snapshot\",\"ts\":%" PRId64
                       ",\"data\":{\"s\":\"%s\",\"b\":",
                       b->topic, b->last_ms, b->name);
    if (rc == SP_OK)
        rc = render_sides(&o, &b->bids, ",\"a\":", &b->asks, SIZE_MAX);
    if (rc == SP_OK)
        rc = sp_buf_printf(&o, ",\"u\":%" PRId64 ",\"seq\":%" PRId64 "},\"cts\":%" PRId64 "}",
                           b->last_u, b->last_seq, b->last_ms);
    if (rc != SP_OK) {
        sp_buf_fini(&o);
        return rc;
    }
    *out = o.data;
    return SP_OK;
}

/* ---- sessions -------------------------------------------------------------- */

/* Queue an owned reply (freed if the queue is full). */
static void queue_owned(session *ss, char *text)
{
    if (ss->nreply < SP_COUNTOF(ss->reply))
        ss->reply[ss->nreply++] = text;
    else
        sp_free(text);
}

/* Hold a Bybit snapshot until the subscribe reply is queued (the venue's order). */
static void pending_snap(session *ss, char *snap)
{
    if (ss->nsnap < SP_COUNTOF(ss->snap))
        ss->snap[ss->nsnap++] = snap;
    else
        sp_free(snap);
}

/* Queue a copy of a control reply; dropped when the queue is full. */
static void queue_reply(session *ss, const char *text)
{
    if (ss->nreply < SP_COUNTOF(ss->reply) && (ss->reply[ss->nreply] = sp_strdup(text)) != NULL)
        ss->nreply++;
}

/* Is the stream key among the session's subscriptions? */
static bool subscribed(const session *ss, const char *key)
{
    if (key[0] == '\0')
        return false;
    for (size_t i = 0; i < ss->nsubs; i++) {
        if (strcmp(ss->subs[i], key) == 0)
            return true;
    }
    return false;
}

/* Add a subscription (ignored past SUBS_MAX or when present). */
static void add_sub(session *ss, const char *name)
{
    if (ss->nsubs == SUBS_MAX || subscribed(ss, name))
        return;
    char **ns = sp_reallocarray(ss->subs, ss->nsubs + 1, sizeof(*ns));
    if (ns == NULL)
        return;
    ss->subs = ns;
    if ((ns[ss->nsubs] = sp_strdup(name)) != NULL)
        ss->nsubs++;
}

/* A control message from the client: subscribe or ping, answered as the venue does. */
static void on_control(session *ss, const char *in, size_t len)
{
    bool bybit = strncmp(ss->pl ? ss->pl->path : "", "/v5/", 4) == 0;
    bool okx = strncmp(ss->pl ? ss->pl->path : "", "/ws/v5/", 7) == 0;
    if (len == 4 && memcmp(in, "ping", 4) == 0) {
        queue_reply(ss, "pong"); /* OKX text heartbeat */
        return;
    }
    json_t *r = json_loadb(in, len, 0, NULL);
    if (r == NULL)
        return;
    const char *method = json_string_value(json_object_get(r, "method"));
    const char *op = json_string_value(json_object_get(r, "op"));
    json_t *args = json_object_get(r, method ? "params" : "args");
    if ((method && strcmp(method, "SUBSCRIBE") == 0) || (op && strcmp(op, "subscribe") == 0)) {
        size_t i;
        json_t *a;
        char rep[256];
        json_array_foreach(args, i, a)
        {
            if (json_is_string(a)) {
                add_sub(ss, json_string_value(a));
                char *snap = NULL;
                if (bybit && ss->pl &&
                    bybit_snapshot(ss->s, ss->pl, ss->cur, json_string_value(a), &snap) == SP_OK &&
                    snap != NULL)
                    pending_snap(ss, snap);
            }
            if (!json_is_object(a))
                continue;
            /* OKX v5: {"channel":..,"instId"|"instType":..}, one reply per arg */
            const char *ch = json_string_value(json_object_get(a, "channel"));
            const char *id = json_string_value(json_object_get(a, "instId"));
            const char *ty = json_string_value(json_object_get(a, "instType"));
            if (ch == NULL || (id == NULL && ty == NULL))
                continue;
            snprintf(rep, sizeof(rep), "%s:%s", ch, id ? id : ty);
            add_sub(ss, rep);
            snprintf(rep, sizeof(rep),
                     "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"%s\",\"%s\":\"%s\"},"
                     "\"connId\":\"replay\"}",
                     ch, id ? "instId" : "instType", id ? id : ty);
            queue_reply(ss, rep);
        }
        ss->s->st.subscribe++;
        if (method) {
            snprintf(rep, sizeof(rep), "{\"result\":null,\"id\":%" JSON_INTEGER_FORMAT "}",
                     json_integer_value(json_object_get(r, "id")));
            queue_reply(ss, rep);
        } else if (!okx) {
            queue_reply(ss, "{\"success\":true,\"ret_msg\":\"\",\"conn_id\":\"replay\","
                            "\"op\":\"subscribe\"}");
        }
        for (size_t k = 0; k < ss->nsnap; k++)
            queue_owned(ss, ss->snap[k]);
        ss->nsnap = 0;
        if (!ss->streaming && ss->pl) {
            ss->streaming = true;
            ss->base_mono = sp_clock_mono_ns();
            ss->base_ts = ss->cur < ss->pl->n ? ss->pl->f[ss->cur].ts_ns : 0;
        }
    } else if (op && strcmp(op, "ping") == 0 && bybit) {
        queue_reply(ss, "{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"replay\",\"op\":"
                        "\"ping\"}");
    }
    json_decref(r);
}

/* One text frame; lws buffers what the socket does not take at once. */
static int write_text(struct lws *wsi, const char *t, size_t n)
{
    unsigned char *buf = sp_malloc(LWS_PRE + n);
    if (buf == NULL)
        return -1;
    memcpy(buf + LWS_PRE, t, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    sp_free(buf);
    return w < (int)n ? -1 : 0;
}

/* The unfired fault of kind k at data frame `at`, if any. */
static sp_fault *due_fault(sp_replay_server *s, sp_fault_kind k, uint64_t at)
{
    for (size_t i = 0; i < s->o.nfaults; i++) {
        if (!s->fired[i] && s->faults[i].kind == k && s->faults[i].at == at)
            return &s->faults[i];
    }
    return NULL;
}

/* Mark a fault fired (each fires once per run) and count it. */
static void fire(sp_replay_server *s, const sp_fault *f)
{
    s->fired[f - s->faults] = true;
    s->st.faults++;
}

/* Send the session's next frame (or reply); -1 closes the connection. */
static int play(struct lws *wsi, session *ss)
{
    sp_replay_server *s = ss->s;
    if (ss->drop_pending)
        return -1; /* lws closes the socket, no close frame */
    if (ss->nreply > 0) {
        char *r = ss->reply[0];
        memmove(ss->reply, ss->reply + 1, (ss->nreply - 1) * sizeof(char *));
        ss->nreply--;
        int w = write_text(wsi, r, strlen(r));
        sp_free(r);
        lws_callback_on_writable(wsi);
        return w;
    }
    if (!ss->streaming || ss->pl == NULL)
        return 0;
    playlist *p = ss->pl;
    int64_t now = sp_clock_mono_ns();
    if (ss->stall_until > now) {
        lws_set_timer_usecs(wsi, (ss->stall_until - now) / 1000);
        return 0;
    }
    while (ss->cur < p->n) {
        const frame *f = &p->f[ss->cur];
        bool want = subscribed(ss, f->key);
        if (want && ss->skip_depth > 0 && f->sym >= 0) {
            ss->skip_depth--; /* gap fault: the market moves, the client misses it */
            want = false;
        }
        if (want)
            break;
        ss->cur++;
        if (ss->cur > p->market)
            p->market = ss->cur;
    }
    if (ss->cur >= p->n)
        return 0; /* played everything: idle like a quiet market */
    const frame *f = &p->f[ss->cur];
    if (s->o.speed_x && ss->burst_left == 0) {
        int64_t due = ss->base_mono + (f->ts_ns - ss->base_ts) / (int64_t)s->o.speed_x;
        if (due > now + 1000) {
            lws_set_timer_usecs(wsi, (due - now) / 1000);
            return 0;
        }
    }
    uint64_t k = s->st.frames + 1;
    sp_fault *ft = due_fault(s, SP_FAULT_OVERSIZE, k);
    if (ft) {
        fire(s, ft);
        size_t bytes = (size_t)ft->arg;
        char *big = sp_malloc(bytes);
        if (big == NULL)
            return -1;
        memset(big, 'x', bytes);
        memcpy(big, "{\"stream\":\"oversize\",\"data\":\"", 29);
        memcpy(big + bytes - 2, "\"}", 2);
        int w = write_text(wsi, big, bytes);
        sp_free(big);
        lws_callback_on_writable(wsi);
        return w;
    }
    size_t n = f->n;
    if ((ft = due_fault(s, SP_FAULT_MALFORMED, k)) != NULL) {
        fire(s, ft);
        n = f->n / 2;
    }
    if (write_text(wsi, f->text, n) != 0)
        return -1;
    s->st.frames++;
    ss->cur++;
    if (ss->cur > p->market)
        p->market = ss->cur;
    if (ss->burst_left > 0 && --ss->burst_left == 0) {
        ss->base_mono = now; /* pacing resumes from here */
        ss->base_ts = f->ts_ns;
    }
    if ((ft = due_fault(s, SP_FAULT_GAP, k)) != NULL) {
        fire(s, ft);
        ss->skip_depth = ft->arg;
    }
    if ((ft = due_fault(s, SP_FAULT_BURST, k)) != NULL) {
        fire(s, ft);
        ss->burst_left = ft->arg;
    }
    if ((ft = due_fault(s, SP_FAULT_STALL, k)) != NULL) {
        fire(s, ft);
        ss->stall_until = now + (int64_t)ft->arg * 1000000;
        ss->base_mono += (int64_t)ft->arg * 1000000;
    }
    if ((ft = due_fault(s, SP_FAULT_DROP, k)) != NULL) {
        fire(s, ft);
        ss->drop_pending = true; /* closed at the next writeable: frame N is out */
    }
    lws_callback_on_writable(wsi);
    return 0;
}

/*
 * A WebSocket session or HTTP transaction ended: a streaming session
 * leaves its position as the playlist's resume point (the next session
 * continues the market from there), and its memory is released.
 */
static void session_end(session *ss)
{
    if (ss->ws && ss->pl && ss->streaming)
        ss->pl->resume = ss->cur;
    for (size_t i = 0; i < ss->nsubs; i++)
        sp_free(ss->subs[i]);
    sp_free(ss->subs);
    ss->subs = NULL;
    ss->nsubs = 0;
    for (size_t i = 0; i < ss->nreply; i++)
        sp_free(ss->reply[i]);
    ss->nreply = 0;
    for (size_t i = 0; i < ss->nsnap; i++)
        sp_free(ss->snap[i]);
    ss->nsnap = 0;
    sp_free(ss->http);
    ss->http = NULL;
}

/*
 * An HTTP request: /fapi/v1/depth?symbol=S[&limit=N] is answered with
 * depth_body (headers now, body when writeable); anything else is 404,
 * an unknown symbol 400.
 */
static int http_request(struct lws *wsi, session *ss, const char *uri)
{
    sp_replay_server *s = ss->s;
    char symb[64], limb[24];
    const char *sym = NULL, *lim;
    if (strcmp(uri, "/fapi/v1/depth") != 0 ||
        (sym = lws_get_urlarg_by_name(wsi, "symbol=", symb, (int)sizeof(symb))) == NULL) {
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    size_t limit = 1000;
    if ((lim = lws_get_urlarg_by_name(wsi, "limit=", limb, (int)sizeof(limb))) != NULL) {
        int64_t v;
        if (sp_dec_parse(lim, strlen(lim), 0, &v, NULL) == SP_OK && v > 0 && v <= 5000)
            limit = (size_t)v;
    }
    s->st.rest++;
    if (depth_body(s, sym, limit, &ss->http, &ss->http_n) != SP_OK) {
        lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, NULL);
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    unsigned char hb[LWS_PRE + 512], *start = hb + LWS_PRE, *pp = start, *end = hb + sizeof(hb);
    if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "application/json", ss->http_n, &pp,
                                    end) ||
        lws_finalize_write_http_header(wsi, start, &pp, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

/*
 * The lws callback of the only protocol (HTTP and WebSocket share it; user
 * is the per-connection session).  ESTABLISHED picks the playlist from the
 * request path and resumes its market; RECEIVE answers control messages;
 * SERVER_WRITEABLE plays; TIMER (pacing, stalls) asks for writeable again.
 */
static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    session *ss = user;
    sp_replay_server *s = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        memset(ss, 0, sizeof(*ss));
        ss->s = s;
        return http_request(wsi, ss, in ? (const char *)in : "");
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (ss->http == NULL)
            return 0;
        unsigned char *buf = sp_malloc(LWS_PRE + ss->http_n);
        if (buf == NULL)
            return -1;
        memcpy(buf + LWS_PRE, ss->http, ss->http_n);
        int w = lws_write(wsi, buf + LWS_PRE, ss->http_n, LWS_WRITE_HTTP_FINAL);
        sp_free(buf);
        sp_free(ss->http);
        ss->http = NULL;
        if (w < (int)ss->http_n || lws_http_transaction_completed(wsi))
            return -1;
        break;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        session_end(ss);
        break;
    case LWS_CALLBACK_ESTABLISHED: {
        memset(ss, 0, sizeof(*ss));
        ss->s = s;
        ss->ws = true;
        char uri[128] = "";
        lws_hdr_copy(wsi, uri, (int)sizeof(uri), WSI_TOKEN_GET_URI);
        char *q = strchr(uri, '?');
        if (q)
            *q = '\0';
        bool venue_path = strncmp(uri, "/v5/", 4) == 0 || strncmp(uri, "/ws/v5/", 7) == 0;
        const char *path = venue_path ? uri : "/stream";
        for (size_t i = 0; i < s->npl; i++) {
            if (strcmp(s->pl[i].path, path) == 0)
                ss->pl = &s->pl[i];
        }
        if (ss->pl)
            ss->cur = ss->pl->resume;
        s->st.sessions++;
        break;
    }
    case LWS_CALLBACK_RECEIVE:
        on_control(ss, in, len);
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return play(wsi, ss);
    case LWS_CALLBACK_TIMER:
        lws_callback_on_writable(wsi);
        break;
    case LWS_CALLBACK_CLOSED:
        session_end(ss);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"sp-replay", cb, sizeof(session), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void quiet_log(int lvl, const char *line)
{
    (void)lvl;
    (void)line;
}

/* Every 50 ms: stop when asked (lws_service would otherwise sleep on idle sockets). */
static void tick(lws_sorted_usec_list_t *sul)
{
    sp_replay_server *s = lws_container_of(sul, sp_replay_server, sul);
    if (s->stop && *s->stop) {
        s->done = true;
        lws_cancel_service(s->ctx);
        return;
    }
    lws_sul_schedule(s->ctx, 0, &s->sul, tick, 50000);
}

/* Load the captures, then create the lws context and a vhost listening on host:port. */
sp_err sp_replay_server_new(const sp_replay_opts *o, sp_replay_server **out, sp_diag *d)
{
    sp_diag_clear(d);
    *out = NULL;
    if (o->ncaptures == 0)
        return sp_diag_set(d, SP_EINVAL, "no capture to play");
    if (o->nfaults > SP_LIVE_FAULTS_MAX)
        return sp_diag_set(d, SP_ETOOBIG, "more than %d faults", SP_LIVE_FAULTS_MAX);
    sp_replay_server *s = sp_calloc(1, sizeof(*s));
    if (s == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    s->o = *o;
    if (o->nfaults)
        memcpy(s->faults, o->faults, o->nfaults * sizeof(sp_fault));
    s->o.faults = s->faults;
    sp_err rc = sp_symtab_new(&s->syms);
    if (rc != SP_OK) {
        rc = sp_diag_set(d, rc, "out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < o->ncaptures; i++) {
        if ((rc = load_capture(s, o->captures[i], d)) != SP_OK)
            goto out_free;
    }
    lws_set_log_level(LLL_ERR, quiet_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.user = s;
    info.gid = -1;
    info.uid = -1;
    if ((s->ctx = lws_create_context(&info)) == NULL) {
        rc = sp_diag_set(d, SP_ENOMEM, "cannot create the libwebsockets context");
        goto out_free;
    }
    info.port = o->port;
    info.iface = o->host ? o->host : "127.0.0.1";
    info.protocols = protocols;
    info.vhost_name = "replay";
    if ((s->vh = lws_create_vhost(s->ctx, &info)) == NULL) {
        rc = sp_diag_set(d, SP_ECONN, "cannot listen on %s:%d", info.iface, o->port);
        goto out_free;
    }
    s->port = lws_get_vhost_listen_port(s->vh);
    *out = s;
    return SP_OK;
out_free:
    sp_replay_server_free(s);
    return rc;
}

/* The bound port (the kernel's choice for port 0). */
int sp_replay_server_port(const sp_replay_server *s)
{
    return s->port;
}

/* A copy of the counters. */
sp_replay_stats sp_replay_server_stats(const sp_replay_server *s)
{
    return s->st;
}

/* Serve until *stop (live.h); the tick makes lws_service return regularly. */
sp_err sp_replay_server_run(sp_replay_server *s, volatile sig_atomic_t *stop)
{
    s->stop = stop;
    lws_sul_schedule(s->ctx, 0, &s->sul, tick, 1);
    while (!s->done) {
        if (lws_service(s->ctx, 0) < 0)
            break;
    }
    return SP_OK;
}

/* Close every socket and free the playlists and books; NULL is a no-op. */
void sp_replay_server_free(sp_replay_server *s)
{
    if (s == NULL)
        return;
    if (s->ctx)
        lws_context_destroy(s->ctx);
    for (size_t i = 0; i < s->npl; i++) {
        for (size_t k = 0; k < s->pl[i].n; k++)
            sp_free(s->pl[i].f[k].text);
        sp_free(s->pl[i].f);
    }
    for (size_t i = 0; i < s->nbsyms; i++) {
        sp_free(s->bsyms[i].snap);
        sp_free(s->bsyms[i].bids.v);
        sp_free(s->bsyms[i].asks.v);
    }
    sp_free(s->bsyms);
    sp_free(s->lev);
    sp_free(s->side);
    sp_symtab_free(s->syms);
    sp_free(s);
}
