/*
 * book.c -- the fast order book: the same contract as book_ref.c (which is
 * its oracle), built for 20-60 ns per operation.
 *
 * Data structure (docs/internals/book.md has the picture):
 *   - a circular flat array of window_ticks price levels, level i holding
 *     price p where p % window == i.  Every resting price lies within a span
 *     below the window (a remainder that would stretch it further is
 *     cancelled with 3005), so no two occupied prices share a slot and any
 *     price in the configured limits is accepted without moving anything;
 *   - per side, a two-level occupancy bitmap over the slots (bit i of word
 *     w of level 1 says word w of level 0 is non-zero), so the next best
 *     level is a few ctz / clz away, plus the best and worst price;
 *   - per level, an intrusive doubly linked FIFO of order slots;
 *   - order slots (32 bytes) from one pool allocated at sp_book_new, with
 *     MADV_HUGEPAGE (measured in perf-anchors.md §1.3: p99.9 2-11 us with
 *     4 KiB pages, 0.25 us with huge pages), handed out from a high-water
 *     mark and then a free list; slot 0 is the null link;
 *   - an id -> slot hash, open addressing with linear probing and
 *     backward-shift deletion (no tombstones), at most half full.
 * Nothing is allocated after sp_book_new.
 *
 * Event order and the moments the pool and window limits are checked are
 * fixed by book_ref.c; each function here says which of its rules it
 * mirrors.  Matching follows the W1 semantics of docs/specs/perf-anchors.md
 * §1.2: price-time priority, fills at the maker's price, one fill per
 * maker/taker pair, market remainders cancelled.
 */
#include <string.h>
#include <sys/mman.h>

#include "book/book_int.h"
#include "stampede/alloc.h"

#define NIL 0u /* null slot index */

/* One order slot: 32 bytes, two per cache line. */
typedef struct fo {
    uint64_t id;   /* 0 = loaded depth */
    int64_t qty;   /* leaves, lots */
    uint32_t next; /* newer order at the level, or NIL (free list link when free) */
    uint32_t prev; /* older order at the level, or NIL */
    uint32_t lvl;  /* level slot index */
    uint8_t side;  /* sp_side */
    uint8_t tif;   /* as entered */
    uint8_t flags; /* as entered */
    uint8_t pad_;
} fo;

/* One price level: 32 bytes. */
typedef struct flvl {
    int64_t px;     /* ticks; meaningful while n > 0 */
    int64_t total;  /* sum of leaves, lots */
    uint32_t head;  /* oldest order */
    uint32_t tail;  /* newest order */
    uint32_t n;     /* orders at the level */
    uint32_t depth; /* slot of the loaded-depth entry, or NIL */
} flvl;

typedef struct fside {
    uint64_t *l0;   /* bit per level slot */
    uint64_t *l1;   /* bit per non-zero l0 word */
    uint32_t nlev;  /* occupied levels */
    uint32_t best;  /* level slot of the best price (valid when nlev > 0) */
    uint32_t worst; /* level slot of the worst price (valid when nlev > 0) */
} fside;

typedef struct hent {
    uint32_t tag;  /* top 32 bits of the id's hash */
    uint32_t slot; /* order slot, NIL = empty bucket */
} hent;

typedef struct fast_book {
    sp_book base;    /* must be first */
    flvl *lv;        /* window_ticks levels */
    uint32_t mask;   /* window_ticks - 1 */
    uint32_t nw0;    /* l0 words per side */
    uint32_t nw1;    /* l1 words per side */
    fside s[2];      /* SP_BUY, SP_SELL */
    fo *pool;        /* max_orders + 1 slots (slot 0 unused) */
    uint32_t fresh;  /* next never-used slot */
    uint32_t free_;  /* free list head, NIL if empty */
    uint32_t count;  /* resting entries */
    hent *ht;        /* id index */
    uint64_t hmask;  /* capacity - 1 */
    unsigned hshift; /* 32 - log2(capacity) */
    void *raw[5];    /* allocations to free: lv, pool, ht, bitmaps */
} fast_book;

#define FB(b)  ((fast_book *)(b))
#define CFB(b) ((const fast_book *)(b))

/* ---- memory ------------------------------------------------------------ */

#define HUGE_ALIGN ((size_t)2 << 20)

/*
 * size bytes (zeroed if zero) through sp_malloc; blocks of 2 MiB or more
 * are aligned to 2 MiB and advised MADV_HUGEPAGE (THP is "madvise" on the
 * project machine, perf-anchors.md §0).  *raw receives what to sp_free.
 */
static void *big_alloc(size_t size, bool zero, void **raw)
{
    if (size < HUGE_ALIGN) {
        *raw = zero ? sp_calloc(1, size) : sp_malloc(size);
        return *raw;
    }
    *raw = zero ? sp_calloc(1, size + HUGE_ALIGN) : sp_malloc(size + HUGE_ALIGN);
    if (!*raw)
        return NULL;
    uintptr_t p = ((uintptr_t)*raw + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)p, size & ~(HUGE_ALIGN - 1), MADV_HUGEPAGE);
#endif
    return (void *)p;
}

/* ---- bitmaps ----------------------------------------------------------- */

/* Lowest set bit of l1 at index >= j (j < 64 * nw1), or -1. */
static int64_t l1_up(const uint64_t *l1, uint32_t nw1, uint64_t j)
{
    uint64_t w = j >> 6;
    if (w >= nw1)
        return -1;
    uint64_t x = l1[w] & (~0ull << (j & 63));
    for (;;) {
        if (x)
            return (int64_t)(w * 64 + (uint64_t)__builtin_ctzll(x));
        if (++w >= nw1)
            return -1;
        x = l1[w];
    }
}

/* Highest set bit of l1 at index <= j, or -1 (j may be -1). */
static int64_t l1_down(const uint64_t *l1, int64_t j)
{
    if (j < 0)
        return -1;
    int64_t w = j >> 6;
    uint64_t x = l1[w] & ((2ull << (j & 63)) - 1);
    for (;;) {
        if (x)
            return w * 64 + 63 - __builtin_clzll(x);
        if (--w < 0)
            return -1;
        x = l1[w];
    }
}

/* First occupied slot of side at i or above, circularly.  The side must be non-empty. */
static uint32_t scan_up(const fast_book *f, const fside *s, uint32_t i)
{
    uint32_t w = i >> 6;
    uint64_t x = s->l0[w] & (~0ull << (i & 63));
    if (x)
        return w * 64 + (uint32_t)__builtin_ctzll(x);
    int64_t k = l1_up(s->l1, f->nw1, (uint64_t)w + 1);
    if (k < 0)
        k = l1_up(s->l1, f->nw1, 0);
    return (uint32_t)k * 64 + (uint32_t)__builtin_ctzll(s->l0[k]);
}

/* First occupied slot of side at i or below, circularly.  The side must be non-empty. */
static uint32_t scan_down(const fast_book *f, const fside *s, uint32_t i)
{
    uint32_t w = i >> 6;
    uint64_t x = s->l0[w] & ((2ull << (i & 63)) - 1);
    if (x)
        return w * 64 + 63 - (uint32_t)__builtin_clzll(x);
    int64_t k = l1_down(s->l1, (int64_t)w - 1);
    if (k < 0)
        k = l1_down(s->l1, (int64_t)f->nw0 - 1);
    return (uint32_t)k * 64 + 63 - (uint32_t)__builtin_clzll(s->l0[k]);
}

/* The next slot from i toward worse prices on side (bids go down, asks up). */
static inline uint32_t scan_worse(const fast_book *f, uint8_t side, uint32_t i)
{
    return side == SP_BUY ? scan_down(f, &f->s[side], i) : scan_up(f, &f->s[side], i);
}

static inline uint32_t scan_better(const fast_book *f, uint8_t side, uint32_t i)
{
    return side == SP_BUY ? scan_up(f, &f->s[side], i) : scan_down(f, &f->s[side], i);
}

static inline void bit_set(fside *s, uint32_t i)
{
    uint32_t w = i >> 6;
    s->l0[w] |= 1ull << (i & 63);
    s->l1[w >> 6] |= 1ull << (w & 63);
}

static inline void bit_clear(fside *s, uint32_t i)
{
    uint32_t w = i >> 6;
    s->l0[w] &= ~(1ull << (i & 63));
    if (s->l0[w] == 0)
        s->l1[w >> 6] &= ~(1ull << (w & 63));
}

static inline bool bit_test(const fside *s, uint32_t i)
{
    return (s->l0[i >> 6] >> (i & 63)) & 1;
}

/* ---- id hash ----------------------------------------------------------- */

/*
 * The index stores 8-byte entries {tag, slot}: tag is the top 32 bits of
 * id * golden ratio, whose top log2(capacity) bits are the home bucket, so
 * probing and backward-shift deletion never touch the pool; only a tag
 * match reads the slot's id.  Half a million resting orders fit a 8 MiB
 * table.  (Tried: homes in runs of 8 or 64 consecutive ids, so that a new
 * sequential id probes the line its predecessor used.  On W1 1 M it cut the
 * simulated L2 misses from 1.95 to 1.42 / 1.29 per op but cost 17-20 Ir per
 * op, and no wall-clock gain showed on the loaded test machine; dropped.)
 */
static inline uint32_t h_tag(uint64_t id)
{
    return (uint32_t)((id * 0x9E3779B97F4A7C15ull) >> 32);
}

static inline uint64_t h_home(const fast_book *f, uint32_t tag)
{
    return (uint64_t)tag >> f->hshift;
}

/* Slot of resting id, or NIL; *at (may be NULL) receives its bucket. */
static inline uint32_t h_find_at(const fast_book *f, uint64_t id, uint64_t *at)
{
    uint32_t tag = h_tag(id);
    for (uint64_t i = h_home(f, tag);; i = (i + 1) & f->hmask) {
        hent e = f->ht[i];
        if (e.slot == NIL)
            return NIL;
        if (e.tag == tag && f->pool[e.slot].id == id) {
            if (at)
                *at = i;
            return e.slot;
        }
    }
}

static inline uint32_t h_find(const fast_book *f, uint64_t id)
{
    return h_find_at(f, id, NULL);
}

/* Empty bucket i, shifting later entries of its run back (no tombstones). */
static __attribute__((noinline)) void h_del_shift(fast_book *f, uint64_t i)
{
    for (uint64_t j = i;;) {
        j = (j + 1) & f->hmask;
        if (f->ht[j].slot == NIL)
            break;
        uint64_t k = h_home(f, f->ht[j].tag);
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            f->ht[i] = f->ht[j];
            i = j;
        }
    }
    f->ht[i].slot = NIL;
}

/*
 * h_del_shift, with the common case inline: the next bucket is empty, so
 * nothing shifts (7 deletes in 10 on W1).  With the loop out of line
 * W1 1 M went from 185.5 to 184.5 Ir per op (callgrind).
 */
static inline void h_del_at(fast_book *f, uint64_t i)
{
    if (SP_LIKELY(f->ht[(i + 1) & f->hmask].slot == NIL)) {
        f->ht[i].slot = NIL;
        return;
    }
    h_del_shift(f, i);
}

/* Remove slot's entry (which must be present). */
static void h_del(fast_book *f, uint64_t id, uint32_t slot)
{
    uint64_t i = h_home(f, h_tag(id));
    while (f->ht[i].slot != slot) {
        if (SP_NEVER(f->ht[i].slot == NIL))
            return;
        i = (i + 1) & f->hmask;
    }
    h_del_at(f, i);
}

/* ---- slots and levels -------------------------------------------------- */

/*
 * A free order slot: the most recently freed one first (it is likely still
 * in cache), else a never-used one from the high-water mark, so a fresh
 * pool is touched page by page as the book grows.  The caller has checked
 * count < max_orders, so one of the two exists.
 */
static inline uint32_t slot_get(fast_book *f)
{
    uint32_t s = f->free_;
    if (s != NIL) {
        f->free_ = f->pool[s].next;
        return s;
    }
    return ++f->fresh;
}

/* Return slot s to the free list (its next field is the link). */
static inline void slot_put(fast_book *f, uint32_t s)
{
    f->pool[s].next = f->free_;
    f->free_ = s;
}

/* True if price a has priority over b on side (higher bid, lower ask). */
static inline bool better_px(uint8_t side, int64_t a, int64_t b)
{
    return side == SP_BUY ? a > b : a < b;
}

/* Record a new occupied level at slot i on side. */
static inline void level_opened(fast_book *f, uint8_t side, uint32_t i)
{
    fside *s = &f->s[side];
    bit_set(s, i);
    if (s->nlev++ == 0) {
        s->best = s->worst = i;
        return;
    }
    int64_t px = f->lv[i].px;
    if (better_px(side, px, f->lv[s->best].px))
        s->best = i;
    else if (better_px(side, f->lv[s->worst].px, px))
        s->worst = i;
}

/* Record that level slot i of side became empty, moving best / worst. */
static void level_closed(fast_book *f, uint8_t side, uint32_t i)
{
    fside *s = &f->s[side];
    bit_clear(s, i);
    if (--s->nlev == 0)
        return;
    if (i == s->best)
        s->best = scan_worse(f, side, side == SP_BUY ? (i - 1) & f->mask : (i + 1) & f->mask);
    else if (i == s->worst)
        s->worst = scan_better(f, side, side == SP_BUY ? (i + 1) & f->mask : (i - 1) & f->mask);
}

/* Append order slot o (qty set) to level slot i, opening the level if empty. */
static inline void level_push(fast_book *f, uint8_t side, uint32_t i, int64_t px, uint32_t o)
{
    flvl *l = &f->lv[i];
    fo *p = &f->pool[o];
    p->lvl = i;
    p->next = NIL;
    p->prev = l->tail;
    if (l->n == 0) {
        l->px = px;
        l->head = o;
        l->total = 0;
        l->depth = NIL;
        level_opened(f, side, i);
    } else {
        f->pool[l->tail].next = o;
    }
    l->tail = o;
    l->n++;
    l->total += p->qty;
    f->count++;
}

/* Unlink order slot o from its level and free it, leaving the id index alone. */
static inline void order_unlink_nohash(fast_book *f, uint32_t o)
{
    fo *p = &f->pool[o];
    flvl *l = &f->lv[p->lvl];
    if (p->prev != NIL)
        f->pool[p->prev].next = p->next;
    else
        l->head = p->next;
    if (p->next != NIL)
        f->pool[p->next].prev = p->prev;
    else
        l->tail = p->prev;
    if (l->depth == o)
        l->depth = NIL;
    l->n--;
    l->total -= p->qty;
    slot_put(f, o);
    f->count--;
}

/* Unlink order slot o from its level, drop its id and free it (the level may become empty). */
static inline void order_unlink(fast_book *f, uint32_t o)
{
    if (f->pool[o].id != 0)
        h_del(f, f->pool[o].id, o);
    order_unlink_nohash(f, o);
}

/* Lowest and highest occupied price; false if the book is empty (mirrors ref span_of). */
static inline bool span_of(const fast_book *f, int64_t *lo, int64_t *hi)
{
    const fside *b = &f->s[SP_BUY], *a = &f->s[SP_SELL];
    if (b->nlev == 0 && a->nlev == 0)
        return false;
    *lo = f->lv[b->nlev ? b->worst : a->best].px;
    *hi = f->lv[a->nlev ? a->worst : b->best].px;
    return true;
}

/*
 * True if a new level at px keeps every resting price within a span below
 * the window, which is what lets price p live in slot p & mask without two
 * prices ever sharing a slot.  Mirrors ref span_ok.
 */
static inline bool span_ok(const fast_book *f, int64_t px)
{
    int64_t lo, hi;
    if (!span_of(f, &lo, &hi))
        return true;
    if (px < lo)
        lo = px;
    if (px > hi)
        hi = px;
    return hi - lo < (int64_t)f->base.cfg.window_ticks;
}

/* True if side has an occupied level at exactly px; *i receives its slot. */
static inline bool level_at(const fast_book *f, uint8_t side, int64_t px, uint32_t *i)
{
    *i = (uint32_t)((uint64_t)px & f->mask);
    const flvl *l = &f->lv[*i];
    return l->n > 0 && l->px == px && bit_test(&f->s[side], *i);
}

/* ---- matching ---------------------------------------------------------- */

/*
 * The hot paths (sp_book_add of a plain limit or market order, sp_book_cancel)
 * keep everything rare out of line: rejects, FOK / post-only entry, event
 * emission with a sink, the match loop itself.  Measured with callgrind on
 * W1 1 M (bench_book --mode ir): with all of it inlined into one function
 * the compiler spilled a dozen values on every add and fast_add cost 198 Ir
 * per add; split like this, 174 (matching included).
 */
#define SP_BOOK_COLD __attribute__((noinline, cold))

/* Out of line: refuse a command (book_int.h's sp__book_reject). */
static SP_BOOK_COLD void fb_reject(const sp_book *b, uint64_t id, uint8_t side, int64_t px,
                                   int64_t qty, uint16_t reason, sp_book_result *res)
{
    sp__book_reject(b, id, side, px, qty, reason, res);
}

/* Out of line: one event without a maker or leaves. */
static SP_BOOK_COLD void fb_emit1(const sp_book *b, uint8_t kind, uint8_t side, uint16_t reason,
                                  uint64_t id, int64_t px, int64_t qty)
{
    sp__book_emit(b, kind, side, reason, id, 0, px, qty, 0);
}

/* Out of line: one event plus, when configured, the LEVEL event that follows it. */
static SP_BOOK_COLD void fb_emit2(const sp_book *b, uint8_t kind, uint8_t side, uint16_t reason,
                                  uint64_t id, int64_t px, int64_t qty, int64_t lvl_total)
{
    sp__book_emit(b, kind, side, reason, id, 0, px, qty, 0);
    sp__book_level_ev(b, side, px, lvl_total);
}

/* Index value meaning "no empty bucket known: probe for one". */
#define HOLE_UNKNOWN UINT64_MAX

/*
 * Take the best opposite levels while they cross (a market order takes
 * whatever is there), oldest order first; each fill prints at the maker's
 * price and emits FILL then LEVEL, as ref_enter does.  A maker that is done
 * leaves its level at once; a level that empties is closed only after its
 * FIFO is exhausted, which moves the side's best to the next occupied slot
 * (bitmap scan).  Returns the lots left; *fills receives the fill count.
 */
static __attribute__((noinline)) int64_t fast_match(fast_book *f, const sp_book_order *o,
                                                    uint32_t *fills)
{
    const sp_book *b = &f->base;
    uint8_t side = o->side, opp = side ^ 1;
    fside *os = &f->s[opp];
    bool market = o->type == SP_ORD_MARKET;
    int64_t left = o->qty;
    uint32_t n = 0;
    while (left > 0 && os->nlev > 0) {
        uint32_t li = os->best;
        flvl *l = &f->lv[li];
        int64_t px = l->px;
        if (!market && !sp__book_crosses(side, o->px, px))
            break;
        while (left > 0 && l->n > 0) {
            uint32_t m = l->head;
            fo *p = &f->pool[m];
            int64_t take = p->qty < left ? p->qty : left;
            uint64_t maker = p->id;
            p->qty -= take;
            l->total -= take;
            left -= take;
            n++;
            if (p->qty == 0)
                order_unlink(f, m);
            if (SP_UNLIKELY(b->sink.fn != NULL)) {
                sp__book_emit(b, SP_BOOK_EV_FILL, side, 0, o->id, maker, px, take, left);
                sp__book_level_ev(b, opp, px, l->total);
            }
        }
        if (l->n == 0)
            level_closed(f, opp, li);
    }
    *fills = n;
    return left;
}

/*
 * What becomes of the left lots after matching, as in ref_enter: IOC /
 * market cancel (3003), pool full (3004), span (3005), or REST + LEVEL.
 * tag is h_tag(o->id); hole is an empty bucket of the id index that ends
 * the probe run of o->id (found by the duplicate check and still valid
 * because nothing was removed from the index since), or HOLE_UNKNOWN.
 */
static inline __attribute__((always_inline)) void fast_remainder(fast_book *f,
                                                                 const sp_book_order *o,
                                                                 int64_t left, uint32_t tag,
                                                                 uint64_t hole, sp_book_result *res)
{
    const sp_book *b = &f->base;
    uint8_t side = o->side;
    int64_t px = o->px;
    uint16_t why = 0;
    uint32_t li = (uint32_t)((uint64_t)px & f->mask);
    flvl *l = &f->lv[li];
    if (o->type == SP_ORD_MARKET || o->tif != SP_TIF_GTC)
        why = SP_BREASON_IOC_REMAINDER;
    else if (SP_UNLIKELY(f->count >= b->cfg.max_orders))
        why = SP_BREASON_BOOK_FULL;
    /*
     * The slot holds px on this side iff it is occupied at px: after the
     * match no opposite level crosses px, so an opposite level at px cannot
     * exist (level_at's bitmap test is not needed here).
     */
    else if (!(l->n > 0 && l->px == px) && !span_ok(f, px))
        why = SP_BREASON_PX_SPAN;
    if (why) {
        res->status = SP_BOOK_CANCELLED;
        res->reason = why;
        res->leaves = 0;
        if (SP_UNLIKELY(b->sink.fn != NULL))
            fb_emit1(b, SP_BOOK_EV_CANCEL, side, why, o->id, px, left);
        return;
    }
    uint32_t slot = slot_get(f);
    fo *p = &f->pool[slot];
    p->id = o->id;
    p->qty = left;
    p->side = side;
    p->tif = o->tif;
    p->flags = o->flags;
    level_push(f, side, li, px, slot);
    if (hole == HOLE_UNKNOWN) {
        hole = h_home(f, tag);
        while (f->ht[hole].slot != NIL)
            hole = (hole + 1) & f->hmask;
    }
    f->ht[hole].tag = tag;
    f->ht[hole].slot = slot;
    res->status = SP_BOOK_RESTING;
    res->reason = 0;
    res->leaves = left;
    if (SP_UNLIKELY(b->sink.fn != NULL))
        fb_emit2(b, SP_BOOK_EV_REST, side, 0, o->id, px, left, l->total);
}

/*
 * Enter a validated order whose id is not resting; the same steps and
 * event order as ref_enter: post-only, FOK availability, then per fill
 * FILL + LEVEL, then the remainder.  fast_add takes a shorter way for
 * orders without post-only or FOK; sp_book_amend's re-entry comes here.
 */
static __attribute__((noinline)) void fast_enter(fast_book *f, const sp_book_order *o,
                                                 sp_book_result *res)
{
    const sp_book *b = &f->base;
    uint8_t side = o->side, opp = side ^ 1;
    fside *os = &f->s[opp];
    bool market = o->type == SP_ORD_MARKET;
    if ((o->flags & SP_ORDF_POST_ONLY) && os->nlev > 0 &&
        sp__book_crosses(side, o->px, f->lv[os->best].px)) {
        sp__book_reject(b, o->id, side, o->px, o->qty, SP_BREASON_POST_ONLY, res);
        return;
    }
    if (SP_UNLIKELY(o->tif == SP_TIF_FOK)) {
        int64_t avail = 0;
        uint32_t i = os->best;
        for (uint32_t k = 0; k < os->nlev && avail < o->qty; k++) {
            if (k > 0)
                i = scan_worse(f, opp, opp == SP_BUY ? (i - 1) & f->mask : (i + 1) & f->mask);
            if (!market && !sp__book_crosses(side, o->px, f->lv[i].px))
                break;
            avail += f->lv[i].total;
        }
        if (avail < o->qty) {
            sp__book_reject(b, o->id, side, o->px, o->qty, SP_BREASON_FOK_UNFILLED, res);
            return;
        }
    }
    uint32_t fills = 0;
    int64_t left = fast_match(f, o, &fills);
    res->fills = fills;
    res->filled = o->qty - left;
    if (left == 0) {
        res->status = SP_BOOK_FILLED;
        res->reason = 0;
        res->leaves = 0;
        return;
    }
    fast_remainder(f, o, left, h_tag(o->id), HOLE_UNKNOWN, res);
}

/*
 * sp_book_add after validation: the duplicate-id probe, whose end is the
 * bucket the id will take if it rests and nothing leaves the index in
 * between (one hash probe per resting add instead of two); then, for an
 * order without post-only or FOK, matching only if the opposite best
 * crosses, and the remainder.
 */
static void fast_add(sp_book *b, const sp_book_order *o, sp_book_result *res)
{
    fast_book *f = FB(b);
    uint64_t id = o->id;
    uint32_t tag = h_tag(id);
    uint64_t hole = h_home(f, tag);
    for (;; hole = (hole + 1) & f->hmask) {
        hent e = f->ht[hole];
        if (e.slot == NIL)
            break;
        if (SP_UNLIKELY(e.tag == tag && f->pool[e.slot].id == id)) {
            fb_reject(b, id, o->side, o->px, o->qty, SP_BREASON_DUP_ID, res);
            return;
        }
    }
    if (SP_UNLIKELY((o->flags & SP_ORDF_POST_ONLY) || o->tif == SP_TIF_FOK)) {
        fast_enter(f, o, res);
        return;
    }
    const fside *os = &f->s[o->side ^ 1];
    int64_t left = o->qty;
    uint32_t fills = 0;
    if (os->nlev > 0 &&
        (o->type == SP_ORD_MARKET || sp__book_crosses(o->side, o->px, f->lv[os->best].px))) {
        left = fast_match(f, o, &fills);
        hole = HOLE_UNKNOWN; /* filled makers left the index */
    }
    res->fills = fills;
    res->filled = o->qty - left;
    if (left == 0) {
        res->status = SP_BOOK_FILLED;
        res->reason = 0;
        res->leaves = 0;
        return;
    }
    fast_remainder(f, o, left, tag, hole, res);
}

/* Mirrors ref_cancel: CANCEL(3006) then LEVEL. */
static void fast_cancel(sp_book *b, uint64_t id, sp_book_result *res)
{
    fast_book *f = FB(b);
    uint64_t at = 0;
    uint32_t o = h_find_at(f, id, &at);
    if (SP_UNLIKELY(o == NIL)) {
        fb_reject(b, id, 0, 0, 0, SP_BREASON_UNKNOWN_ID, res);
        return;
    }
    fo *p = &f->pool[o];
    uint32_t li = p->lvl;
    uint8_t side = p->side;
    int64_t qty = p->qty;
    flvl *l = &f->lv[li];
    h_del_at(f, at);
    order_unlink_nohash(f, o);
    res->status = SP_BOOK_CANCELLED;
    res->reason = SP_BREASON_USER;
    res->fills = 0;
    res->filled = 0;
    res->leaves = 0;
    if (SP_UNLIKELY(b->sink.fn != NULL))
        fb_emit2(b, SP_BOOK_EV_CANCEL, side, SP_BREASON_USER, id, l->px, qty, l->total);
    if (l->n == 0)
        level_closed(f, side, li);
}

/* Mirrors ref_amend: in place, or post-only check, AMEND, LEVEL of the old level, re-entry. */
static void fast_amend(sp_book *b, uint64_t id, bool keep_px, int64_t px, int64_t qty,
                       sp_book_result *res)
{
    fast_book *f = FB(b);
    uint32_t o = h_find(f, id);
    if (o == NIL) {
        sp__book_reject(b, id, 0, px, qty, SP_BREASON_UNKNOWN_ID, res);
        return;
    }
    fo *p = &f->pool[o];
    uint32_t li = p->lvl;
    flvl *l = &f->lv[li];
    uint8_t side = p->side, flags = p->flags;
    int64_t old_px = l->px, npx = keep_px ? old_px : px, cur = p->qty;
    res->fills = 0;
    res->filled = 0;
    if (npx == old_px && qty <= cur) {
        p->qty = qty;
        l->total -= cur - qty;
        res->status = SP_BOOK_AMENDED;
        res->reason = 0;
        res->leaves = qty;
        sp__book_emit(b, SP_BOOK_EV_AMEND, side, 0, id, 0, npx, qty, 0);
        if (qty != cur)
            sp__book_level_ev(b, side, old_px, l->total);
        return;
    }
    const fside *os = &f->s[side ^ 1];
    if ((flags & SP_ORDF_POST_ONLY) && os->nlev > 0 &&
        sp__book_crosses(side, npx, f->lv[os->best].px)) {
        sp__book_reject(b, id, side, npx, qty, SP_BREASON_POST_ONLY, res);
        return;
    }
    sp__book_emit(b, SP_BOOK_EV_AMEND, side, 0, id, 0, npx, qty, 0);
    order_unlink(f, o);
    sp__book_level_ev(b, side, old_px, l->total);
    if (l->n == 0)
        level_closed(f, side, li);
    sp_book_order n = {id, npx, qty, side, SP_ORD_LIMIT, SP_TIF_GTC, flags};
    fast_enter(f, &n, res);
}

/* Mirrors ref_set_level (see there and book.h). */
static sp_err fast_set_level(sp_book *b, sp_side side, int64_t px, int64_t qty)
{
    fast_book *f = FB(b);
    uint32_t li;
    bool exists = level_at(f, (uint8_t)side, px, &li);
    flvl *l = &f->lv[li];
    if (exists && l->depth != NIL) {
        fo *p = &f->pool[l->depth];
        int64_t old = p->qty;
        if (qty == 0) {
            order_unlink(f, l->depth);
        } else {
            p->qty = qty;
            l->total += qty - old;
        }
        if (qty != old)
            sp__book_level_ev(b, (uint8_t)side, px, l->total);
        if (l->n == 0)
            level_closed(f, (uint8_t)side, li);
        return SP_OK;
    }
    if (qty == 0)
        return SP_OK;
    uint8_t opp = (uint8_t)side ^ 1;
    fside *os = &f->s[opp];
    uint32_t ncross = 0;
    /*
     * A new level may cross the opposite side (a delta applied before the
     * one that removes the stale level).  Count the crossed opposite levels,
     * refusing if any holds an order entered with sp_book_add.
     */
    if (!exists && os->nlev > 0) {
        uint32_t i = os->best;
        for (; ncross < os->nlev; ncross++) {
            if (ncross > 0)
                i = scan_worse(f, opp, opp == SP_BUY ? (i - 1) & f->mask : (i + 1) & f->mask);
            const flvl *c = &f->lv[i];
            if (!sp__book_crosses((uint8_t)side, px, c->px))
                break;
            if (c->n != 1 || c->depth == NIL)
                return SP_ESTATE;
        }
    }
    /* Limits are judged on the book as it is, before the crossed depth goes (as in ref). */
    if (f->count >= b->cfg.max_orders)
        return SP_ETOOBIG;
    if (!exists && !span_ok(f, px))
        return SP_ERANGE;
    /* Drop the crossed opposite depth, best first; each is a level of exactly one entry. */
    for (uint32_t k = 0; k < ncross; k++) {
        uint32_t i = os->best;
        int64_t opx = f->lv[i].px;
        order_unlink(f, f->lv[i].depth);
        level_closed(f, opp, i);
        sp__book_level_ev(b, opp, opx, 0);
    }
    uint32_t slot = slot_get(f);
    fo *p = &f->pool[slot];
    p->id = 0;
    p->qty = qty;
    p->side = (uint8_t)side;
    p->tif = SP_TIF_GTC;
    p->flags = 0;
    level_push(f, (uint8_t)side, li, px, slot);
    f->lv[li].depth = slot;
    sp__book_level_ev(b, (uint8_t)side, px, f->lv[li].total);
    return SP_OK;
}

/* Remove everything, touching only occupied levels. */
static void fast_clear(sp_book *b)
{
    fast_book *f = FB(b);
    for (int sd = 0; sd < 2; sd++) {
        fside *s = &f->s[sd];
        while (s->nlev > 0) {
            uint32_t i = s->best;
            flvl *l = &f->lv[i];
            while (l->n > 0)
                order_unlink(f, l->head);
            level_closed(f, (uint8_t)sd, i);
        }
    }
    f->fresh = 0;
    f->free_ = NIL;
}

/* ---- queries ----------------------------------------------------------- */

static size_t fast_count(const sp_book *b)
{
    return CFB(b)->count;
}

static bool fast_get(const sp_book *b, uint64_t id, sp_book_order_info *info)
{
    const fast_book *f = CFB(b);
    uint32_t o = h_find(f, id);
    if (o == NIL)
        return false;
    const fo *p = &f->pool[o];
    *info = (sp_book_order_info){id, f->lv[p->lvl].px, p->qty, p->side, p->tif, p->flags};
    return true;
}

/* Slot of the level after slot i toward worse prices (the side has one). */
static inline uint32_t next_worse(const fast_book *f, uint8_t side, uint32_t i)
{
    return scan_worse(f, side, side == SP_BUY ? (i - 1) & f->mask : (i + 1) & f->mask);
}

static void fast_walk(const sp_book *b, sp_side side,
                      void (*fn)(void *, const sp_book_order_info *), void *ctx)
{
    const fast_book *f = CFB(b);
    const fside *s = &f->s[side];
    uint32_t i = s->best;
    for (uint32_t k = 0; k < s->nlev; k++) {
        if (k > 0)
            i = next_worse(f, (uint8_t)side, i);
        const flvl *l = &f->lv[i];
        for (uint32_t o = l->head; o != NIL; o = f->pool[o].next) {
            const fo *p = &f->pool[o];
            sp_book_order_info info = {p->id, l->px, p->qty, p->side, p->tif, p->flags};
            fn(ctx, &info);
        }
    }
}

static void to_level(const flvl *l, sp_book_level *out)
{
    out->px = l->px;
    out->qty = l->total;
    out->n = l->n;
}

static bool fast_best(const sp_book *b, sp_side side, sp_book_level *lvl)
{
    const fast_book *f = CFB(b);
    if (f->s[side].nlev == 0)
        return false;
    to_level(&f->lv[f->s[side].best], lvl);
    return true;
}

/*
 * The level after px toward worse prices.  px need not be occupied: the
 * scan starts one tick worse than px, clamped to the best level, and stops
 * at the worst; within [worst, best] the span invariant means the circular
 * scan meets no level of another price first.
 */
static bool fast_next(const sp_book *b, sp_side side, int64_t px, sp_book_level *lvl)
{
    const fast_book *f = CFB(b);
    const fside *s = &f->s[side];
    if (s->nlev == 0)
        return false;
    int64_t best = f->lv[s->best].px, worst = f->lv[s->worst].px;
    if (!better_px((uint8_t)side, px, worst))
        return false;
    if (better_px((uint8_t)side, px, best)) {
        to_level(&f->lv[s->best], lvl);
        return true;
    }
    int64_t start = side == SP_BUY ? px - 1 : px + 1;
    uint32_t i = scan_worse(f, (uint8_t)side, (uint32_t)((uint64_t)start & f->mask));
    to_level(&f->lv[i], lvl);
    return true;
}

/*
 * Every invariant, from scratch: walk each side's bitmap word by word (so
 * the cost is window / 64 plus the orders), and for every occupied slot
 * check the level against its FIFO, the FIFO links, the id index and the
 * other side's bitmap; then the side summaries, the crossing and span
 * rules, and that free list + resting entries account for every slot.
 */
static sp_err fast_check(const sp_book *b, sp_diag *d)
{
    const fast_book *f = CFB(b);
    uint32_t entries = 0;
    for (uint8_t sd = 0; sd < 2; sd++) {
        const fside *s = &f->s[sd];
        uint32_t nlev = 0;
        int64_t best = 0, worst = 0;
        for (uint32_t w = 0; w < f->nw0; w++) {
            bool l1 = (s->l1[w >> 6] >> (w & 63)) & 1;
            if (l1 != (s->l0[w] != 0))
                return sp_diag_set(d, SP_ESTATE, "fast: summary bit of word %u wrong", w);
            for (uint64_t x = s->l0[w]; x; x &= x - 1) {
                uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(x);
                const flvl *l = &f->lv[i];
                if (l->n == 0 || ((uint64_t)l->px & f->mask) != i || bit_test(&f->s[sd ^ 1], i))
                    return sp_diag_set(d, SP_ESTATE, "fast: bad level in slot %u", i);
                if (nlev == 0 || better_px(sd, l->px, best))
                    best = l->px;
                if (nlev == 0 || better_px(sd, worst, l->px))
                    worst = l->px;
                nlev++;
                int64_t sum = 0;
                uint32_t n = 0, depth = NIL, prev = NIL;
                for (uint32_t o = l->head; o != NIL; prev = o, o = f->pool[o].next) {
                    const fo *p = &f->pool[o];
                    if (o > f->fresh || p->prev != prev || p->lvl != i || p->side != sd ||
                        p->qty <= 0 || n > l->n)
                        return sp_diag_set(d, SP_ESTATE, "fast: bad order slot %u at %lld", o,
                                           (long long)l->px);
                    if (p->id == 0) {
                        if (depth != NIL)
                            return sp_diag_set(d, SP_ESTATE, "fast: two depth entries at %lld",
                                               (long long)l->px);
                        depth = o;
                    } else if (h_find(f, p->id) != o) {
                        return sp_diag_set(d, SP_ESTATE, "fast: id %llu not indexed",
                                           (unsigned long long)p->id);
                    }
                    sum += p->qty;
                    n++;
                }
                if (l->tail != prev || n != l->n || sum != l->total || depth != l->depth)
                    return sp_diag_set(d, SP_ESTATE,
                                       "fast: level %lld: n %u/%u total %lld/%lld depth %u/%u",
                                       (long long)l->px, n, l->n, (long long)sum,
                                       (long long)l->total, depth, l->depth);
                entries += n;
            }
        }
        if (nlev != s->nlev ||
            (nlev > 0 && (f->lv[s->best].px != best || f->lv[s->worst].px != worst)))
            return sp_diag_set(d, SP_ESTATE, "fast: side %u levels %u/%u or best/worst wrong", sd,
                               nlev, s->nlev);
    }
    if (entries != f->count)
        return sp_diag_set(d, SP_ESTATE, "fast: %u entries in levels, count %u", entries, f->count);
    const fside *bs = &f->s[SP_BUY], *as = &f->s[SP_SELL];
    if (bs->nlev && as->nlev && f->lv[bs->best].px >= f->lv[as->best].px)
        return sp_diag_set(d, SP_ESTATE, "fast: crossed book %lld >= %lld",
                           (long long)f->lv[bs->best].px, (long long)f->lv[as->best].px);
    int64_t lo, hi;
    if (span_of(f, &lo, &hi) && hi - lo >= (int64_t)b->cfg.window_ticks)
        return sp_diag_set(d, SP_ESTATE, "fast: span %lld .. %lld exceeds the window",
                           (long long)lo, (long long)hi);
    /* Free list + resting entries must account for every slot handed out. */
    uint32_t nfree = 0;
    for (uint32_t o = f->free_; o != NIL && nfree <= f->fresh; o = f->pool[o].next)
        nfree++;
    if (nfree + f->count != f->fresh)
        return sp_diag_set(d, SP_ESTATE, "fast: %u free + %u used != %u slots", nfree, f->count,
                           f->fresh);
    return SP_OK;
}

static void fast_destroy(sp_book *b)
{
    fast_book *f = FB(b);
    for (size_t i = 0; i < SP_COUNTOF(f->raw); i++)
        sp_free(f->raw[i]);
    sp_free(f);
}

/* The operations table's add / cancel, which return SP_OK (book_int.h). */
static sp_err fast_add_op(sp_book *b, const sp_book_order *o, sp_book_result *res)
{
    fast_add(b, o, res);
    return SP_OK;
}

static sp_err fast_cancel_op(sp_book *b, uint64_t id, sp_book_result *res)
{
    fast_cancel(b, id, res);
    return SP_OK;
}

static const sp_book_ops fast_ops = {
    fast_destroy, fast_add_op, fast_cancel_op, fast_amend, fast_set_level, fast_clear,
    fast_count,   fast_get,    fast_walk,      fast_best,  fast_next,      fast_check,
};

/*
 * Allocate the whole book up front: levels (zeroed, window_ticks x 32 B),
 * the pool (max_orders + 1 slots, not zeroed: slots are initialised when
 * handed out), the id index (at least twice max_orders buckets, so it is at
 * most half full) and both sides' bitmaps.  On any failure everything
 * allocated so far is freed and SP_ENOMEM returned.
 */
sp_err sp__book_fast_new(const sp_book_config *cfg, sp_book **out)
{
    fast_book *f = sp_calloc(1, sizeof(*f));
    if (!f)
        return SP_ENOMEM;
    uint32_t w = cfg->window_ticks;
    f->mask = w - 1;
    f->nw0 = w / 64;
    f->nw1 = (f->nw0 + 63) / 64;
    uint64_t hcap = 1024;
    unsigned lg = 10;
    while (hcap < 2ull * cfg->max_orders) {
        hcap *= 2;
        lg++;
    }
    f->hmask = hcap - 1;
    f->hshift = 32 - lg;
    size_t nbits = 2 * ((size_t)f->nw0 + f->nw1);
    f->lv = big_alloc((size_t)w * sizeof(flvl), true, &f->raw[0]);
    f->pool =
        f->lv ? big_alloc(((size_t)cfg->max_orders + 1) * sizeof(fo), false, &f->raw[1]) : NULL;
    f->ht = f->pool ? big_alloc(hcap * sizeof(hent), true, &f->raw[2]) : NULL;
    uint64_t *bits = f->ht ? sp_calloc(nbits, sizeof(uint64_t)) : NULL;
    if (!bits) {
        for (size_t i = 0; i < SP_COUNTOF(f->raw); i++)
            sp_free(f->raw[i]);
        sp_free(f);
        return SP_ENOMEM;
    }
    f->raw[3] = bits;
    f->s[SP_BUY].l0 = bits;
    f->s[SP_BUY].l1 = bits + f->nw0;
    f->s[SP_SELL].l0 = bits + f->nw0 + f->nw1;
    f->s[SP_SELL].l1 = bits + 2 * (size_t)f->nw0 + f->nw1;
    f->base.ops = &fast_ops;
    *out = &f->base;
    return SP_OK;
}
