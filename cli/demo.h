/*
 * demo.h -- the steps of `stampede demo` (cli/demo_steps.def).
 */
#ifndef STAMPEDE_CLI_DEMO_H
#define STAMPEDE_CLI_DEMO_H

#include <stdbool.h>

#include "cli.h"

typedef struct demo_ctx {
    const char *store_uri; /* where the demo keeps its data (SQLite by default) */
    const char *data_dir;  /* the repo's shipped data/ directory */
    bool json;             /* machine-readable output */
} demo_ctx;

#define SP_DEMO_STEP(fn, title) int fn(const demo_ctx *ctx);
#include "demo_steps.def"
#undef SP_DEMO_STEP

#endif
