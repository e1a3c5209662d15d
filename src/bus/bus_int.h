/*
 * bus_int.h -- private declarations of the bus module (src/bus/).
 *
 * wire.c (always built) is the codec; bus_nats.c (STAMPEDE_HAVE_NATS) the
 * JetStream transport; bus_none.c stands in for it in builds without
 * NATS so the CLI links and answers SP_EUNSUPPORTED.
 */
#ifndef STAMPEDE_BUS_INT_H
#define STAMPEDE_BUS_INT_H

#include "stampede/alloc.h"
#include "stampede/bus.h"

/* Default server when the caller gives no URL. */
#define SP__BUS_DEFAULT_URL "nats://127.0.0.1:4222"

/*
 * The defaults of sp_bus_opts (bus.h), one list for both builds.  60
 * republish attempts back off 50 ms doubling to 1 s: about a minute, long
 * enough to ride out a stream leader election on a loaded cluster (20, about
 * 16 s, was once too few in CI).
 */
#define SP__BUS_OPTS_DEFAULT                        \
    {                                               \
        1, 0, 0, 120000, 1024, 256, 10000, 60, true \
    }

#endif /* STAMPEDE_BUS_INT_H */
