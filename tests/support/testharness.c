/*
 * testharness.c -- the replay server in a thread and the store-appending
 * feed sink declared in testharness.h; no cmocka here, so the benchmarks
 * can compile this file too.
 */
#include "testharness.h"

#include <string.h>

sp_replay_opts sp_test_replay_opts(const char *const *caps, size_t n)
{
    sp_replay_opts o;
    memset(&o, 0, sizeof(o));
    o.captures = caps;
    o.ncaptures = n;
    return o;
}

sp_live_opts sp_test_live_opts(const sp_venue *v, size_t nv, const char *const *s, size_t ns)
{
    sp_live_opts o;
    memset(&o, 0, sizeof(o));
    o.venues = v;
    o.nvenues = nv;
    o.symbols = s;
    o.nsymbols = ns;
    return o;
}

static void *replay_main(void *p)
{
    sp_test_replay *x = p;
    sp_replay_server_run(x->s, &x->stop);
    return NULL;
}

sp_err sp_test_replay_start(sp_test_replay *x, const sp_replay_opts *o, sp_diag *d)
{
    memset(x, 0, sizeof(*x));
    sp_err rc = sp_replay_server_new(o, &x->s, d);
    if (rc != SP_OK)
        return rc;
    if (pthread_create(&x->th, NULL, replay_main, x) != 0) {
        sp_replay_server_free(x->s);
        x->s = NULL;
        return SP_EIO;
    }
    return SP_OK;
}

sp_replay_stats sp_test_replay_stop(sp_test_replay *x)
{
    x->stop = 1;
    pthread_join(x->th, NULL);
    sp_replay_stats st = sp_replay_server_stats(x->s);
    sp_replay_server_free(x->s);
    x->s = NULL;
    return st;
}

sp_err sp_test_sink_events(void *ctx, const sp_event *ev, size_t n)
{
    sp_test_sink *k = ctx;
    uint64_t ins = 0;
    sp_err rc = sp_store_append(k->st, ev, n, k->syms, &ins, NULL);
    k->inserted += ins;
    return rc;
}

void sp_test_sink_reject(void *ctx, const sp_diag *why)
{
    sp_test_sink *k = ctx;
    (void)why;
    k->rejects++;
}
