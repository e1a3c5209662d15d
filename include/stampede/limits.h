/*
 * limits.h -- the numeric limits of core (decimal text, scales, messages,
 * buffers, symbols, arguments).
 *
 * Each module keeps its own limits in a "limits" block at the top of its
 * public header (SP_BOOK_*, SP_ENGINE_*, SP_SIM_*, SP_RULES_*, ...), beside
 * the API they bound; every one, here or there, is an #ifndef default that
 * can be overridden at build time with -DNAME=value.  Pools are sized and
 * input is rejected from these; nothing hard-codes a bound.
 */
#ifndef STAMPEDE_LIMITS_H
#define STAMPEDE_LIMITS_H

/* Largest decimal text accepted by sp_dec_parse, in bytes. */
#ifndef SP_DEC_TEXT_MAX
#define SP_DEC_TEXT_MAX 64
#endif

/* Largest decimal scale (digits after the point) a fixed-point value may have. */
#ifndef SP_SCALE_MAX
#define SP_SCALE_MAX 18
#endif

/* Largest single message or line a decoder accepts (bytes). */
#ifndef SP_MSG_MAX
#define SP_MSG_MAX (1u << 20)
#endif

/* Default ceiling of an sp_buf whose owner gives none (bytes). */
#ifndef SP_BUF_DEFAULT_MAX
#define SP_BUF_DEFAULT_MAX (64u << 20)
#endif

/* Largest symbol name, bytes, without the terminating NUL. */
#ifndef SP_SYMBOL_MAX
#define SP_SYMBOL_MAX 31
#endif

/* Most symbols one symbol table interns. */
#ifndef SP_SYMTAB_MAX
#define SP_SYMTAB_MAX 65536
#endif

/* Largest command-line argument a verb accepts (bytes). */
#ifndef SP_ARG_MAX
#define SP_ARG_MAX 4096
#endif

#endif /* STAMPEDE_LIMITS_H */
