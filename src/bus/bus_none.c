/*
 * bus_none.c -- the bus API in a build without NATS (STAMPEDE_WITH_NATS
 * off): every transport call answers SP_EUNSUPPORTED with a diagnostic
 * that says how to enable it, so callers (the CLI, `stampede record
 * --nats`) link and fail clearly instead of at build time.  The wire
 * codec (wire.c) is real in every build.
 */
#include "bus_int.h"

static sp_err unsupported(sp_diag *d)
{
    return sp_diag_set(d, SP_EUNSUPPORTED,
                       "built without NATS: configure with -DSTAMPEDE_WITH_NATS=ON (libnats-dev)");
}

/* The defaults of bus.h, identical in both builds. */
sp_bus_opts sp_bus_opts_default(void)
{
    sp_bus_opts o = SP__BUS_OPTS_DEFAULT;
    return o;
}

bool sp_bus_is_available(void)
{
    return false;
}

sp_err sp_bus_open(const char *url, const sp_bus_opts *o, sp_bus **out, sp_diag *d)
{
    (void)url;
    (void)o;
    if (out)
        *out = NULL;
    return unsupported(d);
}

void sp_bus_close(sp_bus *b)
{
    (void)b;
}

sp_err sp_bus_publish(sp_bus *b, const sp_event *ev, size_t n, const sp_symtab *syms, sp_diag *d)
{
    (void)b;
    (void)ev;
    (void)n;
    (void)syms;
    return unsupported(d);
}

sp_err sp_bus_flush(sp_bus *b, sp_bus_pub_stats *st, sp_diag *d)
{
    (void)b;
    (void)st;
    return unsupported(d);
}

sp_err sp_bus_consumer_open(sp_bus *b, const char *durable, const char *filter, int64_t ack_wait_ms,
                            sp_bus_consumer **out, sp_diag *d)
{
    (void)b;
    (void)durable;
    (void)filter;
    (void)ack_wait_ms;
    if (out)
        *out = NULL;
    return unsupported(d);
}

void sp_bus_consumer_close(sp_bus_consumer *c)
{
    (void)c;
}

const sp_symtab *sp_bus_consumer_symtab(const sp_bus_consumer *c)
{
    (void)c;
    return NULL;
}

sp_err sp_bus_fetch(sp_bus_consumer *c, size_t max_msgs, int64_t timeout_ms, sp_bus_fetched *out,
                    sp_diag *d)
{
    (void)c;
    (void)max_msgs;
    (void)timeout_ms;
    (void)out;
    return unsupported(d);
}

sp_err sp_bus_ack(sp_bus_consumer *c, sp_diag *d)
{
    (void)c;
    return unsupported(d);
}

uint64_t sp_bus_consumer_dead(const sp_bus_consumer *c)
{
    (void)c;
    return 0;
}

sp_err sp_bus_stream_ensure(sp_bus *b, const sp_bus_stream_cfg *s, sp_diag *d)
{
    (void)b;
    (void)s;
    return unsupported(d);
}

sp_err sp_bus_publish_raw(sp_bus *b, const char *subject, const void *data, size_t n,
                          const char *msg_id, bool *duplicate, sp_diag *d)
{
    (void)b;
    (void)subject;
    (void)data;
    (void)n;
    (void)msg_id;
    (void)duplicate;
    return unsupported(d);
}

sp_err sp_bus_sub_open(sp_bus *b, const char *stream, const char *filter, const char *durable,
                       int64_t ack_wait_ms, int64_t max_deliver, sp_bus_sub **out, sp_diag *d)
{
    (void)b;
    (void)stream;
    (void)filter;
    (void)durable;
    (void)ack_wait_ms;
    (void)max_deliver;
    if (out)
        *out = NULL;
    return unsupported(d);
}

void sp_bus_sub_close(sp_bus_sub *s)
{
    (void)s;
}

sp_err sp_bus_sub_fetch(sp_bus_sub *s, size_t max, int64_t timeout_ms, sp_bus_msg **msgs, size_t *n,
                        sp_diag *d)
{
    (void)s;
    (void)max;
    (void)timeout_ms;
    (void)msgs;
    if (n)
        *n = 0;
    return unsupported(d);
}

const char *sp_bus_msg_subject(const sp_bus_msg *m)
{
    (void)m;
    return "";
}

const void *sp_bus_msg_data(const sp_bus_msg *m, size_t *len)
{
    (void)m;
    if (len)
        *len = 0;
    return NULL;
}

const char *sp_bus_msg_header(const sp_bus_msg *m, const char *key)
{
    (void)m;
    (void)key;
    return NULL;
}

uint64_t sp_bus_msg_deliveries(const sp_bus_msg *m)
{
    (void)m;
    return 0;
}

sp_err sp_bus_msg_ack(sp_bus_msg *m, sp_diag *d)
{
    (void)m;
    return unsupported(d);
}

sp_err sp_bus_msg_progress(sp_bus_msg *m, sp_diag *d)
{
    (void)m;
    return unsupported(d);
}

void sp_bus_msg_free(sp_bus_msg *m)
{
    (void)m;
}
