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

#endif /* STAMPEDE_BUS_INT_H */
