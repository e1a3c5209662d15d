/*
 * testalloc.h -- fault-injecting allocator for tests.
 *
 * sp_testalloc_install(n) makes the n-th allocation from now fail (n = 0:
 * never fail) and counts live blocks, so a test can assert that a failed
 * constructor leaked nothing.  sp_test_enomem_loop() runs a scenario with
 * allocation 1, 2, 3, ... failing until it succeeds: every failing run
 * must return SP_ENOMEM and leave no live block (curl's torture test,
 * sqlite's malloc fault simulation).
 */
#ifndef SP_TESTALLOC_H
#define SP_TESTALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "stampede/error.h"

/* Install the counting allocator; the fail_at-th allocation fails (0 = none). */
void sp_testalloc_install(uint64_t fail_at);

/* Restore libc allocation. */
void sp_testalloc_uninstall(void);

/* Blocks allocated and not yet freed since install. */
int64_t sp_testalloc_live(void);

/* Allocation calls (malloc + realloc) since install. */
uint64_t sp_testalloc_calls(void);

/* True once the planned failure has happened. */
int sp_testalloc_failed(void);

/*
 * Run fn(ctx) with allocation k failing, for k = 1, 2, ... until fn returns
 * SP_OK (at most max_steps).  fn must release everything it made, on
 * success and on failure.  Fails the cmocka test if a step returns anything
 * but SP_ENOMEM, or leaks.  Returns the number of steps taken.
 */
uint64_t sp_test_enomem_loop(sp_err (*fn)(void *ctx), void *ctx, uint64_t max_steps);

/* The path of a file under the source tree (SP_SOURCE_DIR/rel) in a static buffer. */
const char *sp_test_path(const char *rel);

/*
 * The whole file SP_SOURCE_DIR/rel in a malloc'd buffer (the caller frees),
 * NUL-terminated; *n = its length.  Fails the cmocka test when it cannot be read.
 */
char *sp_test_slurp(const char *rel, size_t *n);

#endif
