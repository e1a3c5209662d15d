/*
 * sim_int.h -- private layout of the simulator's objects and the helpers
 * shared by the files of src/sim/.
 */
#ifndef STAMPEDE_SIM_INT_H
#define STAMPEDE_SIM_INT_H

#include "stampede/alloc.h"
#include "stampede/fixed.h"
#include "stampede/rng.h"
#include "stampede/sim.h"

/* One unit at scale 8. */
#define SP__SIM_ONE ((int64_t)100000000)

/*
 * A population.  pos[] is in id order; lidx[] holds the longs sorted by
 * trigger descending (the first to go on a fall first), sidx[] the shorts
 * ascending; ltrig[] / strig[] are the triggers in that order, contiguous
 * for the cascade's scans.  Ties are broken by id, so the order is total.
 */
struct sp_sim_pop {
    size_t n;         /* positions */
    sp_sim_pos *pos;  /* n positions, id order */
    size_t nl;        /* longs */
    size_t ns;        /* shorts */
    uint32_t *lidx;   /* longs by trigger descending */
    uint32_t *sidx;   /* shorts by trigger ascending */
    int64_t *ltrig;   /* pos[lidx[i]].liq_px */
    int64_t *strig;   /* pos[sidx[i]].liq_px */
    uint64_t dropped; /* generated positions left out */
    uint64_t capped;  /* generated positions capped at the last tier */
    /*
     * The cascade's hot data, per side (0 longs, 1 shorts) in trigger
     * order, contiguous so a wave is a sequential scan: size, bankruptcy
     * value floor(qty x bk_px / 1e8), entry notional floor(qty x entry_px /
     * 1e8), and the leverage report bucket.
     */
    int64_t *sq[2];
    int64_t *sbk[2];
    int64_t *sent[2];
    uint8_t *sbucket[2];
};

/*
 * One side of the market: levels best first (bids descending, asks
 * ascending), with prefix sums of quantity and notional so that walking
 * any quantity is one binary search.
 */
typedef struct sp__sim_ladder {
    size_t n;         /* levels */
    sp_sim_level *lv; /* n levels, best first */
    int64_t *cumq;    /* cumq[i] = qty of levels 0..i, scale 8 */
    __int128 *cumn;   /* cumn[i] = sum px x qty / 1e8 of levels 0..i, USDT scale 8 */
} sp__sim_ladder;

struct sp_sim_market {
    int64_t mid;            /* start price */
    sp__sim_ladder side[2]; /* 0 bids, 1 asks */
};

/*
 * A truncated-Pareto size weight (dist.c): x in [1, max_ratio] with tail
 * exponent alpha_milli / 1000, returned as round(x * 1e6) (>= 1e6).
 */
uint64_t sp__sim_pareto_weight(sp_rng *r, uint32_t alpha_milli, uint32_t max_ratio);

/*
 * Liquidation trigger and bankruptcy price of one position through the
 * rules module when it is built in, else the private Binance isolated
 * adapter (pop.c).  Fills liq_px, bk_px, tier of *pos.
 */
sp_err sp__sim_price_pos(const sp_sim_venue *v, sp_sim_pos *pos, sp_diag *d);

/* True when liquidation prices come from the rules module (not the adapter). */
bool sp__sim_have_rules(void);

/* The private adapter alone (for the agreement test). */
sp_err sp__sim_liq_adapter(const sp_sim_venue *v, sp_sim_pos *pos);

/* Seed r for item i of a run seeded with seed (independent streams). */
static inline void sp__sim_stream(sp_rng *r, uint64_t seed, uint64_t i)
{
    uint64_t s = seed ^ 0x5851F42D4C957F2Dull;
    uint64_t a = sp_splitmix64(&s);
    uint64_t t = a + i * 0x9E3779B97F4A7C15ull;
    sp_rng_seed(r, sp_splitmix64(&t));
}

/*
 * Validate, default the margin of, and price one caller or file position;
 * SP_ERANGE when its margin is below maintenance at its entry (pop.c).
 */
sp_err sp__sim_finish_checked(const sp_sim_venue *v, sp_sim_pos *q, sp_diag *d);

/* Build the sorted views of p (pop.c).  SP_ENOMEM. */
sp_err sp__sim_pop_index(sp_sim_pop *p);

/*
 * floor(qty x px / 1e8): the value of a position at a price, USDT scale 8.
 * Exact for every position the rules module can price (both factors are
 * below 2^63, the product is held in 128 bits; the quotient fits int64
 * because notionals are bounded by the last tier cap).
 */
static inline int64_t sp__sim_value(int64_t qty, int64_t px)
{
    return (int64_t)((__int128)qty * px / SP__SIM_ONE);
}

/* FNV-1a style mixing of v into h. */
static inline uint64_t sp__sim_mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001B3ull;
    h ^= h >> 29;
    return h;
}

#endif
