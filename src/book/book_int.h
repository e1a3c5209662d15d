/*
 * book_int.h -- what the two book implementations share: the base struct
 * every implementation embeds first, the operations table behind the
 * public sp_book_* functions, and small inline helpers for emitting events.
 *
 * Stateless validation (quantity, price limits, type combinations, id 0)
 * happens once in book_api.c before an implementation is called, so the
 * implementations only see well-formed commands; stateful checks (duplicate
 * or unknown id, post-only, FOK, pool and window limits) are theirs.
 */
#ifndef STAMPEDE_BOOK_INT_H
#define STAMPEDE_BOOK_INT_H

#include "stampede/book.h"

typedef struct sp_book_ops {
    void (*destroy)(sp_book *b);
    /* add and cancel always return SP_OK: the value lets sp_book_add / sp_book_cancel
     * end in a tail call (no frame of their own on the hot path). */
    sp_err (*add)(sp_book *b, const sp_book_order *o, sp_book_result *res);
    sp_err (*cancel)(sp_book *b, uint64_t id, sp_book_result *res);
    void (*amend)(sp_book *b, uint64_t id, bool keep_px, int64_t px, int64_t qty,
                  sp_book_result *res);
    sp_err (*set_level)(sp_book *b, sp_side side, int64_t px, int64_t qty);
    void (*clear)(sp_book *b);
    size_t (*count)(const sp_book *b);
    bool (*get)(const sp_book *b, uint64_t id, sp_book_order_info *info);
    void (*walk)(const sp_book *b, sp_side side, void (*fn)(void *, const sp_book_order_info *),
                 void *ctx);
    /* Best level of side; false if empty. */
    bool (*best)(const sp_book *b, sp_side side, sp_book_level *lvl);
    /* The next level of side strictly worse than px (which need not exist). */
    bool (*next)(const sp_book *b, sp_side side, int64_t px, sp_book_level *lvl);
    sp_err (*check)(const sp_book *b, sp_diag *d);
} sp_book_ops;

/* The part of every book the API layer reads; each implementation embeds it first. */
struct sp_book {
    const sp_book_ops *ops; /* the implementation */
    sp_book_kind kind;      /* which one */
    sp_book_config cfg;     /* validated limits */
    sp_book_sink sink;      /* where events go */
};

/* Constructors of the two implementations (cfg already validated). */
sp_err sp__book_fast_new(const sp_book_config *cfg, sp_book **out);
sp_err sp__book_ref_new(const sp_book_config *cfg, sp_book **out);

/* Hand one event to the sink. */
static inline void sp__book_emit(const sp_book *b, uint8_t kind, uint8_t side, uint16_t reason,
                                 uint64_t id, uint64_t maker_id, int64_t px, int64_t qty,
                                 int64_t leaves)
{
    if (b->sink.fn) {
        sp_book_ev ev = {kind, side, reason, 0, id, maker_id, px, qty, leaves};
        b->sink.fn(b->sink.ctx, &ev);
    }
}

/* Emit a LEVEL event when the book was configured for them. */
static inline void sp__book_level_ev(const sp_book *b, uint8_t side, int64_t px, int64_t total)
{
    if (b->cfg.level_events)
        sp__book_emit(b, SP_BOOK_EV_LEVEL, side, 0, 0, 0, px, total, 0);
}

/* Fill in a result and emit the REJECT event for a refused command. */
static inline void sp__book_reject(const sp_book *b, uint64_t id, uint8_t side, int64_t px,
                                   int64_t qty, uint16_t reason, sp_book_result *res)
{
    res->status = SP_BOOK_REJECTED;
    res->reason = reason;
    res->fills = 0;
    res->filled = 0;
    res->leaves = 0;
    sp__book_emit(b, SP_BOOK_EV_REJECT, side, reason, id, 0, px, qty, 0);
}

/* True if a taker on side with limit px would cross a level at lvl_px. */
static inline bool sp__book_crosses(uint8_t side, int64_t px, int64_t lvl_px)
{
    return side == SP_BUY ? lvl_px <= px : lvl_px >= px;
}

#endif /* STAMPEDE_BOOK_INT_H */
