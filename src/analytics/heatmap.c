/*
 * heatmap.c -- the liquidation heatmap model (docs/metrics.md §8):
 * estimated liquidation levels by price band over time.
 *
 * CoinGlass-style heatmaps are models, not data: nobody outside an
 * exchange sees where positions would be liquidated.  Ours is written out
 * so it can be checked.  Each bar, the notional opened (open-interest
 * increase) enters at the bar's close, split into long and short by
 * long_share and across a leverage mix; a position at leverage L rests at
 * its approximate isolated-margin liquidation price
 *     long:  entry * (1 - 1/L + mmr)      short: entry * (1 + 1/L - mmr)
 * (docs/specs/exchange-rules.md gives the exact per-venue formula; the
 * model uses the linear approximation with one maintenance rate).  A
 * resting level is liquidated (removed, added to `hit`) when a later
 * bar's low (longs) or high (shorts) reaches it; an open-interest
 * decrease closes resting notional pro rata.  Row t of the grid is what
 * rests in each price band after bar t.
 */
#include <math.h>
#include <string.h>

#include "analytics/analytics_int.h"
#include "stampede/alloc.h"

/* The default leverage mix (§8.2): shares of newly opened notional. */
static const sp_an_lev_bucket default_mix[] = {
    {5, 0.15}, {10, 0.30}, {25, 0.30}, {50, 0.15}, {100, 0.10},
};

void sp_an_heatmap_fini(sp_an_heatmap *h)
{
    sp_free(h->ts_ns);
    sp_free(h->longs);
    sp_free(h->shorts);
    sp_free(h->hit);
    memset(h, 0, sizeof(*h));
}

static size_t band_of(const sp_an_heatmap *h, double px, bool *inside)
{
    double f = (px - h->band_lo) / h->band_w;
    *inside = f >= 0 && f < (double)h->bands;
    return *inside ? (size_t)f : 0;
}

/* One resting liquidation level. */
typedef struct level {
    double px;       /* liquidation price, quote units */
    double notional; /* US$ still open */
    bool is_long;
} level;

sp_err sp_an_heatmap_build(const sp_an_bar *b, const double *opened, size_t n,
                           const sp_an_heat_opts *o, sp_an_heatmap *out)
{
    const sp_an_lev_bucket *mix = o->mix ? o->mix : default_mix;
    size_t nmix = o->mix ? o->nmix : SP_COUNTOF(default_mix);
    double msum = 0;
    memset(out, 0, sizeof(*out));
    if (nmix == 0 || o->bands == 0 || !(o->band_hi > o->band_lo) || !(o->mmr >= 0) ||
        !(o->long_share >= 0 && o->long_share <= 1))
        return SP_EINVAL;
    for (size_t i = 0; i < nmix; i++) {
        if (!(mix[i].leverage >= 1) || !(mix[i].share >= 0))
            return SP_EINVAL;
        msum += mix[i].share;
    }
    if (!(msum > 0))
        return SP_EINVAL;
    size_t cells = n * o->bands, maxlv = n * nmix * 2, nlv = 0;
    level *lv = sp_calloc(maxlv ? maxlv : 1, sizeof(*lv));
    out->ts_ns = sp_calloc(n ? n : 1, sizeof(*out->ts_ns));
    out->longs = sp_calloc(cells ? cells : 1, sizeof(*out->longs));
    out->shorts = sp_calloc(cells ? cells : 1, sizeof(*out->shorts));
    out->hit = sp_calloc(n ? n : 1, sizeof(*out->hit));
    if (!lv || !out->ts_ns || !out->longs || !out->shorts || !out->hit) {
        sp_free(lv);
        sp_an_heatmap_fini(out);
        return SP_ENOMEM;
    }
    out->steps = n;
    out->bands = o->bands;
    out->band_lo = o->band_lo;
    out->band_w = (o->band_hi - o->band_lo) / (double)o->bands;
    for (size_t t = 0; t < n; t++) {
        double lo = sp__an_px(b[t].low), hi = sp__an_px(b[t].high), cl = sp__an_px(b[t].close);
        double hit = 0, rest = 0;
        /* 1. Levels this bar's range reached are liquidated (and dropped). */
        size_t w = 0;
        for (size_t k = 0; k < nlv; k++) {
            bool reached = lv[k].is_long ? lo <= lv[k].px : hi >= lv[k].px;
            if (reached) {
                hit += lv[k].notional;
                continue;
            }
            rest += lv[k].notional;
            lv[w++] = lv[k];
        }
        nlv = w;
        /* 2. An open-interest decrease closes resting notional pro rata. */
        double op = opened ? opened[t] : 0;
        if (op < 0 && rest > 0) {
            double keep = rest > -op ? (rest + op) / rest : 0;
            for (size_t k = 0; k < nlv; k++)
                lv[k].notional *= keep;
        }
        /* 3. New positions enter at the close, one level per side and bucket. */
        if (op > 0) {
            for (size_t m = 0; m < nmix; m++) {
                double part = op * mix[m].share / msum, inv = 1.0 / mix[m].leverage;
                lv[nlv++] = (level){cl * (1 - inv + o->mmr), part * o->long_share, true};
                lv[nlv++] = (level){cl * (1 + inv - o->mmr), part * (1 - o->long_share), false};
            }
        }
        /* 4. The row: what rests in each band after this bar. */
        out->ts_ns[t] = b[t].open_ns;
        out->hit[t] = hit;
        for (size_t k = 0; k < nlv; k++) {
            bool in;
            size_t band = band_of(out, lv[k].px, &in);
            if (in)
                (lv[k].is_long ? out->longs : out->shorts)[t * o->bands + band] += lv[k].notional;
        }
    }
    sp_free(lv);
    return SP_OK;
}

void sp_an_heatmap_opened(const sp_an_bar *b, size_t n, const sp_an_events *e, double proxy_share,
                          double *opened, size_t *from_oi)
{
    size_t j = 0, k = 0;
    bool have_prev = false;
    double prev = 0;
    /* OI events are in time order (store order); walk them along the bars. */
    for (size_t t = 0; t < n; t++) {
        bool seen = false;
        double last = prev;
        while (j < e->n && e->ev[j].exch_ts_ns < b[t].close_ns) {
            if (e->ev[j].kind == SP_EV_OPEN_INTEREST && e->ev[j].exch_ts_ns >= b[t].open_ns) {
                last = sp__an_px(e->ev[j].aux[0]);
                seen = true;
            }
            j++;
        }
        if (seen && have_prev) {
            opened[t] = last - prev;
            k++;
        } else {
            opened[t] =
                proxy_share > 0 ? proxy_share * sp__an_px(b[t].volume) * sp__an_px(b[t].close) : 0;
        }
        if (seen) {
            prev = last;
            have_prev = true;
        }
    }
    *from_oi = k;
}
