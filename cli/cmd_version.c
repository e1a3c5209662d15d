/* cmd_version.c -- `stampede version`: version and build configuration. */
#include "cli.h"

static const cli_opt opts[] = {
    {"json", NULL, "print as JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "version", "[--json]", "Print the version of stampede and the optional parts built in.",
    opts,      0,          0,
};

#ifdef STAMPEDE_HAVE_PG
#define HAVE_PG "true"
#else
#define HAVE_PG "false"
#endif
#ifdef STAMPEDE_HAVE_NATS
#define HAVE_NATS "true"
#else
#define HAVE_NATS "false"
#endif

int cmd_version(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (cli_has(&a, "json")) {
        printf("{\"version\":\"%s\",\"postgres\":%s,\"nats\":%s}\n", sp_version(), HAVE_PG,
               HAVE_NATS);
    } else {
        printf("stampede %s (postgres: %s, nats: %s)\n", sp_version(),
               HAVE_PG[0] == 't' ? "yes" : "no", HAVE_NATS[0] == 't' ? "yes" : "no");
    }
    return CLI_EXIT_OK;
}
