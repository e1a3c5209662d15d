/*
 * stampede.h -- the whole public API of libstampede.
 *
 * Include this, or the one module header you need.  Version numbers
 * follow semantic versioning; SP_VERSION_NUM is 0xMMmmpp.
 */
#ifndef STAMPEDE_H
#define STAMPEDE_H

#include "stampede/common.h"
#include "stampede/error.h"
#include "stampede/limits.h"
#include "stampede/alloc.h"
#include "stampede/arena.h"
#include "stampede/buf.h"
#include "stampede/clock.h"
#include "stampede/fixed.h"
#include "stampede/rng.h"
#include "stampede/hash.h"
#include "stampede/bytes.h"
#include "stampede/event.h"
#include "stampede/symtab.h"
#include "stampede/book.h"
#include "stampede/rules.h"
#include "stampede/engine.h"
#include "stampede/feed.h"
#include "stampede/store.h"
#include "stampede/analytics.h"
#include "stampede/sim.h"
#include "stampede/bus.h"
#include "stampede/api.h"
#include "stampede/live.h"

#define SP_VERSION_MAJOR  0
#define SP_VERSION_MINOR  1
#define SP_VERSION_PATCH  0
#define SP_VERSION_STRING "0.1.0"
#define SP_VERSION_NUM    0x000100

SP_BEGIN_DECLS

/* The library's version string (may differ from the header's in a shared build). */
SP_API const char *sp_version(void);

SP_END_DECLS

#endif /* STAMPEDE_H */
