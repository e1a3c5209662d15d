/*
 * bench_store.c -- ingest throughput of sp_store, against baselines run
 * in the same process and time window (issue 7, bench/RESULTS.md "store").
 *
 *   bench_store [N] [DIR]      N events (default 10^7), files under DIR
 *                              (default /tmp); PostgreSQL phases run when
 *                              SP_TEST_PG_URI is set (bench_store_pg runs
 *                              this through tests/integration/pg_server.sh)
 *
 * Phases, each timed with the monotonic clock:
 *   1. sp_store -> SQLite file (batches of 65536, WAL, synchronous=NORMAL);
 *   2. baseline: the sqlite3 CLI `.import --csv` of the same rows into the
 *      same table (journal off, synchronous off: its fastest settings,
 *      as in specs/perf-anchors.md §3); CSV writing is not timed;
 *   3. sp_store -> PostgreSQL (binary COPY + ON CONFLICT via staging);
 *   4. baseline: PostgreSQL plain INSERTs, one row per statement, 1000
 *      per transaction, on a 1/50 sample (they are too slow for all N).
 * Bytes per event are the file size (SQLite) or the event partitions'
 * pg_total_relation_size (PostgreSQL), indexes included.  Correctness:
 * counts are asserted after each phase (a re-append of the first batch
 * must add 0), and a hash of one symbol's events read back is printed per
 * backend; the two must be equal.  The "server cpu" figure sums the CPU of
 * every process named postgres (from /proc): indicative only on a shared
 * machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef STAMPEDE_HAVE_PG
#include <libpq-fe.h>
#endif

#include "stampede/stampede.h"

#include "bench.h"

#define BATCH 65536
#define NSYM  16

static sp_event gen(uint64_t i)
{
    sp_event e;
    memset(&e, 0, sizeof(e));
    uint64_t x = i * 0x9E3779B97F4A7C15ull;
    e.symbol_id = (uint32_t)(i % NSYM) + 1;
    e.venue = SP_VENUE_BINANCE_UM;
    e.exch_ts_ns =
        1770336000000000000ll + (int64_t)i * 100000000; /* 100 ms apart: ~12 days per 10^7 */
    e.local_ts_ns = e.exch_ts_ns + 700000 + (int64_t)(x % 1000000);
    if (i % 5 == 4) {
        e.kind = SP_EV_DEPTH_UPDATE;
        e.px = 6000000000000 + (int64_t)(x % 100000) * 10000000;
        e.qty = (int64_t)(x >> 36);
        e.aux[0] = (int64_t)i;
        e.aux[1] = (int64_t)i + 2;
        e.aux[2] = (int64_t)i - 1;
        e.flags = (uint8_t)(x & SP_EVF_SELL);
    } else {
        e.kind = SP_EV_TRADE;
        e.px = 6000000000000 + (int64_t)(x % 1000000000);
        e.qty = (int64_t)(x >> 40) + 1;
        e.aux[0] = (int64_t)i + 1;
        e.aux[1] = (int64_t)i + 1;
        e.aux[2] = (int64_t)i + 1;
        e.flags = (uint8_t)(x & (SP_EVF_SELL | SP_EVF_MAKER));
    }
    return e;
}

static void die(const char *what, const sp_diag *d)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, d ? d->msg : "");
    exit(1);
}

/* CPU seconds (user + system) of this process (who = RUSAGE_SELF) or its children. */
static double cpu_secs(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double last_cpu; /* CPU seconds of the last timed phase */

/*
 * CPU seconds (user + system) of every process named "postgres" on this
 * machine, from /proc: the server side of a PostgreSQL phase (backend,
 * WAL writer, checkpointer).  Read before the store's connection closes.
 */
static double postgres_cpu(void)
{
    double total = 0;
    long hz = sysconf(_SC_CLK_TCK);
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *rp = strrchr(buf, ')');
        if (rp == NULL || strncmp(buf + strlen(e->d_name) + 1, "(postgres)", 10) != 0)
            continue;
        /* fields after ") ": state(3) ... utime(14) stime(15) */
        char *p = rp + 2;
        for (int field = 3; field < 14 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p == NULL)
            continue;
        char *end;
        unsigned long long ut = strtoull(p, &end, 10);
        unsigned long long st = strtoull(end, NULL, 10);
        total += (double)(ut + st) / (double)hz;
    }
    if (d)
        closedir(d);
    return total;
}

static double last_server_cpu; /* postgres CPU seconds of the last PG phase */

static double secs_since(int64_t t0)
{
    return (double)(sp_clock_mono_ns() - t0) / 1e9;
}

static sp_symtab *symtab(void)
{
    sp_symtab *t = NULL;
    if (sp_symtab_new(&t) != SP_OK)
        die("symtab", NULL);
    for (int k = 1; k <= NSYM; k++) {
        char name[16];
        uint32_t id;
        int n = snprintf(name, sizeof(name), "SYM%02dUSDT", k);
        if (sp_symtab_intern(t, name, (size_t)n, &id) != SP_OK)
            die("intern", NULL);
    }
    return t;
}

/* Ingest N events into uri; returns seconds. */
static double ingest(const char *uri, uint64_t n, sp_symtab *syms)
{
    sp_store *s = NULL;
    sp_diag d = {0};
    if (sp_store_open(uri, 0, &s, &d) != SP_OK)
        die("open", &d);
    sp_event *ev = malloc(BATCH * sizeof(*ev));
    double gen_s = 0;
    int pg = strncmp(uri, "postgres", 8) == 0;
    double s0 = pg ? postgres_cpu() : 0;
    double c0 = cpu_secs(RUSAGE_SELF);
    int64_t t0 = sp_clock_mono_ns();
    for (uint64_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? (size_t)(n - i) : BATCH;
        int64_t g0 = sp_clock_mono_ns();
        for (size_t k = 0; k < m; k++)
            ev[k] = gen(i + k);
        gen_s += secs_since(g0);
        uint64_t ins = 0;
        if (sp_store_append(s, ev, m, syms, &ins, &d) != SP_OK)
            die("append", &d);
        if (ins != m)
            die("append: fewer new events than appended (duplicate keys?)", NULL);
    }
    double t = secs_since(t0) - gen_s;
    last_cpu = cpu_secs(RUSAGE_SELF) - c0 - gen_s;
    last_server_cpu = pg ? postgres_cpu() - s0 : 0;
    /* idempotence: the first batch again adds nothing */
    size_t m = n < BATCH ? (size_t)n : BATCH;
    for (size_t k = 0; k < m; k++)
        ev[k] = gen(k);
    uint64_t ins = 1, cnt = 0;
    if (sp_store_append(s, ev, m, syms, &ins, &d) != SP_OK || ins != 0)
        die("re-append added events", &d);
    if (sp_store_count(s, NULL, &cnt, &d) != SP_OK || cnt != n)
        die("count mismatch", &d);
    free(ev);
    sp_store_close(s);
    return t;
}

static sp_err hash_row(void *ctx, const sp_event *ev, const char *sym)
{
    uint64_t *h = ctx;
    sp_event e = *ev;
    e.symbol_id = 0; /* store ids may differ between backends; the name does not */
    const unsigned char *p = (const unsigned char *)&e;
    for (size_t i = 0; i < sizeof(e); i++)
        *h = (*h ^ p[i]) * 1099511628211ull;
    for (; *sym; sym++)
        *h = (*h ^ (unsigned char)*sym) * 1099511628211ull;
    return SP_OK;
}

static uint64_t readback_hash(const char *uri, double *secs, uint64_t *rows)
{
    sp_store *s = NULL;
    sp_diag d = {0};
    if (sp_store_open(uri, SP_STORE_READONLY, &s, &d) != SP_OK)
        die("open read-only", &d);
    sp_store_filter f = {0};
    f.kind = SP_EV_TRADE;
    f.symbol = "SYM03USDT";
    uint64_t h = 14695981039346656037ull;
    int64_t t0 = sp_clock_mono_ns();
    if (sp_store_query(s, &f, hash_row, &h, &d) != SP_OK)
        die("query", &d);
    *secs = secs_since(t0);
    sp_store_count(s, &f, rows, &d);
    sp_store_close(s);
    return h;
}

static uint64_t file_bytes(const char *path)
{
    struct stat st;
    uint64_t total = 0;
    char p[600];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
        if (stat(p, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    return total;
}

static double sqlite_import_baseline(const char *dir, uint64_t n)
{
    char csv[512], db[512], cmd[2048];
    snprintf(csv, sizeof(csv), "%s/bench_store.csv", dir);
    snprintf(db, sizeof(db), "%s/bench_store_import.db", dir);
    FILE *f = fopen(csv, "w");
    if (f == NULL)
        die("csv", NULL);
    for (uint64_t i = 0; i < n; i++) {
        sp_event e = gen(i);
        int64_t k1, k2;
        /* a key of the same shape as the store's (trade: id; depth: update id, price*2+side) */
        if (e.kind == SP_EV_TRADE) {
            k1 = e.aux[0];
            k2 = 0;
        } else {
            k1 = e.aux[1];
            k2 = e.px * 2 + (e.flags & SP_EVF_SELL);
        }
        fprintf(f, "%u,%u,%lld,%u,%u,%lld,%lld,%u,%lld,%lld,%lld,%lld,%lld,%lld\n", e.kind,
                e.symbol_id, (long long)e.exch_ts_ns, e.venue, e.sub, (long long)k1, (long long)k2,
                e.flags, (long long)e.local_ts_ns, (long long)e.px, (long long)e.qty,
                (long long)e.aux[0], (long long)e.aux[1], (long long)e.aux[2]);
    }
    fclose(f);
    unlink(db);
    snprintf(cmd, sizeof(cmd),
             "sqlite3 %s 'PRAGMA journal_mode=OFF' 'PRAGMA synchronous=OFF'"
             " 'CREATE TABLE event(kind INTEGER NOT NULL, symbol_id INTEGER NOT NULL,"
             " exch_ts_ns INTEGER NOT NULL, venue INTEGER NOT NULL, sub INTEGER NOT NULL,"
             " k1 INTEGER NOT NULL, k2 INTEGER NOT NULL, flags INTEGER NOT NULL,"
             " local_ts_ns INTEGER NOT NULL, px INTEGER NOT NULL, qty INTEGER NOT NULL,"
             " aux0 INTEGER NOT NULL, aux1 INTEGER NOT NULL, aux2 INTEGER NOT NULL,"
             " PRIMARY KEY(kind, symbol_id, exch_ts_ns, venue, sub, k1, k2)) WITHOUT ROWID'"
             " '.import --csv %s event' 'SELECT count(*) FROM event' >/dev/null",
             db, csv);
    double c0 = cpu_secs(RUSAGE_CHILDREN);
    int64_t t0 = sp_clock_mono_ns();
    if (system(cmd) != 0)
        die("sqlite3 .import failed (is the sqlite3 package installed?)", NULL);
    double t = secs_since(t0);
    last_cpu = cpu_secs(RUSAGE_CHILDREN) - c0;
    unlink(csv);
    unlink(db);
    return t;
}

#ifdef STAMPEDE_HAVE_PG
static PGconn *pg_admin(const char *base, const char *db)
{
    char uri[512];
    snprintf(uri, sizeof(uri), "%s/%s", base, db);
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_store: %s", PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "bench_store: %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
}

static uint64_t pg_bytes(const char *base)
{
    PGconn *c = pg_admin(base, "sp_bench");
    PGresult *r = PQexec(c, "SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)"
                            " FROM pg_inherits WHERE inhparent = 'event'::regclass");
    uint64_t v = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        v = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

/* Plain INSERTs of n rows (one statement per row, 1000 rows per transaction). */
static double pg_insert_baseline(const char *base, uint64_t n)
{
    PGconn *c = pg_admin(base, "sp_bench");
    pg_exec(c, "CREATE TABLE plain AS SELECT * FROM event WITH NO DATA");
    pg_exec(c,
            "ALTER TABLE plain ADD PRIMARY KEY(kind, symbol_id, exch_ts_ns, venue, sub, k1, k2)");
    double s0 = postgres_cpu();
    int64_t t0 = sp_clock_mono_ns();
    char sql[512];
    for (uint64_t i = 0; i < n; i++) {
        if (i % 1000 == 0)
            pg_exec(c, i ? "COMMIT; BEGIN" : "BEGIN");
        sp_event e = gen(i);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO plain VALUES(%u,%u,%lld,%u,%u,%lld,0,%u,%lld,%lld,%lld,%lld,%lld,"
                 "%lld)",
                 e.kind, e.symbol_id, (long long)e.exch_ts_ns, e.venue, e.sub,
                 (long long)(e.kind == SP_EV_TRADE ? e.aux[0] : e.aux[1]), e.flags,
                 (long long)e.local_ts_ns, (long long)e.px, (long long)e.qty, (long long)e.aux[0],
                 (long long)e.aux[1], (long long)e.aux[2]);
        pg_exec(c, sql);
    }
    pg_exec(c, "COMMIT");
    double t = secs_since(t0);
    last_server_cpu = postgres_cpu() - s0;
    PQfinish(c);
    return t;
}
#endif

int main(int argc, char **argv)
{
    bench_help("bench_store",
               "[EVENTS (default 10000000)] [DIR for the store files (default /tmp)]", argc, argv);
    uint64_t n = bench_arg_count("bench_store", argc, argv, 1, 10000000ull, 1, 1000000000ull);
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    sp_symtab *syms = symtab();
    char path[512], uri[600];
    snprintf(path, sizeof(path), "%s/bench_store_%d.db", dir, (int)getpid());
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    printf("bench_store: %llu events (80%% trades, 20%% depth updates, %d symbols, 100 ms apart),"
           " batches of %d, seed-free deterministic generator\n",
           (unsigned long long)n, NSYM, BATCH);

    double t_sq = ingest(uri, n, syms);
    double cpu_sq = last_cpu;
    uint64_t b_sq = file_bytes(path);
    double q_sq;
    uint64_t rows_sq;
    uint64_t h_sq = readback_hash(uri, &q_sq, &rows_sq);
    printf("sqlite   sp_store append      %8.2f s  %6.3f M events/s  %6.1f bytes/event"
           "  (cpu %.2f s: %.3f M events/cpu-s)\n",
           t_sq, (double)n / t_sq / 1e6, (double)b_sq / (double)n, cpu_sq,
           (double)n / cpu_sq / 1e6);
    printf("sqlite   read back %llu rows   %8.3f s  hash %016llx\n", (unsigned long long)rows_sq,
           q_sq, (unsigned long long)h_sq);
    unlink(path);

    double t_imp = sqlite_import_baseline(dir, n);
    printf(
        "baseline sqlite3 .import csv  %8.2f s  %6.3f M rows/s    (cpu %.2f s: %.3f M rows/cpu-s;"
        " ratio store/import: wall %.2fx, cpu %.2fx)\n",
        t_imp, (double)n / t_imp / 1e6, last_cpu, (double)n / last_cpu / 1e6, t_imp / t_sq,
        last_cpu / cpu_sq);

#ifdef STAMPEDE_HAVE_PG
    const char *base = getenv("SP_TEST_PG_URI");
    if (base && *base) {
        PGconn *adm = pg_admin(base, "postgres");
        pg_exec(adm, "DROP DATABASE IF EXISTS sp_bench");
        pg_exec(adm, "CREATE DATABASE sp_bench");
        char puri[600];
        snprintf(puri, sizeof(puri), "%s/sp_bench", base);
        double t_pg = ingest(puri, n, syms);
        double cpu_pg = last_cpu;
        double srv_pg = last_server_cpu;
        uint64_t b_pg = pg_bytes(base);
        double q_pg;
        uint64_t rows_pg;
        uint64_t h_pg = readback_hash(puri, &q_pg, &rows_pg);
        printf("postgres sp_store append COPY %8.2f s  %6.3f M events/s  %6.1f bytes/event"
               "  (client cpu %.2f s, server cpu %.2f s: %.3f M events/server-cpu-s)\n",
               t_pg, (double)n / t_pg / 1e6, (double)b_pg / (double)n, cpu_pg, srv_pg,
               (double)n / srv_pg / 1e6);
        printf("postgres read back %llu rows   %8.3f s  hash %016llx (%s)\n",
               (unsigned long long)rows_pg, q_pg, (unsigned long long)h_pg,
               h_pg == h_sq ? "same as sqlite" : "DIFFERS FROM SQLITE");
        uint64_t ni = n / 50 < 1000 ? (n < 1000 ? n : 1000) : n / 50;
        double t_ins = pg_insert_baseline(base, ni);
        printf("baseline pg plain INSERT      %8.2f s  %6.3f M rows/s    (%llu rows, server cpu "
               "%.2f s: %.3f M rows/server-cpu-s; ratio COPY/INSERT: wall %.1fx, server cpu "
               "%.1fx)\n",
               t_ins, (double)ni / t_ins / 1e6, (unsigned long long)ni, last_server_cpu,
               (double)ni / last_server_cpu / 1e6, ((double)n / t_pg) / ((double)ni / t_ins),
               ((double)n / srv_pg) / ((double)ni / last_server_cpu));
        pg_exec(adm, "DROP DATABASE IF EXISTS sp_bench WITH (FORCE)");
        PQfinish(adm);
        if (h_pg != h_sq || rows_pg != rows_sq)
            return 1;
    } else {
        printf("postgres: skipped (SP_TEST_PG_URI not set; run bench_store_pg)\n");
    }
#endif
    sp_symtab_free(syms);
    return 0;
}
