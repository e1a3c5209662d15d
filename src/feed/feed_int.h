/*
 * feed_int.h -- private pieces shared by the decoders of src/feed/.
 *
 * Three building blocks:
 *   - sp__js: a zero-allocation, strictly validating JSON scanner over one
 *     message (no tree, no copies).  A decoder walks an object with
 *     js_obj_fields(), which records each member's key and raw value span
 *     in a caller-provided field table, then reads the fields it needs by
 *     key with the typed getters (decimal-in-string, integer, bool, string).
 *     Unknown members are validated and ignored; nested values are parsed
 *     on demand from their span.  Error positions are byte offsets into
 *     the message, reported as d->column (1-based).
 *   - decimal helpers at the event scales, parsed exactly (sp_dec_parse).
 *   - the format table used by feed.c (detection, framing, dispatch).
 */
#ifndef SP_FEED_INT_H
#define SP_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/feed.h"

/* ---- JSON scanning ----------------------------------------------------- */

/* Deepest nesting js_skip accepts (a guard against stack exhaustion). */
#define SP__JS_DEPTH_MAX 64

/* Most members js_obj_fields records for one object. */
#define SP__JS_FIELDS_MAX 48

/* JSON value types as recorded in a field. */
enum {
    JS_STR = 's',
    JS_NUM = 'n',
    JS_OBJ = 'o',
    JS_ARR = 'a',
    JS_TRUE = 't',
    JS_FALSE = 'f',
    JS_NULL = 'z'
};

/* One member of an object: key and the raw span of its value. */
typedef struct sp__jsf {
    const char *k; /* key bytes (inside the quotes, escapes not allowed) */
    size_t kn;     /* key length */
    const char *v; /* value: for strings the bytes inside the quotes, else the raw text */
    size_t vn;     /* value length */
    int type;      /* JS_* */
    bool esc;      /* string value contains backslash escapes */
    bool child;    /* the object value was parsed into the parent's child table */
} sp__jsf;

/*
 * A recorded object.  Optionally, one member whose key is in child_keys
 * and whose value is an object is parsed into *child during the same pass
 * (so a nested object is scanned once, not validated then re-parsed).
 */
typedef struct sp__jsobj {
    sp__jsf f[SP__JS_FIELDS_MAX];
    size_t n;
    struct sp__jsobj *child;       /* in: table for the nested object, or NULL */
    const char *const *child_keys; /* in: NULL-terminated keys eligible for child */
} sp__jsobj;

/* Prepare o for sp__js_obj: no child table. */
static inline void sp__js_obj_init(sp__jsobj *o)
{
    o->n = 0;
    o->child = NULL;
    o->child_keys = NULL;
}

/* The scanner: a cursor over msg[0..end). */
typedef struct sp__js {
    const char *base; /* start of the message (offsets are relative to it) */
    const char *p;    /* cursor */
    const char *end;  /* one past the last byte */
    sp_diag *d;       /* where errors go (may be NULL) */
} sp__js;

void sp__js_init(sp__js *s, const char *msg, size_t n, sp_diag *d);

/* 1 for the bytes that end the plain run of a JSON string: '"', '\\' and 0x00-0x1f. */
extern const unsigned char sp__js_str_special[256];

/*
 * The nested object of member key as a table: the child table when the
 * parent parsed it in its pass, else parsed now into *scratch.  OUT: *out.
 */
sp_err sp__js_nested(sp__js *s, const sp__jsobj *o, const char *key, sp__jsobj *scratch,
                     const sp__jsobj **out);

/* Set an error at position `at` (a pointer into the message) and field name. */
sp_err sp__js_fail(sp__js *s, const char *at, const char *field, sp_err code, const char *fmt, ...)
    SP_PRINTF(5, 6);

/* Skip whitespace. */
void sp__js_ws(sp__js *s);

/* Parse one object at the cursor, recording its members. */
sp_err sp__js_obj(sp__js *s, sp__jsobj *o);

/* Parse any value at the cursor, validating it, and return its span and type. */
sp_err sp__js_value(sp__js *s, sp__jsf *out);

/* After the top value: only whitespace may follow. */
sp_err sp__js_end(sp__js *s);

/* The member named key (NUL-terminated), or NULL. */
const sp__jsf *sp__js_get(const sp__jsobj *o, const char *key);

/*
 * Typed getters on an object member.  Each fails with SP_ENOTFOUND when the
 * member is missing (unless the getter is the _opt form, which returns
 * false and leaves *out untouched), SP_EPARSE for the wrong JSON type.
 */
sp_err sp__js_dec(sp__js *s, const sp__jsobj *o, const char *key, unsigned scale, int64_t *out);
sp_err sp__js_int(sp__js *s, const sp__jsobj *o, const char *key, int64_t *out);
sp_err sp__js_bool(sp__js *s, const sp__jsobj *o, const char *key, bool *out);
sp_err sp__js_str(sp__js *s, const sp__jsobj *o, const char *key, const char **p, size_t *n);
/* A decimal given either as a JSON string or a JSON number. */
sp_err sp__js_decnum(sp__js *s, const sp__jsobj *o, const char *key, unsigned scale, int64_t *out);

/* Parse a decimal span v[0..n) at scale; position errors at v. */
sp_err sp__js_dec_span(sp__js *s, const char *v, size_t n, const char *field, unsigned scale,
                       int64_t *out);
/*
 * Fast path of sp_dec_parse for the common shapes ("-?d+(.d+)?" with at most
 * `scale` places and at most 18 digits after scaling): true and *out set
 * when it applies, false (nothing written) when the caller must use
 * sp_dec_parse, which gives the same value or the exact error.
 */
bool sp__dec_fast(const char *p, size_t n, unsigned scale, int64_t *out);

/* Parse an integer span (JSON number without fraction / exponent). */
sp_err sp__js_int_span(sp__js *s, const char *v, size_t n, const char *field, int64_t *out);

/* Does field f's key equal the NUL-terminated key? */
bool sp__js_key_is(const sp__jsf *f, const char *key);

/* Interpret s as a sub-scanner positioned on the span of f (same base for offsets). */
void sp__js_sub(const sp__js *parent, const sp__jsf *f, sp__js *sub);

/*
 * Iterate an array of [price, qty] string pairs (depth levels) at the
 * cursor of a sub-scanner positioned on the array span.  Calls fn for each
 * level.  Extra elements after the pair (OKX books) are validated and skipped.
 */
typedef sp_err (*sp__js_level_fn)(void *ctx, int64_t px, int64_t qty, size_t idx);
sp_err sp__js_levels(sp__js *s, const sp__jsf *arr, const char *field, sp__js_level_fn fn,
                     void *ctx);

/*
 * The fixed-layout fast path of sp_feed_binance_ws (binance_fast.c): Binance
 * aggTrade / forceOrder bytes in the documented key order, compact, bare or
 * in the combined-stream wrapper.  Returns false when the message is not
 * exactly of that shape (nothing written, no symbol interned: the caller
 * runs the general decoder).  Returns true when it decided: *rc is SP_OK
 * with out[0] filled and *n_out = 1, or the error the general decoder
 * gives for that message (only interning the symbol can fail, d filled).
 * Needs cap >= 1 (else false).
 */
bool sp__binance_ws_fast(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                         sp_event *out, size_t cap, size_t *n_out, sp_diag *d, sp_err *rc);

/*
 * The one event of a Binance aggTrade/trade and of a forceOrder, written by
 * both the general decoder and the fast path (so the two cannot drift):
 * every field but symbol_id and local_ts_ns, which the caller sets.
 * "m" true means the buyer was the maker, so the aggressor sold.
 */
static inline void sp__binance_trade_ev(sp_event *e, int64_t ts, int64_t px, int64_t qty,
                                        int64_t id, int64_t first, int64_t last, bool maker)
{
    e->kind = SP_EV_TRADE;
    e->venue = SP_VENUE_BINANCE_UM;
    e->exch_ts_ns = ts;
    e->px = px;
    e->qty = qty;
    e->aux[0] = id;
    e->aux[1] = first;
    e->aux[2] = last;
    e->flags = maker ? (uint8_t)(SP_EVF_MAKER | SP_EVF_SELL) : 0;
}

static inline void sp__binance_liq_ev(sp_event *e, int64_t ts, bool sell, int64_t px, int64_t qty,
                                      int64_t avg, int64_t filled, int64_t notional)
{
    e->kind = SP_EV_LIQUIDATION;
    e->venue = SP_VENUE_BINANCE_UM;
    e->flags = sell ? SP_EVF_SELL : 0;
    e->exch_ts_ns = ts;
    e->px = px;
    e->qty = qty;
    e->aux[0] = avg;
    e->aux[1] = filled;
    e->aux[2] = notional;
}

/* The general decoder alone (tests compare it with the fast path). */
sp_err sp__binance_ws_general(const char *msg, size_t n, int64_t local_ts_ns, sp_symtab *syms,
                              sp_event *out, size_t cap, size_t *n_out, sp_diag *d);

/* ---- small shared helpers ---------------------------------------------- */

/* ms -> ns with an overflow check (values past year 2262 are SP_EOVERFLOW). */
sp_err sp__feed_ms_to_ns(int64_t ms, int64_t *ns);

/* Intern a symbol span, reporting a bad name through s. */
sp_err sp__feed_intern(sp__js *s, sp_symtab *syms, const char *p, size_t n, const char *field,
                       uint32_t *id);

/* Interval text ("1m", "1h", "1d", Bybit "1", "60", "D") -> SP_KLINE_* code, 0 if unknown. */
unsigned sp__feed_interval_binance(const char *p, size_t n);
unsigned sp__feed_interval_bybit(const char *p, size_t n);

/*
 * Parse "YYYY-MM-DD", optionally followed by "[ T]HH:MM:SS[.ffffff][Z|+00:00]",
 * into ns since the epoch (UTC).  SP_EPARSE on any other form.
 */
sp_err sp__feed_parse_time(const char *p, size_t n, int64_t *ns);

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t sp__feed_days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- file framing and dispatch (feed.c) -------------------------------- */

/* The context a record decoder writes into. */
typedef struct sp__feed_run sp__feed_run;

/*
 * Emit n events (copied into the run's batch, flushed to the sink when
 * full).  Returns the sink's error if it stopped.
 */
sp_err sp__feed_emit(sp__feed_run *r, const sp_event *ev, size_t n);

/*
 * The free tail of the run's batch for writing events in place: the first
 * free slot, *room slots (0 when the batch is full; nothing is flushed).
 * sp__feed_commit(r, k) then counts the first k of them as emitted.  Every
 * field of a written event must be set.
 */
sp_event *sp__feed_room(sp__feed_run *r, size_t *room);
void sp__feed_commit(sp__feed_run *r, size_t k);

/* The scratch event array of SP_FEED_MSG_EVENTS_MAX entries for one record. */
sp_event *sp__feed_scratch(sp__feed_run *r);

/* The symbol table of the run. */
sp_symtab *sp__feed_syms(sp__feed_run *r);

/* The source name (file, or "file:member") for diagnostics. */
const char *sp__feed_source(sp__feed_run *r);

/* Per-format state (e.g. a parsed CSV header or a de-duplication window). */
void *sp__feed_state(sp__feed_run *r);

/*
 * A line-framed format: called once per line (without the newline, CR
 * stripped) with its 1-based line number.  Return SP_OK, or an error with
 * d filled to reject the line (d->column relative to the line); a sink
 * error (returned by sp__feed_emit) is passed up and stops the file.
 * Set *fatal to true to make the error stop the file as unusable.
 */
typedef sp_err (*sp__feed_line_fn)(sp__feed_run *r, const char *line, size_t n, uint64_t lineno,
                                   sp_diag *d, bool *fatal);

/*
 * A whole-document format (JSON documents): called once with all the bytes.
 * It rejects bad records itself with sp__feed_reject and returns SP_OK, or
 * an error for an unusable document.
 */
typedef sp_err (*sp__feed_doc_fn)(sp__feed_run *r, const char *data, size_t n, sp_diag *d);

/* Report one bad record of a document format (d filled by the caller). */
void sp__feed_reject(sp__feed_run *r, sp_diag *d);

/* One named format. */
typedef struct sp__feed_format {
    const char *name;                           /* "binance-ws-capture" */
    const char *help;                           /* one line */
    sp__feed_line_fn line;                      /* line-framed, or NULL */
    sp__feed_doc_fn doc;                        /* whole-document, or NULL */
    size_t state_size;                          /* bytes of zeroed per-run state (0 = none) */
    void (*state_fini)(void *st);               /* release per-run state, or NULL */
    sp_err (*end)(sp__feed_run *r, sp_diag *d); /* after the last record, or NULL */
} sp__feed_format;

/*
 * An optional bulk path of a line-framed format: decode whole lines
 * ('\n'-terminated) from the start of buf[0..n), the first being line
 * lineno + 1, for as long as each is one it decodes exactly as the
 * per-line function would, without an error; stop at the first other one.
 * Returns the bytes consumed and *lines the lines; *rc is a sink error
 * (the file stops) or SP_OK.  Used by the framing when sp__feed_bulk_of
 * gives one for the format (binance_csv.c: aggTrades).
 */
typedef size_t (*sp__feed_bulk_fn)(sp__feed_run *r, const char *buf, size_t n, uint64_t lineno,
                                   uint64_t *lines, sp_err *rc);
sp__feed_bulk_fn sp__feed_bulk_of(const sp__feed_format *fmt);

/*
 * The symbol named by the source's base name: the bytes before the first
 * of the stop characters ("BTCUSDT-1m-2026-02.csv" with "-." -> BTCUSDT).
 * Fails (fatal for the file) when there is no source name.
 */
sp_err sp__feed_name_symbol(sp__feed_run *r, const char *stops, uint32_t *id, sp_diag *d);

/* The format tables of each family (each ends with a {NULL} entry). */
extern const sp__feed_format sp__feed_fmt_capture[];
extern const sp__feed_format sp__feed_fmt_binance_csv[];
extern const sp__feed_format sp__feed_fmt_series[];

/* Per-line helpers for CSV formats (csv.c). */
#define SP__CSV_COLS_MAX 32
typedef struct sp__csv_row {
    const char *f[SP__CSV_COLS_MAX]; /* field starts (quotes removed; "" quoting not unescaped) */
    size_t n[SP__CSV_COLS_MAX];      /* field lengths */
    size_t off[SP__CSV_COLS_MAX];    /* byte offset of each field in the line */
    size_t cols;                     /* number of fields */
} sp__csv_row;

/* Split one CSV line on commas (RFC 4180 quoting, no embedded newlines). */
sp_err sp__csv_split(const char *line, size_t n, sp__csv_row *row, sp_diag *d);

/* Parse field i as a decimal at scale / as an integer; d->column and field set. */
sp_err sp__csv_dec(const sp__csv_row *row, size_t i, const char *name, unsigned scale, int64_t *out,
                   sp_diag *d);
/* sp__csv_dec with SP_DEC_* flags (SP_DEC_ROUND rounds half-even). */
sp_err sp__csv_dec_ex(const sp__csv_row *row, size_t i, const char *name, unsigned scale,
                      unsigned flags, int64_t *out, sp_diag *d);
sp_err sp__csv_int(const sp__csv_row *row, size_t i, const char *name, int64_t *out, sp_diag *d);
/* Does field i equal text exactly? */
bool sp__csv_is(const sp__csv_row *row, size_t i, const char *text);
/* Fail with "expected N columns". */
sp_err sp__csv_cols(const sp__csv_row *row, size_t want, sp_diag *d);

/* Output cursor over a caller's event array, shared by the message decoders. */
typedef struct sp__out {
    sp_event *ev; /* borrowed: the caller's array */
    size_t cap;   /* its capacity */
    size_t n;     /* events written */
} sp__out;

/* The next zeroed event of o stamped with venue, or NULL (SP_ETOOBIG in s) when full. */
sp_event *sp__next_ev(sp__js *s, sp__out *o, uint8_t venue);

/* Where sp__put_level writes the levels of one book message. */
typedef struct sp__level_ctx {
    sp__js *s;     /* the message (errors) */
    sp__out *out;  /* the caller's events */
    sp_event tmpl; /* every field but px, qty (and aux1 of a BOOK_LEVEL) */
} sp__level_ctx;

/*
 * An sp__js_level_fn over an sp__level_ctx: one event per level, a copy of
 * tmpl with px and qty, and for BOOK_LEVEL the level index in aux1.
 */
sp_err sp__put_level(void *ctx, int64_t px, int64_t qty, size_t idx);

#endif /* SP_FEED_INT_H */
