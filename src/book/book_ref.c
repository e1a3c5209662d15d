/*
 * book_ref.c -- the reference order book: the simplest structure that is
 * obviously right, used as the oracle of the differential test against
 * book.c and as the in-process baseline of bench/bench_book.
 *
 * Each side is an array of price levels sorted best first (bids
 * descending, asks ascending); each level is an array of orders in arrival
 * order, so index 0 is the oldest.  Removing shifts the array down, adding
 * appends; there is no cleverness to get wrong.  An id -> (side, price)
 * table (open addressing with tombstones, rebuilt when half full) finds the
 * level of a cancel or amend, and the order is then found by a linear scan
 * of its level.
 *
 * The matching rules (book.h, the W1 semantics of docs/specs/perf-anchors.md
 * §1.2) are written out here in the most direct form: take the best
 * opposite level while it crosses, oldest order first, fill at the maker's
 * price, one FILL per maker/taker pair.  book.c must emit exactly the same
 * events; where the two could differ (the order of LEVEL events, when the
 * pool and window limits are checked) the rule is stated once in a comment
 * here and mirrored there.
 *
 * Unlike book.c the reference allocates as it grows; an allocation failure
 * while resting cancels the remainder with 3004 (book full).
 */
#include <string.h>

#include "book/book_int.h"
#include "stampede/alloc.h"

typedef struct ref_ord {
    uint64_t id;   /* 0 = loaded depth */
    int64_t qty;   /* leaves, lots */
    uint8_t tif;   /* as entered */
    uint8_t flags; /* as entered */
} ref_ord;

typedef struct ref_lvl {
    int64_t px;    /* ticks */
    int64_t total; /* sum of o[].qty */
    ref_ord *o;    /* arrival order */
    size_t n;      /* orders */
    size_t cap;    /* allocated */
} ref_lvl;

typedef struct ref_side {
    ref_lvl *l; /* best first */
    size_t n;   /* levels */
    size_t cap; /* allocated */
} ref_side;

/* Slot of the id table: state 0 empty, 1 used, 2 deleted. */
typedef struct ref_slot {
    uint64_t id;
    int64_t px;
    uint8_t side;
    uint8_t state;
} ref_slot;

typedef struct ref_book {
    sp_book base;    /* must be first */
    ref_side s[2];   /* SP_BUY, SP_SELL */
    ref_slot *tab;   /* id table */
    size_t tab_cap;  /* power of two */
    size_t tab_used; /* used + deleted slots */
    size_t nid;      /* used slots */
    size_t count;    /* resting entries incl. depth */
} ref_book;

#define REF(b)  ((ref_book *)(b))
#define CREF(b) ((const ref_book *)(b))

/* ---- id table ---------------------------------------------------------- */

/* Home slot of id in a table of cap (a power of two) slots. */
static size_t id_hash(uint64_t id, size_t cap)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* The used slot holding id, or NULL; deleted slots are probed past. */
static ref_slot *id_find(const ref_book *r, uint64_t id)
{
    for (size_t i = id_hash(id, r->tab_cap);; i = (i + 1) & (r->tab_cap - 1)) {
        ref_slot *s = &r->tab[i];
        if (s->state == 0)
            return NULL;
        if (s->state == 1 && s->id == id)
            return s;
    }
}

/* Rebuild the table at cap slots (drops tombstones).  False on ENOMEM. */
static bool id_rehash(ref_book *r, size_t cap)
{
    ref_slot *t = sp_calloc(cap, sizeof(*t));
    if (!t)
        return false;
    for (size_t i = 0; i < r->tab_cap; i++) {
        if (r->tab[i].state != 1)
            continue;
        size_t j = id_hash(r->tab[i].id, cap);
        while (t[j].state != 0)
            j = (j + 1) & (cap - 1);
        t[j] = r->tab[i];
    }
    sp_free(r->tab);
    r->tab = t;
    r->tab_cap = cap;
    r->tab_used = r->nid;
    return true;
}

/* Make room for one more id.  False on ENOMEM. */
static bool id_reserve(ref_book *r)
{
    if ((r->tab_used + 1) * 2 <= r->tab_cap)
        return true;
    size_t cap = r->tab_cap;
    if ((r->nid + 1) * 4 > cap)
        cap *= 2;
    return id_rehash(r, cap);
}

/* Record id at (side, px); id_reserve must have made room. */
static void id_put(ref_book *r, uint64_t id, uint8_t side, int64_t px)
{
    size_t i = id_hash(id, r->tab_cap);
    while (r->tab[i].state == 1)
        i = (i + 1) & (r->tab_cap - 1);
    if (r->tab[i].state == 0)
        r->tab_used++;
    r->tab[i].id = id;
    r->tab[i].px = px;
    r->tab[i].side = side;
    r->tab[i].state = 1;
    r->nid++;
}

/* Mark id's slot deleted (a tombstone, dropped at the next rehash). */
static void id_del(ref_book *r, uint64_t id)
{
    ref_slot *s = id_find(r, id);
    if (SP_ALWAYS(s != NULL)) {
        s->state = 2;
        r->nid--;
    }
}

/* ---- levels ------------------------------------------------------------ */

/* True if price a has priority over price b on side. */
static bool better(uint8_t side, int64_t a, int64_t b)
{
    return side == SP_BUY ? a > b : a < b;
}

/* Index of the first level of side that is not better than px (binary search). */
static size_t lvl_lower(const ref_side *s, uint8_t side, int64_t px)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (better(side, s->l[mid].px, px))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The level of side at px, or NULL. */
static ref_lvl *lvl_find(const ref_book *r, uint8_t side, int64_t px)
{
    const ref_side *s = &r->s[side];
    size_t i = lvl_lower(s, side, px);
    return (i < s->n && s->l[i].px == px) ? &s->l[i] : NULL;
}

/* Remove level i of side (which must be empty). */
static void lvl_remove(ref_book *r, uint8_t side, size_t i)
{
    ref_side *s = &r->s[side];
    sp_free(s->l[i].o);
    memmove(&s->l[i], &s->l[i + 1], (s->n - i - 1) * sizeof(s->l[0]));
    s->n--;
}

/* Remove order k of level li on side, keeping the id table and count right. */
static void ord_remove(ref_book *r, uint8_t side, size_t li, size_t k)
{
    ref_lvl *l = &r->s[side].l[li];
    if (l->o[k].id != 0)
        id_del(r, l->o[k].id);
    l->total -= l->o[k].qty;
    memmove(&l->o[k], &l->o[k + 1], (l->n - k - 1) * sizeof(l->o[0]));
    l->n--;
    r->count--;
}

/* Append order o at price px of side, creating the level.  False on ENOMEM. */
static bool ord_append(ref_book *r, uint8_t side, int64_t px, ref_ord o)
{
    ref_side *s = &r->s[side];
    size_t i = lvl_lower(s, side, px);
    if (i == s->n || s->l[i].px != px) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            ref_lvl *nl = sp_reallocarray(s->l, cap, sizeof(*nl));
            if (!nl)
                return false;
            s->l = nl;
            s->cap = cap;
        }
        memmove(&s->l[i + 1], &s->l[i], (s->n - i) * sizeof(s->l[0]));
        memset(&s->l[i], 0, sizeof(s->l[i]));
        s->l[i].px = px;
        s->n++;
    }
    ref_lvl *l = &s->l[i];
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        ref_ord *no = sp_reallocarray(l->o, cap, sizeof(*no));
        if (!no) {
            if (l->n == 0)
                lvl_remove(r, side, i);
            return false;
        }
        l->o = no;
        l->cap = cap;
    }
    l->o[l->n++] = o;
    l->total += o.qty;
    r->count++;
    return true;
}

/* Lowest and highest occupied price over both sides; false if the book is empty. */
static bool span_of(const ref_book *r, int64_t *lo, int64_t *hi)
{
    const ref_side *b = &r->s[SP_BUY], *a = &r->s[SP_SELL];
    if (b->n == 0 && a->n == 0)
        return false;
    *lo = b->n ? b->l[b->n - 1].px : a->l[0].px;
    *hi = a->n ? a->l[a->n - 1].px : b->l[0].px;
    return true;
}

/* True if a new level at px keeps the book's span below the window. */
static bool span_ok(const ref_book *r, int64_t px)
{
    int64_t lo, hi;
    if (!span_of(r, &lo, &hi))
        return true;
    if (px < lo)
        lo = px;
    if (px > hi)
        hi = px;
    return hi - lo < (int64_t)r->base.cfg.window_ticks;
}

/* ---- matching ---------------------------------------------------------- */

/*
 * Enter a validated order (new, or re-entering after an amend): post-only
 * and FOK checks, matching, then rest / cancel the remainder.  The event
 * order is the contract book.c mirrors: per fill FILL then LEVEL(maker
 * level); then CANCEL(3003) for an IOC remainder, or the rest checks (pool
 * full 3004, then window span 3005, both after matching) and REST + LEVEL.
 */
static void ref_enter(ref_book *r, const sp_book_order *o, sp_book_result *res)
{
    const sp_book *b = &r->base;
    uint8_t opp = o->side ^ 1;
    ref_side *os = &r->s[opp];
    bool market = o->type == SP_ORD_MARKET;
    if ((o->flags & SP_ORDF_POST_ONLY) && os->n > 0 &&
        sp__book_crosses(o->side, o->px, os->l[0].px)) {
        sp__book_reject(b, o->id, o->side, o->px, o->qty, SP_BREASON_POST_ONLY, res);
        return;
    }
    if (o->tif == SP_TIF_FOK) {
        int64_t avail = 0;
        for (size_t i = 0; i < os->n && avail < o->qty; i++) {
            if (!market && !sp__book_crosses(o->side, o->px, os->l[i].px))
                break;
            avail += os->l[i].total;
        }
        if (avail < o->qty) {
            sp__book_reject(b, o->id, o->side, o->px, o->qty, SP_BREASON_FOK_UNFILLED, res);
            return;
        }
    }
    int64_t left = o->qty;
    res->fills = 0;
    res->filled = 0;
    while (left > 0 && os->n > 0 && (market || sp__book_crosses(o->side, o->px, os->l[0].px))) {
        ref_lvl *l = &os->l[0];
        int64_t px = l->px;
        ref_ord *m = &l->o[0];
        int64_t take = m->qty < left ? m->qty : left;
        uint64_t maker = m->id;
        m->qty -= take;
        l->total -= take;
        left -= take;
        res->fills++;
        res->filled += take;
        if (m->qty == 0)
            ord_remove(r, opp, 0, 0);
        sp__book_emit(b, SP_BOOK_EV_FILL, o->side, 0, o->id, maker, px, take, left);
        sp__book_level_ev(b, opp, px, l->total);
        if (l->n == 0)
            lvl_remove(r, opp, 0);
    }
    res->leaves = 0;
    if (left == 0) {
        res->status = SP_BOOK_FILLED;
        res->reason = 0;
        return;
    }
    uint16_t why = 0;
    if (market || o->tif != SP_TIF_GTC)
        why = SP_BREASON_IOC_REMAINDER;
    else if (r->count >= b->cfg.max_orders)
        why = SP_BREASON_BOOK_FULL;
    else if (!span_ok(r, o->px))
        why = SP_BREASON_PX_SPAN;
    else if (!id_reserve(r) ||
             !ord_append(r, o->side, o->px, (ref_ord){o->id, left, o->tif, o->flags}))
        why = SP_BREASON_BOOK_FULL;
    if (why) {
        res->status = SP_BOOK_CANCELLED;
        res->reason = why;
        sp__book_emit(b, SP_BOOK_EV_CANCEL, o->side, why, o->id, 0, o->px, left, 0);
        return;
    }
    id_put(r, o->id, o->side, o->px);
    res->status = SP_BOOK_RESTING;
    res->reason = 0;
    res->leaves = left;
    sp__book_emit(b, SP_BOOK_EV_REST, o->side, 0, o->id, 0, o->px, left, 0);
    sp__book_level_ev(b, o->side, o->px, lvl_find(r, o->side, o->px)->total);
}

/* A new order: refuse a duplicate id (1004), then enter it. */
static void ref_add(sp_book *b, const sp_book_order *o, sp_book_result *res)
{
    ref_book *r = REF(b);
    if (id_find(r, o->id)) {
        sp__book_reject(b, o->id, o->side, o->px, o->qty, SP_BREASON_DUP_ID, res);
        return;
    }
    ref_enter(r, o, res);
}

/* Level index and order index of resting id (which must exist). */
static void locate(const ref_book *r, const ref_slot *s, size_t *li, size_t *k)
{
    const ref_side *sd = &r->s[s->side];
    *li = lvl_lower(sd, s->side, s->px);
    const ref_lvl *l = &sd->l[*li];
    for (*k = 0; *k < l->n && l->o[*k].id != s->id; (*k)++)
        ;
}

/* Cancel by id: CANCEL(3006) then LEVEL, removing the level if it empties. */
static void ref_cancel(sp_book *b, uint64_t id, sp_book_result *res)
{
    ref_book *r = REF(b);
    ref_slot *s = id_find(r, id);
    if (!s) {
        sp__book_reject(b, id, 0, 0, 0, SP_BREASON_UNKNOWN_ID, res);
        return;
    }
    uint8_t side = s->side;
    int64_t px = s->px;
    size_t li, k;
    locate(r, s, &li, &k);
    ref_lvl *l = &r->s[side].l[li];
    int64_t qty = l->o[k].qty;
    ord_remove(r, side, li, k);
    res->status = SP_BOOK_CANCELLED;
    res->reason = SP_BREASON_USER;
    res->fills = 0;
    res->filled = 0;
    res->leaves = 0;
    sp__book_emit(b, SP_BOOK_EV_CANCEL, side, SP_BREASON_USER, id, 0, px, qty, 0);
    sp__book_level_ev(b, side, px, l->total);
    if (l->n == 0)
        lvl_remove(r, side, li);
}

/*
 * Amend (book.h): in place when the price stays and the quantity does not
 * grow (AMEND, then LEVEL if the total changed); otherwise a post-only
 * check at the new price, then AMEND, removal (LEVEL of the old level) and
 * re-entry through ref_enter.
 */
static void ref_amend(sp_book *b, uint64_t id, bool keep_px, int64_t px, int64_t qty,
                      sp_book_result *res)
{
    ref_book *r = REF(b);
    ref_slot *s = id_find(r, id);
    if (!s) {
        sp__book_reject(b, id, 0, px, qty, SP_BREASON_UNKNOWN_ID, res);
        return;
    }
    uint8_t side = s->side;
    int64_t old_px = s->px;
    int64_t npx = keep_px ? old_px : px;
    size_t li, k;
    locate(r, s, &li, &k);
    ref_lvl *l = &r->s[side].l[li];
    ref_ord cur = l->o[k];
    res->fills = 0;
    res->filled = 0;
    if (npx == old_px && qty <= cur.qty) {
        l->o[k].qty = qty;
        l->total -= cur.qty - qty;
        res->status = SP_BOOK_AMENDED;
        res->reason = 0;
        res->leaves = qty;
        sp__book_emit(b, SP_BOOK_EV_AMEND, side, 0, id, 0, npx, qty, 0);
        if (qty != cur.qty)
            sp__book_level_ev(b, side, old_px, l->total);
        return;
    }
    const ref_side *os = &r->s[side ^ 1];
    if ((cur.flags & SP_ORDF_POST_ONLY) && os->n > 0 && sp__book_crosses(side, npx, os->l[0].px)) {
        sp__book_reject(b, id, side, npx, qty, SP_BREASON_POST_ONLY, res);
        return;
    }
    sp__book_emit(b, SP_BOOK_EV_AMEND, side, 0, id, 0, npx, qty, 0);
    ord_remove(r, side, li, k);
    sp__book_level_ev(b, side, old_px, l->total);
    if (l->n == 0)
        lvl_remove(r, side, li);
    sp_book_order o = {id, npx, qty, side, SP_ORD_LIMIT, SP_TIF_GTC, cur.flags};
    ref_enter(r, &o, res);
}

/*
 * Loader (book.h): an existing level cannot be crossed, so only a new level
 * checks the opposite side: refuse (SP_ESTATE) if a crossed level holds an
 * order with an id, check pool and span on the book as it is, then drop the
 * crossed depth (LEVEL 0 each, best first) and create the entry.
 */
static sp_err ref_set_level(sp_book *b, sp_side side, int64_t px, int64_t qty)
{
    ref_book *r = REF(b);
    ref_side *s = &r->s[side];
    size_t li = lvl_lower(s, side, px);
    ref_lvl *l = (li < s->n && s->l[li].px == px) ? &s->l[li] : NULL;
    if (l) {
        size_t k;
        for (k = 0; k < l->n && l->o[k].id != 0; k++)
            ;
        if (k < l->n) {
            int64_t old = l->o[k].qty;
            if (qty == 0) {
                ord_remove(r, side, li, k);
            } else {
                l->o[k].qty = qty;
                l->total += qty - old;
            }
            if (qty != old)
                sp__book_level_ev(b, side, px, l->total);
            if (l->n == 0)
                lvl_remove(r, side, li);
            return SP_OK;
        }
    }
    if (qty == 0)
        return SP_OK;
    uint8_t opp = (uint8_t)(side ^ 1);
    ref_side *os = &r->s[opp];
    size_t ncross = 0;
    if (!l) {
        for (; ncross < os->n && sp__book_crosses(side, px, os->l[ncross].px); ncross++) {
            for (size_t k = 0; k < os->l[ncross].n; k++) {
                if (os->l[ncross].o[k].id != 0)
                    return SP_ESTATE;
            }
        }
    }
    if (r->count >= b->cfg.max_orders)
        return SP_ETOOBIG;
    if (!l && !span_ok(r, px))
        return SP_ERANGE;
    for (size_t i = 0; i < ncross; i++) {
        int64_t opx = os->l[0].px;
        r->count -= os->l[0].n;
        lvl_remove(r, opp, 0);
        sp__book_level_ev(b, opp, opx, 0);
    }
    if (!ord_append(r, side, px, (ref_ord){0, qty, SP_TIF_GTC, 0}))
        return SP_ENOMEM;
    sp__book_level_ev(b, side, px, lvl_find(r, side, px)->total);
    return SP_OK;
}

static void ref_clear(sp_book *b)
{
    ref_book *r = REF(b);
    for (int sd = 0; sd < 2; sd++) {
        for (size_t i = 0; i < r->s[sd].n; i++)
            sp_free(r->s[sd].l[i].o);
        r->s[sd].n = 0;
    }
    memset(r->tab, 0, r->tab_cap * sizeof(r->tab[0]));
    r->tab_used = 0;
    r->nid = 0;
    r->count = 0;
}

/* ---- queries ----------------------------------------------------------- */

static size_t ref_count(const sp_book *b)
{
    return CREF(b)->count;
}

static bool ref_get(const sp_book *b, uint64_t id, sp_book_order_info *info)
{
    const ref_book *r = CREF(b);
    ref_slot *s = id_find(r, id);
    if (!s)
        return false;
    size_t li, k;
    locate(r, s, &li, &k);
    const ref_ord *o = &r->s[s->side].l[li].o[k];
    *info = (sp_book_order_info){id, s->px, o->qty, s->side, o->tif, o->flags};
    return true;
}

static void ref_walk(const sp_book *b, sp_side side, void (*fn)(void *, const sp_book_order_info *),
                     void *ctx)
{
    const ref_side *s = &CREF(b)->s[side];
    for (size_t i = 0; i < s->n; i++) {
        const ref_lvl *l = &s->l[i];
        for (size_t k = 0; k < l->n; k++) {
            sp_book_order_info info = {l->o[k].id,    l->px,       l->o[k].qty,
                                       (uint8_t)side, l->o[k].tif, l->o[k].flags};
            fn(ctx, &info);
        }
    }
}

static void to_level(const ref_lvl *l, sp_book_level *out)
{
    out->px = l->px;
    out->qty = l->total;
    out->n = (uint32_t)l->n;
}

static bool ref_best(const sp_book *b, sp_side side, sp_book_level *lvl)
{
    const ref_side *s = &CREF(b)->s[side];
    if (s->n == 0)
        return false;
    to_level(&s->l[0], lvl);
    return true;
}

static bool ref_next(const sp_book *b, sp_side side, int64_t px, sp_book_level *lvl)
{
    const ref_side *s = &CREF(b)->s[side];
    size_t i = lvl_lower(s, (uint8_t)side, px);
    if (i < s->n && s->l[i].px == px)
        i++;
    if (i >= s->n)
        return false;
    to_level(&s->l[i], lvl);
    return true;
}

/*
 * The invariants of book.h checked directly on the arrays: levels ordered
 * and non-empty, totals, positive leaves, one depth entry at most, every id
 * indexed at its own level, counts, not crossed, span below the window.
 */
static sp_err ref_check(const sp_book *b, sp_diag *d)
{
    const ref_book *r = CREF(b);
    size_t entries = 0, ids = 0;
    for (uint8_t sd = 0; sd < 2; sd++) {
        const ref_side *s = &r->s[sd];
        for (size_t i = 0; i < s->n; i++) {
            const ref_lvl *l = &s->l[i];
            int64_t sum = 0;
            int depth = 0;
            if (l->n == 0)
                return sp_diag_set(d, SP_ESTATE, "ref: empty level %lld", (long long)l->px);
            if (i > 0 && !better(sd, s->l[i - 1].px, l->px))
                return sp_diag_set(d, SP_ESTATE, "ref: levels out of order at %lld",
                                   (long long)l->px);
            for (size_t k = 0; k < l->n; k++) {
                const ref_ord *o = &l->o[k];
                if (o->qty <= 0)
                    return sp_diag_set(d, SP_ESTATE, "ref: order %llu has qty %lld",
                                       (unsigned long long)o->id, (long long)o->qty);
                sum += o->qty;
                if (o->id == 0) {
                    depth++;
                    continue;
                }
                ids++;
                const ref_slot *t = id_find(r, o->id);
                if (!t || t->side != sd || t->px != l->px)
                    return sp_diag_set(d, SP_ESTATE, "ref: id %llu not indexed at its level",
                                       (unsigned long long)o->id);
            }
            if (depth > 1)
                return sp_diag_set(d, SP_ESTATE, "ref: %d depth entries at %lld", depth,
                                   (long long)l->px);
            if (sum != l->total)
                return sp_diag_set(d, SP_ESTATE, "ref: level %lld total %lld != sum %lld",
                                   (long long)l->px, (long long)l->total, (long long)sum);
            entries += l->n;
        }
    }
    if (entries != r->count || ids != r->nid)
        return sp_diag_set(d, SP_ESTATE, "ref: count %zu/%zu, ids %zu/%zu", entries, r->count, ids,
                           r->nid);
    if (r->s[0].n && r->s[1].n && r->s[0].l[0].px >= r->s[1].l[0].px)
        return sp_diag_set(d, SP_ESTATE, "ref: crossed book %lld >= %lld",
                           (long long)r->s[0].l[0].px, (long long)r->s[1].l[0].px);
    int64_t lo, hi;
    if (span_of(r, &lo, &hi) && hi - lo >= (int64_t)b->cfg.window_ticks)
        return sp_diag_set(d, SP_ESTATE, "ref: span %lld .. %lld exceeds the window", (long long)lo,
                           (long long)hi);
    return SP_OK;
}

static void ref_destroy(sp_book *b)
{
    ref_book *r = REF(b);
    for (int sd = 0; sd < 2; sd++) {
        for (size_t i = 0; i < r->s[sd].n; i++)
            sp_free(r->s[sd].l[i].o);
        sp_free(r->s[sd].l);
    }
    sp_free(r->tab);
    sp_free(r);
}

/* The operations table's add / cancel, which return SP_OK (book_int.h). */
static sp_err ref_add_op(sp_book *b, const sp_book_order *o, sp_book_result *res)
{
    ref_add(b, o, res);
    return SP_OK;
}

static sp_err ref_cancel_op(sp_book *b, uint64_t id, sp_book_result *res)
{
    ref_cancel(b, id, res);
    return SP_OK;
}

static const sp_book_ops ref_ops = {
    ref_destroy, ref_add_op, ref_cancel_op, ref_amend, ref_set_level, ref_clear,
    ref_count,   ref_get,    ref_walk,      ref_best,  ref_next,      ref_check,
};

/* An empty reference book with a small id table; everything else grows on demand. */
sp_err sp__book_ref_new(const sp_book_config *cfg, sp_book **out)
{
    (void)cfg;
    ref_book *r = sp_calloc(1, sizeof(*r));
    if (!r)
        return SP_ENOMEM;
    r->tab_cap = 1024;
    r->tab = sp_calloc(r->tab_cap, sizeof(r->tab[0]));
    if (!r->tab) {
        sp_free(r);
        return SP_ENOMEM;
    }
    r->base.ops = &ref_ops;
    *out = &r->base;
    return SP_OK;
}
