/*
 * testharness.h -- test plumbing without cmocka, shared by the unit tests
 * and the benchmarks (bench/bench_live.cmake compiles testharness.c in):
 *
 *   sp_test_replay_opts, sp_test_live_opts
 *                   options for the replay server and the live connector;
 *   sp_test_replay  a replay server (sp_replay_server) whose loop runs in a
 *                   thread of the calling process, on a loopback port;
 *   sp_test_sink    an sp_feed_sink target that appends every batch to a
 *                   store, counting the inserted rows and rejected records.
 */
#ifndef SP_TESTHARNESS_H
#define SP_TESTHARNESS_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "stampede/stampede.h"

/* Replay server options: captures caps[0..n) (borrowed), max speed, no fault. */
sp_replay_opts sp_test_replay_opts(const char *const *caps, size_t n);

/* Connector options: venues v[0..nv), symbols s[0..ns) (borrowed), every stream, no limit. */
sp_live_opts sp_test_live_opts(const sp_venue *v, size_t nv, const char *const *s, size_t ns);

typedef struct sp_test_replay {
    sp_replay_server *s; /* owned; NULL when not started */
    volatile sig_atomic_t stop;
    pthread_t th;
} sp_test_replay;

/*
 * Make the server from o (borrowed for the call, as sp_replay_server_new)
 * and run its loop in a new thread.  SP_OK, the error of
 * sp_replay_server_new (d filled), or SP_EIO when no thread can be made.
 * The port: sp_replay_server_port(x->s).
 */
sp_err sp_test_replay_start(sp_test_replay *x, const sp_replay_opts *o, sp_diag *d);

/* Stop the loop, join the thread, free the server; returns its final counters. */
sp_replay_stats sp_test_replay_stop(sp_test_replay *x);

/* Appends to st (borrowed) with symbols from syms (borrowed). */
typedef struct sp_test_sink {
    sp_store *st;
    sp_symtab *syms;
    uint64_t inserted; /* rows new to the store */
    uint64_t rejects;  /* records the decoder rejected */
} sp_test_sink;

/* sp_feed_sink.on_events: sp_store_append of the batch; its error is returned. */
sp_err sp_test_sink_events(void *ctx, const sp_event *ev, size_t n);

/* sp_feed_sink.on_reject: counts the record. */
void sp_test_sink_reject(void *ctx, const sp_diag *why);

#endif
