/*
 * store.c -- the sp_store interface: URI dispatch to a backend, the
 * translation of the caller's symbol ids to the store's, the natural key
 * of each event, and the transaction protocol of an append.
 *
 * The backends (store_sqlite.c, store_pg.c) only know rows and SQL; what
 * makes an event unique and how a batch becomes atomic is decided here
 * once, so both backends behave the same and run the same test suite.
 * The store keeps its own name table (an sp_symtab of local ids plus two
 * id maps) because store ids are assigned by the database: with several
 * writers, or after a rolled-back transaction, they need not be dense.
 */
#include <string.h>

#include "stampede/alloc.h"
#include "stampede/clock.h"
#include "stampede/hash.h"
#include "store/store_int.h"

/* ---- natural key --------------------------------------------------------- */

/*
 * FNV-1a over the exchange-visible value fields (px, qty, aux, flags; not
 * local_ts_ns, so the same event recorded by two captures is one event):
 * the key of kinds without an exchange id, and the tie-breaker of trades.
 */
static int64_t content_hash(const sp_event *ev)
{
    int64_t v[6] = {ev->px, ev->qty, ev->aux[0], ev->aux[1], ev->aux[2], ev->flags};
    uint64_t h = SP_FNV64_OFFSET;
    for (size_t i = 0; i < SP_COUNTOF(v); i++)
        h = sp_fnv1a64_i64(h, v[i]);
    return (int64_t)h;
}

/*
 * side folded into the low bit of v when v fits, else the content hash:
 * keeps a bid and an ask at the same price (or level index) distinct.
 */
static int64_t with_side(const sp_event *ev, int64_t v)
{
    if (v < 0 || v > (INT64_MAX >> 1))
        return content_hash(ev);
    return v * 2 + (int64_t)(ev->flags & SP_EVF_SELL);
}

/*
 * The natural key of an event is (kind, symbol, exch_ts_ns, venue, sub,
 * k1, k2); this computes k1 and k2 per kind (docs/internals/store.md).
 */
void sp_store_natural_key(const sp_event *ev, int64_t *k1, int64_t *k2)
{
    *k1 = 0;
    *k2 = 0;
    switch (ev->kind) {
    case SP_EV_TRADE:
        /*
         * exchange trade id (aggregate id for aggTrade), then the content:
         * some feeds put a sequence shared by the fills of one taker order
         * in aux0 (Bybit v5 "seq"), so the id alone is not unique
         */
        *k1 = ev->aux[0];
        *k2 = content_hash(ev);
        break;
    case SP_EV_DEPTH_UPDATE:
        /* final update id of the diff message, then the level (price, side) */
        *k1 = ev->aux[1] != 0 ? ev->aux[1] : content_hash(ev);
        *k2 = with_side(ev, ev->px);
        break;
    case SP_EV_BOOK_LEVEL:
        /* snapshot update id, then the level index and side */
        *k1 = ev->aux[0];
        *k2 = with_side(ev, ev->aux[1]);
        break;
    case SP_EV_KLINE:
        /* one in-progress and one final bar per open time: the final one is kept apart */
        *k1 = (ev->flags & SP_EVF_CLOSED) ? 1 : 0;
        break;
    case SP_EV_FUNDING:
    case SP_EV_MARK:
    case SP_EV_INDEX:
    case SP_EV_OPEN_INTEREST:
    case SP_EV_SERIES:
    case SP_EV_LONG_SHORT:
        /* one value per (venue, symbol, sub, time): the key is complete */
        break;
    default:
        /* liquidations, tickers, gaps, engine events: the full content */
        *k1 = content_hash(ev);
        break;
    }
}

/* ---- URI ----------------------------------------------------------------- */

/*
 * Copy the value of `key` from a query string "a=1&b=2" (no leading '?')
 * into out.  Returns 1 when found (0 when absent or longer than cap - 1).
 */
int sp__store_uri_param(const char *query, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = len - kl - 1;
            if (vl + 1 > cap)
                return 0;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* ---- query text -------------------------------------------------------- */

static sp_err where_term(sp_buf *sql, int dollar, int *first, const char *term, int64_t v,
                         int64_t *params, int *np)
{
    params[*np] = v;
    (*np)++;
    sp_err rc = sp_buf_puts(sql, *first ? " WHERE " : " AND ");
    *first = 0;
    if (rc == SP_OK)
        rc = sp_buf_puts(sql, term);
    if (rc == SP_OK)
        rc = dollar ? sp_buf_printf(sql, "$%d", *np) : sp_buf_putc(sql, '?');
    return rc;
}

/* The WHERE clause shared by both backends' query and count (see store_int.h). */
sp_err sp__store_where(const sp_store_q *q, sp_buf *sql, int dollar, int64_t *params, int *np)
{
    const sp_store_filter *f = q->f;
    int first = 1;
    sp_err rc = SP_OK;
    if (rc == SP_OK && f->kind != 0)
        rc = where_term(sql, dollar, &first, "kind = ", (int64_t)f->kind, params, np);
    if (rc == SP_OK && f->symbol != NULL)
        rc = where_term(sql, dollar, &first, "symbol_id = ", (int64_t)q->symbol_id, params, np);
    if (rc == SP_OK && f->venue != 0)
        rc = where_term(sql, dollar, &first, "venue = ", (int64_t)f->venue, params, np);
    if (rc == SP_OK && f->has_from)
        rc = where_term(sql, dollar, &first, "exch_ts_ns >= ", f->from_ns, params, np);
    if (rc == SP_OK && f->has_to)
        rc = where_term(sql, dollar, &first, "exch_ts_ns < ", f->to_ns, params, np);
    return rc;
}

/* ---- symbols ------------------------------------------------------------- */

static sp_err grow_u32(uint32_t **arr, uint32_t *cap, uint32_t need)
{
    if (need < *cap)
        return SP_OK;
    uint32_t ncap = *cap ? *cap : 64;
    while (ncap <= need)
        ncap *= 2;
    uint32_t *n = sp_reallocarray(*arr, ncap, sizeof(*n));
    if (n == NULL)
        return SP_ENOMEM;
    memset(n + *cap, 0, (size_t)(ncap - *cap) * sizeof(*n));
    *arr = n;
    *cap = ncap;
    return SP_OK;
}

/* Remember that the store id `id` names `name` (called by backends on load). */
sp_err sp__store_remember_symbol(sp_store *s, uint32_t id, const char *name)
{
    if (id == 0 || id > SP_STORE_SYMBOL_ID_MAX)
        return SP_ERANGE;
    uint32_t local;
    sp_err rc = sp_symtab_intern(s->names, name, strlen(name), &local);
    if (rc != SP_OK)
        return rc;
    if ((rc = grow_u32(&s->db_of_local, &s->cap_local, local)) != SP_OK)
        return rc;
    if ((rc = grow_u32(&s->local_of_db, &s->cap_db, id)) != SP_OK)
        return rc;
    s->db_of_local[local] = id;
    s->local_of_db[id] = local;
    return SP_OK;
}

/* Forget the store id of `local` (its insert was rolled back). */
static void forget_symbol(sp_store *s, uint32_t local)
{
    if (local == 0 || local >= s->cap_local)
        return;
    uint32_t id = s->db_of_local[local];
    s->db_of_local[local] = 0;
    if (id != 0 && id < s->cap_db)
        s->local_of_db[id] = 0;
}

static sp_err load_symbol(sp_store *s, uint32_t id, const char *name)
{
    return sp__store_remember_symbol(s, id, name);
}

/* The name of store id `id`, reloading the table once if it is unknown. */
const char *sp__store_symbol_name(sp_store *s, uint32_t id)
{
    if (id == 0)
        return "";
    for (int attempt = 0; attempt < 2; attempt++) {
        if (id < s->cap_db && s->local_of_db[id] != 0)
            return sp_symtab_name(s->names, s->local_of_db[id]);
        if (attempt == 0 && s->ops->symbols(s, load_symbol, NULL) != SP_OK)
            break;
    }
    return "?";
}

/* ---- open / close -------------------------------------------------------- */

sp_err sp_store_open(const char *uri, unsigned flags, sp_store **out, sp_diag *d)
{
    *out = NULL;
    if (uri == NULL || *uri == '\0')
        uri = SP_STORE_DEFAULT_URI;
    const sp_store_ops *ops = NULL;
    const char *target = NULL;
    if (strncmp(uri, "sqlite:", 7) == 0) {
        ops = &sp__store_sqlite_ops;
        target = uri + 7;
    } else if (strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0) {
#ifdef STAMPEDE_HAVE_PG
        ops = &sp__store_pg_ops;
        target = uri;
#else
        return sp_diag_set(d, SP_EUNSUPPORTED,
                           "store '%s': this stampede was built without PostgreSQL "
                           "(configure with -DSTAMPEDE_WITH_PG=ON)",
                           uri);
#endif
    } else {
        return sp_diag_set(d, SP_EINVAL,
                           "store '%s': unknown URI scheme (use sqlite:PATH or postgres://...)",
                           uri);
    }
    if (*target == '\0' || *target == '?')
        return sp_diag_set(d, SP_EINVAL, "store '%s': empty database path", uri);

    sp_store *s = sp_calloc(1, sizeof(*s));
    if (s == NULL)
        return sp_diag_set(d, SP_ENOMEM, "store: out of memory");
    s->ops = ops;
    s->flags = flags;
    sp_err rc = sp_symtab_new(&s->names);
    if (rc != SP_OK) {
        sp_diag_set(d, rc, "store: out of memory");
        goto out_free;
    }
    rc = ops->open(s, target, flags, d);
    if (rc != SP_OK)
        goto out_free;
    rc = ops->symbols(s, load_symbol, d);
    if (rc != SP_OK) {
        if (d && d->code == SP_OK)
            sp_diag_set(d, rc, "store: loading the symbol table: %s", sp_strerror(rc));
        goto out_close;
    }
    *out = s;
    return SP_OK;

out_close:
    ops->close(s);
out_free:
    sp_symtab_free(s->names);
    sp_free(s->db_of_local);
    sp_free(s->local_of_db);
    sp_free(s);
    return rc;
}

void sp_store_close(sp_store *s)
{
    if (s == NULL)
        return;
    s->ops->close(s);
    sp_symtab_free(s->names);
    sp_free(s->db_of_local);
    sp_free(s->local_of_db);
    sp_free(s->rows);
    sp__store_roll_fini(&s->roll);
    sp_free(s);
}

const char *sp_store_backend(const sp_store *s)
{
    return s->ops->name;
}

int sp_store_opened_version(const sp_store *s)
{
    return s->opened_version;
}

/* ---- append -------------------------------------------------------------- */

/* State of one append: the caller-id → store-id memo and the symbols added. */
typedef struct append_ctx {
    uint32_t *memo;  /* memo[caller id] = store id, 0 = not yet resolved */
    uint32_t nmemo;  /* entries of memo */
    uint32_t *added; /* local ids whose store id was created in this transaction */
    uint32_t nadded;
    uint32_t capadded;
} append_ctx;

static sp_err resolve_symbol(sp_store *s, append_ctx *a, const sp_symtab *syms, uint32_t cid,
                             uint32_t *out, sp_diag *d)
{
    if (cid == 0) {
        *out = 0;
        return SP_OK;
    }
    if (syms == NULL || cid >= a->nmemo)
        return sp_diag_set(d, SP_EINVAL, "store: event symbol id %u is not in the symbol table",
                           cid);
    if (a->memo[cid] != 0) {
        *out = a->memo[cid];
        return SP_OK;
    }
    const char *name = sp_symtab_name(syms, cid);
    if (name == NULL)
        return sp_diag_set(d, SP_EINVAL, "store: event symbol id %u has no name", cid);
    uint32_t local = sp_symtab_find(s->names, name, strlen(name));
    uint32_t id = 0;
    if (local != 0 && local < s->cap_local)
        id = s->db_of_local[local];
    if (id == 0) {
        sp_err rc = s->ops->symbol_put(s, name, &id, d);
        if (rc != SP_OK)
            return rc;
        if ((rc = sp__store_remember_symbol(s, id, name)) != SP_OK)
            return sp_diag_set(d, rc, "store: symbol '%s' (id %u): %s", name, id, sp_strerror(rc));
        local = sp_symtab_find(s->names, name, strlen(name));
        if ((rc = grow_u32(&a->added, &a->capadded, a->nadded)) != SP_OK)
            return sp_diag_set(d, rc, "store: out of memory");
        a->added[a->nadded++] = local;
    }
    a->memo[cid] = id;
    *out = id;
    return SP_OK;
}

sp_err sp_store_append(sp_store *s, const sp_event *ev, size_t n, const sp_symtab *syms,
                       uint64_t *inserted, sp_diag *d)
{
    if (inserted)
        *inserted = 0;
    if (s->flags & SP_STORE_READONLY)
        return sp_diag_set(d, SP_EINVAL, "store: opened read-only");
    if (n == 0)
        return SP_OK;
    if (s->rows == NULL) {
        s->rows = sp_calloc(SP_STORE_SLICE, sizeof(*s->rows));
        if (s->rows == NULL)
            return sp_diag_set(d, SP_ENOMEM, "store: out of memory");
        s->cap_rows = SP_STORE_SLICE;
    }
    append_ctx a = {0};
    a.nmemo = syms ? sp_symtab_count(syms) + 1 : 1;
    a.memo = sp_calloc(a.nmemo, sizeof(*a.memo));
    if (a.memo == NULL)
        return sp_diag_set(d, SP_ENOMEM, "store: out of memory");

    uint64_t total = 0;
    sp_err rc = s->ops->begin(s, d);
    if (rc != SP_OK)
        goto out_free;
    for (size_t off = 0; off < n; off += s->cap_rows) {
        size_t m = n - off < s->cap_rows ? n - off : s->cap_rows;
        for (size_t i = 0; i < m; i++) {
            sp_store_row *r = &s->rows[i];
            r->ev = ev[off + i];
            rc = resolve_symbol(s, &a, syms, r->ev.symbol_id, &r->ev.symbol_id, d);
            if (rc != SP_OK)
                goto out_rollback;
            sp_store_natural_key(&r->ev, &r->k1, &r->k2);
        }
        uint64_t got = 0;
        rc = s->ops->insert(s, s->rows, m, &got, d);
        if (rc != SP_OK)
            goto out_rollback;
        total += got;
    }
    rc = s->ops->commit(s, d);
    if (rc != SP_OK)
        goto out_forget; /* the backend rolled back itself */
    if (inserted)
        *inserted = total;
    goto out_free;

out_rollback:
    s->ops->rollback(s);
out_forget:
    for (uint32_t i = 0; i < a.nadded; i++)
        forget_symbol(s, a.added[i]);
out_free:
    sp_free(a.memo);
    sp_free(a.added);
    return rc;
}

sp_err sp_store_log_ingest(sp_store *s, const char *source, uint64_t decoded, uint64_t inserted,
                           uint64_t rejected, sp_diag *d)
{
    if (s->flags & SP_STORE_READONLY)
        return sp_diag_set(d, SP_EINVAL, "store: opened read-only");
    return s->ops->log_ingest(s, source, decoded, inserted, rejected, sp_clock_real_ns(), d);
}

/* ---- read ---------------------------------------------------------------- */

/* Resolve f's symbol.  Returns 0 when the symbol is unknown (nothing matches). */
static int resolve_filter(sp_store *s, const sp_store_filter *f, sp_store_q *q)
{
    q->f = f;
    q->symbol_id = 0;
    if (f->symbol == NULL)
        return 1;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint32_t local = sp_symtab_find(s->names, f->symbol, strlen(f->symbol));
        if (local != 0 && local < s->cap_local && s->db_of_local[local] != 0) {
            q->symbol_id = s->db_of_local[local];
            return 1;
        }
        /* maybe another process added it since we loaded the table */
        if (attempt == 0 && s->ops->symbols(s, load_symbol, NULL) != SP_OK)
            break;
    }
    return 0;
}

/* ceil(a / b) for b > 0. */
static int64_t ceil_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

static sp_err liq_trampoline(sp_store *s, const sp_store_liq_minute *row)
{
    return s->user_liq_fn(s->user_ctx, row, sp__store_symbol_name(s, row->symbol_id));
}

sp_err sp_store_liq_minutes(sp_store *s, const sp_store_filter *f, sp_store_liq_fn fn, void *ctx,
                            sp_diag *d)
{
    sp_store_filter all = {0};
    sp_store_q q;
    if (f == NULL)
        f = &all;
    if (f->kind != 0 && f->kind != SP_EV_LIQUIDATION)
        return SP_OK;
    if (!resolve_filter(s, f, &q))
        return SP_OK;
    /* a minute is selected when its start is in [from, to) */
    q.from_min = f->has_from ? ceil_div(f->from_ns, SP_STORE_LIQ_MINUTE_NS) : INT64_MIN;
    q.to_min = f->has_to ? ceil_div(f->to_ns, SP_STORE_LIQ_MINUTE_NS) : INT64_MAX;
    if (q.from_min >= q.to_min)
        return SP_OK;
    s->user_liq_fn = fn;
    s->user_ctx = ctx;
    sp_err rc = s->ops->liq_minutes(s, &q, liq_trampoline, d);
    s->user_liq_fn = NULL;
    s->user_ctx = NULL;
    return rc;
}

static sp_err row_trampoline(sp_store *s, const sp_event *ev)
{
    return s->user_fn(s->user_ctx, ev, sp__store_symbol_name(s, ev->symbol_id));
}

sp_err sp_store_query(sp_store *s, const sp_store_filter *f, sp_store_row_fn fn, void *ctx,
                      sp_diag *d)
{
    sp_store_filter all = {0};
    sp_store_q q;
    if (f == NULL)
        f = &all;
    if (!resolve_filter(s, f, &q))
        return SP_OK;
    s->user_fn = fn;
    s->user_ctx = ctx;
    sp_err rc = s->ops->query(s, &q, row_trampoline, d);
    s->user_fn = NULL;
    s->user_ctx = NULL;
    return rc;
}

sp_err sp_store_count(sp_store *s, const sp_store_filter *f, uint64_t *n, sp_diag *d)
{
    sp_store_filter all = {0};
    sp_store_q q;
    *n = 0;
    if (f == NULL)
        f = &all;
    if (!resolve_filter(s, f, &q))
        return SP_OK;
    return s->ops->count(s, &q, n, d);
}

sp_err sp_store_summary(sp_store *s, sp_store_summary_fn fn, void *ctx, sp_diag *d)
{
    return s->ops->summary(s, fn, ctx, d);
}
