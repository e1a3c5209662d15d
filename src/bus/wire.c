/*
 * wire.c -- the bus wire format: one message = one batch of sp_event
 * records sharing (venue, kind, symbol).
 *
 * Layout (little-endian, docs/internals/bus.md):
 *
 *   off  size  field
 *     0     4  magic "SPEV"
 *     4     2  version (1)
 *     6     2  header length (32)
 *     8     4  count of events (1 .. SP_BUS_BATCH_MAX)
 *    12     2  symbol length in bytes (0 .. SP_SYMBOL_MAX)
 *    14     1  venue (sp_venue)
 *    15     1  kind (sp_event_kind)
 *    16     8  batch id (publisher's hash of the events' natural keys)
 *    24     4  CRC-32 (zlib polynomial) of header bytes 0..23 then of
 *              every byte after the header: any flipped bit is caught
 *    28     4  reserved, 0
 *    32     -  symbol bytes, zero-padded to a multiple of 8
 *     -  64*n  the records, field by field as in sp_event
 *
 * The decoder trusts nothing: it checks each header field, the exact
 * length, the CRC, the symbol's bytes and padding, and every record's
 * kind, venue, flags and symbol id, and names the first violation with
 * its byte offset.  This file needs no NATS: it is always built, so the
 * fuzzer (tests/fuzz/fuzz_bus.c) and the unit tests run in every build.
 */
#include <string.h>
#include <zlib.h>

#include "bus_int.h"
#include "stampede/bytes.h"
#include "stampede/hash.h"

/* Every flag bit event.h defines; anything else on the wire is garbage. */
#define KNOWN_FLAGS (SP_EVF_SELL | SP_EVF_MAKER | SP_EVF_SNAPSHOT | SP_EVF_CLOSED | SP_EVF_DERIVED)

/*
 * CRC-32 of the header's first 24 bytes and of the body (everything but
 * the CRC field and the reserved word).  zlib's crc32 takes a uInt
 * length: the body goes in pieces so any size_t works.
 */
static uint32_t crc_of(const unsigned char *msg, size_t total)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, msg, 24);
    const unsigned char *p = msg + SP_BUS_HEADER_SIZE;
    size_t n = total - SP_BUS_HEADER_SIZE;
    while (n > 0) {
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, piece);
        p += piece;
        n -= piece;
    }
    return (uint32_t)c;
}

/* A symbol byte we accept: printable ASCII, as sp_symtab_intern requires. */
static bool sym_byte_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* One record, field by field, little-endian. */
static void put_event(unsigned char *p, const sp_event *e, uint32_t sym)
{
    p[0] = e->kind;
    p[1] = e->venue;
    p[2] = e->sub;
    p[3] = e->flags;
    sp_put_le32(p + 4, sym);
    sp_put_le64(p + 8, (uint64_t)e->exch_ts_ns);
    sp_put_le64(p + 16, (uint64_t)e->local_ts_ns);
    sp_put_le64(p + 24, (uint64_t)e->px);
    sp_put_le64(p + 32, (uint64_t)e->qty);
    for (int i = 0; i < 3; i++)
        sp_put_le64(p + 40 + 8 * i, (uint64_t)e->aux[i]);
}

static void get_event(const unsigned char *p, sp_event *e)
{
    e->kind = p[0];
    e->venue = p[1];
    e->sub = p[2];
    e->flags = p[3];
    e->symbol_id = sp_get_le32(p + 4);
    e->exch_ts_ns = (int64_t)sp_get_le64(p + 8);
    e->local_ts_ns = (int64_t)sp_get_le64(p + 16);
    e->px = (int64_t)sp_get_le64(p + 24);
    e->qty = (int64_t)sp_get_le64(p + 32);
    for (int i = 0; i < 3; i++)
        e->aux[i] = (int64_t)sp_get_le64(p + 40 + 8 * i);
}

/* Encode a batch (bus.h).  The CRC is computed last, over the finished body. */
sp_err sp_bus_encode(const sp_event *ev, size_t n, const char *symbol, uint64_t batch_id, void *out,
                     size_t cap, size_t *len, sp_diag *d)
{
    if (!ev || !out || !len)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    if (n == 0 || n > SP_BUS_BATCH_MAX)
        return sp_diag_set(d, SP_EINVAL, "a batch holds 1 .. %u events, not %zu",
                           (unsigned)SP_BUS_BATCH_MAX, n);
    size_t sl = symbol ? strlen(symbol) : 0;
    if (sl > SP_SYMBOL_MAX)
        return sp_diag_set(d, SP_EINVAL, "symbol longer than %d bytes", SP_SYMBOL_MAX);
    for (size_t i = 0; i < sl; i++)
        if (!sym_byte_ok((unsigned char)symbol[i]))
            return sp_diag_set(d, SP_EINVAL, "symbol byte %zu is not printable ASCII", i);
    if (ev[0].kind == SP_EV_NONE || ev[0].kind >= SP_EV_KIND_COUNT_ ||
        ev[0].venue >= SP_VENUE_COUNT_)
        return sp_diag_set(d, SP_EINVAL, "unknown event kind %u or venue %u", ev[0].kind,
                           ev[0].venue);
    for (size_t i = 1; i < n; i++)
        if (ev[i].kind != ev[0].kind || ev[i].venue != ev[0].venue)
            return sp_diag_set(d, SP_EINVAL, "event %zu: a batch has one venue and one kind", i);
    size_t need = SP_BUS_BATCH_BYTES(sl, n);
    if (cap < need)
        return sp_diag_set(d, SP_ETOOBIG, "batch needs %zu bytes, buffer has %zu", need, cap);
    unsigned char *p = out;
    memset(p, 0, need);
    sp_put_le32(p, SP_BUS_MAGIC);
    sp_put_le16(p + 4, SP_BUS_VERSION);
    sp_put_le16(p + 6, SP_BUS_HEADER_SIZE);
    sp_put_le32(p + 8, (uint32_t)n);
    sp_put_le16(p + 12, (uint16_t)sl);
    p[14] = ev[0].venue;
    p[15] = ev[0].kind;
    sp_put_le64(p + 16, batch_id);
    if (sl)
        memcpy(p + SP_BUS_HEADER_SIZE, symbol, sl);
    unsigned char *r = p + SP_BUS_BATCH_BYTES(sl, 0);
    for (size_t i = 0; i < n; i++)
        put_event(r + 64 * i, &ev[i], sl ? 1u : 0u);
    sp_put_le32(p + 24, crc_of(p, need));
    *len = need;
    return SP_OK;
}

/* Record a decode failure at byte `at` of the message. */
static sp_err bad(sp_diag *d, sp_err e, size_t at, const char *field, const char *why)
{
    if (d) {
        d->offset = at;
        sp_diag_field(d, field);
    }
    return sp_diag_set(d, e, "%s", why);
}

/* Decode and validate one batch (bus.h).  Checks run header first, so offsets point at the cause.
 */
sp_err sp_bus_decode(const void *buf, size_t len, uint32_t sym_id, sp_event *ev, size_t cap,
                     sp_bus_batch *b, sp_diag *d)
{
    if (!buf || !b)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    const unsigned char *p = buf;
    if (len < SP_BUS_HEADER_SIZE)
        return bad(d, SP_ETRUNCATED, len, "header", "shorter than the 32-byte batch header");
    if (sp_get_le32(p) != SP_BUS_MAGIC)
        return bad(d, SP_EPARSE, 0, "magic", "not an sp_event batch (magic is not SPEV)");
    if (sp_get_le16(p + 4) != SP_BUS_VERSION)
        return bad(d, SP_EPARSE, 4, "version", "unsupported batch version");
    if (sp_get_le16(p + 6) != SP_BUS_HEADER_SIZE)
        return bad(d, SP_EPARSE, 6, "header_len", "header length is not 32");
    uint32_t n = sp_get_le32(p + 8);
    if (n == 0 || n > SP_BUS_BATCH_MAX)
        return bad(d, SP_EPARSE, 8, "count", "event count out of range");
    uint16_t sl = sp_get_le16(p + 12);
    if (sl > SP_SYMBOL_MAX)
        return bad(d, SP_EPARSE, 12, "symbol_len", "symbol longer than SP_SYMBOL_MAX");
    uint8_t venue = p[14], kind = p[15];
    if (venue >= SP_VENUE_COUNT_)
        return bad(d, SP_EPARSE, 14, "venue", "unknown venue");
    if (kind == SP_EV_NONE || kind >= SP_EV_KIND_COUNT_)
        return bad(d, SP_EPARSE, 15, "kind", "unknown event kind");
    if (sp_get_le32(p + 28) != 0)
        return bad(d, SP_EPARSE, 28, "reserved", "reserved header bytes are not zero");
    size_t need = SP_BUS_BATCH_BYTES(sl, n);
    if (len < need)
        return bad(d, SP_ETRUNCATED, len, "length", "message shorter than its count says");
    if (len > need)
        return bad(d, SP_EPARSE, need, "length", "trailing bytes after the last event");
    if (crc_of(p, need) != sp_get_le32(p + 24))
        return bad(d, SP_EPARSE, 24, "crc", "CRC-32 of the batch does not match");
    const unsigned char *s = p + SP_BUS_HEADER_SIZE;
    size_t padded = SP_BUS_BATCH_BYTES(sl, 0) - SP_BUS_HEADER_SIZE;
    for (size_t i = 0; i < padded; i++) {
        if (i < sl && !sym_byte_ok(s[i]))
            return bad(d, SP_EPARSE, SP_BUS_HEADER_SIZE + i, "symbol",
                       "symbol byte is not printable ASCII");
        if (i >= sl && s[i] != 0)
            return bad(d, SP_EPARSE, SP_BUS_HEADER_SIZE + i, "symbol", "padding is not zero");
    }
    if (n > cap)
        return bad(d, SP_ETOOBIG, 8, "count", "more events than the caller's buffer holds");
    const unsigned char *r = s + padded;
    uint32_t want_sym = sl ? 1u : 0u;
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *q = r + 64 * (size_t)i;
        size_t at = (size_t)(q - p);
        if (q[0] != kind)
            return bad(d, SP_EPARSE, at, "kind", "record kind differs from the header's");
        if (q[1] != venue)
            return bad(d, SP_EPARSE, at + 1, "venue", "record venue differs from the header's");
        if (q[3] & ~KNOWN_FLAGS)
            return bad(d, SP_EPARSE, at + 3, "flags", "unknown flag bits");
        if (sp_get_le32(q + 4) != want_sym)
            return bad(d, SP_EPARSE, at + 4, "symbol_id",
                       "record symbol id must be 1 with a symbol, 0 without");
        get_event(q, &ev[i]);
        ev[i].symbol_id = sl ? sym_id : 0;
    }
    b->venue = venue;
    b->kind = kind;
    b->count = n;
    b->batch_id = sp_get_le64(p + 16);
    memcpy(b->symbol, s, sl);
    b->symbol[sl] = '\0';
    return SP_OK;
}

/* Subject token rule: NATS forbids '.', '*', '>' and whitespace in a token; keep a safe set. */
static bool token_ok(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* ev.<venue>.<kind>.<symbol token> (bus.h). */
void sp_bus_subject(unsigned venue, unsigned kind, const char *symbol, char *out)
{
    size_t o = 0;
    const char *parts[3] = {sp_venue_name(venue), sp_event_kind_name(kind), symbol};
    memcpy(out, "ev", 2);
    o = 2;
    for (int i = 0; i < 3; i++) {
        const char *t = parts[i] && parts[i][0] ? parts[i] : "_";
        out[o++] = '.';
        for (size_t j = 0; t[j] && j < SP_SYMBOL_MAX && o < SP_BUS_SUBJECT_MAX - 6; j++)
            out[o++] = token_ok((unsigned char)t[j]) ? t[j] : '_';
    }
    out[o] = '\0';
}

/* splitmix64's finaliser: spreads FNV's output so that a sum of hashes stays a good digest. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Add one event to an order-independent digest (bus.h). */
uint64_t sp_bus_digest_add(uint64_t digest, const sp_event *e, const char *symbol)
{
    uint64_t h = SP_FNV64_OFFSET;
    unsigned char head[4] = {e->kind, e->venue, e->sub, e->flags};
    h = sp_fnv1a64(head, sizeof(head), h);
    const char *s = symbol ? symbol : "";
    h = sp_fnv1a64(s, strlen(s) + 1, h);
    h = sp_fnv1a64_i64(h, e->exch_ts_ns);
    h = sp_fnv1a64_i64(h, e->local_ts_ns);
    h = sp_fnv1a64_i64(h, e->px);
    h = sp_fnv1a64_i64(h, e->qty);
    for (int i = 0; i < 3; i++)
        h = sp_fnv1a64_i64(h, e->aux[i]);
    return digest + mix64(h);
}
