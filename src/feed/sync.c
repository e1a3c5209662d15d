/*
 * sync.c -- local order-book sequence checking (the rules are in feed.h).
 *
 * One small record per (venue, symbol): the snapshot's id, the last update
 * id seen, and whether the symbol is in sync.  Depth events arrive one
 * level per event, so the per-message checks run on the first level of
 * each message (a message is a run of events with the same update ids).
 * Sources of the rules: Binance USD-M "How to manage a local order book
 * correctly" (U/u/pu), Binance spot "Diff. Depth Stream" (U == u + 1),
 * Bybit v5 "Orderbook" (snapshot/delta, u), OKX v5 "Order book channel"
 * (seqId/prevSeqId).  Never heals a gap by itself: only a new snapshot
 * brings a symbol back in sync.
 */
#include <string.h>

#include "feed/feed_int.h"
#include "stampede/alloc.h"

typedef struct book_state {
    uint8_t venue;
    uint32_t sym;
    bool have_snap;  /* a snapshot arrived and no gap since */
    bool pending;    /* Binance: snapshot seen, first covering update not yet */
    bool have_last;  /* last_id is meaningful */
    int64_t snap_id; /* snapshot update id (Binance lastUpdateId, Bybit u, OKX seqId) */
    int64_t last_id; /* last update id (Binance u, Bybit u, OKX seqId) */
    int64_t msg_a;   /* ids of the message being passed (first two id fields) */
    int64_t msg_b;
    int msg_state; /* 0 none, 1 pass, 2 drop (stale), 3 inside a snapshot */
} book_state;

struct sp_feed_sync {
    book_state *st;
    size_t n, cap;
    size_t hint;
    sp_feed_sync_stats stats;
};

sp_err sp_feed_sync_new(sp_feed_sync **out)
{
    sp_feed_sync *s = sp_calloc(1, sizeof(*s));
    if (s == NULL)
        return SP_ENOMEM;
    *out = s;
    return SP_OK;
}

void sp_feed_sync_free(sp_feed_sync *s)
{
    if (s == NULL)
        return;
    sp_free(s->st);
    sp_free(s);
}

sp_feed_sync_stats sp_feed_sync_stats_get(const sp_feed_sync *s)
{
    return s->stats;
}

static book_state *find(const sp_feed_sync *s, uint8_t venue, uint32_t sym)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->st[i].venue == venue && s->st[i].sym == sym)
            return &s->st[i];
    }
    return NULL;
}

bool sp_feed_sync_is_synced(const sp_feed_sync *s, sp_venue venue, uint32_t symbol_id)
{
    const book_state *b = find(s, (uint8_t)venue, symbol_id);
    return b != NULL && b->have_snap && !b->pending;
}

static sp_err state_for(sp_feed_sync *s, uint8_t venue, uint32_t sym, book_state **out)
{
    if (s->hint < s->n && s->st[s->hint].venue == venue && s->st[s->hint].sym == sym) {
        *out = &s->st[s->hint];
        return SP_OK;
    }
    book_state *b = find(s, venue, sym);
    if (b == NULL) {
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 16;
            book_state *ns = sp_reallocarray(s->st, nc, sizeof(*ns));
            if (ns == NULL)
                return SP_ENOMEM;
            s->st = ns;
            s->cap = nc;
        }
        b = &s->st[s->n++];
        memset(b, 0, sizeof(*b));
        b->venue = venue;
        b->sym = sym;
    }
    s->hint = (size_t)(b - s->st);
    *out = b;
    return SP_OK;
}

static bool tracked(uint8_t venue)
{
    return venue == SP_VENUE_BINANCE_UM || venue == SP_VENUE_BINANCE_SPOT ||
           venue == SP_VENUE_BYBIT || venue == SP_VENUE_OKX;
}

static sp_event gap_event(const sp_event *at, uint8_t why, int64_t expected, int64_t got)
{
    sp_event g;
    memset(&g, 0, sizeof(g));
    g.kind = SP_EV_GAP;
    g.venue = at->venue;
    g.sub = why;
    g.symbol_id = at->symbol_id;
    g.exch_ts_ns = at->exch_ts_ns;
    g.local_ts_ns = at->local_ts_ns;
    g.aux[0] = expected;
    g.aux[1] = got;
    return g;
}

/*
 * First level of a new update message: decide pass / drop and whether a
 * gap precedes it.  Returns true and fills *gap when one does.
 */
static bool check_message(book_state *b, const sp_event *e, sp_feed_sync_stats *st, sp_event *gap)
{
    bool is_gap = false;
    b->msg_state = 1;
    switch (e->venue) {
    case SP_VENUE_BINANCE_UM:
    case SP_VENUE_BINANCE_SPOT: {
        int64_t first = e->aux[0], final = e->aux[1], prev = e->aux[2];
        bool spot = e->venue == SP_VENUE_BINANCE_SPOT;
        if (b->have_snap && b->pending) {
            int64_t l = spot ? b->snap_id + 1 : b->snap_id;
            if (final < l) {
                b->msg_state = 2; /* older than the snapshot: drop */
                return false;
            }
            if (first > l) {
                *gap = gap_event(e, 2, l, first);
                is_gap = true;
                b->have_snap = false;
            }
            b->pending = false;
        } else if (b->have_last) {
            bool ok = spot ? first == b->last_id + 1 : prev == b->last_id;
            if (!ok) {
                *gap = gap_event(e, 1, spot ? b->last_id + 1 : b->last_id, spot ? first : prev);
                is_gap = true;
                b->have_snap = false;
            }
        }
        b->last_id = final;
        b->have_last = true;
        break;
    }
    case SP_VENUE_BYBIT: {
        int64_t u = e->aux[0];
        if (b->have_last && u != b->last_id + 1) {
            *gap = gap_event(e, 1, b->last_id + 1, u);
            is_gap = true;
            b->have_snap = false;
        }
        b->last_id = u;
        b->have_last = true;
        break;
    }
    case SP_VENUE_OKX: {
        int64_t prev = e->aux[0], seq = e->aux[1];
        if (b->have_last && prev != b->last_id) {
            *gap = gap_event(e, 1, b->last_id, prev);
            is_gap = true;
            b->have_snap = false;
        }
        b->last_id = seq;
        b->have_last = true;
        break;
    }
    default:
        break;
    }
    if (is_gap)
        st->gaps++;
    return is_gap;
}

sp_err sp_feed_sync_apply(sp_feed_sync *s, const sp_event *in, size_t n, sp_event *out, size_t cap,
                          size_t *n_out)
{
    size_t o = 0;
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        const sp_event *e = &in[i];
        bool depth = e->kind == SP_EV_DEPTH_UPDATE && !(e->flags & SP_EVF_DERIVED);
        bool snap = e->kind == SP_EV_BOOK_LEVEL && e->sub == 0 && (e->flags & SP_EVF_SNAPSHOT);
        if ((depth || snap) && tracked(e->venue)) {
            book_state *b;
            sp_err rc = state_for(s, e->venue, e->symbol_id, &b);
            if (rc != SP_OK)
                return rc;
            if (snap) {
                /* the first level of a new snapshot resets the symbol */
                if (b->msg_state != 3 || b->snap_id != e->aux[0]) {
                    s->stats.snapshots++;
                    b->have_snap = true;
                    b->snap_id = e->aux[0];
                    b->pending =
                        e->venue == SP_VENUE_BINANCE_UM || e->venue == SP_VENUE_BINANCE_SPOT;
                    b->have_last = !b->pending;
                    b->last_id = e->aux[0];
                    b->msg_state = 3; /* inside a snapshot */
                }
            } else {
                int64_t a = e->aux[0], c = e->aux[1];
                if (b->msg_state == 0 || b->msg_state == 3 || a != b->msg_a || c != b->msg_b) {
                    sp_event gap;
                    b->msg_a = a;
                    b->msg_b = c;
                    if (check_message(b, e, &s->stats, &gap)) {
                        if (o == cap)
                            return SP_ETOOBIG;
                        out[o++] = gap;
                    }
                }
                if (b->msg_state == 2) {
                    s->stats.stale++;
                    continue;
                }
                if (!b->have_snap)
                    s->stats.out_of_sync++;
            }
        }
        if (o == cap)
            return SP_ETOOBIG;
        out[o++] = *e;
    }
    *n_out = o;
    return SP_OK;
}
