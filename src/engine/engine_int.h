/*
 * engine_int.h -- private layout of the exchange core, shared by the files
 * of src/engine/ (engine.c: accounts, orders, fills; mark.c: mark price and
 * funding; liq.c: liquidation index, liquidation engine, insurance, ADL;
 * check.c: invariants and state hash; cmdlog.c: JSON command lines).
 *
 * Every pool is an array allocated once at sp_engine_new and addressed by
 * 32-bit index; index 0 of the position and order pools is never used, so
 * 0 means "none" in every link field.
 */
#ifndef STAMPEDE_ENGINE_INT_H
#define STAMPEDE_ENGINE_INT_H

#include "stampede/book.h"
#include "stampede/engine.h"
#include "stampede/rules.h"

typedef __int128 i128;

#define ENG_ONE ((int64_t)100000000) /* 1.0 at scale 8 */

/* Internal order flags, above the book's SP_ORDF_* bits (never passed to the book). */
#define ENG_ORDF_AMENDING 0x40u /* an amend is in flight: a book reject keeps the order */
#define ENG_ORDF_LIQ      0x80u /* liquidation order: fee at the liquidation rate, to the fund */

/* One position leg.  Money at scale 8. */
typedef struct eng_pos {
    uint32_t account;  /* owner; 0 = free slot */
    uint16_t inst;     /* instrument index */
    uint8_t leg;       /* sp_pos_side */
    uint8_t mode;      /* sp_margin_mode: ISOLATED or CROSS */
    int32_t leverage;  /* integer leverage */
    uint32_t next;     /* next position of the same account */
    uint32_t heap_at;  /* 1-based slot in its instrument's liquidation heap, 0 = not indexed */
    int64_t size;      /* signed, scale 8 */
    int64_t value;     /* entry value of |size| (money) */
    int64_t margin;    /* isolated margin (money), 0 in cross */
    int64_t pend_buy;  /* open buy leaves, scale 8 */
    int64_t pend_sell; /* open sell leaves, scale 8 */
    int64_t liq_key;   /* index key: conservative liquidation price, scale 8 */
} eng_pos;

/* One account. */
typedef struct eng_acct {
    int64_t wallet[SP_ENGINE_ASSETS_MAX]; /* cross wallet balance per asset */
    uint32_t pos_head;                    /* first position */
    uint32_t ord_head;                    /* first open order */
    uint32_t norders;                     /* open orders */
    uint16_t npos_open;                   /* positions with size != 0 */
    uint8_t exists;                       /* funded at least once */
    uint8_t hedge;                        /* hedge position mode */
    uint32_t liquidations;                /* times taken over */
    uint32_t multi_at;                    /* 1-based slot in sp_engine.multi, 0 = not there */
} eng_acct;

/* One open order. */
typedef struct eng_ord {
    uint64_t id;      /* order id; 0 = free slot */
    uint32_t account; /* owner; 0 = the insurance fund */
    uint32_t prev;    /* account's order list */
    uint32_t next;
    uint32_t pos; /* position it will change (0 for the fund) */
    uint16_t inst;
    uint8_t side;   /* sp_side */
    uint8_t flags;  /* SP_ORDF_* */
    int64_t px;     /* limit price, scale 8 (0 = market) */
    int64_t leaves; /* open quantity, scale 8 */
} eng_ord;

/* A binary heap of positions keyed by liquidation price. */
typedef struct eng_heap {
    uint32_t *a; /* a[0..n) position indexes */
    uint32_t n;
    bool max; /* true: max-heap (longs: liquidated when mark <= key) */
} eng_heap;

/* The insurance fund's temporary position in an instrument during a liquidation. */
typedef struct eng_fundpos {
    int64_t size;  /* signed, scale 8 */
    int64_t value; /* entry value (money) */
} eng_fundpos;

/* One instrument and its market state. */
typedef struct eng_inst {
    const sp_instrument *in;    /* borrowed */
    const sp_tier_table *tiers; /* borrowed, may be NULL */
    uint32_t symbol_id;
    uint32_t asset; /* settle asset index */
    int64_t ct;     /* base units per quantity unit, scale 8 (1e8 when base) */
    sp_book *book;
    int64_t mark;            /* scale 8, 0 = none */
    int64_t index;           /* scale 8, 0 = none */
    int64_t last;            /* last trade price, 0 = none */
    int64_t last_rate;       /* last settled funding rate, scale 8 */
    int64_t next_funding_ns; /* next settlement time, 0 = not yet anchored */
    int64_t *basis;          /* ring of basis samples (mid - index), scale 8 */
    uint32_t nbasis, basis_at;
    int64_t *premium; /* premium samples since the last settlement, scale 8 */
    uint32_t npremium;
    eng_heap longs, shorts; /* liquidation-price index */
    eng_fundpos fund;       /* insurance fund's position while liquidating */
    int64_t long_size;      /* open long size, scale 8 (cached for the invariant) */
} eng_inst;

struct sp_engine {
    sp_engine_config cfg;
    sp_engine_sink sink;
    const sp_rules *rules;
    uint32_t ninst, nasset;
    eng_inst inst[SP_ENGINE_INSTRUMENTS_MAX];
    char asset_name[SP_ENGINE_ASSETS_MAX][12];
    int64_t insurance[SP_ENGINE_ASSETS_MAX];
    int64_t fees[SP_ENGINE_ASSETS_MAX];
    int64_t net_in[SP_ENGINE_ASSETS_MAX]; /* deposits + seeds - withdrawals */
    eng_acct *acct;                       /* [max_accounts + 1] */
    eng_pos *pos;                         /* [max_positions + 1] */
    uint32_t pos_free;                    /* free list through eng_pos.next */
    eng_ord *ord;                         /* [max_orders + 1] */
    uint32_t ord_free;                    /* free list through eng_ord.next */
    uint32_t *ord_hash;                   /* open addressing id -> order index, cap ord_cap */
    uint32_t ord_cap;                     /* power of two >= 2 x max_orders */
    uint32_t *scratch;                    /* [max_positions]: liquidation candidates, ADL ranking */
    int64_t *scratch_key;                 /* [max_positions]: ADL scores */
    uint32_t *multi;                      /* accounts checked on every mark update */
    uint32_t *liq_list;                   /* [max_accounts + 1]: accounts of one scan pass */
    bool cancelling;                      /* the liquidation engine is cancelling orders */
    uint32_t nmulti;
    uint64_t liq_seq; /* liquidation order ids */
    int64_t now_ns;   /* engine clock */
    sp_engine_stats st;
    sp_engine_result *res; /* result of the command being run */
    bool in_liq;           /* liquidation engine running (no recursion) */
    sp_err fill_err;       /* first arithmetic error inside a book callback */
};

/* ---- engine.c ---- */
void sp__engine_rules_pos(const sp_engine *e, const eng_pos *p, sp_rules_pos *rp);
void sp__engine_emit(sp_engine *e, sp_event *ev, const eng_inst *ii);
eng_pos *sp__engine_pos_get(sp_engine *e, uint32_t account, uint32_t inst, uint8_t leg, bool make);
sp_err sp__engine_notional(const eng_inst *ii, int64_t qty, int64_t px, sp_rounding r,
                           int64_t *out);
sp_err sp__engine_upnl(const sp_engine *e, const eng_pos *p, int64_t *out);
sp_err sp__engine_mm(const sp_engine *e, const eng_pos *p, int64_t mark, int64_t *mm, int *tier);
sp_err sp__engine_order_in(sp_engine *e, uint32_t account, uint32_t inst, uint64_t id, uint8_t side,
                           uint8_t type, uint8_t tif, uint8_t flags, int64_t px, int64_t qty,
                           uint32_t pos, sp_book_result *br);
void sp__engine_cancel_all(sp_engine *e, uint32_t account);
sp_err sp__engine_close_at(sp_engine *e, eng_pos *p, int64_t qty, int64_t value, bool to_fund);
void sp__engine_pos_changed(sp_engine *e, eng_pos *p);
int64_t sp__engine_rate_ev(int64_t rate8);

/* ---- liq.c ---- */
sp_err sp__engine_liq_scan(sp_engine *e, uint32_t inst);
void sp__engine_index_update(sp_engine *e, eng_pos *p);
void sp__engine_index_remove(sp_engine *e, eng_pos *p);
sp_err sp__engine_heaps_init(sp_engine *e, eng_inst *ii);
sp_err sp__engine_liq_key(const sp_engine *e, const eng_pos *p, bool *has, int64_t *key,
                          int64_t *liq_px);
sp_err sp__engine_acct_state(const sp_engine *e, uint32_t account, uint32_t asset, int64_t *equity,
                             int64_t *mm, int64_t *upnl);
void sp__engine_multi_update(sp_engine *e, uint32_t account);

/* ---- mark.c ---- */
sp_err sp__engine_index_cmd(sp_engine *e, uint32_t inst, int64_t px);
sp_err sp__engine_funding(sp_engine *e, uint32_t inst, bool has_rate, int64_t rate);
void sp__engine_emit_mark(sp_engine *e, uint32_t inst);

#endif
