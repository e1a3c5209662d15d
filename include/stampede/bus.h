/*
 * bus.h -- sp_event batches on NATS JetStream, and a JetStream work queue
 * (DESIGN §6, issue 11).
 *
 * Three layers, all in src/bus/:
 *
 *   1. The wire codec (always built, no NATS needed): a batch of events
 *      that share (venue, kind, symbol) is one message: a 32-byte
 *      versioned header (magic "SPEV", version, count, symbol length,
 *      CRC-32 of the body, batch id), the symbol name, then `count`
 *      64-byte little-endian sp_event records.  sp_bus_decode validates
 *      every byte and answers garbage with SP_EPARSE and an sp_diag saying
 *      what and at which byte offset.  docs/internals/bus.md has the
 *      layout.
 *
 *   2. The event bus (STAMPEDE_HAVE_NATS builds; SP_EUNSUPPORTED
 *      otherwise): sp_bus_open connects to a NATS server (or cluster: a
 *      comma-separated URL list), creates the stream STAMPEDE_EVENTS
 *      (subjects ev.>) if missing, with the replicas asked for.
 *      sp_bus_publish groups events by subject ev.<venue>.<kind>.<symbol>,
 *      cuts deterministic batches and publishes them asynchronously with
 *      at most max_inflight unacknowledged; each message carries
 *      Nats-Msg-Id = hash of the natural keys of its events (the store's
 *      key, store.md), so publishing the same file twice within the
 *      stream's duplicate window stores each batch once on the server.
 *      sp_bus_flush waits for every ack and republishes failures.
 *      A durable pull consumer (sp_bus_consumer_open / sp_bus_fetch /
 *      sp_bus_ack) hands the decoded events of the fetched messages to the
 *      caller, who stores them and then acknowledges: at-least-once
 *      delivery plus the idempotent store gives exactly-once effect.  A
 *      message that does not decode is republished to dlq.<subject> on
 *      stream STAMPEDE_DLQ with the reason in header Stampede-Error,
 *      acknowledged, counted, and the rest goes on.
 *
 *   3. Raw messages for the distributed Monte Carlo: ensure a stream
 *      (limits or work-queue retention), publish bytes with a Msg-Id and
 *      wait for the ack, pull-subscribe with an ack wait, fetch, ack, and
 *      signal progress.  The Monte Carlo job/result encoding lives in the
 *      CLI (cli/bus_cli.h) on top of these.
 *
 * Threads: an sp_bus and everything opened from it is used by one thread
 * at a time (nats.c runs its own I/O threads inside).  Units: times in
 * milliseconds unless the name says otherwise.
 */
#ifndef STAMPEDE_BUS_H
#define STAMPEDE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/limits.h"
#include "stampede/symtab.h"

SP_BEGIN_DECLS

/* ---- limits and names ------------------------------------------------------ */

/* Most events in one wire batch (4096 x 64 B = 256 KiB, under NATS's 1 MiB payload). */
#ifndef SP_BUS_BATCH_MAX
#define SP_BUS_BATCH_MAX 4096u
#endif

/* Wire format identity. */
#define SP_BUS_MAGIC       0x56455053u /* "SPEV" read as a little-endian u32 */
#define SP_BUS_VERSION     1u
#define SP_BUS_HEADER_SIZE 32u

/* Bytes of a batch of n events whose symbol is sym_len bytes (symbol padded to 8). */
#define SP_BUS_BATCH_BYTES(sym_len, n) \
    (SP_BUS_HEADER_SIZE + (((size_t)(sym_len) + 7u) & ~(size_t)7u) + (size_t)(n)*64u)

/* The event stream, its subjects, and the dead-letter stream. */
#define SP_BUS_STREAM     "STAMPEDE_EVENTS"
#define SP_BUS_DLQ_STREAM "STAMPEDE_DLQ"

/* Largest subject we build (ev.<venue>.<kind>.<symbol>, dlq. prefix included). */
#define SP_BUS_SUBJECT_MAX 96

/* ---- wire codec (always available) ----------------------------------------- */

/*
 * One decoded batch.  ev points into the caller's events array (see
 * sp_bus_decode); symbol is NUL-terminated ("" = events without symbol).
 */
typedef struct sp_bus_batch {
    uint8_t venue;                  /* sp_venue shared by every event */
    uint8_t kind;                   /* sp_event_kind shared by every event */
    uint32_t count;                 /* events */
    uint64_t batch_id;              /* the id the publisher put in the header */
    char symbol[SP_SYMBOL_MAX + 1]; /* symbol name, "" when the events have none */
} sp_bus_batch;

/*
 * Encode n (1 .. SP_BUS_BATCH_MAX) events into out[0..cap).  Every event
 * must have the same venue and kind; symbol (may be NULL = none) is their
 * symbol name, and their symbol_id is written as 1 (0 when no symbol) so a
 * receiver never sees a sender's id.  batch_id goes into the header as is.
 * OUT: *len = bytes written (SP_BUS_BATCH_BYTES).  Returns SP_OK,
 * SP_EINVAL (n out of range, mixed venue/kind, bad symbol, unknown kind or
 * venue), SP_ETOOBIG (cap too small).  Thread-safe.
 */
SP_API sp_err sp_bus_encode(const sp_event *ev, size_t n, const char *symbol, uint64_t batch_id,
                            void *out, size_t cap, size_t *len, sp_diag *d);

/*
 * Decode and validate one message buf[0..len): magic, version, header
 * length, count (1 .. SP_BUS_BATCH_MAX), exact total length, CRC-32 of
 * the body, symbol (printable ASCII, padding zero), and each record (kind
 * and venue equal to the header's, known flag bits, symbol_id 1 or 0 as
 * the symbol says).  Up to cap events go to ev[] (each symbol_id set to
 * the caller's sym_id, e.g. the receiver's interned id).  OUT: *b.
 * Returns SP_OK, SP_EPARSE (d says what and d->offset the byte),
 * SP_ETRUNCATED (shorter than its header says), SP_ETOOBIG (count > cap).
 * Never reads outside buf.  Thread-safe.
 */
SP_API sp_err sp_bus_decode(const void *buf, size_t len, uint32_t sym_id, sp_event *ev, size_t cap,
                            sp_bus_batch *b, sp_diag *d);

/*
 * The subject of a batch: "ev.<venue>.<kind>.<token>" where token is the
 * symbol with every character outside [A-Za-z0-9_-] replaced by '_' ("_"
 * when there is no symbol).  out must hold SP_BUS_SUBJECT_MAX bytes.
 */
SP_API void sp_bus_subject(unsigned venue, unsigned kind, const char *symbol, char *out);

/*
 * An order-independent digest of events: the sum (mod 2^64) of a 64-bit
 * hash of each event's content with its symbol name in place of its id.
 * Two sets of events digest equal iff (with overwhelming probability) they
 * hold the same events, whatever the order and symbol tables.  Used to
 * check that what reached PostgreSQL equals what was published.
 * sp_bus_digest_add adds one event (symbol: its name, "" or NULL = none).
 */
SP_API uint64_t sp_bus_digest_add(uint64_t digest, const sp_event *ev, const char *symbol);

/* ---- the event bus (STAMPEDE_HAVE_NATS; SP_EUNSUPPORTED otherwise) ------------ */

typedef struct sp_bus sp_bus;

/* Connection and stream settings.  Start from sp_bus_opts_default(). */
typedef struct sp_bus_opts {
    int replicas;          /* stream replicas when creating a stream (1, 3; default 1) */
    int64_t max_age_ms;    /* STAMPEDE_EVENTS retention by age, 0 = keep forever */
    int64_t max_bytes;     /* STAMPEDE_EVENTS size limit, 0 = unlimited */
    int64_t dup_window_ms; /* Msg-Id duplicate window (default 2 min) */
    uint32_t batch_events; /* events per published batch (1 .. SP_BUS_BATCH_MAX; 1024) */
    uint32_t max_inflight; /* unacknowledged async publishes at most (default 256) */
    int64_t timeout_ms;    /* connect, API and ack timeout (default 10000) */
    uint32_t retries;      /* republish attempts of a failed batch (default 60; back-off
                              50 ms doubling to 1 s between rounds: about a minute) */
    bool create_streams;   /* create missing streams (default true) */
} sp_bus_opts;

/* The defaults listed in sp_bus_opts. */
SP_API sp_bus_opts sp_bus_opts_default(void);

/* True when this library was built with NATS (STAMPEDE_WITH_NATS). */
SP_API bool sp_bus_is_available(void);

/*
 * Connect to url ("nats://127.0.0.1:4222", or several comma-separated for
 * a cluster; NULL = "nats://127.0.0.1:4222") and, with o->create_streams,
 * create STAMPEDE_EVENTS and STAMPEDE_DLQ if missing (an existing stream is
 * used as it is).  o may be NULL (defaults).  OUT: *out, closed with
 * sp_bus_close.  Returns SP_OK, SP_EINVAL (bad option), SP_ECONN (no
 * server, JetStream disabled), SP_ETIMEOUT, SP_EUNSUPPORTED (built without
 * NATS), SP_ENOMEM.
 */
SP_API sp_err sp_bus_open(const char *url, const sp_bus_opts *o, sp_bus **out, sp_diag *d);

/* Flush what can be flushed (no waiting for acks), close and free; NULL is a no-op. */
SP_API void sp_bus_close(sp_bus *b);

/* Publish counters (cumulative since sp_bus_open). */
typedef struct sp_bus_pub_stats {
    uint64_t events;     /* events handed to sp_bus_publish */
    uint64_t batches;    /* batches cut */
    uint64_t acked;      /* batches acknowledged by the stream (duplicates included) */
    uint64_t duplicates; /* acks that said "duplicate" (already in the stream) */
    uint64_t retried;    /* republished after an error or a missing ack */
    uint64_t failed;     /* given up after o->retries */
} sp_bus_pub_stats;

/*
 * Queue events for publishing.  Events are grouped by (venue, kind,
 * symbol) in arrival order; a group is sent as one batch when it reaches
 * o->batch_events (remaining partial groups go out at sp_bus_flush), so
 * the same input gives the same batches and Msg-Ids.  ev[i].symbol_id are
 * ids of syms (NULL only if every id is 0).  Blocks while max_inflight
 * publishes await acks.  Returns SP_OK, SP_EINVAL (unknown symbol id, bad
 * kind/venue), SP_ECONN / SP_ETIMEOUT (connection lost past its
 * reconnects), SP_ENOMEM.
 */
SP_API sp_err sp_bus_publish(sp_bus *b, const sp_event *ev, size_t n, const sp_symtab *syms,
                             sp_diag *d);

/*
 * Send the partial batches and wait until every batch is acknowledged,
 * republishing failed ones (up to o->retries each; a republish keeps the
 * Msg-Id, so a batch that was stored but whose ack was lost is not stored
 * twice).  OUT: *st (may be NULL).  Returns SP_OK when every batch is
 * acknowledged, else SP_EIO (some batches failed: st->failed) or SP_ECONN.
 */
SP_API sp_err sp_bus_flush(sp_bus *b, sp_bus_pub_stats *st, sp_diag *d);

/* ---- the durable consumer ----------------------------------------------------- */

typedef struct sp_bus_consumer sp_bus_consumer;

/*
 * Open (creating if missing) the durable pull consumer `durable` on
 * STAMPEDE_EVENTS, filtered to `filter` (NULL = "ev.>"), explicit acks,
 * ack wait ack_wait_ms (0 = 30000); an existing durable is bound to as it is
 * (its own ack wait and filter stay).  Received symbols are interned in a
 * table the consumer owns (sp_bus_consumer_symtab).  OUT: *out, closed
 * with sp_bus_consumer_close (the durable stays on the server).  Errors as
 * sp_bus_open, SP_EINVAL (bad name).
 */
SP_API sp_err sp_bus_consumer_open(sp_bus *b, const char *durable, const char *filter,
                                   int64_t ack_wait_ms, sp_bus_consumer **out, sp_diag *d);

/* Close c (unacknowledged messages are redelivered later); NULL is a no-op. */
SP_API void sp_bus_consumer_close(sp_bus_consumer *c);

/* The consumer's symbol table: the ids of the events sp_bus_fetch returns (borrowed). */
SP_API const sp_symtab *sp_bus_consumer_symtab(const sp_bus_consumer *c);

/* What one fetch returned. */
typedef struct sp_bus_fetched {
    const sp_event *ev;   /* borrowed: valid until the next fetch/close; ids of the symtab */
    size_t n;             /* events */
    size_t msgs;          /* messages fetched (good and dead-lettered) */
    size_t dead;          /* messages set aside to dlq.<subject> (already acked) */
    uint64_t redelivered; /* messages delivered more than once (after a crash or ack wait) */
} sp_bus_fetched;

/*
 * Fetch up to max_msgs messages (waiting up to timeout_ms for the first),
 * decode them, dead-letter the malformed ones (see above), and return the
 * events of the good ones.  The good messages stay unacknowledged until
 * sp_bus_ack.  Calling fetch again without ack leaves them to be
 * redelivered after the ack wait.  A timeout with nothing is SP_OK with
 * out->msgs == 0.  Returns SP_OK, SP_ECONN, SP_ENOMEM.
 */
SP_API sp_err sp_bus_fetch(sp_bus_consumer *c, size_t max_msgs, int64_t timeout_ms,
                           sp_bus_fetched *out, sp_diag *d);

/*
 * Acknowledge every good message of the last fetch (after the caller made
 * their events durable) and wait for the server's confirmation.  Returns
 * SP_OK, SP_ECONN, SP_ETIMEOUT.
 */
SP_API sp_err sp_bus_ack(sp_bus_consumer *c, sp_diag *d);

/* Dead-lettered messages since the consumer was opened. */
SP_API uint64_t sp_bus_consumer_dead(const sp_bus_consumer *c);

/* ---- raw messages and work queues ---------------------------------------------- */

/* A stream to ensure exists. */
typedef struct sp_bus_stream_cfg {
    const char *name;    /* stream name */
    const char *subject; /* one subject filter, e.g. "mc.job.>" */
    bool work_queue;     /* retention WorkQueue (a message is deleted once acked) */
    int replicas;        /* 1 or 3 */
    int64_t max_age_ms;  /* 0 = forever */
} sp_bus_stream_cfg;

/* Create the stream if missing (an existing one is kept).  Errors as sp_bus_open. */
SP_API sp_err sp_bus_stream_ensure(sp_bus *b, const sp_bus_stream_cfg *s, sp_diag *d);

/*
 * Publish data[0..n) to subject and wait for the stream's ack.  msg_id
 * (may be NULL) becomes Nats-Msg-Id.  OUT: *duplicate (may be NULL) true
 * when the stream already had that id.  Returns SP_OK, SP_ECONN,
 * SP_ETIMEOUT, SP_ENOTFOUND (no stream for the subject).
 */
SP_API sp_err sp_bus_publish_raw(sp_bus *b, const char *subject, const void *data, size_t n,
                                 const char *msg_id, bool *duplicate, sp_diag *d);

/* One fetched raw message (opaque; owned by the caller until sp_bus_msg_free). */
typedef struct sp_bus_msg sp_bus_msg;

typedef struct sp_bus_sub sp_bus_sub;

/*
 * Open a pull subscription on stream `stream`, filter subject `filter`,
 * through durable consumer `durable` (created if missing; NULL = an
 * ephemeral consumer removed on close; an existing durable is bound to with
 * its own settings), explicit acks, ack wait ack_wait_ms, and max_deliver
 * (0 = unlimited).  OUT: *out.  Errors as
 * sp_bus_open.
 */
SP_API sp_err sp_bus_sub_open(sp_bus *b, const char *stream, const char *filter,
                              const char *durable, int64_t ack_wait_ms, int64_t max_deliver,
                              sp_bus_sub **out, sp_diag *d);

/* Unsubscribe and free; an ephemeral consumer is deleted; NULL is a no-op. */
SP_API void sp_bus_sub_close(sp_bus_sub *s);

/*
 * Fetch up to max messages, waiting up to timeout_ms.  msgs[0..*n) receive
 * messages the caller frees with sp_bus_msg_free (after ack or not).  A
 * timeout is SP_OK with *n = 0.  Returns SP_OK, SP_ECONN, SP_ENOMEM.
 */
SP_API sp_err sp_bus_sub_fetch(sp_bus_sub *s, size_t max, int64_t timeout_ms, sp_bus_msg **msgs,
                               size_t *n, sp_diag *d);

/* The message's subject and payload (borrowed; valid until sp_bus_msg_free). */
SP_API const char *sp_bus_msg_subject(const sp_bus_msg *m);
SP_API const void *sp_bus_msg_data(const sp_bus_msg *m, size_t *len);

/*
 * The value of header key of m (borrowed; valid until sp_bus_msg_free), or
 * NULL when absent (e.g. "Stampede-Error" on a dead-lettered message).
 */
SP_API const char *sp_bus_msg_header(const sp_bus_msg *m, const char *key);

/* How many times the server delivered this message (1 = first delivery). */
SP_API uint64_t sp_bus_msg_deliveries(const sp_bus_msg *m);

/* Acknowledge m and wait for the server's confirmation.  SP_OK, SP_ECONN, SP_ETIMEOUT. */
SP_API sp_err sp_bus_msg_ack(sp_bus_msg *m, sp_diag *d);

/* Tell the server m is still being worked on (restarts its ack wait). */
SP_API sp_err sp_bus_msg_progress(sp_bus_msg *m, sp_diag *d);

/* Free m (unacked messages are redelivered after the ack wait); NULL is a no-op. */
SP_API void sp_bus_msg_free(sp_bus_msg *m);

SP_END_DECLS

#endif /* STAMPEDE_BUS_H */
