/*
 * bus_nats.c -- the JetStream transport of the bus (bus.h), on nats.c.
 *
 * Publishing.  sp_bus_publish appends events to one open group per
 * subject (venue, kind, symbol); a group that reaches batch_events is
 * encoded (wire.c) and sent with js_PublishMsgAsync, so at most
 * max_inflight batches await their ack (nats.c's PublishAsync.MaxPending
 * blocks the caller beyond that).  Each message carries
 *   Nats-Msg-Id      hex of the FNV-1a hash of the subject and of the
 *                    natural key of every event (store.md), so the same
 *                    input always gives the same ids and the stream drops
 *                    a re-publish inside its duplicate window;
 *   Stampede-Try     the attempt number.
 * The ack handler (nats.c's thread) counts acks and duplicates; a failed
 * or timed-out publish is parked in a retry list and republished by the
 * caller's thread (flush or the next publish) with the same Msg-Id, so a
 * batch whose ack was lost while a cluster node died is stored once.
 *
 * Consuming.  A durable pull consumer with explicit acks.  sp_bus_fetch
 * decodes the fetched messages into one event array (symbols interned in
 * the consumer's own table); a message that does not decode is published
 * to dlq.<subject> with header Stampede-Error = the decoder's diagnostic,
 * then acked, so it never blocks the stream.  sp_bus_ack acks the good
 * ones and flushes the connection (the server has the acks when it
 * answers the flush PING).
 */
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bus_int.h"
#include "stampede/clock.h"
#include "stampede/hash.h"
#include "stampede/store.h"

/* One open group: events of one subject waiting to fill a batch. */
typedef struct group {
    char subject[SP_BUS_SUBJECT_MAX];
    char symbol[SP_SYMBOL_MAX + 1];
    uint8_t venue, kind;
    uint32_t symbol_id; /* the caller's id */
    sp_event *ev;       /* batch_events slots */
    uint32_t n;
} group;

struct sp_bus {
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    sp_bus_opts o;
    group *groups; /* open groups (linear search: few subjects per input) */
    size_t ngroups, capgroups;
    unsigned char *buf; /* encode buffer, SP_BUS_BATCH_BYTES(SP_SYMBOL_MAX, batch_events) */
    size_t bufcap;
    pthread_mutex_t lock; /* guards st and retry (the ack handler runs on nats.c's thread) */
    sp_bus_pub_stats st;  /* counters */
    natsMsg **retry;      /* failed publishes to send again */
    size_t nretry, capretry;
    natsStatus last_err; /* last publish error seen by the handler */
    char last_text[128];
};

struct sp_bus_consumer {
    sp_bus *b;
    natsSubscription *sub;
    sp_symtab *syms;
    natsMsgList list; /* the last fetch */
    bool *good;       /* per message of list: decoded (to ack in sp_bus_ack) */
    size_t capgood;
    sp_event *ev; /* decoded events of the last fetch */
    size_t nev, capev;
    uint64_t dead;
};

struct sp_bus_sub {
    sp_bus *b;
    natsSubscription *sub;
    char *stream;
    bool ephemeral; /* delete the consumer on close (a durable one stays for others) */
};

struct sp_bus_msg {
    natsMsg *m;
    sp_bus *b;
};

/* ---- helpers ------------------------------------------------------------------ */

/* Map a nats.c status to an sp_err with its text in d. */
static sp_err nats_fail(sp_diag *d, natsStatus s, const char *what)
{
    sp_err e = SP_ECONN;
    if (s == NATS_TIMEOUT)
        e = SP_ETIMEOUT;
    else if (s == NATS_NO_MEMORY)
        e = SP_ENOMEM;
    else if (s == NATS_NOT_FOUND || s == NATS_NO_RESPONDERS)
        e = SP_ENOTFOUND; /* no responders: no stream (or stream leader) for the subject */
    else if (s == NATS_INVALID_ARG || s == NATS_INVALID_SUBJECT)
        e = SP_EINVAL;
    const char *last = nats_GetLastError(NULL);
    return sp_diag_set(d, e, "%s: %s%s%s", what, natsStatus_GetText(s), last ? ": " : "",
                       last ? last : "");
}

sp_bus_opts sp_bus_opts_default(void)
{
    sp_bus_opts o = SP__BUS_OPTS_DEFAULT;
    return o;
}

bool sp_bus_is_available(void)
{
    return true;
}

/* Park m on the retry list, growing it (64, then doubling) as needed; b->lock held.  true when
 * the list took m; false when it could not grow (out of memory): m stays the caller's. */
static bool retry_push(sp_bus *b, natsMsg *m)
{
    if (b->nretry == b->capretry) {
        size_t nc = b->capretry ? 2 * b->capretry : 64;
        natsMsg **r = sp_reallocarray(b->retry, nc, sizeof(*r));
        if (r) {
            b->retry = r;
            b->capretry = nc;
        }
    }
    if (b->nretry == b->capretry)
        return false;
    b->retry[b->nretry++] = m;
    return true;
}

/* Ack handler (nats.c's thread): count, or park the message for a retry. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    sp_bus *b = closure;
    pthread_mutex_lock(&b->lock);
    if (pa) {
        b->st.acked++;
        if (pa->Duplicate)
            b->st.duplicates++;
    } else if (pae) {
        b->last_err = pae->Err;
        snprintf(b->last_text, sizeof(b->last_text), "%s",
                 pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
        if (retry_push(b, msg))
            msg = NULL; /* ours now */
        else
            b->st.failed++;
    }
    pthread_mutex_unlock(&b->lock);
    natsMsg_Destroy(msg);
}

/* Create the stream c unless it exists. */
static sp_err ensure_stream(sp_bus *b, const char *name, const char *subject, bool wq, int replicas,
                            int64_t max_age_ms, int64_t max_bytes, sp_diag *d)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, b->js, name, NULL, &jerr);
    /* a replicated stream whose leader just died answers nothing until the survivors elect one */
    for (int64_t t0 = nats_Now();
         (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) && nats_Now() - t0 < 3 * b->o.timeout_ms;) {
        nats_Sleep(250);
        s = js_GetStreamInfo(&si, b->js, name, NULL, &jerr);
    }
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return SP_OK;
    }
    if (s != NATS_NOT_FOUND)
        return nats_fail(d, s, name);
    if (!b->o.create_streams)
        return sp_diag_set(d, SP_ENOTFOUND, "stream %s does not exist", name);
    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    const char *subs[1] = {subject};
    c.Name = name;
    c.Subjects = subs;
    c.SubjectsLen = 1;
    c.Retention = wq ? js_WorkQueuePolicy : js_LimitsPolicy;
    c.Storage = js_FileStorage;
    c.Replicas = replicas;
    c.MaxAge = max_age_ms * 1000000;             /* nanoseconds */
    c.Duplicates = b->o.dup_window_ms * 1000000; /* nanoseconds */
    c.MaxBytes = max_bytes > 0 ? max_bytes : -1;
    s = js_AddStream(&si, b->js, &c, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return SP_OK;
    }
    /* another process created it between our look-up and our create */
    s = js_GetStreamInfo(&si, b->js, name, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return SP_OK;
    }
    return nats_fail(d, s, "create stream");
}

/* ---- open and close ---------------------------------------------------------- */

/* Split a comma-separated URL list into the servers of opts. */
static sp_err set_servers(natsOptions *opts, const char *url, sp_diag *d)
{
    char *copy = sp_strdup(url);
    if (!copy)
        return sp_diag_set(d, SP_ENOMEM, "URL copy");
    const char *list[16];
    int n = 0;
    for (char *p = copy; p && *p && n < 16;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p)
            list[n++] = p;
        p = comma ? comma + 1 : NULL;
    }
    natsStatus s = n ? natsOptions_SetServers(opts, list, n) : NATS_INVALID_ARG;
    sp_free(copy);
    return s == NATS_OK ? SP_OK : nats_fail(d, s, "server URL");
}

sp_err sp_bus_open(const char *url, const sp_bus_opts *o, sp_bus **out, sp_diag *d)
{
    if (!out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    *out = NULL;
    sp_bus_opts opt = o ? *o : sp_bus_opts_default();
    if (opt.replicas < 1 || opt.replicas > 5 || opt.batch_events == 0 ||
        opt.batch_events > SP_BUS_BATCH_MAX || opt.max_inflight == 0 || opt.timeout_ms <= 0 ||
        opt.dup_window_ms < 0 || opt.max_age_ms < 0)
        return sp_diag_set(d, SP_EINVAL,
                           "bus options: replicas 1..5, batch 1..%u events, in-flight >= 1, "
                           "timeouts > 0",
                           (unsigned)SP_BUS_BATCH_MAX);
    sp_bus *b = sp_calloc(1, sizeof(*b));
    if (!b)
        return sp_diag_set(d, SP_ENOMEM, "bus handle");
    b->o = opt;
    sp_err rc = SP_OK;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        sp_free(b);
        return sp_diag_set(d, SP_ESTATE, "cannot create a mutex");
    }
    b->bufcap = SP_BUS_BATCH_BYTES(SP_SYMBOL_MAX, opt.batch_events);
    b->buf = sp_malloc(b->bufcap);
    if (!b->buf) {
        rc = sp_diag_set(d, SP_ENOMEM, "encode buffer");
        goto fail;
    }
    natsStatus s = natsOptions_Create(&b->opts);
    if (s != NATS_OK) {
        rc = nats_fail(d, s, "options");
        goto fail;
    }
    if ((rc = set_servers(b->opts, url ? url : SP__BUS_DEFAULT_URL, d)) != SP_OK)
        goto fail;
    natsOptions_SetTimeout(b->opts, opt.timeout_ms);
    natsOptions_SetMaxReconnect(b->opts, -1); /* keep trying: a node may be down */
    natsOptions_SetReconnectWait(b->opts, 100);
    natsOptions_SetReconnectBufSize(b->opts, 64 << 20);
    s = natsConnection_Connect(&b->nc, b->opts);
    if (s != NATS_OK) {
        rc = nats_fail(d, s, url ? url : SP__BUS_DEFAULT_URL);
        if (rc == SP_ENOTFOUND)
            rc = sp_diag_set(d, SP_ECONN, "no NATS server at %s", url ? url : SP__BUS_DEFAULT_URL);
        goto fail;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = opt.timeout_ms;
    jo.PublishAsync.MaxPending = opt.max_inflight;
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = b;
    jo.PublishAsync.StallWait = opt.timeout_ms;
    s = natsConnection_JetStream(&b->js, b->nc, &jo);
    if (s != NATS_OK) {
        rc = nats_fail(d, s, "JetStream context");
        goto fail;
    }
    if ((rc = ensure_stream(b, SP_BUS_STREAM, "ev.>", false, opt.replicas, opt.max_age_ms,
                            opt.max_bytes, d)) != SP_OK ||
        (rc = ensure_stream(b, SP_BUS_DLQ_STREAM, "dlq.>", false, opt.replicas, 0, 0, d)) != SP_OK)
        goto fail;
    *out = b;
    return SP_OK;
fail:
    sp_bus_close(b);
    return rc;
}

void sp_bus_close(sp_bus *b)
{
    if (!b)
        return;
    if (b->js)
        jsCtx_Destroy(b->js);
    if (b->nc) {
        natsConnection_Close(b->nc);
        natsConnection_Destroy(b->nc);
    }
    natsOptions_Destroy(b->opts);
    for (size_t i = 0; i < b->nretry; i++)
        natsMsg_Destroy(b->retry[i]);
    for (size_t i = 0; i < b->ngroups; i++)
        sp_free(b->groups[i].ev);
    sp_free(b->groups);
    sp_free(b->retry);
    sp_free(b->buf);
    pthread_mutex_destroy(&b->lock);
    sp_free(b);
}

/* ---- publishing ---------------------------------------------------------------- */

/* Msg-Id of a batch: FNV-1a over the subject and each event's natural key (store.md). */
static uint64_t batch_id(const group *g)
{
    uint64_t h = sp_fnv1a64(g->subject, strlen(g->subject), SP_FNV64_OFFSET);
    h = sp_fnv1a64(g->symbol, strlen(g->symbol) + 1, h);
    for (uint32_t i = 0; i < g->n; i++) {
        const sp_event *e = &g->ev[i];
        int64_t k1, k2;
        sp_store_natural_key(e, &k1, &k2);
        unsigned char head[3] = {e->kind, e->venue, e->sub};
        h = sp_fnv1a64(head, sizeof(head), h);
        h = sp_fnv1a64_i64(h, e->exch_ts_ns);
        h = sp_fnv1a64_i64(h, k1);
        h = sp_fnv1a64_i64(h, k2);
    }
    return h;
}

/* Attempt number a message carries in its Stampede-Try header (1 = first send). */
static unsigned tries_of(natsMsg *m)
{
    const char *t = NULL;
    unsigned tries = 1;
    if (natsMsgHeader_Get(m, "Stampede-Try", &t) == NATS_OK && t)
        for (tries = 0; *t >= '0' && *t <= '9' && tries < 1000; t++)
            tries = tries * 10 + (unsigned)(*t - '0');
    return tries;
}

/*
 * Republish parked failures (caller's thread).  All parked messages go out
 * in one round after one back-off (50 ms doubling to 1 s with the highest
 * attempt number among them: a cluster electing a new stream leader
 * answers "no responders" for a moment); a message past o.retries is
 * dropped and counted as failed.
 */
static sp_err drain_retries(sp_bus *b, sp_diag *d)
{
    pthread_mutex_lock(&b->lock);
    size_t n = b->nretry;
    natsMsg **take = n ? sp_malloc(n * sizeof(*take)) : NULL;
    if (take) {
        memcpy(take, b->retry, n * sizeof(*take));
        b->nretry = 0;
    }
    pthread_mutex_unlock(&b->lock);
    if (n == 0)
        return SP_OK;
    if (!take)
        return sp_diag_set(d, SP_ENOMEM, "retry list");
    unsigned maxtry = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned t = tries_of(take[i]);
        maxtry = t > maxtry ? t : maxtry;
    }
    int64_t wait = 50;
    for (unsigned i = 1; i < maxtry && wait < 1000; i++)
        wait *= 2;
    nats_Sleep(wait < 1000 ? wait : 1000);
    sp_err rc = SP_OK;
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = take[i];
        unsigned tries = tries_of(m);
        if (tries > b->o.retries || rc != SP_OK) {
            pthread_mutex_lock(&b->lock);
            b->st.failed++;
            pthread_mutex_unlock(&b->lock);
            natsMsg_Destroy(m);
            continue;
        }
        char tb[16];
        snprintf(tb, sizeof(tb), "%u", tries + 1);
        natsMsgHeader_Set(m, "Stampede-Try", tb);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = b->o.timeout_ms;
        natsStatus s = js_PublishMsgAsync(b->js, &m, &po);
        natsMsg_Destroy(m); /* no-op when nats.c took it */
        if (s != NATS_OK) {
            /* not even queued (connection closed): this one and the rest are lost */
            pthread_mutex_lock(&b->lock);
            b->st.failed++;
            pthread_mutex_unlock(&b->lock);
            rc = nats_fail(d, s, "republish");
            continue;
        }
        pthread_mutex_lock(&b->lock);
        b->st.retried++;
        pthread_mutex_unlock(&b->lock);
    }
    sp_free(take);
    return rc;
}

/* Encode group g and hand it to nats.c's async publisher; the group is emptied. */
static sp_err send_group(sp_bus *b, group *g, sp_diag *d)
{
    if (g->n == 0)
        return SP_OK;
    uint64_t id = batch_id(g);
    size_t len = 0;
    sp_err rc = sp_bus_encode(g->ev, g->n, g->symbol, id, b->buf, b->bufcap, &len, d);
    if (rc != SP_OK)
        return rc;
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, g->subject, NULL, (const char *)b->buf, (int)len);
    char idtxt[24];
    snprintf(idtxt, sizeof(idtxt), "%016llx", (unsigned long long)id);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Nats-Msg-Id", idtxt);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(m, "Stampede-Try", "1");
    if (s != NATS_OK) {
        natsMsg_Destroy(m);
        return nats_fail(d, s, "message");
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = b->o.timeout_ms;
    s = js_PublishMsgAsync(b->js, &m, &po);
    pthread_mutex_lock(&b->lock);
    b->st.batches++;
    if (s != NATS_OK && m && s != NATS_CONNECTION_CLOSED) {
        /* not sent (stalled on in-flight acks, reconnect buffer full): retry it like a failure */
        if (retry_push(b, m)) {
            m = NULL;
            s = NATS_OK;
        }
    }
    pthread_mutex_unlock(&b->lock);
    natsMsg_Destroy(m); /* no-op when nats.c or the retry list took it */
    if (s != NATS_OK)
        return nats_fail(d, s, "publish");
    g->n = 0;
    return drain_retries(b, d);
}

/* The open group for an event's subject, created on first use. */
static sp_err group_of(sp_bus *b, const sp_event *e, const sp_symtab *syms, group **out, sp_diag *d)
{
    for (size_t i = 0; i < b->ngroups; i++) {
        group *g = &b->groups[i];
        if (g->venue == e->venue && g->kind == e->kind && g->symbol_id == e->symbol_id) {
            *out = g;
            return SP_OK;
        }
    }
    const char *name = "";
    if (e->symbol_id) {
        name = syms ? sp_symtab_name(syms, e->symbol_id) : NULL;
        if (!name)
            return sp_diag_set(d, SP_EINVAL, "symbol id %u is not in the symbol table",
                               e->symbol_id);
    }
    if (e->kind == SP_EV_NONE || e->kind >= SP_EV_KIND_COUNT_ || e->venue >= SP_VENUE_COUNT_)
        return sp_diag_set(d, SP_EINVAL, "unknown event kind %u or venue %u", e->kind, e->venue);
    if (b->ngroups == b->capgroups) {
        size_t nc = b->capgroups ? 2 * b->capgroups : 16;
        group *gs = sp_reallocarray(b->groups, nc, sizeof(*gs));
        if (!gs)
            return sp_diag_set(d, SP_ENOMEM, "publish groups");
        b->groups = gs;
        b->capgroups = nc;
    }
    group *g = &b->groups[b->ngroups];
    memset(g, 0, sizeof(*g));
    g->ev = sp_calloc(b->o.batch_events, sizeof(*g->ev));
    if (!g->ev)
        return sp_diag_set(d, SP_ENOMEM, "publish batch");
    b->ngroups++;
    g->venue = e->venue;
    g->kind = e->kind;
    g->symbol_id = e->symbol_id;
    size_t nl = strlen(name);
    memcpy(g->symbol, name, nl < SP_SYMBOL_MAX ? nl : SP_SYMBOL_MAX);
    sp_bus_subject(e->venue, e->kind, name, g->subject);
    *out = g;
    return SP_OK;
}

sp_err sp_bus_publish(sp_bus *b, const sp_event *ev, size_t n, const sp_symtab *syms, sp_diag *d)
{
    if (!b || (!ev && n))
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    group *g = NULL;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &ev[i];
        if (!g || g->venue != e->venue || g->kind != e->kind || g->symbol_id != e->symbol_id) {
            sp_err rc = group_of(b, e, syms, &g, d);
            if (rc != SP_OK)
                return rc;
        }
        g->ev[g->n++] = *e;
        if (g->n == b->o.batch_events) {
            sp_err rc = send_group(b, g, d);
            if (rc != SP_OK)
                return rc;
        }
    }
    pthread_mutex_lock(&b->lock);
    b->st.events += n;
    pthread_mutex_unlock(&b->lock);
    return SP_OK;
}

sp_err sp_bus_flush(sp_bus *b, sp_bus_pub_stats *st, sp_diag *d)
{
    if (!b)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    sp_err rc = SP_OK;
    for (size_t i = 0; i < b->ngroups && rc == SP_OK; i++)
        rc = send_group(b, &b->groups[i], d);
    /*
     * Wait for the acks; failures park themselves in the retry list and go
     * out again here.  Each round waits at most timeout_ms; a publish that
     * times out comes back through the handler, so rounds are bounded by
     * (retries + 1) x timeout per batch.
     */
    for (unsigned round = 0; rc == SP_OK; round++) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = b->o.timeout_ms;
        natsStatus s = js_PublishAsyncComplete(b->js, &po);
        pthread_mutex_lock(&b->lock);
        size_t left = b->nretry;
        pthread_mutex_unlock(&b->lock);
        if (s == NATS_OK && left == 0)
            break;
        if (s != NATS_OK && s != NATS_TIMEOUT)
            rc = nats_fail(d, s, "waiting for publish acks");
        else if (round > 4 * (b->o.retries + 1))
            rc = sp_diag_set(d, SP_ETIMEOUT, "publish acks still missing after %u rounds", round);
        else
            rc = drain_retries(b, d);
    }
    pthread_mutex_lock(&b->lock);
    if (st)
        *st = b->st;
    uint64_t failed = b->st.failed;
    pthread_mutex_unlock(&b->lock);
    if (rc == SP_OK && failed)
        rc = sp_diag_set(d, SP_EIO, "%llu batches could not be published (last error: %s)",
                         (unsigned long long)failed, b->last_text);
    return rc;
}

/* ---- the durable event consumer --------------------------------------------------- */

/* Pull subscription on stream through durable (NULL = ephemeral) with explicit acks. */
static sp_err pull_sub(sp_bus *b, const char *stream, const char *filter, const char *durable,
                       int64_t ack_wait_ms, int64_t max_deliver, natsSubscription **sub, sp_diag *d)
{
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.ManualAck = true;
    if (durable) {
        /* an existing durable keeps its settings: bind to it instead of re-declaring them */
        jsConsumerInfo *ci = NULL;
        jsErrCode cerr = 0;
        if (js_GetConsumerInfo(&ci, b->js, stream, durable, NULL, &cerr) == NATS_OK) {
            jsConsumerInfo_Destroy(ci);
            so.Consumer = durable;
        }
    }
    if (!so.Consumer) {
        so.Config.AckPolicy = js_AckExplicit;
        so.Config.AckWait = (ack_wait_ms > 0 ? ack_wait_ms : 30000) * 1000000; /* ns */
        so.Config.MaxDeliver = max_deliver > 0 ? max_deliver : -1;
        so.Config.MaxAckPending = 65536;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(sub, b->js, filter, durable, NULL, &so, &jerr);
    for (int64_t t0 = nats_Now();
         (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) && nats_Now() - t0 < 3 * b->o.timeout_ms;) {
        nats_Sleep(250); /* leader election after a node loss, as in ensure_stream */
        s = js_PullSubscribe(sub, b->js, filter, durable, NULL, &so, &jerr);
    }
    if (s != NATS_OK)
        return nats_fail(d, s, "pull subscribe");
    return SP_OK;
}

sp_err sp_bus_consumer_open(sp_bus *b, const char *durable, const char *filter, int64_t ack_wait_ms,
                            sp_bus_consumer **out, sp_diag *d)
{
    if (!b || !durable || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    *out = NULL;
    for (const char *p = durable; *p; p++)
        if (*p == '.' || *p == '*' || *p == '>' || *p <= ' ')
            return sp_diag_set(d, SP_EINVAL, "consumer name \"%s\" has '.', '*', '>' or a space",
                               durable);
    if (!durable[0])
        return sp_diag_set(d, SP_EINVAL, "empty consumer name");
    sp_bus_consumer *c = sp_calloc(1, sizeof(*c));
    if (!c)
        return sp_diag_set(d, SP_ENOMEM, "consumer");
    c->b = b;
    sp_err rc = sp_symtab_new(&c->syms);
    if (rc == SP_OK)
        rc = pull_sub(b, SP_BUS_STREAM, filter ? filter : "ev.>", durable, ack_wait_ms, 0, &c->sub,
                      d);
    if (rc != SP_OK) {
        sp_bus_consumer_close(c);
        return rc == SP_ENOMEM ? sp_diag_set(d, rc, "consumer") : rc;
    }
    *out = c;
    return SP_OK;
}

void sp_bus_consumer_close(sp_bus_consumer *c)
{
    if (!c)
        return;
    natsMsgList_Destroy(&c->list);
    if (c->sub)
        natsSubscription_Destroy(c->sub); /* keeps the durable on the server */
    sp_symtab_free(c->syms);
    sp_free(c->good);
    sp_free(c->ev);
    sp_free(c);
}

const sp_symtab *sp_bus_consumer_symtab(const sp_bus_consumer *c)
{
    return c ? c->syms : NULL;
}

uint64_t sp_bus_consumer_dead(const sp_bus_consumer *c)
{
    return c ? c->dead : 0;
}

/* Publish m's payload to dlq.<subject> with the reason, then ack m: it never comes back. */
static sp_err dead_letter(sp_bus_consumer *c, natsMsg *m, const sp_diag *why, sp_diag *d)
{
    const char *subj = natsMsg_GetSubject(m);
    size_t sl = strlen(subj);
    char *dlq = sp_malloc(sl + 5);
    if (!dlq)
        return sp_diag_set(d, SP_ENOMEM, "dead-letter subject");
    memcpy(dlq, "dlq.", 4);
    memcpy(dlq + 4, subj, sl + 1);
    char reason[SP_DIAG_MSG_MAX + 64];
    sp_diag_format(why, reason, sizeof(reason));
    natsMsg *out = NULL;
    natsStatus s = natsMsg_Create(&out, dlq, NULL, natsMsg_GetData(m), natsMsg_GetDataLength(m));
    if (s == NATS_OK)
        s = natsMsgHeader_Set(out, "Stampede-Error", reason);
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    if (s == NATS_OK)
        s = js_PublishMsg(&pa, c->b->js, out, NULL, &jerr);
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(out);
    sp_free(dlq);
    if (s != NATS_OK)
        return nats_fail(d, s, "dead-letter publish");
    s = natsMsg_AckSync(m, NULL, &jerr);
    if (s != NATS_OK)
        return nats_fail(d, s, "dead-letter ack");
    c->dead++;
    return SP_OK;
}

/* Decode message m into c->ev (growing it); SP_EPARSE & co. mean "malformed", why says how. */
static sp_err take(sp_bus_consumer *c, natsMsg *m, sp_diag *why, sp_diag *d)
{
    const char *data = natsMsg_GetData(m);
    int len = natsMsg_GetDataLength(m);
    if (c->capev - c->nev < SP_BUS_BATCH_MAX) {
        size_t nc = c->capev ? 2 * c->capev : 8 * SP_BUS_BATCH_MAX;
        sp_event *e = sp_reallocarray(c->ev, nc, sizeof(*e));
        if (!e)
            return sp_diag_set(d, SP_ENOMEM, "fetched events");
        c->ev = e;
        c->capev = nc;
    }
    sp_bus_batch bt;
    sp_diag_clear(why);
    why->source = natsMsg_GetSubject(m);
    sp_err rc = sp_bus_decode(data, len > 0 ? (size_t)len : 0, 0, c->ev + c->nev, c->capev - c->nev,
                              &bt, why);
    if (rc != SP_OK)
        return rc;
    if (bt.symbol[0]) {
        uint32_t id = 0;
        rc = sp_symtab_intern(c->syms, bt.symbol, strlen(bt.symbol), &id);
        if (rc == SP_ENOMEM)
            return sp_diag_set(d, rc, "symbol table");
        if (rc != SP_OK)
            return sp_diag_set(why, SP_EPARSE, "symbol \"%s\" refused by the symbol table",
                               bt.symbol);
        for (uint32_t i = 0; i < bt.count; i++)
            c->ev[c->nev + i].symbol_id = id;
    }
    c->nev += bt.count;
    return SP_OK;
}

sp_err sp_bus_fetch(sp_bus_consumer *c, size_t max_msgs, int64_t timeout_ms, sp_bus_fetched *out,
                    sp_diag *d)
{
    if (!c || !out || max_msgs == 0 || max_msgs > 65536)
        return sp_diag_set(d, SP_EINVAL, "fetch: NULL argument or max_msgs not 1 .. 65536");
    memset(out, 0, sizeof(*out));
    natsMsgList_Destroy(&c->list); /* an unacked previous fetch is redelivered later */
    memset(&c->list, 0, sizeof(c->list));
    c->nev = 0;
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&c->list, c->sub, (int)max_msgs,
                                          timeout_ms > 0 ? timeout_ms : 1, &jerr);
    if (s == NATS_TIMEOUT && c->list.Count == 0)
        return SP_OK;
    if (s != NATS_OK && s != NATS_TIMEOUT)
        return nats_fail(d, s, "fetch");
    size_t n = (size_t)c->list.Count;
    if (n > c->capgood) {
        bool *g = sp_reallocarray(c->good, n, sizeof(*g));
        if (!g)
            return sp_diag_set(d, SP_ENOMEM, "fetch");
        c->good = g;
        c->capgood = n;
    }
    for (size_t i = 0; i < n; i++) {
        natsMsg *m = c->list.Msgs[i];
        jsMsgMetaData *meta = NULL;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK && meta) {
            if (meta->NumDelivered > 1)
                out->redelivered++;
            jsMsgMetaData_Destroy(meta);
        }
        sp_diag why;
        sp_err rc = take(c, m, &why, d);
        c->good[i] = rc == SP_OK;
        if (rc == SP_ENOMEM)
            return rc;
        if (rc != SP_OK) {
            sp_err r2 = dead_letter(c, m, &why, d);
            if (r2 != SP_OK)
                return r2;
            out->dead++;
        }
    }
    out->ev = c->ev;
    out->n = c->nev;
    out->msgs = n;
    return SP_OK;
}

sp_err sp_bus_ack(sp_bus_consumer *c, sp_diag *d)
{
    if (!c)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    for (int i = 0; i < c->list.Count; i++) {
        if (!c->good[i])
            continue;
        natsStatus s = natsMsg_Ack(c->list.Msgs[i], NULL);
        if (s != NATS_OK)
            return nats_fail(d, s, "ack");
    }
    natsStatus s = natsConnection_FlushTimeout(c->b->nc, c->b->o.timeout_ms);
    if (s != NATS_OK)
        return nats_fail(d, s, "ack flush");
    natsMsgList_Destroy(&c->list);
    memset(&c->list, 0, sizeof(c->list));
    return SP_OK;
}

/* ---- raw messages and work queues ---------------------------------------------------- */

sp_err sp_bus_stream_ensure(sp_bus *b, const sp_bus_stream_cfg *s, sp_diag *d)
{
    if (!b || !s || !s->name || !s->subject)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    return ensure_stream(b, s->name, s->subject, s->work_queue, s->replicas > 0 ? s->replicas : 1,
                         s->max_age_ms, 0, d);
}

sp_err sp_bus_publish_raw(sp_bus *b, const char *subject, const void *data, size_t n,
                          const char *msg_id, bool *duplicate, sp_diag *d)
{
    if (!b || !subject || (!data && n) || n > (size_t)INT32_MAX)
        return sp_diag_set(d, SP_EINVAL, "NULL argument or payload too large");
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)n);
    if (s == NATS_OK && msg_id)
        s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    /* retried: during a cluster leader change a publish may find no responder for a moment */
    for (unsigned t = 0; s == NATS_OK || (t > 0 && t <= b->o.retries); t++) {
        if (t > 0)
            nats_Sleep(100);
        s = js_PublishMsg(&pa, b->js, m, NULL, &jerr);
        if (s == NATS_OK)
            break;
    }
    if (s == NATS_OK && duplicate)
        *duplicate = pa->Duplicate;
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(m);
    return s == NATS_OK ? SP_OK : nats_fail(d, s, subject);
}

sp_err sp_bus_sub_open(sp_bus *b, const char *stream, const char *filter, const char *durable,
                       int64_t ack_wait_ms, int64_t max_deliver, sp_bus_sub **out, sp_diag *d)
{
    if (!b || !stream || !filter || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    *out = NULL;
    sp_bus_sub *s = sp_calloc(1, sizeof(*s));
    if (!s)
        return sp_diag_set(d, SP_ENOMEM, "subscription");
    s->b = b;
    s->stream = sp_strdup(stream);
    if (!s->stream) {
        sp_free(s);
        return sp_diag_set(d, SP_ENOMEM, "subscription");
    }
    s->ephemeral = durable == NULL;
    sp_err rc = pull_sub(b, stream, filter, durable, ack_wait_ms, max_deliver, &s->sub, d);
    if (rc != SP_OK) {
        sp_bus_sub_close(s);
        return rc;
    }
    *out = s;
    return SP_OK;
}

void sp_bus_sub_close(sp_bus_sub *s)
{
    if (!s)
        return;
    if (s->sub) {
        /* nats.c's Unsubscribe deletes the consumer: only ours, never a shared durable */
        if (s->ephemeral)
            natsSubscription_Unsubscribe(s->sub);
        natsSubscription_Destroy(s->sub);
    }
    sp_free(s->stream);
    sp_free(s);
}

sp_err sp_bus_sub_fetch(sp_bus_sub *s, size_t max, int64_t timeout_ms, sp_bus_msg **msgs, size_t *n,
                        sp_diag *d)
{
    if (!s || !msgs || !n || max == 0 || max > 65536)
        return sp_diag_set(d, SP_EINVAL, "fetch: NULL argument or max not 1 .. 65536");
    *n = 0;
    natsMsgList list;
    memset(&list, 0, sizeof(list));
    jsErrCode jerr = 0;
    natsStatus st =
        natsSubscription_Fetch(&list, s->sub, (int)max, timeout_ms > 0 ? timeout_ms : 1, &jerr);
    if (st == NATS_TIMEOUT && list.Count == 0)
        return SP_OK;
    if (st != NATS_OK && st != NATS_TIMEOUT)
        return nats_fail(d, st, "fetch");
    sp_err rc = SP_OK;
    for (int i = 0; i < list.Count; i++) {
        sp_bus_msg *m = sp_calloc(1, sizeof(*m));
        if (!m) {
            rc = sp_diag_set(d, SP_ENOMEM, "fetched message");
            break;
        }
        m->m = list.Msgs[i];
        m->b = s->b;
        list.Msgs[i] = NULL; /* ours now */
        msgs[(*n)++] = m;
    }
    natsMsgList_Destroy(&list);
    return rc;
}

const char *sp_bus_msg_subject(const sp_bus_msg *m)
{
    return m ? natsMsg_GetSubject(m->m) : "";
}

const void *sp_bus_msg_data(const sp_bus_msg *m, size_t *len)
{
    int n = m ? natsMsg_GetDataLength(m->m) : 0;
    if (len)
        *len = n > 0 ? (size_t)n : 0;
    return m ? natsMsg_GetData(m->m) : NULL;
}

const char *sp_bus_msg_header(const sp_bus_msg *m, const char *key)
{
    const char *v = NULL;
    if (!m || !key || natsMsgHeader_Get(m->m, key, &v) != NATS_OK)
        return NULL;
    return v;
}

uint64_t sp_bus_msg_deliveries(const sp_bus_msg *m)
{
    jsMsgMetaData *meta = NULL;
    uint64_t n = 0;
    if (m && natsMsg_GetMetaData(&meta, m->m) == NATS_OK && meta) {
        n = meta->NumDelivered;
        jsMsgMetaData_Destroy(meta);
    }
    return n;
}

sp_err sp_bus_msg_ack(sp_bus_msg *m, sp_diag *d)
{
    if (!m)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    jsErrCode jerr = 0;
    natsStatus s = natsMsg_AckSync(m->m, NULL, &jerr);
    return s == NATS_OK ? SP_OK : nats_fail(d, s, "ack");
}

sp_err sp_bus_msg_progress(sp_bus_msg *m, sp_diag *d)
{
    if (!m)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    natsStatus s = natsMsg_InProgress(m->m, NULL);
    return s == NATS_OK ? SP_OK : nats_fail(d, s, "in progress");
}

void sp_bus_msg_free(sp_bus_msg *m)
{
    if (!m)
        return;
    natsMsg_Destroy(m->m);
    sp_free(m);
}
