/*
 * test_store_sqlite.c -- what only the SQLite backend can be asked:
 * schema upgrade / refusal, a read-only file, a locked database, a full
 * disk, and I/O errors injected at every I/O call of an append (SQLite's
 * own do_ioerr_test idea) through a test VFS, each leaving a consistent
 * database.
 *
 * The VFS "sp_faulty" wraps the default one and forwards every call; it
 * counts reads, writes, truncates and syncs, fails the fail_at-th with the
 * matching SQLITE_IOERR_* (once, or from then on when persist is set), and
 * can refuse writes that would grow a file past full_limit bytes with
 * SQLITE_FULL (a disk that fills up).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store_int.h"
#include "test_store_util.h"

/* ---- the fault-injecting VFS ---------------------------------------------- */

static struct {
    sqlite3_vfs vfs;
    sqlite3_vfs *real;
    uint64_t count;     /* I/O calls seen */
    uint64_t fail_at;   /* fail this call (0 = never) */
    int persist;        /* keep failing after fail_at */
    int64_t full_limit; /* writes past this file size fail with SQLITE_FULL (0 = no limit) */
    uint64_t injected;  /* faults injected */
} fv;

typedef struct ffile {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct */
} ffile;

static int fault(int code)
{
    fv.count++;
    if (fv.fail_at != 0 && (fv.count == fv.fail_at || (fv.persist && fv.count > fv.fail_at))) {
        fv.injected++;
        return code;
    }
    return SQLITE_OK;
}

#define REAL(f) (((ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    int rc = fault(SQLITE_IOERR_READ);
    return rc ? rc : REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    int rc = fault(SQLITE_IOERR_WRITE);
    if (rc)
        return rc;
    if (fv.full_limit > 0 && off + n > fv.full_limit) {
        sqlite3_int64 size = 0;
        REAL(f)->pMethods->xFileSize(REAL(f), &size);
        if (off + n > size) {
            fv.injected++;
            return SQLITE_FULL;
        }
    }
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = fault(SQLITE_IOERR_TRUNCATE);
    return rc ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags)
{
    int rc = fault(SQLITE_IOERR_FSYNC);
    return rc ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_check(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_fctl(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_dev(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shmbarrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shmunmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods f_methods = {
    2, /* no mmap (xFetch) */
    f_close, f_read,   f_write, f_truncate, f_sync,    f_size,       f_lock,     f_unlock, f_check,
    f_fctl,  f_sector, f_dev,   f_shmmap,   f_shmlock, f_shmbarrier, f_shmunmap, NULL,     NULL,
};

static int f_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)v;
    ffile *ff = (ffile *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    int rc = fv.real->xOpen(fv.real, name, ff->real, flags, out);
    ff->base.pMethods = rc == SQLITE_OK ? &f_methods : NULL;
    return rc;
}
static int f_delete(sqlite3_vfs *v, const char *name, int sync)
{
    (void)v;
    return fv.real->xDelete(fv.real, name, sync);
}
static int f_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return fv.real->xAccess(fv.real, name, flags, out);
}
static int f_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return fv.real->xFullPathname(fv.real, name, n, out);
}

static void faulty_register(void)
{
    if (fv.real != NULL)
        return;
    fv.real = sqlite3_vfs_find(NULL);
    fv.vfs = *fv.real;
    fv.vfs.iVersion = 1;
    fv.vfs.zName = "sp_faulty";
    fv.vfs.szOsFile = (int)sizeof(ffile) + fv.real->szOsFile;
    fv.vfs.xOpen = f_open;
    fv.vfs.xDelete = f_delete;
    fv.vfs.xAccess = f_access;
    fv.vfs.xFullPathname = f_full;
    fv.vfs.pNext = NULL;
    assert_int_equal(sqlite3_vfs_register(&fv.vfs, 0), SQLITE_OK);
}

static void faulty_arm(uint64_t fail_at, int persist, int64_t full_limit)
{
    fv.count = 0;
    fv.injected = 0;
    fv.fail_at = fail_at;
    fv.persist = persist;
    fv.full_limit = full_limit;
}

/* ---- helpers ----------------------------------------------------------------- */

static void mkstore(char *dir, size_t dcap, char *path, size_t pcap)
{
    snprintf(dir, dcap, "/tmp/sp_store_sqlite_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, pcap, "%s/t.db", dir);
}

static void rmstore(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("raw_exec: %s", err);
    sqlite3_close(db);
}

static void integrity_ok(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static sp_err append_range(const char *uri, uint64_t first, size_t n, sp_diag *d)
{
    sp_symtab *syms = tsu_symtab(5);
    sp_store *s = NULL;
    sp_err rc = sp_store_open(uri, 0, &s, d);
    if (rc == SP_OK) {
        sp_event *ev = calloc(n, sizeof(*ev));
        for (size_t i = 0; i < n; i++)
            ev[i] = tsu_event(first + i, 5, 0);
        rc = sp_store_append(s, ev, n, syms, NULL, d);
        free(ev);
    }
    sp_store_close(s);
    sp_symtab_free(syms);
    return rc;
}

static uint64_t count_of(const char *uri)
{
    sp_store *s = NULL;
    sp_diag d = {0};
    uint64_t n = 0;
    if (sp_store_open(uri, SP_STORE_READONLY, &s, &d) != SP_OK)
        fail_msg("reopen %s: %s", uri, d.msg);
    assert_int_equal(sp_store_count(s, NULL, &n, &d), SP_OK);
    sp_store_close(s);
    return n;
}

/* ---- schema ------------------------------------------------------------------ */

static void test_upgrade_from_v1(void **state)
{
    (void)state;
    char dir[128], path[160], uri[200];
    mkstore(dir, sizeof(dir), path, sizeof(path));
    raw_exec(path, sp__store_sqlite_migration(1));
    raw_exec(path, "INSERT INTO schema_version VALUES(1);"
                   "INSERT INTO symbol VALUES(1, 'BTCUSDT');"
                   "INSERT INTO event VALUES(5, 1, 1770336000000000000, 1, 0, 0, 0, 0, 0,"
                   " 10000000000, 0, 0, 0, 0)");
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    sp_store *s = NULL;
    sp_diag d = {0};
    /* read-only cannot upgrade */
    assert_int_equal(sp_store_open(uri, SP_STORE_READONLY, &s, &d), SP_ESCHEMA);
    assert_non_null(strstr(d.msg, "needs an upgrade"));
    assert_int_equal(sp_store_open(uri, 0, &s, &d), SP_OK);
    assert_int_equal(sp_store_opened_version(s), 1);
    assert_int_equal(sp_store_log_ingest(s, "x.csv", 1, 1, 0, &d), SP_OK); /* v2 table */
    sp_store_filter f = {0};
    f.kind = SP_EV_FUNDING;
    f.symbol = "BTCUSDT";
    uint64_t n = 0;
    assert_int_equal(sp_store_count(s, &f, &n, &d), SP_OK);
    assert_int_equal(n, 1);
    sp_store_close(s);
    assert_int_equal(sp_store_open(uri, 0, &s, &d), SP_OK);
    assert_int_equal(sp_store_opened_version(s), SP_STORE_SCHEMA_VERSION);
    sp_store_close(s);
    rmstore(dir);
}

static void test_refuses_newer_and_foreign(void **state)
{
    (void)state;
    char dir[128], path[160], uri[200];
    mkstore(dir, sizeof(dir), path, sizeof(path));
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    sp_diag d = {0};
    assert_int_equal(append_range(uri, 0, 10, &d), SP_OK);
    raw_exec(path, "UPDATE schema_version SET version = 99");
    sp_store *s = NULL;
    assert_int_equal(sp_store_open(uri, 0, &s, &d), SP_ESCHEMA);
    assert_non_null(strstr(d.msg, "newer"));
    assert_null(s);
    rmstore(dir);

    mkstore(dir, sizeof(dir), path, sizeof(path));
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    raw_exec(path, "CREATE TABLE customers(id)");
    assert_int_equal(sp_store_open(uri, 0, &s, &d), SP_ESCHEMA);
    assert_non_null(strstr(d.msg, "not a stampede database"));
    rmstore(dir);

    mkstore(dir, sizeof(dir), path, sizeof(path));
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    FILE *f = fopen(path, "w");
    fputs("this is not a database, just text that is long enough to look like a header....", f);
    fclose(f);
    assert_int_equal(sp_store_open(uri, 0, &s, &d), SP_ESCHEMA);
    assert_non_null(strstr(d.msg, path));
    rmstore(dir);
}

/* ---- environment failures ---------------------------------------------------- */

static void test_read_only_file(void **state)
{
    (void)state;
    char dir[128], path[160], uri[200];
    mkstore(dir, sizeof(dir), path, sizeof(path));
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    sp_diag d = {0};
    assert_int_equal(append_range(uri, 0, 10, &d), SP_OK);
    assert_int_equal(chmod(path, 0444), 0);
    assert_int_equal(chmod(dir, 0555), 0);
    /* root ignores permissions: run the writer as an unprivileged user */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        sp_err rc = append_range(uri, 100, 10, &d);
        fprintf(stderr, "# read-only file: %s\n", d.msg);
        _exit(rc == SP_EIO && strstr(d.msg, "read-only") ? 0 : 11);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(count_of(uri), 10);
    rmstore(dir);
}

static void test_locked_database(void **state)
{
    (void)state;
    char dir[128], path[160], uri[240];
    mkstore(dir, sizeof(dir), path, sizeof(path));
    snprintf(uri, sizeof(uri), "sqlite:%s?busy_ms=50", path);
    sp_diag d = {0};
    assert_int_equal(append_range(uri, 0, 10, &d), SP_OK);
    sqlite3 *lock = NULL;
    assert_int_equal(sqlite3_open(path, &lock), SQLITE_OK);
    assert_int_equal(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(append_range(uri, 100, 10, &d), SP_EBUSY);
    assert_non_null(strstr(d.msg, "lock"));
    /* a reader still reads in WAL mode while the writer holds the lock */
    assert_int_equal(count_of(uri), 10);
    sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(lock);
    assert_int_equal(append_range(uri, 100, 10, &d), SP_OK);
    assert_int_equal(count_of(uri), 20);
    rmstore(dir);
}

static void test_disk_full(void **state)
{
    (void)state;
    faulty_register();
    char dir[128], path[160], uri[200], furi[240];
    mkstore(dir, sizeof(dir), path, sizeof(path));
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    snprintf(furi, sizeof(furi), "sqlite:%s?vfs=sp_faulty", path);
    sp_diag d = {0};
    assert_int_equal(append_range(uri, 0, 100, &d), SP_OK);
    faulty_arm(0, 0, 64 * 1024); /* no file may grow past 64 KiB */
    sp_err rc = append_range(furi, 1000, 20000, &d);
    faulty_arm(0, 0, 0);
    assert_int_equal(rc, SP_EIO);
    assert_non_null(strstr(d.msg, "disk full"));
    integrity_ok(path);
    assert_int_equal(count_of(uri), 100);
    assert_int_equal(append_range(uri, 1000, 20000, &d), SP_OK);
    assert_int_equal(count_of(uri), 20100);
    rmstore(dir);
}

/*
 * do_ioerr_test: for k = 1, 2, ... fail the k-th I/O call of "open the
 * store, append a batch, close" (once, then from k on), until a run
 * completes without reaching k.  After each run the database must pass
 * integrity_check and hold the first batch plus all or none of the second;
 * all of it whenever the append said SP_OK.
 */
static void ioerr_loop(int persist)
{
    faulty_register();
    uint64_t k;
    unsigned failures = 0;
    for (k = 1; k < 2000; k++) {
        char dir[128], path[160], uri[200], furi[240];
        mkstore(dir, sizeof(dir), path, sizeof(path));
        snprintf(uri, sizeof(uri), "sqlite:%s", path);
        snprintf(furi, sizeof(furi), "sqlite:%s?vfs=sp_faulty", path);
        sp_diag d = {0};
        assert_int_equal(append_range(uri, 0, 50, &d), SP_OK);
        faulty_arm(k, persist, 0);
        sp_err rc = append_range(furi, 1000, 300, &d);
        uint64_t injected = fv.injected;
        faulty_arm(0, 0, 0);
        integrity_ok(path);
        uint64_t n = count_of(uri);
        if (rc == SP_OK)
            assert_int_equal(n, 350);
        else {
            assert_true(n == 50 || n == 350);
            assert_true(rc == SP_EIO || rc == SP_ESCHEMA);
            assert_true(d.msg[0] != '\0');
            failures++;
        }
        rmstore(dir);
        if (injected == 0)
            break;
    }
    printf("# ioerr (%s): %llu I/O calls tried, %u runs failed cleanly\n",
           persist ? "persistent" : "transient", (unsigned long long)k, failures);
    assert_true(k > 10 && k < 2000);
    assert_true(failures > 0);
}

static void test_ioerr_transient(void **state)
{
    (void)state;
    ioerr_loop(0);
}

static void test_ioerr_persistent(void **state)
{
    (void)state;
    ioerr_loop(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_from_v1),  cmocka_unit_test(test_refuses_newer_and_foreign),
        cmocka_unit_test(test_read_only_file),   cmocka_unit_test(test_locked_database),
        cmocka_unit_test(test_disk_full),        cmocka_unit_test(test_ioerr_transient),
        cmocka_unit_test(test_ioerr_persistent),
    };
    return cmocka_run_group_tests_name("store (sqlite only)", tests, NULL, NULL);
}
