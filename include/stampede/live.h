/*
 * live.h -- live WebSocket connectors, the recorder's engine, and a
 * loopback replay server that plays recorded captures with faults.
 *
 * Three parts, all on libwebsockets (lws):
 *
 *   - Configuration (sp_live_config): per venue, the WebSocket URL, the
 *     REST base used for depth snapshots, the per-connection stream limit,
 *     the application-level ping interval and the stream-name templates
 *     of each stream family (trades, depth, liquidations, ticker, mark,
 *     funding, kline).  Loaded from a JSON file (data/live/endpoints.json
 *     holds the real exchange URLs; tests point the URLs at 127.0.0.1).
 *
 *   - The connector (sp_live): one lws client context, one connection per
 *     venue endpoint and per max_streams streams (config), the
 *     venue's subscription message, its ping rule, reconnect with
 *     exponential backoff and jitter drawn from a seeded sp_rng.  Each
 *     frame goes to the existing one-message decoders of feed.h
 *     (sp_feed_binance_ws, sp_feed_bybit_v5, sp_feed_okx_v5), through a
 *     sp_feed_sync that detects sequence gaps, and the events to the
 *     caller's sp_feed_sink in batches.  A frame the decoder rejects is
 *     counted per reason (sp_err) and handed to sink->reject; the
 *     connection goes on.  A frame longer than max_frame is refused
 *     (counted, never decoded).  Every disconnect, reconnect and sequence
 *     gap is an SP_EV_GAP event in the stream (sub codes below), so
 *     analytics see the missing time.  A Binance depth gap triggers a
 *     REST snapshot (libcurl, from the configured rest URL) and the book
 *     is rebuilt by the same sync rules.  Optionally every frame and REST
 *     body is written to a raw capture that `stampede decode` reads back.
 *
 *   - The replay server (sp_replay_server): an lws server on 127.0.0.1
 *     that answers subscriptions and pings like the venue does and plays
 *     the shipped captures (cryptofeed Binance ws + REST, Bybit JSONL or
 *     .zst, OKX JSONL) at recorded timing / N or maximum speed, serves the
 *     Binance REST depth path and Bybit subscription snapshots from the
 *     book the market implies (docs/internals/live.md), and injects
 *     faults from a spec string (grammar below).
 *
 * Threading: an sp_live or sp_replay_server is driven by one thread (its
 * _run function); only the stop flag may be set from elsewhere (a signal
 * handler).  Scales: none of these structs carry money; events use the
 * scales of event.h.
 */
#ifndef STAMPEDE_LIVE_H
#define STAMPEDE_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/event.h"
#include "stampede/feed.h"
#include "stampede/rng.h"
#include "stampede/symtab.h"

SP_BEGIN_DECLS

/* ---- limits ---------------------------------------------------------------- */

/* Longest URL or stream template kept by the config (bytes, with the NUL). */
#ifndef SP_LIVE_URL_MAX
#define SP_LIVE_URL_MAX 256
#endif
#ifndef SP_LIVE_TEMPLATE_MAX
#define SP_LIVE_TEMPLATE_MAX 64
#endif
/* Most connections one sp_live opens. */
#ifndef SP_LIVE_CONN_MAX
#define SP_LIVE_CONN_MAX 64
#endif
/* Most symbols one sp_live subscribes. */
#ifndef SP_LIVE_SYMBOLS_MAX
#define SP_LIVE_SYMBOLS_MAX 256
#endif
/* Most faults in one spec. */
#ifndef SP_LIVE_FAULTS_MAX
#define SP_LIVE_FAULTS_MAX 32
#endif

/* ---- streams and GAP sub codes --------------------------------------------- */

/* Stream families a recorder selects (--streams).  Append only. */
#define SP_LIVE_STREAM_MAP(XX)          \
    XX(TRADES, 0, "trades")             \
    XX(DEPTH, 1, "depth")               \
    XX(LIQUIDATIONS, 2, "liquidations") \
    XX(TICKER, 3, "ticker")             \
    XX(MARK, 4, "mark")                 \
    XX(FUNDING, 5, "funding")           \
    XX(KLINE, 6, "kline")

typedef enum sp_live_stream {
#define SP_LIVE_STREAM_ENUM_(name, value, text) SP_LIVE_##name = value,
    SP_LIVE_STREAM_MAP(SP_LIVE_STREAM_ENUM_)
#undef SP_LIVE_STREAM_ENUM_
        SP_LIVE_STREAM_COUNT_
} sp_live_stream;

/* "trades", ...; NULL past the end. */
SP_API const char *sp_live_stream_name(unsigned s);

/* The stream family named s; -1 if none. */
SP_API int sp_live_stream_from_name(const char *s);

/*
 * sp_event.sub of the SP_EV_GAP events the connector emits (1 and 2 are
 * the sequence codes of sp_feed_sync, see feed.h):
 *   3 DISCONNECT  the connection closed or failed; aux0 the connection
 *                 index, aux1 frames received on it; exch_ts = local time
 *   4 RECONNECT   a connection was re-established; aux0 connection index,
 *                 aux1 the reconnect attempt (1-based), aux2 ms since the
 *                 disconnect (the missing time)
 *   5 RESYNC      a REST depth snapshot was applied after a gap; aux0 the
 *                 snapshot lastUpdateId
 * symbol_id is 0 for 3 and 4 (a connection carries several symbols).
 */
#define SP_LIVE_GAP_DISCONNECT 3
#define SP_LIVE_GAP_RECONNECT  4
#define SP_LIVE_GAP_RESYNC     5

/* ---- configuration --------------------------------------------------------- */

/*
 * One venue's endpoint.  Templates expand per symbol: "{sym}" lower-case
 * symbol (Binance), "{SYM}" upper-case (Bybit), "{inst}" the OKX swap
 * instrument id ("BTCUSDT" -> "BTC-USDT-SWAP").  OKX templates are
 * "channel:instId" or "channel:instType" (e.g. "trades:{inst}",
 * "liquidation-orders:SWAP").  An empty template = the venue has no such
 * stream (selecting it is skipped with a note in the stats).
 */
typedef struct sp_live_venue_cfg {
    sp_venue venue;                                           /* BINANCE_UM, BYBIT or OKX */
    char ws_url[SP_LIVE_URL_MAX];                             /* ws:// or wss:// URL */
    char rest_url[SP_LIVE_URL_MAX];                           /* REST base ("" = none) */
    unsigned max_streams;                                     /* streams per connection */
    unsigned ping_s;                                          /* app-level ping period, 0 none */
    char stream[SP_LIVE_STREAM_COUNT_][SP_LIVE_TEMPLATE_MAX]; /* templates */
} sp_live_venue_cfg;

/* The whole configuration.  Plain value; no heap. */
typedef struct sp_live_config {
    sp_live_venue_cfg venue[3]; /* one per configured venue */
    size_t nvenues;             /* entries used */
    size_t max_frame;           /* largest frame accepted, bytes (<= SP_MSG_MAX) */
    unsigned backoff_min_ms;    /* first reconnect delay */
    unsigned backoff_max_ms;    /* ceiling of the reconnect delay */
    unsigned stall_s;           /* no frame for this long = reconnect (0 = never) */
    unsigned depth_limit;       /* REST snapshot depth (Binance limit=) */
    uint64_t seed;              /* jitter RNG seed */
} sp_live_config;

/*
 * Parse a JSON configuration text[0..n) into *out (defaults for absent
 * keys: max_frame SP_MSG_MAX, backoff 200..30000 ms, stall 60 s,
 * depth_limit 1000, seed 1).  source names the text in d.  Errors:
 * SP_EPARSE (not JSON / wrong type: d->field names the key), SP_ERANGE
 * (a number out of its range), SP_ETOOBIG (a string past its limit),
 * SP_EUNKNOWN_KIND (unknown venue or stream family), SP_EINVAL (a URL
 * not ws:// or wss://), SP_ENOMEM.
 */
SP_API sp_err sp_live_config_parse(const char *text, size_t n, const char *source,
                                   sp_live_config *out, sp_diag *d);

/* As sp_live_config_parse for a file; SP_EIO when it cannot be read. */
SP_API sp_err sp_live_config_load(const char *path, sp_live_config *out, sp_diag *d);

/* The venue's entry in c, NULL when absent.  Borrowed from c. */
SP_API const sp_live_venue_cfg *sp_live_config_venue(const sp_live_config *c, sp_venue v);

/*
 * Expand template tmpl for symbol sym (upper-case exchange symbol) into
 * out[0..cap).  SP_ETOOBIG when it does not fit, SP_EINVAL for an unknown
 * placeholder or a symbol OKX cannot map (not ending in USDT/USDC/USD).
 */
SP_API sp_err sp_live_expand(const char *tmpl, const char *sym, char *out, size_t cap);

/*
 * The reconnect delay of attempt (1-based) in ms: base = min(max, min *
 * 2^(attempt-1)), delay = base/2 + uniform[0, base/2] drawn from r
 * ("equal jitter").  Deterministic for a seeded r.
 */
SP_API uint64_t sp_live_backoff_ms(const sp_live_config *c, unsigned attempt, sp_rng *r);

/* ---- the connector --------------------------------------------------------- */

/* What to subscribe: venues x symbols x stream families. */
typedef struct sp_live_opts {
    const sp_venue *venues;     /* borrowed, nvenues entries */
    size_t nvenues;             /* >= 1 */
    const char *const *symbols; /* borrowed exchange symbols ("BTCUSDT"), nsymbols entries */
    size_t nsymbols;            /* >= 1 */
    unsigned streams;           /* bit (1u << sp_live_stream) per family; 0 = all */
    const char *raw_dir;        /* write raw captures here (NULL = none); must exist */
    uint64_t max_messages;      /* stop after this many frames decoded (0 = no limit) */
} sp_live_opts;

/* Counters of a running connector. */
typedef struct sp_live_stats {
    uint64_t frames;                     /* data frames received (all connections) */
    uint64_t events;                     /* events passed to the sink */
    uint64_t rejected;                   /* frames the decoder rejected */
    uint64_t rejected_by[SP_ERR_COUNT_]; /* ... per sp_err reason */
    uint64_t oversize;                   /* frames refused for size */
    uint64_t gaps;                       /* sequence gaps (sp_feed_sync) */
    uint64_t resyncs;                    /* REST snapshots applied */
    uint64_t resync_failures;            /* REST fetches that failed */
    uint64_t disconnects;                /* connections lost */
    uint64_t reconnects;                 /* connections re-established */
    uint64_t opens;                      /* connections established (first ones and reconnects) */
    uint64_t connect_failures;           /* connection attempts that failed */
    uint64_t stalls;                     /* connections dropped for silence */
    uint64_t frames_by[SP_LIVE_STREAM_COUNT_]; /* frames per stream family (best effort) */
    int64_t first_frame_ns; /* monotonic time of the first data frame, 0 = none yet */
    int64_t last_frame_ns;  /* monotonic time of the latest data frame */
    size_t connections;     /* connections configured */
    size_t open;            /* connections open now */
} sp_live_stats;

typedef struct sp_live sp_live;

/*
 * Create a connector (no network yet).  cfg is copied; syms (borrowed,
 * must outlive the connector) receives the symbols; sink (copied; its ctx
 * borrowed) receives events in batches of at most SP_FEED_BATCH and one
 * reject per bad frame (why->source = "<venue>#<conn>", why->line = the
 * frame number on that connection).  OUT: *out.  Errors: SP_EINVAL
 * (nothing selected, a venue absent from cfg, too many symbols or
 * connections), SP_ETOOBIG (an expanded stream name too long), SP_EIO
 * (raw_dir files cannot be created), SP_ENOMEM.  d says which.
 */
SP_API sp_err sp_live_new(const sp_live_config *cfg, const sp_live_opts *opts, sp_symtab *syms,
                          const sp_feed_sink *sink, sp_live **out, sp_diag *d);

/*
 * Connect and run the event loop until *stop becomes non-zero (stop may
 * be NULL), until duration_ms passes (0 = no limit), or until
 * opts.max_messages frames were decoded.  Then close every connection,
 * flush the last batch to the sink and the raw files.  Returns SP_OK, or
 * the first non-OK value the sink returned (the run stops at once), or
 * SP_ENOMEM / SP_EIO.  Call at most once per connector.
 */
SP_API sp_err sp_live_run(sp_live *lv, volatile sig_atomic_t *stop, uint64_t duration_ms,
                          sp_diag *d);

/* The counters so far (safe to call from the sink callbacks). */
SP_API sp_live_stats sp_live_stats_get(const sp_live *lv);

/* Call fn(ctx, stats) about every period_ms during sp_live_run (status lines). */
SP_API void sp_live_set_status(sp_live *lv, unsigned period_ms,
                               void (*fn)(void *ctx, const sp_live_stats *st), void *ctx);

/* Free; NULL is a no-op. */
SP_API void sp_live_free(sp_live *lv);

/* ---- the replay server ----------------------------------------------------- */

/*
 * Faults -- the grammar of --faults:
 *   SPEC   := FAULT ("," FAULT)*
 *   FAULT  := KIND "@" N [":" ARG]
 *   drop@N            close the TCP connection after frame N (no close frame)
 *   malformed@N       send a broken copy of frame N (cut in half) instead
 *   gap@N[:K]         after frame N, do not send the next K (default 1) depth
 *                     messages that carry levels (the market still moves:
 *                     the REST snapshot includes them): a sequence gap
 *   stall@N:DUR       stop sending after frame N for DUR ("2s", "500ms")
 *   oversize@N[:B]    send one text frame of B bytes (default 2 MiB) of
 *                     valid-looking JSON padding before frame N
 *   burst@N:K         from frame N, send the next K frames back to back
 *                     ignoring --speed
 * N counts the data frames the server sent in this run, over all sessions
 * (subscription replies and the oversize frame excluded); each fault
 * fires once.
 */
typedef enum sp_fault_kind {
    SP_FAULT_DROP = 1,
    SP_FAULT_MALFORMED,
    SP_FAULT_GAP,
    SP_FAULT_STALL,
    SP_FAULT_OVERSIZE,
    SP_FAULT_BURST
} sp_fault_kind;

typedef struct sp_fault {
    sp_fault_kind kind; /* what */
    uint64_t at;        /* data frame number of the run, 1-based */
    uint64_t arg;       /* gap: frames; stall: ms; oversize: bytes; burst: frames */
} sp_fault;

/*
 * Parse spec (grammar above) into out[0..cap).  OUT: *n.  Errors:
 * SP_EPARSE (d->column 1-based position in spec), SP_ERANGE (a number out
 * of range), SP_ETOOBIG (more than cap faults).
 */
SP_API sp_err sp_fault_parse(const char *spec, sp_fault *out, size_t cap, size_t *n, sp_diag *d);

/* Options of the replay server. */
typedef struct sp_replay_opts {
    const char *const *captures; /* paths: binance ws/REST, bybit JSONL(.zst), okx JSONL */
    size_t ncaptures;            /* >= 1 */
    const char *host;            /* bind address; NULL = "127.0.0.1" */
    int port;                    /* 0 = any free port (see sp_replay_server_port) */
    unsigned speed_x;            /* 0 = max speed, else recorded timing divided by speed_x */
    const sp_fault *faults;      /* nfaults entries (copied) */
    size_t nfaults;              /* <= SP_LIVE_FAULTS_MAX */
} sp_replay_opts;

/* Counters of the replay server. */
typedef struct sp_replay_stats {
    uint64_t sessions;  /* WebSocket sessions accepted */
    uint64_t frames;    /* data frames sent */
    uint64_t faults;    /* faults fired */
    uint64_t rest;      /* REST requests answered */
    uint64_t subscribe; /* subscription requests answered */
} sp_replay_stats;

typedef struct sp_replay_server sp_replay_server;

/*
 * Load the captures (every frame kept in memory) and start listening.  o
 * is read during the call only.  OUT: *out, freed with
 * sp_replay_server_free.  Errors: SP_EINVAL (no capture), SP_ETOOBIG
 * (too many faults), SP_EIO (a capture unreadable), SP_EPARSE (a capture
 * of no known kind), SP_ECONN (cannot bind), SP_ENOMEM.
 */
SP_API sp_err sp_replay_server_new(const sp_replay_opts *o, sp_replay_server **out, sp_diag *d);

/* The port listened on (the kernel's choice when opts.port was 0). */
SP_API int sp_replay_server_port(const sp_replay_server *s);

/* Serve until *stop becomes non-zero (checked every 50 ms); SP_OK. */
SP_API sp_err sp_replay_server_run(sp_replay_server *s, volatile sig_atomic_t *stop);

/* The counters so far. */
SP_API sp_replay_stats sp_replay_server_stats(const sp_replay_server *s);

/* Free; NULL is a no-op. */
SP_API void sp_replay_server_free(sp_replay_server *s);

SP_END_DECLS

#endif /* STAMPEDE_LIVE_H */
