/*
 * clock.h -- time helpers.
 *
 * sp_clock_mono_ns() reads CLOCK_MONOTONIC through the vDSO (about 25 ns
 * on the project's machines).  Never call clock() or time() in hot code:
 * clock() is a real syscall under KVM here, 659 ns per call
 * (specs/perf-anchors.md §0, §1.4).  sp_clock_real_ns() is wall-clock
 * UTC for local receive timestamps.
 */
#ifndef STAMPEDE_CLOCK_H
#define STAMPEDE_CLOCK_H

#include <stdint.h>

#include "stampede/common.h"
#include "stampede/error.h"

SP_BEGIN_DECLS

/* Monotonic nanoseconds since an arbitrary point; for durations only. */
SP_API int64_t sp_clock_mono_ns(void);

/* Wall-clock nanoseconds since the Unix epoch, UTC. */
SP_API int64_t sp_clock_real_ns(void);

/*
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-d (no time zone,
 * UTC).  Returns SP_EINVAL for an impossible date.  OUT: *days.
 */
SP_API sp_err sp_date_to_days(int y, int m, int d, int64_t *days);

/* The inverse of sp_date_to_days. */
SP_API void sp_days_to_date(int64_t days, int *y, int *m, int *d);

/*
 * Parse "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff...][Z]" (also with a space
 * instead of T) as UTC.  OUT: *ns since the epoch.  SP_EPARSE on bad text,
 * SP_ERANGE past what int64 nanoseconds hold (1677-09-21 .. 2262-04-11).
 */
SP_API sp_err sp_time_parse_iso(const char *s, size_t n, int64_t *ns);

/*
 * Format ns as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into out (cap >= 25).
 * Returns out.
 */
SP_API char *sp_time_format_iso(int64_t ns, char *out, size_t cap);

SP_END_DECLS

#endif /* STAMPEDE_CLOCK_H */
