/*
 * cmd_liq.c -- `stampede liq`: liquidation and bankruptcy prices, exactly.
 *
 * Three forms, all calling the rules module (src/rules, sp_rules_liq):
 *   - one position from flags, printed as a small report or --json;
 *   - --batch FILE.csv: every row priced, rows echoed with liq_price and
 *     bankruptcy_price appended (venue rounding; --exact adds the exact
 *     values), a bad row gets an `error` naming the field and why while
 *     the good rows are still computed (exit 1 if any row failed);
 *   - --article: the table of docs/specs/exchange-rules.md §6 (1,000 USDT
 *     long BTC at 62,500, 10x..100x, on each venue), also a demo step.
 * Every number is parsed into fixed point at scale 8 and printed exactly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "stampede/rules.h"

#define SC SP_RULES_SCALE

static const cli_opt opts[] = {
    {"venue", "NAME", "binance | bybit | okx | bitmex"},
    {"symbol", "SYM", "instrument symbol (BTCUSDT, BTC-USDT-SWAP, BTCUSD, XBTUSD, ...)"},
    {"mode", "MODE", "isolated | cross | hedge (default isolated)"},
    {"side", "SIDE", "long | short (hedge: the first leg)"},
    {"entry", "PX", "average entry price"},
    {"qty", "Q", "size: base units, or contracts where the venue counts contracts"},
    {"margin", "M", "isolated margin, or cross wallet balance (settle asset)"},
    {"mmr", "RATE", "maintenance margin rate (instead of the tier table)"},
    {"maint-amount", "AMT", "maintenance amount / mmDeduction with --mmr (default 0)"},
    {"tiers", "DATE", "use the tier table dated exactly DATE (YYYY-MM-DD)"},
    {"date", "DATE", "position date: default tiers = latest verified on or before it"},
    {"fee-rate", "RATE", "closing fee rate where the venue's formula has one (default: taker)"},
    {"other-mm", "X", "cross: maintenance margin of the other positions"},
    {"other-upnl", "Y", "cross: unrealised PnL of the other positions"},
    {"hedge-qty", "Q", "hedge: size of the opposite leg"},
    {"hedge-entry", "PX", "hedge: entry price of the opposite leg"},
    {"leverage", "L", "leverage, for the initial margin shown (default: margin)"},
    {"batch", "FILE", "price every row of a CSV file (see --help text)"},
    {"exact", NULL, "batch: add full-precision columns"},
    {"article", NULL, "print the table of exchange-rules.md section 6"},
    {"rules", "DIR", "rules data directory (default: the repo's data/rules)"},
    {"load", "FILE", "also load a tier snapshot (stampede or exchange API JSON)"},
    {"load-date", "DATE", "date stamped on an exchange API snapshot given with --load"},
    {"json", NULL, "print JSON"},
    {NULL, NULL, NULL},
};

static const cli_spec spec = {
    "liq",
    "--venue V --symbol S --side long|short --entry PX --qty Q --margin M [options]\n"
    "       stampede liq --batch FILE.csv [--exact]   |   stampede liq --article",
    "Liquidation and bankruptcy price as each exchange computes them (exact fixed point,\n"
    "rounded only at the end as the venue rounds; docs/specs/exchange-rules.md).\n"
    "Batch CSV header: venue,symbol,mode,side,entry_price,qty,margin,mmr,maint_amount,fee_rate,\n"
    "other_mm,other_upnl (empty mmr and maint_amount = use the tier table; other_* for cross).\n"
    "Exit 0 ok, 1 some batch rows rejected, 2 usage or unusable input.",
    opts,
    0,
    0,
};

/* ---- shared helpers ----------------------------------------------------------- */

typedef struct liq_env {
    sp_rules_db *db;
    int32_t date;  /* position date for default tier selection */
    int32_t tiers; /* exact tier table date, 0 = default */
} liq_env;

/* Load the rules data (and an optional extra snapshot); -1 on success, else an exit code. */
static int open_db(const char *dir, const char *load, const char *load_date, liq_env *env)
{
    sp_diag d;
    sp_diag_clear(&d);
    if (sp_rules_db_new(&env->db) != SP_OK) {
        cli_error("liq", "out of memory");
        return CLI_EXIT_USAGE;
    }
    if (sp_rules_db_load_dir(env->db, dir, &d) != SP_OK) {
        cli_error("liq", "rules data: %s", d.msg);
        return CLI_EXIT_USAGE;
    }
    if (load != NULL) {
        int32_t dt = 0;
        if (load_date && sp_rules_parse_date(load_date, &dt) != SP_OK) {
            cli_error("liq", "--load-date '%s': expected YYYY-MM-DD", load_date);
            return CLI_EXIT_USAGE;
        }
        if (sp_rules_db_load_file(env->db, load, SP_VENUE_NONE, dt, &d) != SP_OK) {
            cli_error("liq", "--load: %s", d.msg);
            return CLI_EXIT_USAGE;
        }
    }
    return -1;
}

/* Exact decimal text of v (scale 8) with exactly `places` places (v must fit them). */
static const char *fmt_px(int64_t v, unsigned places, char *buf, size_t cap)
{
    int64_t r = v;
    if (sp_rescale(v, SC, places, SP_RND_HALF_UP, &r) != SP_OK)
        r = v, places = SC;
    sp_dec_format(r, places, 0, buf, cap);
    return buf;
}

/* Insert thousands separators into decimal text, in place ("56475.90" -> "56,475.90"). */
static void group(char *buf, size_t cap)
{
    char tmp[96];
    const char *p = buf;
    size_t o = 0;
    if (*p == '-')
        tmp[o++] = *p++;
    size_t int_len = strcspn(p, ".");
    for (size_t i = 0; i < int_len && o + 2 < sizeof(tmp); i++) {
        if (i > 0 && (int_len - i) % 3 == 0)
            tmp[o++] = ',';
        tmp[o++] = p[i];
    }
    snprintf(tmp + o, sizeof(tmp) - o, "%s", p + int_len);
    snprintf(buf, cap, "%s", tmp);
}

/* Exact decimal text of a scale-8 value without trailing zeros. */
static const char *fmt_trim(int64_t v, char *buf, size_t cap)
{
    sp_dec_format(v, SC, SP_FMT_TRIM, buf, cap);
    return buf;
}

/* Adverse move from entry to px in thousandths of a percent, half-up. */
static int64_t move_milli_pct(int64_t entry, int64_t px)
{
    int64_t d = px > entry ? px - entry : entry - px, m = 0;
    if (sp_mul_div(d, 100000, entry, SP_RND_HALF_UP, &m) != SP_OK)
        return -1;
    return m;
}

/* A move in thousandths of a percent as "9.639". */
static const char *fmt_pct(int64_t milli, char *buf, size_t cap)
{
    sp_dec_format(milli, 3, 0, buf, cap);
    return buf;
}

/*
 * Build the position from text (sp_rules_pos_from_text) with the tier
 * choice of env; on error write "field: why" into err.  names = what the
 * fields are called where they came from (flags, CSV columns).
 */
static bool build_pos(const liq_env *env, sp_rules_pos_text *t, const char *const *names,
                      sp_rules_pos *p, char *err, size_t cap)
{
    sp_diag d;
    sp_diag_clear(&d);
    t->names = names;
    t->date = env->date;
    t->tiers_date = env->tiers;
    if (sp_rules_pos_from_text(env->db, t, p, &d) == SP_OK)
        return true;
    snprintf(err, cap, "%.47s: %.255s", d.field, d.msg);
    return false;
}

/* The flags of a single position, by field (sp_rules_text_field order). */
static const char *const flag_names[SP_RTF_N_] = {
    "--venue",    "--symbol",     "--mode",      "--side",         "--entry",
    "--qty",      "--margin",     "--mmr",       "--maint-amount", "--fee-rate",
    "--other-mm", "--other-upnl", "--hedge-qty", "--hedge-entry",
};

/* Turn an sp_rules_liq error into "field: why" for the user. */
static void explain_err(sp_err e, const sp_rules_pos *p, char *err, size_t cap)
{
    switch (e) {
    case SP_ERANGE:
        snprintf(err, cap, "qty: notional is past the last tier of the %d table",
                 p->tiers ? (int)p->tiers->date : 0);
        break;
    case SP_EOVERFLOW:
        snprintf(err, cap, "qty: values too large for exact 128-bit arithmetic");
        break;
    case SP_EPRECISION:
        snprintf(err, cap, "qty: qty x contract value has more than 8 decimals");
        break;
    case SP_EINVAL:
        snprintf(err, cap, "mode: %s does not support %s margin for this contract",
                 sp_venue_name(p->inst->venue), sp_margin_mode_name(p->mode));
        break;
    default:
        snprintf(err, cap, "position: %s", sp_strerror(e));
    }
}

/* ---- single position ---------------------------------------------------------- */

static int run_single(const cli_args *a, const liq_env *env)
{
    sp_rules_pos_text t = {{0}, NULL, 0, 0};
    for (int f = 0; f < SP_RTF_N_; f++)
        t.v[f] = cli_get(a, flag_names[f] + 2);
    sp_rules_pos p;
    char err[320];
    if (!build_pos(env, &t, flag_names, &p, err, sizeof(err))) {
        cli_error("liq", "%s", err);
        return CLI_EXIT_USAGE;
    }
    sp_rules_out o;
    sp_err e = sp_rules_liq(&p, &o);
    if (e != SP_OK) {
        explain_err(e, &p, err, sizeof(err));
        cli_error("liq", "--%s", err);
        return CLI_EXIT_USAGE;
    }
    int64_t lev = 0, mm_entry = 0, mm_liq = 0, im = 0;
    int tier_dummy;
    if (!cli_get_int(a, "leverage", 0, 1000, 0, &lev))
        return CLI_EXIT_USAGE;
    sp_rules_maint_margin(&p, p.entry_px, &mm_entry, &tier_dummy);
    if (o.has_liq)
        sp_rules_maint_margin(&p, o.liq_px, &mm_liq, &tier_dummy);
    bool has_im = true;
    if (lev > 0) {
        /* IM = entry value / L (linear: quote; inverse: Q / EP in coin) */
        if (p.inst->contract == SP_CONTRACT_LINEAR) {
            int64_t q = p.qty;
            if (p.inst->qty_in_contracts)
                sp_mul_div(p.qty, p.inst->ct_val, 100000000, SP_RND_HALF_UP, &q);
            sp_mul_div(q, p.entry_px, (int64_t)100000000 * lev, SP_RND_UP, &im);
        } else {
            sp_mul_div(p.qty, p.inst->ct_val, p.entry_px * lev, SP_RND_UP, &im);
        }
    } else if (p.mode == SP_MARGIN_ISOLATED) {
        im = p.margin;
    } else {
        has_im = false;
    }
    unsigned pl = sp_rules_px_places(p.inst);
    char lp[64], bp[64], lm[32], bm[32], x1[64], x2[64], x3[64], ex[128];
    if (o.has_liq)
        fmt_px(o.liq_px, pl, lp, sizeof(lp));
    if (o.has_bk)
        fmt_px(o.bk_px, pl, bp, sizeof(bp));
    fmt_pct(o.has_liq ? move_milli_pct(p.entry_px, o.liq_px) : 0, lm, sizeof(lm));
    fmt_pct(o.has_bk ? move_milli_pct(p.entry_px, o.bk_px) : 0, bm, sizeof(bm));
    char tdate[16] = "explicit";
    if (p.tiers)
        snprintf(tdate, sizeof(tdate), "%04d-%02d-%02d", (int)(p.tiers->date / 10000),
                 (int)(p.tiers->date / 100 % 100), (int)(p.tiers->date % 100));
    if (cli_has(a, "json")) {
        printf("{\"venue\":\"%s\",\"symbol\":", sp_venue_name(p.inst->venue));
        cli_json_str(stdout, p.inst->symbol);
        printf(",\"mode\":\"%s\",\"side\":\"%s\",\"settle\":", sp_margin_mode_name(p.mode),
               p.side > 0 ? "long" : "short");
        cli_json_str(stdout, p.inst->settle);
        if (o.has_liq) {
            sp_rules_format_ratio(o.liq_num, o.liq_den * 100000000, 18, ex, sizeof(ex), NULL);
            printf(",\"liq_price\":\"%s\",\"liq_price_exact\":\"%s\",\"liq_move_pct\":\"%s\"", lp,
                   ex, lm);
        } else {
            printf(",\"liq_price\":null");
        }
        if (o.has_bk)
            printf(",\"bankruptcy_price\":\"%s\",\"bk_move_pct\":\"%s\"", bp, bm);
        else
            printf(",\"bankruptcy_price\":null");
        printf(",\"mm_entry\":\"%s\",\"mm_liq\":\"%s\"", fmt_trim(mm_entry, x1, sizeof(x1)),
               fmt_trim(mm_liq, x2, sizeof(x2)));
        if (has_im)
            printf(",\"im\":\"%s\"", fmt_trim(im, x3, sizeof(x3)));
        printf(",\"tier\":%d,\"tier_table\":\"%s\",\"mmr\":\"%s\",\"maint_amount\":\"%s\","
               "\"resolves\":%d}\n",
               o.tier, tdate, fmt_trim(o.mmr, x1, sizeof(x1)),
               fmt_trim(o.maint_amount, x2, sizeof(x2)), o.resolves);
        return CLI_EXIT_OK;
    }
    printf("%s %s %s %s, entry %s, qty %s, margin %s %s\n", sp_venue_name(p.inst->venue),
           p.inst->symbol, sp_margin_mode_name(p.mode), p.side > 0 ? "long" : "short",
           fmt_trim(p.entry_px, x1, sizeof(x1)), fmt_trim(p.qty, x2, sizeof(x2)),
           fmt_trim(p.margin, x3, sizeof(x3)), p.inst->settle);
    if (o.has_liq)
        printf("  liquidation price   %-16s adverse move %s%%\n", lp, lm);
    else
        printf("  liquidation price   --               (no positive solution: cannot be "
               "liquidated)\n");
    if (o.has_bk)
        printf("  bankruptcy price    %-16s adverse move %s%%\n", bp, bm);
    else
        printf("  bankruptcy price    --\n");
    printf("  maintenance margin  %s at entry, %s at liquidation (%s)\n",
           fmt_trim(mm_entry, x1, sizeof(x1)), fmt_trim(mm_liq, x2, sizeof(x2)), p.inst->settle);
    if (has_im)
        printf("  initial margin      %s %s\n", fmt_trim(im, x1, sizeof(x1)), p.inst->settle);
    if (o.tier > 0)
        printf(
            "  tier                %d of the %s table (MMR %s, maint amount %s), %d re-solve%s\n",
            o.tier, tdate, fmt_trim(o.mmr, x1, sizeof(x1)),
            fmt_trim(o.maint_amount, x2, sizeof(x2)), o.resolves, o.resolves == 1 ? "" : "s");
    else
        printf("  tier                explicit (MMR %s, maint amount %s)\n",
               fmt_trim(o.mmr, x1, sizeof(x1)), fmt_trim(o.maint_amount, x2, sizeof(x2)));
    return CLI_EXIT_OK;
}

/* ---- batch -------------------------------------------------------------------------- */

enum {
    C_VENUE,
    C_SYMBOL,
    C_MODE,
    C_SIDE,
    C_ENTRY,
    C_QTY,
    C_MARGIN,
    C_MMR,
    C_MAINT,
    C_FEE,
    C_OMM,
    C_OUPNL,
    C_COUNT
};
static const char *const col_names[C_COUNT] = {
    "venue",  "symbol", "mode",         "side",     "entry_price", "qty",
    "margin", "mmr",    "maint_amount", "fee_rate", "other_mm",    "other_upnl"};

/*
 * Read one line into buf (at most cap - 1 bytes kept).  Returns the line
 * length (which may exceed cap - 1: the rest was skipped), or -1 at EOF.
 */
static long read_line(FILE *f, char *buf, size_t cap)
{
    size_t n = 0;
    int c;
    bool any = false;
    while ((c = fgetc(f)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (n + 1 < cap)
            buf[n] = (char)c;
        n++;
    }
    if (!any)
        return -1;
    if (n > 0 && n < cap && buf[n - 1] == '\r')
        n--;
    buf[n < cap ? n : cap - 1] = '\0';
    return (long)n;
}

/* Split a CSV line at commas in place; max + 1 means "more than max fields". */
static int split(char *s, char **f, int max)
{
    int n = 0;
    f[n++] = s;
    for (char *p = s; *p; p++) {
        if (*p == ',') {
            *p = '\0';
            if (n == max)
                return max + 1;
            f[n++] = p + 1;
        }
    }
    return n;
}

/* An --exact column: the rational price to 18 places (empty when there is none). */
static void print_exact(__int128 num, __int128 den, bool has)
{
    char ex[128];
    if (has && sp_rules_format_ratio(num, den * 100000000, 18, ex, sizeof(ex), NULL) > 0)
        printf(",%s", ex);
    else
        printf(",");
}

/*
 * --batch: price every row, echo it with liq_price, bankruptcy_price (and
 * the exact columns) and an error column; bad rows never stop the good
 * ones.  Exit 1 if any row failed, 2 if the file is unusable.
 */
static int run_batch(const char *path, bool exact, const liq_env *env)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        cli_error("liq", "--batch %s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char *line = malloc(SP_MSG_MAX + 1), *copy = malloc(SP_MSG_MAX + 1);
    int rc = CLI_EXIT_OK;
    if (line == NULL || copy == NULL) {
        cli_error("liq", "out of memory");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    long n = read_line(f, line, SP_MSG_MAX + 1);
    if (n < 0 || n > (long)SP_MSG_MAX) {
        cli_error("liq", "--batch %s: %s", path, n < 0 ? "empty file" : "header line too long");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    char *hf[C_COUNT + 2];
    int nh = split(line, hf, C_COUNT + 1);
    int map[C_COUNT];
    for (int c = 0; c < C_COUNT; c++) {
        map[c] = -1;
        for (int i = 0; i < nh && i <= C_COUNT; i++) {
            if (strcmp(hf[i], col_names[c]) == 0)
                map[c] = i;
        }
        if (map[c] < 0) {
            cli_error("liq", "--batch %s:1: missing column '%s' (header must be %s,...)", path,
                      col_names[c], col_names[0]);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    }
    if (nh != C_COUNT) {
        cli_error("liq", "--batch %s:1: expected %d columns, got %d", path, C_COUNT, nh);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    printf("venue,symbol,mode,side,entry_price,qty,margin,mmr,maint_amount,fee_rate,other_mm,"
           "other_upnl,liq_price,bankruptcy_price%s,error\n",
           exact ? ",liq_price_exact,bankruptcy_price_exact" : "");
    long lineno = 1, bad = 0, good = 0;
    while ((n = read_line(f, line, SP_MSG_MAX + 1)) >= 0) {
        lineno++;
        char err[400] = "";
        if (n == 0)
            continue; /* blank line */
        if (n > (long)SP_MSG_MAX) {
            printf(",,,,,,,,,,,,,%s,line %ld: longer than %u bytes (skipped)\n", exact ? ",," : "",
                   lineno, (unsigned)SP_MSG_MAX);
            bad++;
            continue;
        }
        memcpy(copy, line, (size_t)n + 1);
        char *fl[C_COUNT + 2];
        int nf = split(copy, fl, C_COUNT);
        sp_rules_pos p;
        sp_rules_out o;
        memset(&o, 0, sizeof(o));
        bool ok = false;
        if (strchr(line, '"') != NULL) {
            snprintf(err, sizeof(err), "line %ld: quoted fields are not supported", lineno);
        } else if (nf != C_COUNT) {
            snprintf(err, sizeof(err), "line %ld: expected %d fields, got %d%s", lineno, C_COUNT,
                     nf > C_COUNT ? C_COUNT + 1 : nf, nf > C_COUNT ? " or more" : "");
        } else {
            sp_rules_pos_text t = {{fl[map[C_VENUE]], fl[map[C_SYMBOL]], fl[map[C_MODE]],
                                    fl[map[C_SIDE]], fl[map[C_ENTRY]], fl[map[C_QTY]],
                                    fl[map[C_MARGIN]], fl[map[C_MMR]], fl[map[C_MAINT]],
                                    fl[map[C_FEE]], fl[map[C_OMM]], fl[map[C_OUPNL]], NULL, NULL},
                                   NULL,
                                   0,
                                   0};
            char why[320];
            if (!build_pos(env, &t, NULL, &p, why, sizeof(why))) {
                snprintf(err, sizeof(err), "line %ld: %.300s", lineno, why);
            } else {
                sp_err e = sp_rules_liq(&p, &o);
                if (e != SP_OK) {
                    explain_err(e, &p, why, sizeof(why));
                    snprintf(err, sizeof(err), "line %ld: %.300s", lineno, why);
                } else {
                    ok = true;
                }
            }
        }
        /* echo the row (a too-wide row is cut to its first 12 fields) */
        if (nf == C_COUNT)
            fputs(line, stdout);
        else
            printf(",,,,,,,,,,,");
        if (ok) {
            char lp[64] = "", bp[64] = "";
            unsigned pl = sp_rules_px_places(p.inst);
            if (o.has_liq)
                fmt_px(o.liq_px, pl, lp, sizeof(lp));
            if (o.has_bk)
                fmt_px(o.bk_px, pl, bp, sizeof(bp));
            printf(",%s,%s", lp, bp);
            if (exact) {
                print_exact(o.liq_num, o.liq_den, o.has_liq);
                print_exact(o.bk_num, o.bk_den, o.has_bk);
            }
            printf(",\n");
            good++;
        } else {
            /* the error text has no commas or quotes in the fields we echo; keep CSV valid */
            for (char *q = err; *q; q++) {
                if (*q == ',' || *q == '"' || *q == '\n')
                    *q = ';';
            }
            printf(",,%s,%s\n", exact ? ",," : "", err);
            fprintf(stderr, "stampede liq: %s:%s\n", path, err);
            bad++;
        }
    }
    if (ferror(f)) {
        cli_error("liq", "--batch %s: read error", path);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    fprintf(stderr, "stampede liq: %ld row%s priced, %ld rejected\n", good, good == 1 ? "" : "s",
            bad);
    rc = bad ? CLI_EXIT_PARTIAL : CLI_EXIT_OK;
out:
    free(line);
    free(copy);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ---- the article table (spec §6) ------------------------------------------------------ */

typedef struct art_cell {
    bool ok;
    int64_t px;   /* rounded liquidation price */
    int64_t move; /* thousandths of a percent */
} art_cell;

/* One cell of the article table: the isolated long on one venue, by the normal input path. */
static art_cell art_price(const liq_env *env, sp_venue v, const char *sym, int64_t qty,
                          int64_t margin, const char *mmr, const char *fee, int32_t tiers)
{
    art_cell c = {false, 0, 0};
    liq_env e2 = *env;
    e2.tiers = tiers;
    char q[64], m[64], err[320];
    sp_dec_format(qty, SC, SP_FMT_TRIM, q, sizeof(q));
    sp_dec_format(margin, SC, SP_FMT_TRIM, m, sizeof(m));
    sp_rules_pos_text t = {{0}, NULL, 0, 0};
    t.v[SP_RTF_VENUE] = sp_venue_name(v);
    t.v[SP_RTF_SYMBOL] = sym;
    t.v[SP_RTF_MODE] = "isolated";
    t.v[SP_RTF_SIDE] = "long";
    t.v[SP_RTF_ENTRY] = "62500";
    t.v[SP_RTF_QTY] = q;
    t.v[SP_RTF_MARGIN] = m;
    t.v[SP_RTF_MMR] = mmr;
    t.v[SP_RTF_FEE] = fee;
    sp_rules_pos p;
    sp_rules_out o;
    if (!build_pos(&e2, &t, NULL, &p, err, sizeof(err)) || sp_rules_liq(&p, &o) != SP_OK ||
        !o.has_liq)
        return c;
    c.ok = true;
    c.px = o.liq_px;
    c.move = move_milli_pct(p.entry_px, o.liq_px);
    return c;
}

/*
 * The table of exchange-rules.md §6, computed (not copied): each venue's
 * liquidation price and adverse move at 10x..100x, and the §6 footnote
 * with the 2025 Binance table.
 */
static int print_article(const liq_env *env, bool json)
{
    static const int64_t levs[] = {10, 20, 50, 100};
    const int64_t one = 100000000, entry = 62500 * one, margin = 1000 * one;
    if (json)
        printf("\"liq_article\":{\"margin_usdt\":\"1000\",\"entry\":\"62500\",\"rows\":[");
    else
        printf(
            "1,000 USDT margin, long BTC entered at 62,500, isolated, no fees (exchange-rules.md "
            "s6)\n"
            "Binance: 2024-10-24 brackets; Bybit: risk limit tier 1 (0.5%%); OKX: MMR 0.4%% + "
            "0.05%% taker term;\nBitMEX XBTUSD inverse: IM = 1/L, MM 0.5%%.  Move = adverse "
            "mark move that liquidates.\n\n"
            "%5s %6s %-10s %-20s %-20s %-20s %-20s\n",
            "lev", "naive", "bankrupt", "Binance LP (move)", "Bybit LP (move)", "OKX LP (move)",
            "BitMEX LP (move)");
    for (size_t i = 0; i < SP_COUNTOF(levs); i++) {
        int64_t L = levs[i], qty, bk, naive_milli = 100000 / L;
        /* size = margin x L / entry (BTC); OKX counts contracts of 0.01 BTC */
        sp_mul_div(margin * L, one, entry, SP_RND_DOWN, &qty);
        sp_mul_div(entry, L - 1, L, SP_RND_UP, &bk);
        art_cell c[4];
        c[0] = art_price(env, SP_VENUE_BINANCE_UM, "BTCUSDT", qty, margin, NULL, NULL, 20241024);
        c[1] = art_price(env, SP_VENUE_BYBIT, "BTCUSDT", qty, margin, NULL, NULL, 0);
        c[2] =
            art_price(env, SP_VENUE_OKX, "BTC-USDT-SWAP", qty * 100, margin, "0.004", "0.0005", 0);
        /* BitMEX: Q = 1,000 x L USD contracts, margin Q / EP / L = 0.016 XBT */
        c[3] = art_price(env, SP_VENUE_BITMEX, "XBTUSD", 1000 * L * one, 1600000, "0.005", "0", 0);
        char b[64], n[32], px[4][64], mv[4][32];
        fmt_px(bk, 2, b, sizeof(b));
        sp_dec_format(naive_milli, 3, SP_FMT_TRIM, n, sizeof(n));
        if (!json)
            group(b, sizeof(b));
        for (int k = 0; k < 4; k++) {
            if (!c[k].ok) {
                cli_error("liq", "article: cannot price column %d at %lldx (rules data?)", k,
                          (long long)L);
                return CLI_EXIT_USAGE;
            }
            fmt_px(c[k].px, 2, px[k], sizeof(px[k]));
            fmt_pct(c[k].move, mv[k], sizeof(mv[k]));
            if (!json)
                group(px[k], sizeof(px[k]));
        }
        if (json) {
            printf("%s{\"leverage\":%lld,\"naive_move_pct\":\"%s\",\"bankruptcy\":\"%s\"",
                   i ? "," : "", (long long)L, n, b);
            static const char *names[4] = {"binance", "bybit", "okx", "bitmex"};
            for (int k = 0; k < 4; k++)
                printf(",\"%s\":{\"liq_price\":\"%s\",\"move_pct\":\"%s\"}", names[k], px[k],
                       mv[k]);
            printf("}");
        } else {
            char cell[4][96];
            for (int k = 0; k < 4; k++)
                snprintf(cell[k], sizeof(cell[k]), "%.40s (%.20s%%)", px[k], mv[k]);
            printf("%4lldx %5s%% %-10s %-20s %-20s %-20s %-20s\n", (long long)L, n, b, cell[0],
                   cell[1], cell[2], cell[3]);
        }
    }
    /* footnotes of §6, computed, not copied */
    int64_t q100;
    sp_mul_div(margin * 100, one, entry, SP_RND_DOWN, &q100);
    art_cell f25 =
        art_price(env, SP_VENUE_BINANCE_UM, "BTCUSDT", q100, margin, NULL, NULL, 20250819);
    if (json) {
        printf("]");
        if (f25.ok) {
            char p1[64], m1[32];
            printf(",\"binance_100x_2025_table\":{\"liq_price\":\"%s\",\"move_pct\":\"%s\"}",
                   fmt_px(f25.px, 2, p1, sizeof(p1)), fmt_pct(f25.move, m1, sizeof(m1)));
        }
        printf("}");
        return CLI_EXIT_OK;
    }
    printf("\nnaive = 1/L (the margin wiped at the bankruptcy price); every venue liquidates "
           "earlier.\n");
    if (f25.ok) {
        char p1[64], m1[32];
        printf("100x on Binance is 100,000 USDT notional: bracket 2 of the 2024-10-24 table; with "
               "the 2025-08-19\ntable (unverified: bracket 1 up to 300k) it is %s (%s%%).\n",
               (fmt_px(f25.px, 2, p1, sizeof(p1)), group(p1, sizeof(p1)), p1),
               fmt_pct(f25.move, m1, sizeof(m1)));
    }
    return CLI_EXIT_OK;
}

/* ---- entry points ----------------------------------------------------------------------- */

int cmd_liq(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&spec, argc, argv, &a);
    if (rc >= 0)
        return rc;
    liq_env env = {NULL, 99991231, 0};
    const char *dir = cli_has(&a, "rules") ? cli_get(&a, "rules") : SP_SOURCE_DIR "/data/rules";
    if (cli_has(&a, "date") && sp_rules_parse_date(cli_get(&a, "date"), &env.date) != SP_OK) {
        cli_error("liq", "--date '%s': expected YYYY-MM-DD", cli_get(&a, "date"));
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&a, "tiers") && sp_rules_parse_date(cli_get(&a, "tiers"), &env.tiers) != SP_OK) {
        cli_error("liq", "--tiers '%s': expected YYYY-MM-DD", cli_get(&a, "tiers"));
        return CLI_EXIT_USAGE;
    }
    if (cli_has(&a, "mmr") && cli_has(&a, "tiers")) {
        cli_error("liq", "--mmr and --tiers are exclusive (explicit rate or a dated table)");
        return CLI_EXIT_USAGE;
    }
    if ((rc = open_db(dir, cli_get(&a, "load"), cli_get(&a, "load-date"), &env)) >= 0)
        goto out;
    if (cli_has(&a, "article")) {
        bool json = cli_has(&a, "json");
        if (json)
            printf("{");
        rc = print_article(&env, json);
        if (json)
            printf("}\n");
    } else if (cli_has(&a, "batch")) {
        rc = run_batch(cli_get(&a, "batch"), cli_has(&a, "exact"), &env);
    } else {
        rc = run_single(&a, &env);
    }
out:
    sp_rules_db_free(env.db);
    return rc;
}

int demo_liq_article(const demo_ctx *ctx)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/rules", ctx->data_dir);
    liq_env env = {NULL, 99991231, 0};
    int rc = open_db(dir, NULL, NULL, &env);
    if (rc < 0)
        rc = print_article(&env, ctx->json);
    sp_rules_db_free(env.db);
    return rc;
}
