/*
 * args.c -- the option parser and output helpers shared by every verb.
 *
 * Long options only, "--name value" or "--name=value", flags without a
 * value, "--" ends options.  Anything unknown is a usage error naming the
 * offending word, with exit code 2.  --help is generated from the spec,
 * so every verb documents every option it takes.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

static int find_opt(const cli_spec *spec, const char *name, size_t n)
{
    for (int i = 0; spec->opts && spec->opts[i].name; i++) {
        if (strlen(spec->opts[i].name) == n && strncmp(spec->opts[i].name, name, n) == 0)
            return i;
    }
    return -1;
}

static void print_help(const cli_spec *spec)
{
    printf("usage: stampede %s %s\n\n", spec->verb, spec->usage ? spec->usage : "[options]");
    if (spec->description)
        printf("%s\n\n", spec->description);
    printf("options:\n");
    for (int i = 0; spec->opts && spec->opts[i].name; i++) {
        const cli_opt *o = &spec->opts[i];
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg_name ? " " : "",
                 o->arg_name ? o->arg_name : "");
        printf("  %-28s %s\n", left, o->help);
    }
    printf("  %-28s %s\n", "--help", "show this help and exit");
}

void cli_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "stampede %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_parse(const cli_spec *spec, int argc, char **argv, cli_args *out)
{
    memset(out, 0, sizeof(*out));
    out->spec = spec;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        if (strlen(argv[i]) > SP_ARG_MAX) {
            cli_error(spec->verb, "argument %d is longer than %d bytes", i, SP_ARG_MAX);
            return CLI_EXIT_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (only_pos || w[0] != '-' || w[1] == '\0') {
            if (out->npos >= CLI_MAX_POS) {
                cli_error(spec->verb, "too many arguments (at most %d)", CLI_MAX_POS);
                return CLI_EXIT_USAGE;
            }
            out->pos[out->npos++] = w;
            continue;
        }
        if (strcmp(w, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
            print_help(spec);
            return CLI_EXIT_OK;
        }
        if (w[1] != '-') {
            cli_error(spec->verb, "unknown option '%s' (options are long: --name; see --help)", w);
            return CLI_EXIT_USAGE;
        }
        const char *name = w + 2;
        const char *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        int k = find_opt(spec, name, n);
        if (k < 0) {
            cli_error(spec->verb, "unknown option '--%.*s' (see stampede %s --help)", (int)n, name,
                      spec->verb);
            return CLI_EXIT_USAGE;
        }
        if (out->val[k] != NULL) {
            cli_error(spec->verb, "option '--%s' given twice", spec->opts[k].name);
            return CLI_EXIT_USAGE;
        }
        if (spec->opts[k].arg_name == NULL) {
            if (eq) {
                cli_error(spec->verb, "option '--%s' takes no value", spec->opts[k].name);
                return CLI_EXIT_USAGE;
            }
            out->val[k] = "1";
        } else if (eq) {
            out->val[k] = eq + 1;
        } else if (i + 1 < argc) {
            out->val[k] = argv[++i];
        } else {
            cli_error(spec->verb, "option '--%s' needs a value (%s)", spec->opts[k].name,
                      spec->opts[k].arg_name);
            return CLI_EXIT_USAGE;
        }
    }
    if (out->npos < spec->min_pos) {
        cli_error(spec->verb, "missing argument (usage: stampede %s %s)", spec->verb,
                  spec->usage ? spec->usage : "");
        return CLI_EXIT_USAGE;
    }
    if (spec->max_pos >= 0 && out->npos > spec->max_pos) {
        cli_error(spec->verb, "unexpected argument '%s'", out->pos[spec->max_pos]);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

const char *cli_get(const cli_args *a, const char *name)
{
    int k = find_opt(a->spec, name, strlen(name));
    return SP_ALWAYS(k >= 0) ? a->val[k] : NULL;
}

bool cli_has(const cli_args *a, const char *name)
{
    return cli_get(a, name) != NULL;
}

bool cli_get_dec(const cli_args *a, const char *name, unsigned scale, int64_t dflt, int64_t *out)
{
    const char *v = cli_get(a, name);
    if (v == NULL) {
        *out = dflt;
        return true;
    }
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_dec_parse(v, strlen(v), scale, out, &d) != SP_OK) {
        cli_error(a->spec->verb, "--%s '%s': %s", name, v, d.msg);
        return false;
    }
    return true;
}

bool cli_get_int(const cli_args *a, const char *name, int64_t min, int64_t max, int64_t dflt,
                 int64_t *out)
{
    const char *v = cli_get(a, name);
    if (v == NULL) {
        *out = dflt;
        return true;
    }
    int64_t x;
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_dec_parse(v, strlen(v), 0, &x, &d) != SP_OK) {
        cli_error(a->spec->verb, "--%s '%s': not an integer: %s", name, v, d.msg);
        return false;
    }
    if (x < min || x > max) {
        cli_error(a->spec->verb, "--%s %lld: must be between %lld and %lld", name, (long long)x,
                  (long long)min, (long long)max);
        return false;
    }
    *out = x;
    return true;
}

void cli_print_money(FILE *f, int64_t v, unsigned scale, unsigned places)
{
    /* Round to `places` half-up (display only), then group the integer part. */
    int64_t r = v;
    if (places < scale && sp_rescale(v, scale, places, SP_RND_HALF_UP, &r) == SP_OK)
        scale = places;
    char txt[SP_DEC_FMT_MAX];
    sp_dec_format(r, scale, 0, txt, sizeof(txt));
    const char *p = txt;
    if (*p == '-') {
        fputc('-', f);
        p++;
    }
    const char *dot = strchr(p, '.');
    size_t int_len = dot ? (size_t)(dot - p) : strlen(p);
    for (size_t i = 0; i < int_len; i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            fputc(',', f);
        fputc(p[i], f);
    }
    if (dot)
        fputs(dot, f);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static volatile sig_atomic_t g_cli_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    g_cli_stop = 1;
}

volatile sig_atomic_t *cli_stop_on_signals(bool ignore_pipe)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (ignore_pipe)
        signal(SIGPIPE, SIG_IGN);
    return &g_cli_stop;
}
