/*
 * live_conn.c -- the live connector (live.h): libwebsockets client
 * connections to Binance USD-M, Bybit v5 and OKX v5 public streams.
 *
 * One lws context serves every connection from one thread.  A periodic
 * timer (20 ms) drives what is not triggered by the socket: reconnects
 * after their backoff, application pings, stall detection, deferred REST
 * resyncs, batch flushes, status lines and the stop conditions.
 *
 * A frame is decoded by the venue's one-message decoder of feed.h, the
 * events are checked by a sp_feed_sync (sequence gaps) and everything
 * received goes to the sink -- stale depth updates included, so a store
 * holds exactly what the wire carried and `stampede decode` of the raw
 * capture gives the same events; the GAP events the sync emits are put
 * before the frame's own events.  Venue rules followed here:
 *   Binance USD-M  combined stream /stream, {"method":"SUBSCRIBE"} with at
 *                  most max_streams (200) names per connection, one
 *                  control message per connection (limit 10/s); the
 *                  server pings, lws answers the pong.  Local book: REST
 *                  /fapi/v1/depth snapshot, updates checked with U/u/pu
 *                  ("How to manage a local order book correctly",
 *                  developers.binance.com USD-M Websocket Market Streams).
 *                  The snapshot is fetched when the connection opens,
 *                  before subscribing (deterministic against the replay
 *                  server; on the real venue the first update may then
 *                  not cover it, which is a gap and refetches), and again
 *                  after any gap.
 *   Bybit v5       {"op":"subscribe","args":[...]}, {"op":"ping"} every
 *                  ping_s (20 s, Bybit v5 "Connect": heartbeat every 20 s);
 *                  a depth gap closes the connection: the resubscription
 *                  brings a new snapshot (Bybit v5 "Orderbook").
 *   OKX v5         {"op":"subscribe","args":[{channel,instId|instType}]},
 *                  text "ping" when nothing arrived for ping_s (< 30 s,
 *                  OKX v5 "Connect"); a seqId gap also reconnects.
 * Blocking parts: the REST snapshot (libcurl easy, 5 s timeout) runs on
 * the loop thread; frames wait in the socket meanwhile.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <libwebsockets.h>

#include "stampede/alloc.h"
#include "stampede/buf.h"
#include "stampede/clock.h"
#include "stampede/limits.h"
#include "stampede/live.h"

#define TICK_US 20000

enum { C_IDLE, C_CONNECTING, C_OPEN };

typedef struct conn {
    sp_live *lv;
    size_t idx;
    const sp_live_venue_cfg *vc; /* into lv->cfg */
    char *sub;                   /* subscription message (heap) */
    size_t nstreams;
    struct lws *wsi;
    int state;
    bool ever_open;
    bool sub_pending, ping_pending, close_pending;
    unsigned attempt;     /* reconnect attempts since the last open */
    int64_t retry_at_ns;  /* monotonic */
    int64_t down_at_ns;   /* monotonic, when it went down */
    int64_t last_rx_ns;   /* monotonic */
    int64_t last_ping_ns; /* monotonic */
    uint64_t frames;      /* frames on this connection, all sessions */
    uint64_t session_frames;
    char *rx; /* max_frame bytes */
    size_t rx_len;
    bool rx_over;
    sp_feed_bybit *bybit;
    FILE *raw;
} conn;

/* A Binance symbol with a depth stream: its id and whether it needs a snapshot. */
typedef struct depth_sym {
    char name[SP_SYMBOL_MAX + 1];
    uint32_t id;
    size_t conn;         /* the connection carrying its depth stream */
    size_t name_idx;     /* build(): index of that stream among the venue's names */
    bool need;           /* a snapshot is due */
    int64_t retry_at_ns; /* monotonic: not before (after a failed fetch) */
} depth_sym;

struct sp_live {
    sp_live_config cfg;
    sp_symtab *syms;
    sp_feed_sink sink;
    conn *conns;
    size_t nconns;
    depth_sym *depth;
    size_t ndepth;
    struct lws_context *ctx;
    lws_sorted_usec_list_t sul;
    sp_feed_sync *sync;
    sp_event *scratch; /* SP_FEED_MSG_EVENTS_MAX */
    sp_event *synced;  /* 2 * SP_FEED_MSG_EVENTS_MAX */
    sp_event *batch;   /* SP_FEED_BATCH */
    size_t nbatch;
    sp_live_stats st;
    sp_rng rng;
    volatile sig_atomic_t *stop;
    int64_t deadline_ns; /* monotonic, 0 = none */
    int64_t stop_at_ns;  /* monotonic: when stopping began */
    uint64_t max_messages;
    bool stopping, finished, ran;
    sp_err err;
    char errmsg[SP_DIAG_MSG_MAX];
    FILE *raw_rest;
    CURL *curl;
    unsigned status_ms;
    int64_t status_next_ns;
    void (*status_fn)(void *ctx, const sp_live_stats *st);
    void *status_ctx;
};

static void tick(lws_sorted_usec_list_t *sul);

/* ---- events out ------------------------------------------------------------ */

/*
 * Record the first fatal error of the run (sink refused a batch, out of
 * memory, bad URL) and start stopping; later errors keep the first.
 */
static void fail(sp_live *lv, sp_err rc, const char *msg)
{
    if (lv->err == SP_OK) {
        lv->err = rc;
        snprintf(lv->errmsg, sizeof(lv->errmsg), "%s", msg);
    }
    lv->stopping = true;
}

/*
 * Hand the pending batch to the sink.  Called when the batch is full, on
 * every tick (so a quiet stream still reaches the store within 20 ms) and
 * at the end of the run.  Nothing is flushed after a fatal error.
 */
static void flush(sp_live *lv)
{
    if (lv->nbatch == 0 || lv->err != SP_OK)
        return;
    sp_err rc = SP_OK;
    if (lv->sink.events)
        rc = lv->sink.events(lv->sink.ctx, lv->batch, lv->nbatch);
    lv->st.events += lv->nbatch;
    lv->nbatch = 0;
    if (rc != SP_OK)
        fail(lv, rc, "the sink stopped the run");
}

/* Append events to the batch, flushing whenever it is full (SP_FEED_BATCH). */
static void emit(sp_live *lv, const sp_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lv->nbatch == SP_FEED_BATCH)
            flush(lv);
        lv->batch[lv->nbatch++] = ev[i];
    }
}

/*
 * A GAP event of the connector (sub SP_LIVE_GAP_*, live.h): stamped with the
 * local clock for both times, since the exchange sent nothing for it.
 */
static void emit_gap(sp_live *lv, uint8_t sub, uint32_t sym, int64_t a0, int64_t a1, int64_t a2)
{
    sp_event g;
    memset(&g, 0, sizeof(g));
    g.kind = SP_EV_GAP;
    g.sub = sub;
    g.symbol_id = sym;
    g.exch_ts_ns = sp_clock_real_ns();
    g.local_ts_ns = g.exch_ts_ns;
    g.aux[0] = a0;
    g.aux[1] = a1;
    g.aux[2] = a2;
    emit(lv, &g, 1);
}

/* Epoch ns as "<s>.<9 digits>" (the capture formats' receive time). */
static void fmt_epoch(int64_t ns, char *out, size_t cap)
{
    snprintf(out, cap, "%" PRId64 ".%09" PRId64, ns / 1000000000, ns % 1000000000);
}

/* Append one received frame to the connection's raw capture. */
static void raw_frame(conn *c, const char *msg, size_t n, int64_t ts)
{
    if (c->raw == NULL)
        return;
    if (memchr(msg, '\n', n) != NULL || memchr(msg, '\r', n) != NULL)
        return; /* the line formats cannot hold it; the frame was counted and decoded */
    char ep[40];
    fmt_epoch(ts, ep, sizeof(ep));
    switch (c->vc->venue) {
    case SP_VENUE_BINANCE_UM:
        fprintf(c->raw, "%s: %.*s\n", ep, (int)n, msg);
        break;
    case SP_VENUE_BYBIT:
        fprintf(c->raw, "{\"t\":\"recv\",\"conn\":\"bybit.%zu\",\"ts\":%s,\"data\":\"", c->idx, ep);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)msg[i];
            if (ch == '"' || ch == '\\')
                fputc('\\', c->raw), fputc(ch, c->raw);
            else if (ch < 0x20)
                fprintf(c->raw, "\\u%04x", ch);
            else
                fputc(ch, c->raw);
        }
        fputs("\"}\n", c->raw);
        break;
    default:
        fprintf(c->raw, "%.*s\n", (int)n, msg);
        break;
    }
}

/* The stream family a decoded frame belongs to, from its first event (status counters). */
static unsigned family_of(const sp_event *e)
{
    switch (e->kind) {
    case SP_EV_TRADE:
        return SP_LIVE_TRADES;
    case SP_EV_DEPTH_UPDATE:
    case SP_EV_BOOK_LEVEL:
        return SP_LIVE_DEPTH;
    case SP_EV_LIQUIDATION:
        return SP_LIVE_LIQUIDATIONS;
    case SP_EV_MARK:
    case SP_EV_INDEX:
        return SP_LIVE_MARK;
    case SP_EV_FUNDING:
        return SP_LIVE_FUNDING;
    case SP_EV_KLINE:
        return SP_LIVE_KLINE;
    default:
        return SP_LIVE_TICKER;
    }
}

/* The Binance depth symbol with interned id `id`, NULL if not subscribed. */
static depth_sym *depth_find(sp_live *lv, uint32_t id)
{
    for (size_t i = 0; i < lv->ndepth; i++) {
        if (lv->depth[i].id == id)
            return &lv->depth[i];
    }
    return NULL;
}

/* Pass decoded events through the sync: GAPs first, then every received event. */
static void pass(sp_live *lv, conn *c, const sp_event *ev, size_t n)
{
    size_t m = 0;
    sp_err rc = sp_feed_sync_apply(lv->sync, ev, n, lv->synced, 2 * SP_FEED_MSG_EVENTS_MAX, &m);
    if (rc != SP_OK) {
        fail(lv, rc, "sequence tracking failed");
        return;
    }
    bool gap = false;
    for (size_t i = 0; i < m; i++) {
        const sp_event *g = &lv->synced[i];
        if (g->kind != SP_EV_GAP)
            continue;
        emit(lv, g, 1);
        lv->st.gaps++;
        gap = true;
        if (g->venue == SP_VENUE_BINANCE_UM) {
            depth_sym *ds = depth_find(lv, g->symbol_id);
            if (ds)
                ds->need = true;
        }
    }
    emit(lv, ev, n);
    if (gap && c != NULL && c->vc->venue != SP_VENUE_BINANCE_UM && c->wsi != NULL) {
        c->close_pending = true; /* the resubscription brings a fresh snapshot */
        lws_callback_on_writable(c->wsi);
    }
}

/* ---- REST snapshot (Binance) --------------------------------------------- */

/* libcurl write callback: append to the bounded body buffer; returning less aborts. */
static size_t curl_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sp_buf *b = ud;
    return sp_buf_append(b, p, size * nmemb) == SP_OK ? size * nmemb : 0;
}

/*
 * Fetch and apply the depth snapshot of one Binance symbol.  resync: after
 * a gap (then a GAP RESYNC event marks it).
 */
static void snapshot(sp_live *lv, const sp_live_venue_cfg *vc, depth_sym *ds, bool resync)
{
    ds->need = false;
    if (vc->rest_url[0] == '\0')
        return;
    if (lv->curl == NULL && (lv->curl = curl_easy_init()) == NULL) {
        lv->st.resync_failures++;
        return;
    }
    char url[SP_LIVE_URL_MAX + 96];
    snprintf(url, sizeof(url), "%s/fapi/v1/depth?symbol=%s&limit=%u", vc->rest_url, ds->name,
             lv->cfg.depth_limit);
    sp_buf body;
    sp_buf_init(&body, lv->cfg.max_frame);
    CURL *h = lv->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    CURLcode cr = curl_easy_perform(h);
    int64_t now = sp_clock_real_ns();
    if (cr != CURLE_OK || body.len == 0) {
        /* retried at most once a second (never once per frame: each try may block 5 s) */
        lv->st.resync_failures++;
        ds->need = true;
        ds->retry_at_ns = sp_clock_mono_ns() + 1000000000;
        sp_buf_fini(&body);
        return;
    }
    size_t got = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_feed_binance_depth_snapshot(body.data, body.len, ds->id, SP_VENUE_BINANCE_UM,
                                               now, lv->scratch, SP_FEED_MSG_EVENTS_MAX, &got, &d);
    if (rc != SP_OK) {
        lv->st.resync_failures++;
        lv->st.rejected++;
        lv->st.rejected_by[rc]++;
        d.source = "binance REST depth";
        if (lv->sink.reject)
            lv->sink.reject(lv->sink.ctx, &d);
        sp_buf_fini(&body);
        return;
    }
    if (lv->raw_rest) {
        char ep[40];
        fmt_epoch(now, ep, sizeof(ep));
        /* the canonical venue URL, so the file is a binance-rest-capture */
        fprintf(lv->raw_rest,
                "https://fapi.binance.com/fapi/v1/depth?symbol=%s&limit=%u -> %s: ", ds->name,
                lv->cfg.depth_limit, ep);
        fwrite(body.data, 1, body.len, lv->raw_rest);
        fputc('\n', lv->raw_rest);
    }
    sp_buf_fini(&body);
    if (resync) {
        lv->st.resyncs++;
        emit_gap(lv, SP_LIVE_GAP_RESYNC, ds->id, got ? lv->scratch[0].aux[0] : 0, 0, 0);
    }
    pass(lv, NULL, lv->scratch, got);
}

/* ---- frames in ------------------------------------------------------------- */

/*
 * One complete text frame from connection c: count it, write it to the
 * raw capture, decode it with the venue's decoder, and pass the events on
 * (or the rejection to sink->reject).  A pending Binance resync is done
 * before the next frame is read, so the updates that follow meet the
 * snapshot; reaching max_messages wakes the tick to stop at once.
 */
static void on_frame(sp_live *lv, conn *c, const char *msg, size_t n)
{
    int64_t now = sp_clock_real_ns();
    lv->st.last_frame_ns = sp_clock_mono_ns();
    if (lv->st.first_frame_ns == 0)
        lv->st.first_frame_ns = lv->st.last_frame_ns;
    lv->st.frames++;
    c->frames++;
    c->session_frames++;
    if (c->vc->venue == SP_VENUE_OKX && n == 4 && memcmp(msg, "pong", 4) == 0)
        return; /* OKX heartbeat reply */
    raw_frame(c, msg, n, now);
    size_t got = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc;
    switch (c->vc->venue) {
    case SP_VENUE_BINANCE_UM:
        rc = sp_feed_binance_ws(msg, n, now, lv->syms, lv->scratch, SP_FEED_MSG_EVENTS_MAX, &got,
                                &d);
        break;
    case SP_VENUE_BYBIT:
        rc = sp_feed_bybit_v5(c->bybit, msg, n, now, lv->syms, lv->scratch, SP_FEED_MSG_EVENTS_MAX,
                              &got, &d);
        break;
    default:
        rc = sp_feed_okx_v5(msg, n, now, lv->syms, lv->scratch, SP_FEED_MSG_EVENTS_MAX, &got, &d);
        break;
    }
    if (rc != SP_OK) {
        lv->st.rejected++;
        lv->st.rejected_by[rc < SP_ERR_COUNT_ ? rc : 0]++;
        char src[48];
        snprintf(src, sizeof(src), "%s#%zu", sp_venue_name(c->vc->venue), c->idx);
        d.source = src;
        d.line = c->frames;
        if (lv->sink.reject)
            lv->sink.reject(lv->sink.ctx, &d);
    } else if (got > 0) {
        lv->st.frames_by[family_of(&lv->scratch[0])]++;
        pass(lv, c, lv->scratch, got);
    }
    /* a Binance gap: resync now, before the next frame is read */
    int64_t mono = lv->st.last_frame_ns;
    for (size_t k = 0; k < lv->ndepth; k++) {
        depth_sym *ds = &lv->depth[k];
        if (ds->need && ds->conn == c->idx && mono >= ds->retry_at_ns)
            snapshot(lv, c->vc, ds, true);
    }
    if (lv->max_messages && lv->st.frames >= lv->max_messages && !lv->stopping) {
        lv->stopping = true;
        lws_sul_schedule(lv->ctx, 0, &lv->sul, tick, 1); /* act on it now */
    }
}

/* ---- connections ----------------------------------------------------------- */

/*
 * Connection c closed or failed: count a disconnect (and emit its GAP)
 * unless we are stopping or it never opened, and schedule the next attempt
 * after the jittered backoff of attempt k (live_config.c).
 */
static void go_down(sp_live *lv, conn *c)
{
    int64_t now = sp_clock_mono_ns();
    if (c->state == C_OPEN)
        lv->st.open--;
    if (c->state == C_OPEN && !lv->stopping) {
        lv->st.disconnects++;
        emit_gap(lv, SP_LIVE_GAP_DISCONNECT, 0, (int64_t)c->idx, (int64_t)c->session_frames, 0);
        c->down_at_ns = now;
    }
    c->state = C_IDLE;
    c->wsi = NULL;
    c->rx_len = 0;
    c->rx_over = false;
    c->close_pending = false;
    c->attempt++;
    c->retry_at_ns = now + (int64_t)sp_live_backoff_ms(&lv->cfg, c->attempt, &lv->rng) * 1000000;
}

/*
 * Start a connection to the venue URL: ws:// plain, wss:// with TLS
 * (lws with OpenSSL, the system CA store).  The result comes back through
 * cb(): ESTABLISHED, or CONNECTION_ERROR -> go_down and a later retry.
 */
static void connect_one(sp_live *lv, conn *c)
{
    char url[SP_LIVE_URL_MAX];
    memcpy(url, c->vc->ws_url, sizeof(url));
    const char *prot, *ads, *path;
    int port;
    if (lws_parse_uri(url, &prot, &ads, &port, &path) != 0) {
        fail(lv, SP_EINVAL, "bad ws URL");
        return;
    }
    char p2[SP_LIVE_URL_MAX + 1];
    snprintf(p2, sizeof(p2), "/%s", path);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = lv->ctx;
    ci.address = ads;
    ci.port = port;
    ci.path = p2;
    ci.host = ads;
    ci.origin = ads;
    ci.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
    ci.local_protocol_name = "sp-live";
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    c->state = C_CONNECTING;
    if (lws_client_connect_via_info(&ci) == NULL && c->state == C_CONNECTING) {
        /* failed at once (the error callback may already have run go_down) */
        lv->st.connect_failures++;
        go_down(lv, c);
    }
}

/* Write one text frame (lws needs LWS_PRE bytes of headroom); -1 closes the connection. */
static int send_text(struct lws *wsi, const char *s)
{
    size_t n = strlen(s);
    unsigned char *buf = sp_malloc(LWS_PRE + n);
    if (buf == NULL)
        return -1;
    memcpy(buf + LWS_PRE, s, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    sp_free(buf);
    return w < (int)n ? -1 : 0;
}

/*
 * The lws protocol callback of every connection (user = its conn).
 * ESTABLISHED: count a reconnect (GAP with the missing time), fetch the
 * Binance snapshots of this connection, then subscribe.  WRITEABLE: close
 * if asked, else send the subscription, else a ping (one write per call,
 * as lws requires).  RECEIVE: reassemble fragments up to max_frame; a
 * longer frame is drained and counted, never decoded.  CLOSED/ERROR:
 * go_down.
 */
static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
        sp_live *lv = c->lv;
        c->state = C_OPEN;
        lv->st.open++;
        lv->st.opens++;
        c->session_frames = 0;
        c->last_rx_ns = c->last_ping_ns = sp_clock_mono_ns();
        if (c->ever_open) {
            lv->st.reconnects++;
            emit_gap(lv, SP_LIVE_GAP_RECONNECT, 0, (int64_t)c->idx, (int64_t)c->attempt,
                     (c->last_rx_ns - c->down_at_ns) / 1000000);
        }
        c->ever_open = true;
        c->attempt = 0;
        for (size_t i = 0; i < lv->ndepth; i++) {
            if (lv->depth[i].conn == c->idx)
                snapshot(lv, c->vc, &lv->depth[i], false);
        }
        c->sub_pending = true;
        lws_callback_on_writable(wsi);
        break;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->close_pending)
            return -1;
        if (c->sub_pending) {
            c->sub_pending = false;
            if (send_text(wsi, c->sub) != 0)
                return -1;
            if (c->ping_pending)
                lws_callback_on_writable(wsi);
        } else if (c->ping_pending) {
            c->ping_pending = false;
            if (send_text(wsi, c->vc->venue == SP_VENUE_OKX ? "ping" : "{\"op\":\"ping\"}") != 0)
                return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        sp_live *lv = c->lv;
        c->last_rx_ns = sp_clock_mono_ns();
        if (!c->rx_over) {
            if (c->rx_len + len > lv->cfg.max_frame) {
                c->rx_over = true;
            } else {
                memcpy(c->rx + c->rx_len, in, len);
                c->rx_len += len;
            }
        }
        if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
            if (c->rx_over) {
                lv->st.oversize++;
                c->frames++;
                c->session_frames++;
            } else if (lws_frame_is_binary(wsi)) {
                lv->st.rejected++;
                lv->st.rejected_by[SP_EUNSUPPORTED]++;
            } else {
                on_frame(lv, c, c->rx, c->rx_len);
            }
            c->rx_len = 0;
            c->rx_over = false;
        }
        break;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c != NULL && c->state == C_CONNECTING) {
            c->lv->st.connect_failures++;
            go_down(c->lv, c);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c != NULL && c->wsi == wsi)
            go_down(c->lv, c);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"sp-live", cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* The 20 ms tick: reconnects, pings, stalls, resyncs, flush, status, stop. */
static void tick(lws_sorted_usec_list_t *sul)
{
    sp_live *lv = lws_container_of(sul, sp_live, sul);
    int64_t now = sp_clock_mono_ns();
    if ((lv->stop && *lv->stop) || (lv->deadline_ns && now >= lv->deadline_ns))
        lv->stopping = true;
    if (lv->stopping && lv->stop_at_ns == 0)
        lv->stop_at_ns = now;
    size_t live_conns = 0;
    for (size_t i = 0; i < lv->nconns; i++) {
        conn *c = &lv->conns[i];
        if (lv->stopping) {
            if (c->wsi != NULL) {
                live_conns++;
                c->close_pending = true;
                lws_callback_on_writable(c->wsi);
            }
            continue;
        }
        if (c->state == C_IDLE && now >= c->retry_at_ns) {
            connect_one(lv, c);
            continue;
        }
        if (c->state != C_OPEN)
            continue;
        if (c->close_pending) {
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (lv->cfg.stall_s && now - c->last_rx_ns > (int64_t)lv->cfg.stall_s * 1000000000) {
            lv->st.stalls++;
            c->close_pending = true;
            lws_callback_on_writable(c->wsi);
            continue;
        }
        int64_t since = c->vc->venue == SP_VENUE_OKX ? c->last_rx_ns : c->last_ping_ns;
        if (c->vc->ping_s && now - since > (int64_t)c->vc->ping_s * 1000000000 &&
            now - c->last_ping_ns > (int64_t)c->vc->ping_s * 1000000000) {
            c->last_ping_ns = now;
            c->ping_pending = true;
            lws_callback_on_writable(c->wsi);
        }
        for (size_t k = 0; k < lv->ndepth; k++) {
            depth_sym *ds = &lv->depth[k];
            if (ds->need && ds->conn == c->idx && now >= ds->retry_at_ns)
                snapshot(lv, c->vc, ds, true);
        }
    }
    flush(lv);
    if (lv->status_fn && now >= lv->status_next_ns) {
        lv->status_next_ns = now + (int64_t)lv->status_ms * 1000000;
        lv->status_fn(lv->status_ctx, &lv->st);
    }
    /* stop: every connection closed, or 2 s after stopping began */
    if (lv->stopping && (live_conns == 0 || now - lv->stop_at_ns > 2000000000)) {
        lv->finished = true;
        lws_cancel_service(lv->ctx);
        return;
    }
    lws_sul_schedule(lv->ctx, 0, &lv->sul, tick, lv->stopping ? 1000 : TICK_US);
}

/* ---- construction ---------------------------------------------------------- */

/* Build the subscription message of venue vc for names[0..n). */
/*
 * Subscription messages, from the venues' docs: Binance
 * {"method":"SUBSCRIBE","params":[names],"id":1}; Bybit
 * {"op":"subscribe","args":[topics]}; OKX {"op":"subscribe","args":
 * [{"channel":..,"instId"|"instType":..}]} from "channel:arg" names (an arg
 * with a '-' is an instrument id, else an instrument type).
 */
static sp_err sub_message(const sp_live_venue_cfg *vc, char **names, size_t n, char **out)
{
    sp_buf b;
    sp_buf_init(&b, 1u << 20);
    sp_err rc;
    if (vc->venue == SP_VENUE_BINANCE_UM)
        rc = sp_buf_puts(&b, "{\"method\":\"SUBSCRIBE\",\"params\":[");
    else
        rc = sp_buf_puts(&b, "{\"op\":\"subscribe\",\"args\":[");
    for (size_t i = 0; i < n && rc == SP_OK; i++) {
        if (i)
            rc = sp_buf_putc(&b, ',');
        if (rc != SP_OK)
            break;
        if (vc->venue == SP_VENUE_OKX) {
            const char *colon = strchr(names[i], ':');
            size_t cl = colon ? (size_t)(colon - names[i]) : strlen(names[i]);
            const char *arg = colon ? colon + 1 : "";
            bool inst = strchr(arg, '-') != NULL;
            rc = sp_buf_printf(&b, "{\"channel\":\"%.*s\",\"%s\":\"%s\"}", (int)cl, names[i],
                               inst ? "instId" : "instType", arg);
        } else {
            rc = sp_buf_printf(&b, "\"%s\"", names[i]);
        }
    }
    if (rc == SP_OK)
        rc = sp_buf_puts(&b, vc->venue == SP_VENUE_BINANCE_UM ? "],\"id\":1}" : "]}");
    if (rc != SP_OK) {
        sp_buf_fini(&b);
        return rc;
    }
    *out = b.data; /* the buffer's storage becomes the message */
    return SP_OK;
}

/* Create raw capture file dir/name (truncated); NULL and d set on failure. */
static FILE *raw_open(const char *dir, const char *name, sp_diag *d)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        sp_diag_set(d, SP_EIO, "cannot create %s", path);
    return f;
}

/* Add the connection(s) of one venue: names[0..n) split by max_streams. */
/*
 * Cut one venue's stream names into connections of at most max_streams,
 * build each one's subscription message, receive buffer and (Bybit)
 * decoder context, tie each Binance depth symbol to the connection that
 * carries its stream, and open the raw capture files with their header.
 */
static sp_err add_conns(sp_live *lv, const sp_live_venue_cfg *vc, char **names, size_t n,
                        size_t depth_first, const char *raw_dir, sp_diag *d)
{
    size_t per = vc->max_streams ? vc->max_streams : 1;
    for (size_t at = 0; at < n; at += per) {
        if (lv->nconns == SP_LIVE_CONN_MAX)
            return sp_diag_set(d, SP_EINVAL, "more than %d connections", SP_LIVE_CONN_MAX);
        conn *c = &lv->conns[lv->nconns];
        c->lv = lv;
        c->idx = lv->nconns++;
        c->vc = vc;
        c->nstreams = n - at < per ? n - at : per;
        sp_err rc = sub_message(vc, names + at, c->nstreams, &c->sub);
        if (rc != SP_OK)
            return sp_diag_set(d, rc, "subscription message too large");
        if ((c->rx = sp_malloc(lv->cfg.max_frame + 1)) == NULL)
            return sp_diag_set(d, SP_ENOMEM, "out of memory");
        if (vc->venue == SP_VENUE_BYBIT && (rc = sp_feed_bybit_new(false, &c->bybit)) != SP_OK)
            return sp_diag_set(d, rc, "out of memory");
        /* each Binance depth symbol is resynced by the connection carrying its stream */
        for (size_t k = depth_first; k < lv->ndepth; k++) {
            if (lv->depth[k].name_idx >= at && lv->depth[k].name_idx < at + c->nstreams)
                lv->depth[k].conn = c->idx;
        }
        if (raw_dir) {
            char name[64];
            if (vc->venue == SP_VENUE_BINANCE_UM)
                snprintf(name, sizeof(name), "BINANCE_FUTURES.ws.%zu.txt", c->idx);
            else if (vc->venue == SP_VENUE_BYBIT)
                snprintf(name, sizeof(name), "BYBIT.%zu.jsonl", c->idx);
            else
                snprintf(name, sizeof(name), "OKX.%zu.jsonl", c->idx);
            if ((c->raw = raw_open(raw_dir, name, d)) == NULL)
                return SP_EIO;
            char ep[40];
            fmt_epoch(sp_clock_real_ns(), ep, sizeof(ep));
            if (vc->venue == SP_VENUE_BINANCE_UM)
                fprintf(c->raw, "wss://fstream.binance.com/stream <-> %s recorded from %s\n", ep,
                        vc->ws_url);
            else if (vc->venue == SP_VENUE_BYBIT)
                fprintf(
                    c->raw,
                    "{\"t\":\"header\",\"format\":2,\"exchange\":\"BYBIT\",\"conn\":\"bybit.%zu\","
                    "\"ts\":%s}\n",
                    c->idx, ep);
        }
    }
    return SP_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sp_free(names[i]);
    sp_free(names);
}

/*
 * Expand the selection (venues x symbols x families) into stream names per
 * venue, de-duplicated (OKX liquidation-orders:SWAP is one channel for all
 * symbols), intern the Binance depth symbols, and create the connections.
 */
static sp_err build(sp_live *lv, const sp_live_opts *o, sp_diag *d)
{
    unsigned streams = o->streams ? o->streams : (1u << SP_LIVE_STREAM_COUNT_) - 1;
    if ((lv->conns = sp_calloc(SP_LIVE_CONN_MAX, sizeof(*lv->conns))) == NULL ||
        (lv->depth = sp_calloc(o->nsymbols, sizeof(*lv->depth))) == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    for (size_t v = 0; v < o->nvenues; v++) {
        const sp_live_venue_cfg *vc = sp_live_config_venue(&lv->cfg, o->venues[v]);
        if (vc == NULL)
            return sp_diag_set(d, SP_EINVAL, "venue %s is not in the configuration",
                               sp_venue_name(o->venues[v]));
        size_t cap = o->nsymbols * SP_LIVE_STREAM_COUNT_, n = 0;
        char **names = sp_calloc(cap, sizeof(*names));
        if (names == NULL)
            return sp_diag_set(d, SP_ENOMEM, "out of memory");
        size_t depth_first = lv->ndepth;
        sp_err rc = SP_OK;
        for (size_t s = 0; s < o->nsymbols && rc == SP_OK; s++) {
            for (unsigned f = 0; f < SP_LIVE_STREAM_COUNT_ && rc == SP_OK; f++) {
                if (!(streams & (1u << f)) || vc->stream[f][0] == '\0')
                    continue;
                char name[SP_LIVE_TEMPLATE_MAX * 2];
                rc = sp_live_expand(vc->stream[f], o->symbols[s], name, sizeof(name));
                if (rc != SP_OK) {
                    sp_diag_field(d, sp_live_stream_name(f));
                    rc = sp_diag_set(d, rc, "cannot expand \"%s\" for %s", vc->stream[f],
                                     o->symbols[s]);
                    break;
                }
                bool dup = false;
                for (size_t k = 0; k < n; k++)
                    dup = dup || strcmp(names[k], name) == 0;
                if (dup)
                    continue; /* e.g. OKX liquidation-orders:SWAP is one channel */
                if ((names[n] = sp_strdup(name)) == NULL) {
                    rc = sp_diag_set(d, SP_ENOMEM, "out of memory");
                    break;
                }
                n++;
                if (f == SP_LIVE_DEPTH && vc->venue == SP_VENUE_BINANCE_UM) {
                    depth_sym *ds = &lv->depth[lv->ndepth];
                    size_t sl = strlen(o->symbols[s]);
                    if (sl > SP_SYMBOL_MAX) {
                        rc = sp_diag_set(d, SP_EINVAL, "symbol %s too long", o->symbols[s]);
                        break;
                    }
                    memcpy(ds->name, o->symbols[s], sl + 1);
                    ds->name_idx = n - 1;
                    rc = sp_symtab_intern(lv->syms, ds->name, sl, &ds->id);
                    if (rc != SP_OK) {
                        rc = sp_diag_set(d, rc, "cannot intern %s", ds->name);
                        break;
                    }
                    lv->ndepth++;
                }
            }
        }
        if (rc == SP_OK && n > 0)
            rc = add_conns(lv, vc, names, n, depth_first, o->raw_dir, d);
        free_names(names, cap);
        if (rc != SP_OK)
            return rc;
        if (o->raw_dir && vc->venue == SP_VENUE_BINANCE_UM && lv->ndepth > depth_first &&
            (lv->raw_rest = raw_open(o->raw_dir, "BINANCE_FUTURES.http.txt", d)) == NULL)
            return SP_EIO;
    }
    if (lv->nconns == 0)
        return sp_diag_set(d, SP_EINVAL, "nothing to subscribe (no stream of the selection)");
    lv->st.connections = lv->nconns;
    return SP_OK;
}

/* Create a connector: copy the config, allocate the event buffers and the
 * sync object, build the connections (live.h documents the contract). */
sp_err sp_live_new(const sp_live_config *cfg, const sp_live_opts *o, sp_symtab *syms,
                   const sp_feed_sink *sink, sp_live **out, sp_diag *d)
{
    sp_diag_clear(d);
    *out = NULL;
    if (o->nvenues == 0 || o->nsymbols == 0 || o->nsymbols > SP_LIVE_SYMBOLS_MAX)
        return sp_diag_set(d, SP_EINVAL, "select 1..%d symbols and at least one venue",
                           SP_LIVE_SYMBOLS_MAX);
    sp_live *lv = sp_calloc(1, sizeof(*lv));
    if (lv == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    lv->cfg = *cfg;
    if (lv->cfg.max_frame == 0 || lv->cfg.max_frame > SP_MSG_MAX)
        lv->cfg.max_frame = SP_MSG_MAX;
    lv->syms = syms;
    if (sink)
        lv->sink = *sink;
    lv->max_messages = o->max_messages;
    sp_rng_seed(&lv->rng, cfg->seed);
    sp_err rc;
    if ((lv->scratch = sp_calloc(SP_FEED_MSG_EVENTS_MAX, sizeof(sp_event))) == NULL ||
        (lv->synced = sp_calloc(2 * SP_FEED_MSG_EVENTS_MAX, sizeof(sp_event))) == NULL ||
        (lv->batch = sp_calloc(SP_FEED_BATCH, sizeof(sp_event))) == NULL) {
        rc = sp_diag_set(d, SP_ENOMEM, "out of memory");
        goto out_free;
    }
    if ((rc = sp_feed_sync_new(&lv->sync)) != SP_OK) {
        rc = sp_diag_set(d, rc, "out of memory");
        goto out_free;
    }
    if ((rc = build(lv, o, d)) != SP_OK)
        goto out_free;
    *out = lv;
    return SP_OK;
out_free:
    sp_live_free(lv);
    return rc;
}

/* Install the status callback, called from the tick every period_ms. */
void sp_live_set_status(sp_live *lv, unsigned period_ms,
                        void (*fn)(void *ctx, const sp_live_stats *st), void *ctx)
{
    lv->status_ms = period_ms ? period_ms : 1000;
    lv->status_fn = fn;
    lv->status_ctx = ctx;
}

/* A copy of the counters; safe from the sink callbacks (same thread). */
sp_live_stats sp_live_stats_get(const sp_live *lv)
{
    return lv->st;
}

/* lws logs to stderr by default; keep errors only. */
static void quiet_log(int level, const char *line)
{
    (void)level;
    (void)line;
}

/*
 * Run the event loop (live.h): create the lws context, arm the tick, serve
 * until the tick says finished, then flush the last batch and the raw
 * files.  The lws context lives only for the run, so a connector holds no
 * socket before or after it.
 */
sp_err sp_live_run(sp_live *lv, volatile sig_atomic_t *stop, uint64_t duration_ms, sp_diag *d)
{
    sp_diag_clear(d);
    if (lv->ran)
        return sp_diag_set(d, SP_ESTATE, "sp_live_run called twice");
    lv->ran = true;
    lws_set_log_level(LLL_ERR, quiet_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.gid = -1;
    info.uid = -1;
    lv->ctx = lws_create_context(&info);
    if (lv->ctx == NULL)
        return sp_diag_set(d, SP_ENOMEM, "cannot create the libwebsockets context");
    lv->stop = stop;
    int64_t now = sp_clock_mono_ns();
    lv->deadline_ns = duration_ms ? now + (int64_t)duration_ms * 1000000 : 0;
    lv->status_next_ns = now;
    for (size_t i = 0; i < lv->nconns; i++)
        lv->conns[i].retry_at_ns = now;
    lws_sul_schedule(lv->ctx, 0, &lv->sul, tick, 1);
    while (!lv->finished) {
        if (lws_service(lv->ctx, 0) < 0)
            break;
    }
    flush(lv);
    lws_context_destroy(lv->ctx);
    lv->ctx = NULL;
    for (size_t i = 0; i < lv->nconns; i++) {
        if (lv->conns[i].raw && fflush(lv->conns[i].raw) != 0 && lv->err == SP_OK)
            fail(lv, SP_EIO, "raw capture write failed");
    }
    if (lv->raw_rest && fflush(lv->raw_rest) != 0 && lv->err == SP_OK)
        fail(lv, SP_EIO, "raw capture write failed");
    if (lv->err != SP_OK)
        return sp_diag_set(d, lv->err, "%s", lv->errmsg);
    return SP_OK;
}

/* Free everything; the raw files are closed (flushed by sp_live_run). */
void sp_live_free(sp_live *lv)
{
    if (lv == NULL)
        return;
    if (lv->ctx)
        lws_context_destroy(lv->ctx);
    for (size_t i = 0; lv->conns && i < lv->nconns; i++) {
        conn *c = &lv->conns[i];
        sp_free(c->sub);
        sp_free(c->rx);
        sp_feed_bybit_free(c->bybit);
        if (c->raw)
            fclose(c->raw);
    }
    if (lv->raw_rest)
        fclose(lv->raw_rest);
    if (lv->curl)
        curl_easy_cleanup(lv->curl);
    sp_free(lv->conns);
    sp_free(lv->depth);
    sp_feed_sync_free(lv->sync);
    sp_free(lv->scratch);
    sp_free(lv->synced);
    sp_free(lv->batch);
    sp_free(lv);
}
