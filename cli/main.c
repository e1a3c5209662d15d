/*
 * main.c -- `stampede`, the command: dispatch to a verb.
 *
 * Argument parsing and printing live in cli/; every verb calls the
 * library for the work itself.  The verb list is cli/verbs.def.
 */
#include <string.h>

#include "cli.h"

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
#define SP_VERB(name, fn, summary) {#name, fn, summary},
#include "verbs.def"
#undef SP_VERB
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stampede <verb> [options]   (stampede <verb> --help for a verb's options)\n\n"
            "stampede measures and explains crypto leverage liquidation cascades, exactly.\n\n"
            "verbs:\n");
    for (size_t i = 0; i < SP_COUNTOF(verbs); i++)
        fprintf(f, "  %-14s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\nexit codes: 0 success, 1 some input rejected (the rest done), 2 usage or "
               "unusable input\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *v = argv[1];
    if (strcmp(v, "--help") == 0 || strcmp(v, "-h") == 0 || strcmp(v, "help") == 0) {
        if (strcmp(v, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < SP_COUNTOF(verbs); i++) {
                if (strcmp(verbs[i].name, argv[2]) == 0) {
                    char *hargv[] = {argv[2], "--help", NULL};
                    return verbs[i].run(2, hargv);
                }
            }
            fprintf(stderr, "stampede: unknown verb '%s' (see stampede --help)\n", argv[2]);
            return CLI_EXIT_USAGE;
        }
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(v, "--version") == 0) {
        char *vargv[] = {"version", NULL};
        return cmd_version(1, vargv);
    }
    for (size_t i = 0; i < SP_COUNTOF(verbs); i++) {
        if (strcmp(verbs[i].name, v) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "stampede: unknown verb '%s' (see stampede --help)\n", v);
    return CLI_EXIT_USAGE;
}
