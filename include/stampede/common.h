/*
 * common.h -- macros shared by every public stampede header.
 *
 * SP_API marks the symbols of the public interface (default visibility, so
 * a shared build can hide the rest).  SP_BEGIN_DECLS / SP_END_DECLS wrap
 * every header for C++ callers.  SP_ALWAYS / SP_NEVER are the defensive
 * "this cannot happen" checks: they assert in debug builds and evaluate to
 * the plain condition in release builds, so the caller still degrades
 * gracefully (the sqlite ALWAYS/NEVER idiom).  They are for programmer
 * errors only, never for input.
 */
#ifndef STAMPEDE_COMMON_H
#define STAMPEDE_COMMON_H

#include <assert.h>

#if defined(__GNUC__) || defined(__clang__)
#define SP_API               __attribute__((visibility("default")))
#define SP_LIKELY(x)         __builtin_expect(!!(x), 1)
#define SP_UNLIKELY(x)       __builtin_expect(!!(x), 0)
#define SP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define SP_NODISCARD         __attribute__((warn_unused_result))
#else
#define SP_API
#define SP_LIKELY(x)   (x)
#define SP_UNLIKELY(x) (x)
#define SP_PRINTF(fmt, args)
#define SP_NODISCARD
#endif

#ifdef __cplusplus
#define SP_BEGIN_DECLS extern "C" {
#define SP_END_DECLS   }
#else
#define SP_BEGIN_DECLS
#define SP_END_DECLS
#endif

#ifdef NDEBUG
#define SP_ALWAYS(x) (x)
#define SP_NEVER(x)  (x)
#else
#define SP_ALWAYS(x) ((x) ? 1 : (assert(0 && "SP_ALWAYS(" #x ")"), 0))
#define SP_NEVER(x)  ((x) ? (assert(0 && "SP_NEVER(" #x ")"), 1) : 0)
#endif

/* Number of elements of a true array (not a pointer). */
#define SP_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif /* STAMPEDE_COMMON_H */
