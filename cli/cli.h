/*
 * cli.h -- shared pieces of the `stampede` command: the verb table, a small
 * option parser with generated --help, and output helpers.
 *
 * Exit codes of every verb: 0 success, 1 partial failure (some records or
 * rows rejected, the rest done), 2 usage error or unusable input.
 */
#ifndef STAMPEDE_CLI_H
#define STAMPEDE_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stampede/stampede.h"

#define CLI_EXIT_OK      0
#define CLI_EXIT_PARTIAL 1
#define CLI_EXIT_USAGE   2

#define SP_VERB(name, fn, summary) int fn(int argc, char **argv);
#include "verbs.def"
#undef SP_VERB

/* One option of a verb.  Long form only ("--entry 62500" or "--entry=62500"). */
typedef struct cli_opt {
    const char *name;     /* without the leading "--" */
    const char *arg_name; /* NULL for a flag without a value */
    const char *help;     /* one line */
} cli_opt;

/* A verb's option table and usage, for parsing and --help. */
typedef struct cli_spec {
    const char *verb;        /* "liq" */
    const char *usage;       /* text after "stampede <verb> " in the usage line */
    const char *description; /* paragraph printed by --help */
    const cli_opt *opts;     /* terminated by an entry with name == NULL */
    int min_pos;             /* positional arguments required */
    int max_pos;             /* positional arguments allowed (-1 = any) */
} cli_spec;

#define CLI_MAX_OPTS 64
#define CLI_MAX_POS  256

/* The parsed command line of one verb. */
typedef struct cli_args {
    const cli_spec *spec;
    const char *val[CLI_MAX_OPTS]; /* value of option i (flags: "1"), NULL if absent */
    const char *pos[CLI_MAX_POS];  /* positional arguments */
    int npos;
} cli_args;

/*
 * Parse argv (argv[0] = the verb) against spec.  Returns -1 when parsing
 * succeeded, otherwise the exit code the verb should return at once: 0
 * after printing --help, 2 after printing a usage error to stderr.
 */
int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out);

/* Value of option `name`, NULL if absent.  name must be in the spec. */
const char *cli_get(const cli_args *a, const char *name);

/* True if the flag or option `name` was given. */
bool cli_has(const cli_args *a, const char *name);

/*
 * Parse option `name` as a decimal at `scale` (exact, see sp_dec_parse).
 * Absent: *out = dflt and true.  Bad: prints "stampede VERB: --name: why"
 * to stderr and returns false (the verb should exit 2).
 */
bool cli_get_dec(const cli_args *a, const char *name, unsigned scale, int64_t dflt, int64_t *out);

/* Parse option `name` as an integer in [min, max], as cli_get_dec. */
bool cli_get_int(const cli_args *a, const char *name, int64_t min, int64_t max, int64_t dflt,
                 int64_t *out);

/* Print "stampede VERB: message" to stderr (printf-style). */
void cli_error(const char *verb, const char *fmt, ...) SP_PRINTF(2, 3);

/* Print the fixed-point value v at scale with group separators ("62,500.00") to f. */
void cli_print_money(FILE *f, int64_t v, unsigned scale, unsigned places);

/* Write s as a JSON string literal (quotes and escapes) to f. */
void cli_json_str(FILE *f, const char *s);

/*
 * Make SIGINT and SIGTERM set the returned flag (it stays 1 once set) so a
 * long-running verb stops cleanly; with ignore_pipe also ignore SIGPIPE (a
 * peer that closed its socket is then an error return, not a kill).  One
 * flag for the whole process.
 */
volatile sig_atomic_t *cli_stop_on_signals(bool ignore_pipe);

#endif
