/*
 * cascade.c -- the cascade loop (fast and naive), the decomposition with
 * and without forced orders, and the replay of a real price path.
 *
 * Liquidation trigger: the mark price (docs/specs/exchange-rules.md §1:
 * all four venues trigger on the mark; §9: a long is liquidated when
 * mark <= LP, a short when mark >= LP).  The exchange takes the position
 * over at its bankruptcy price and sends a market order to the book
 * (§2.7, §3.5); the difference between the fill and the bankruptcy value
 * goes to (or comes out of) the insurance fund; what the book cannot fill
 * is closed by auto-deleveraging at the bankruptcy price (§2.7 "ADL: last
 * step").  In the fast mode the forced orders of one wave are executed as
 * one aggregate market order (positions triggered by the same mark are
 * sent together), so a wave costs one book walk.
 *
 * Fast mode: the positions of the side at risk are sorted by trigger
 * (pop.c), so the positions a mark crosses are always the next run of the
 * sorted array: one pass over the liquidated positions in total, plus one
 * binary search in the ladder per wave.  Naive mode (the benchmark's
 * baseline and the tests' oracle) rescans every position after each wave.
 * Both compute every sum per position with the same rounding, so they
 * agree to the unit.
 */
#include <string.h>

#include "sim_int.h"

/* The default shock of sim.h: a -8% mark move on the full book, fund 1e9 USDT. */
sp_sim_shock sp_sim_shock_default(void)
{
    sp_sim_shock s;
    memset(&s, 0, sizeof(s));
    s.kind = SP_SIM_SHOCK_MOVE;
    s.move_bp = -800;
    s.forced_orders = true;
    s.insurance_usd = (int64_t)1000000000 * SP__SIM_ONE;
    return s;
}

/* ---- walking a ladder (raw quantities; thinning applied by the caller) --------------- */

/* First level i with cumq[i] >= c (n if none): the level holding the c-th unit. */
static size_t level_of(const sp__sim_ladder *L, int64_t c)
{
    size_t lo = 0, hi = L->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (L->cumq[mid] >= c)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Raw notional of the first c units (c <= total). */
static __int128 notional_of(const sp__sim_ladder *L, int64_t c)
{
    if (c <= 0)
        return 0;
    size_t i = level_of(L, c);
    if (i >= L->n)
        return L->cumn[L->n - 1];
    int64_t before = i ? L->cumq[i - 1] : 0;
    __int128 nb = i ? L->cumn[i - 1] : 0;
    return nb + (__int128)(c - before) * L->lv[i].px / SP__SIM_ONE;
}

static int64_t total_of(const sp__sim_ladder *L)
{
    return L->cumq[L->n - 1];
}

/* Mark after c raw units are consumed (c >= 1): the price of the level of the c-th unit. */
static int64_t px_after(const sp__sim_ladder *L, int64_t c)
{
    size_t i = level_of(L, c);
    return L->lv[i < L->n ? i : L->n - 1].px;
}

/* Raw units of the levels strictly better than target (bids above it, asks below it). */
static int64_t qty_better_than(const sp__sim_ladder *L, int ask, int64_t target)
{
    size_t lo = 0, hi = L->n;
    while (lo < hi) { /* first level not better than target */
        size_t mid = lo + (hi - lo) / 2;
        bool better = ask ? L->lv[mid].px < target : L->lv[mid].px > target;
        if (better)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? L->cumq[lo - 1] : 0;
}

/* Raw units whose raw notional first reaches x (capped at the total). */
static int64_t qty_for_notional(const sp__sim_ladder *L, __int128 x)
{
    size_t lo = 0, hi = L->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (L->cumn[mid] >= x)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo >= L->n)
        return total_of(L);
    int64_t before = lo ? L->cumq[lo - 1] : 0;
    __int128 nb = lo ? L->cumn[lo - 1] : 0;
    __int128 rest = (x - nb) * SP__SIM_ONE;
    __int128 q = (rest + L->lv[lo].px - 1) / L->lv[lo].px;
    return before + (int64_t)q;
}

/* ---- shared run state ---------------------------------------------------------------- */

typedef struct run {
    const sp_sim_pop *p;
    const sp__sim_ladder *L; /* the side forced orders hit */
    const sp_sim_shock *s;
    int dir;   /* -1 fall, +1 rise */
    int64_t f; /* 10000 - thin_bp: the share of depth that stays */
    int64_t c; /* raw units consumed */
    int64_t mark;
    __int128 fund;
    sp_sim_result *r;
    __int128 notional, notional_long, notional_entry, qty;
} run;

static sp_err check_shock(const sp_sim_shock *s, sp_diag *d)
{
    if (s->kind == SP_SIM_SHOCK_MOVE) {
        if (s->move_bp == 0 || s->move_bp <= -10000 || s->move_bp >= 10000)
            return sp_diag_set(d, SP_EINVAL,
                               "shock must be a non-zero move strictly between -100%% and +100%%");
    } else if (s->kind == SP_SIM_SHOCK_SELL) {
        if (s->notional == 0)
            return sp_diag_set(d, SP_EINVAL, "shock notional must be non-zero");
    } else {
        return sp_diag_set(d, SP_EINVAL, "unknown shock kind %d", (int)s->kind);
    }
    if (s->thin_bp > 9900)
        return sp_diag_set(d, SP_EINVAL, "thinning must be 0 .. 99%%");
    if (s->resilience_bp > 10000)
        return sp_diag_set(d, SP_EINVAL, "resilience must be 0 .. 100%%");
    if (s->insurance_usd < 0)
        return sp_diag_set(d, SP_EINVAL, "insurance fund must be >= 0");
    return SP_OK;
}

/* Apply the exogenous shock: direction, consumed units and the mark. */
static sp_err start_run(run *R, const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                        sp_sim_result *out, sp_diag *d)
{
    if (!p || !m || !s || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    sp_err rc = check_shock(s, d);
    if (rc != SP_OK)
        return rc;
    memset(R, 0, sizeof(*R));
    memset(out, 0, sizeof(*out));
    R->p = p;
    R->s = s;
    R->r = out;
    R->f = 10000 - (int64_t)s->thin_bp;
    R->dir = s->kind == SP_SIM_SHOCK_MOVE ? (s->move_bp < 0 ? -1 : 1) : (s->notional < 0 ? -1 : 1);
    R->L = &m->side[R->dir < 0 ? 0 : 1];
    R->fund = s->insurance_usd;
    out->dir = R->dir;
    out->start_px = m->mid;
    out->fund_start = s->insurance_usd;
    if (s->kind == SP_SIM_SHOCK_MOVE) {
        int64_t target;
        if (sp_mul_div(m->mid, 10000 + (int64_t)s->move_bp, 10000, SP_RND_HALF_EVEN, &target) !=
                SP_OK ||
            target <= 0)
            return sp_diag_set(d, SP_EOVERFLOW, "shock price");
        R->c = qty_better_than(R->L, R->dir > 0, target);
        R->mark = target;
        if (R->c >= total_of(R->L))
            out->book_exhausted = true;
    } else {
        __int128 x = s->notional < 0 ? -(__int128)s->notional : (__int128)s->notional;
        x = x * 10000 / R->f; /* only f/10000 of each level is there */
        R->c = qty_for_notional(R->L, x);
        if (R->c >= total_of(R->L)) {
            R->c = total_of(R->L);
            out->book_exhausted = true;
        }
        R->mark = px_after(R->L, R->c > 0 ? R->c : 1);
    }
    out->shock_px = R->mark;
    out->extreme_px = R->mark;
    return SP_OK;
}

static bool crossed(int dir, int64_t trig, int64_t mark)
{
    /* long: mark <= LP (LP 0 = none); short: mark >= LP (spec §9) */
    return dir < 0 ? trig >= mark : (trig > 0 && trig <= mark);
}

/* What one wave liquidates, summed position by position (integers, any order). */
typedef struct acc {
    uint32_t n;                             /* positions */
    int64_t q;                              /* base units */
    __int128 bk;                            /* sum of bankruptcy values */
    __int128 ent;                           /* sum of entry notionals */
    int64_t maxq;                           /* largest single size */
    uint32_t bn[SP_SIM_LEV_REPORT_BUCKETS]; /* positions per leverage bucket */
    int64_t bq[SP_SIM_LEV_REPORT_BUCKETS];  /* base units per leverage bucket */
} acc;

static inline void acc_add(acc *a, int64_t q, int64_t bkv, int64_t entv, unsigned bucket)
{
    a->n++;
    a->q += q;
    a->bk += bkv;
    a->ent += entv;
    if (q > a->maxq)
        a->maxq = q;
    a->bn[bucket]++;
    a->bq[bucket] += q;
}

/*
 * Close a wave: every liquidated notional is valued at the mark that
 * triggered the wave (floor(qty x mark / 1e8), per wave and per bucket).
 */
static void close_wave(run *R, const acc *a, sp_sim_wave *w)
{
    sp_sim_result *r = R->r;
    int64_t n = sp__sim_value(a->q, R->mark);
    w->n = a->n;
    w->qty = a->q;
    w->notional = n;
    r->n_liq += a->n;
    R->notional += n;
    if (R->dir < 0) {
        r->n_long += a->n;
        R->notional_long += n;
    }
    R->notional_entry += a->ent;
    R->qty += a->q;
    int64_t big = sp__sim_value(a->maxq, R->mark);
    if (big > r->largest)
        r->largest = big;
    for (unsigned b = 0; b < SP_SIM_LEV_REPORT_BUCKETS; b++) {
        r->lev[b].n += a->bn[b];
        r->lev[b].notional += sp__sim_value(a->bq[b], R->mark);
    }
}

/* Send the wave's aggregate forced order (w->qty) to the book; update mark and fund. */
static void execute(run *R, __int128 bk, sp_sim_wave *w)
{
    const sp__sim_ladder *L = R->L;
    sp_sim_result *r = R->r;
    w->px_trigger = R->mark;
    if (!R->s->forced_orders) {
        w->px_after = R->mark;
        return;
    }
    int64_t raw = (int64_t)((__int128)w->qty * 10000 / R->f);
    int64_t total = total_of(L), room = total - R->c;
    int64_t filled = w->qty, raw_used = raw;
    if (raw > room) { /* the book runs out: the rest is deleveraged at bankruptcy */
        raw_used = room;
        filled = (int64_t)((__int128)room * R->f / 10000);
        w->adl_qty = w->qty - filled;
        r->adl_qty += w->adl_qty;
        r->book_exhausted = true;
    }
    __int128 fill_n = (notional_of(L, R->c + raw_used) - notional_of(L, R->c)) * R->f / 10000;
    R->c += raw_used;
    r->sold_qty += filled;
    if (filled > 0)
        w->vwap = (int64_t)(fill_n * SP__SIM_ONE / filled);
    /* the filled part's bankruptcy value, pro rata when the book ran out */
    __int128 bk_filled = w->qty ? bk * filled / w->qty : 0;
    __int128 delta = R->dir < 0 ? fill_n - bk_filled : bk_filled - fill_n;
    w->fund_delta = (int64_t)delta;
    R->fund += delta;
    int64_t np = R->c > 0 ? px_after(L, R->c) : R->mark;
    /* an exhausted book leaves the mark where it was if that is further out */
    if (R->c >= total && (R->dir < 0 ? R->mark < np : R->mark > np))
        np = R->mark;
    R->mark = np;
    w->px_after = R->mark;
    if (R->dir < 0 ? R->mark < r->extreme_px : R->mark > r->extreme_px)
        r->extreme_px = R->mark;
    /* resilience: makers refill a share of what was taken before the next wave */
    R->c -= (int64_t)((__int128)R->c * R->s->resilience_bp / 10000);
}

/* The price at which half the liquidated notional (at trigger prices) had gone. */
static int64_t half_price(const sp_sim_pop *p, int dir, size_t kend)
{
    int side = dir < 0 ? 0 : 1;
    const int64_t *trig = side == 0 ? p->ltrig : p->strig, *q = p->sq[side];
    __int128 tot = 0, acc_n = 0;
    for (size_t t = 0; t < kend; t++)
        tot += (__int128)q[t] * trig[t];
    for (size_t t = 0; t < kend; t++) {
        acc_n += (__int128)q[t] * trig[t];
        if (2 * acc_n >= tot)
            return trig[t];
    }
    return 0;
}

/* Copy the 128-bit running totals into the result (checked) and find the half-way price. */
static sp_err finish(run *R, size_t kend, sp_diag *d)
{
    sp_sim_result *r = R->r;
    if (R->notional > INT64_MAX || R->notional_entry > INT64_MAX || R->fund > INT64_MAX ||
        R->fund < INT64_MIN || R->qty > INT64_MAX)
        return sp_diag_set(d, SP_EOVERFLOW, "liquidated totals overflow");
    r->notional = (int64_t)R->notional;
    r->notional_long = (int64_t)R->notional_long;
    r->notional_entry = (int64_t)R->notional_entry;
    r->qty = (int64_t)R->qty;
    r->final_px = R->mark;
    r->fund_end = (int64_t)R->fund;
    r->half_px = half_price(R->p, R->dir, kend);
    return SP_OK;
}

/*
 * The fast cascade.  j is the first position of the side at risk not yet
 * liquidated; a wave takes the run of positions from j whose trigger the
 * current mark crossed (they are contiguous because the side is sorted by
 * trigger), sends one aggregate order to the ladder, and the new mark
 * decides the next run.  Each position is visited once in total.
 */
sp_err sp_sim_run(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                  sp_sim_wave *waves, size_t cap, sp_sim_result *out, sp_diag *d)
{
    run R;
    sp_err rc = start_run(&R, p, m, s, out, d);
    if (rc != SP_OK)
        return rc;
    int side = R.dir < 0 ? 0 : 1;
    const int64_t *trig = side == 0 ? p->ltrig : p->strig;
    const int64_t *sq = p->sq[side], *sbk = p->sbk[side], *sent = p->sent[side];
    const uint8_t *sb = p->sbucket[side];
    size_t n = side == 0 ? p->nl : p->ns, j = 0;
    uint32_t maxw = s->max_waves ? s->max_waves : SP_SIM_WAVES_MAX;
    while (j < n && crossed(R.dir, trig[j], R.mark)) {
        if (out->waves >= maxw) {
            out->truncated = true;
            break;
        }
        sp_sim_wave w;
        acc a;
        memset(&w, 0, sizeof(w));
        memset(&a, 0, sizeof(a));
        size_t k = j;
        for (; k < n && crossed(R.dir, trig[k], R.mark); k++) /* the next run of the sorted order */
            acc_add(&a, sq[k], sbk[k], sent[k], sb[k]);
        j = k;
        close_wave(&R, &a, &w);
        execute(&R, a.bk, &w);
        if (waves && out->waves < cap)
            waves[out->waves] = w;
        out->waves++;
    }
    return finish(&R, j, d);
}

/*
 * The naive cascade: after every wave, every position of the population is
 * tested again against the mark.  Same waves, same sums, same result as
 * sp_sim_run (the tests compare them byte for byte); O(N x waves).
 */
sp_err sp_sim_run_naive(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                        sp_sim_wave *waves, size_t cap, sp_sim_result *out, sp_diag *d)
{
    run R;
    sp_err rc = start_run(&R, p, m, s, out, d);
    if (rc != SP_OK)
        return rc;
    uint8_t *gone = sp_calloc(p->n ? p->n : 1, 1);
    if (!gone)
        return sp_diag_set(d, SP_ENOMEM, "naive run flags");
    int side = R.dir < 0 ? 1 : -1;
    uint32_t maxw = s->max_waves ? s->max_waves : SP_SIM_WAVES_MAX;
    size_t count = 0;
    for (;;) {
        sp_sim_wave w;
        acc a;
        memset(&w, 0, sizeof(w));
        memset(&a, 0, sizeof(a));
        bool any = false;
        /* rescan every position against the current mark */
        for (size_t i = 0; i < p->n; i++) {
            const sp_sim_pos *q = &p->pos[i];
            if (gone[i] || q->side != side || !crossed(R.dir, q->liq_px, R.mark))
                continue;
            if (!any && out->waves >= maxw) {
                out->truncated = true;
                break;
            }
            any = true;
            gone[i] = 1;
            count++;
            acc_add(&a, q->qty, sp__sim_value(q->qty, q->bk_px), sp__sim_value(q->qty, q->entry_px),
                    sp_sim_lev_bucket_of(q->leverage));
        }
        if (!any)
            break;
        close_wave(&R, &a, &w);
        execute(&R, a.bk, &w);
        if (waves && out->waves < cap)
            waves[out->waves] = w;
        out->waves++;
    }
    sp_free(gone);
    /* the liquidated set is a prefix of the sorted order (same triggers crossed) */
    return finish(&R, count, d);
}

/*
 * Run the shock with forced orders and without them, then measure the
 * moves from the start price: total (to the extreme mark) against
 * exogenous (the shock alone); their ratio is the amplification, the
 * difference's share of the total is what the liquidations caused.
 */
sp_err sp_sim_decompose(const sp_sim_pop *p, const sp_sim_market *m, const sp_sim_shock *s,
                        sp_sim_wave *waves, size_t cap, sp_sim_decomp *out, sp_diag *d)
{
    if (!s || !out)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    memset(out, 0, sizeof(*out));
    sp_sim_shock with = *s, without = *s;
    with.forced_orders = true;
    without.forced_orders = false;
    sp_err rc = sp_sim_run(p, m, &with, waves, cap, &out->with, d);
    if (rc == SP_OK)
        rc = sp_sim_run(p, m, &without, NULL, 0, &out->without, d);
    if (rc != SP_OK)
        return rc;
    int64_t start = out->with.start_px;
    int64_t tot = out->with.extreme_px - start, exo = out->without.shock_px - start;
    if (tot < 0)
        tot = -tot;
    if (exo < 0)
        exo = -exo;
    out->move_total_bp = (int64_t)((__int128)tot * 10000 / start);
    out->move_exo_bp = (int64_t)((__int128)exo * 10000 / start);
    out->amplification_milli = exo ? (int64_t)((__int128)tot * 1000 / exo) : 1000;
    out->endogenous_bp = tot ? (int64_t)((__int128)(tot - exo) * 10000 / tot) : 0;
    if (out->endogenous_bp < 0)
        out->endogenous_bp = 0;
    return SP_OK;
}

/* ---- replay of a real path ---------------------------------------------------------------- */

sp_err sp_sim_replay(const sp_sim_pop *p, const sp_sim_bar *bars, size_t nbars, int64_t *per_bar,
                     sp_sim_result *out, sp_diag *d)
{
    if (!p || !out || !bars || nbars == 0)
        return sp_diag_set(d, SP_EINVAL, "replay needs a population and at least one bar");
    memset(out, 0, sizeof(*out));
    out->start_px = bars[0].close;
    int64_t lo = INT64_MAX, hi = 0;
    size_t jl = 0, js = 0;
    __int128 nl = 0, ns = 0, ent = 0, qty = 0;
    for (size_t b = 0; b < nbars; b++) {
        __int128 here = 0;
        if (bars[b].low < lo)
            lo = bars[b].low;
        if (bars[b].high > hi)
            hi = bars[b].high;
        /* longs at or above the lowest low so far, shorts at or below the highest high */
        for (; jl < p->nl && p->ltrig[jl] >= lo; jl++) {
            const sp_sim_pos *q = &p->pos[p->lidx[jl]];
            __int128 n = (__int128)q->qty * q->liq_px / SP__SIM_ONE;
            here += n;
            nl += n;
            ent += (__int128)q->qty * q->entry_px / SP__SIM_ONE;
            qty += q->qty;
            out->n_long++;
            if (n > out->largest)
                out->largest = (int64_t)n;
            sp_sim_bucket_stat *bs = &out->lev[sp_sim_lev_bucket_of(q->leverage)];
            bs->n++;
            bs->notional += (int64_t)n;
        }
        for (; js < p->ns && p->strig[js] > 0 && p->strig[js] <= hi; js++) {
            const sp_sim_pos *q = &p->pos[p->sidx[js]];
            __int128 n = (__int128)q->qty * q->liq_px / SP__SIM_ONE;
            here += n;
            ns += n;
            ent += (__int128)q->qty * q->entry_px / SP__SIM_ONE;
            qty += q->qty;
            if (n > out->largest)
                out->largest = (int64_t)n;
            sp_sim_bucket_stat *bs = &out->lev[sp_sim_lev_bucket_of(q->leverage)];
            bs->n++;
            bs->notional += (int64_t)n;
        }
        if (per_bar)
            per_bar[b] = (int64_t)here;
    }
    if (nl + ns > INT64_MAX || ent > INT64_MAX)
        return sp_diag_set(d, SP_EOVERFLOW, "replay totals overflow");
    out->n_liq = jl + js;
    out->notional = (int64_t)(nl + ns);
    out->notional_long = (int64_t)nl;
    out->notional_entry = (int64_t)ent;
    out->qty = (int64_t)qty;
    out->dir = nl >= ns ? -1 : 1;
    out->extreme_px = out->dir < 0 ? lo : hi;
    out->shock_px = out->extreme_px;
    out->final_px = bars[nbars - 1].close;
    out->half_px = half_price(p, out->dir, out->dir < 0 ? jl : js);
    return SP_OK;
}
