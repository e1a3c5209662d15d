/*
 * test_core.c -- errors and diagnostics, the allocator hook, arena,
 * bounded buffer, symbol table, calendar, RNG and event names.
 *
 * Every constructor runs under the allocation-failure loop
 * (sp_test_enomem_loop): allocation 1, 2, 3, ... fails until the call
 * succeeds, and each failing step must return SP_ENOMEM and leak nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"

/* ---- errors -------------------------------------------------------------- */

static void test_error_codes_are_pinned(void **state)
{
    (void)state;
    /* Values are part of the ABI and the store: never renumbered. */
    assert_int_equal(SP_OK, 0);
    assert_int_equal(SP_ENOMEM, 1);
    assert_int_equal(SP_EINVAL, 2);
    assert_int_equal(SP_EPARSE, 3);
    assert_int_equal(SP_ERANGE, 4);
    assert_int_equal(SP_EOVERFLOW, 5);
    assert_int_equal(SP_EIO, 6);
    assert_int_equal(SP_ETOOBIG, 7);
    assert_int_equal(SP_EPRECISION, 13);
    assert_int_equal(SP_EGAP, 20);
    for (int e = 0; e < SP_ERR_COUNT_; e++) {
        assert_string_not_equal(sp_strerror((sp_err)e), "unknown error");
        assert_string_not_equal(sp_errname((sp_err)e), "SP_E?");
        assert_int_equal(strncmp(sp_errname((sp_err)e), "SP_", 3), 0);
    }
    assert_string_equal(sp_errname(SP_EOVERFLOW), "SP_EOVERFLOW");
    assert_string_equal(sp_strerror(SP_ENOMEM), "out of memory");
    assert_string_equal(sp_errname((sp_err)9999), "SP_E?");
    assert_string_equal(sp_strerror((sp_err)-1), "unknown error");
}

static void test_diag(void **state)
{
    sp_diag d;
    char out[512];
    (void)state;
    sp_diag_clear(&d);
    assert_int_equal(d.code, SP_OK);
    assert_int_equal(sp_diag_set(&d, SP_EPARSE, "bad %s at %d", "digit", 3), SP_EPARSE);
    assert_string_equal(d.msg, "bad digit at 3");
    d.source = "f.csv";
    d.line = 2;
    d.column = 5;
    sp_diag_field(&d, "qty");
    assert_string_equal(sp_diag_format(&d, out, sizeof(out)),
                        "f.csv:2:5: qty: bad digit at 3 (SP_EPARSE)");
    /* offsets are shown when there is no line */
    d.line = 0;
    d.column = 0;
    d.offset = 77;
    assert_string_equal(sp_diag_format(&d, out, sizeof(out)),
                        "f.csv:@77: qty: bad digit at 3 (SP_EPARSE)");
    /* long messages and fields are cut, never overflowed */
    char longs[1000];
    memset(longs, 'x', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    sp_diag_set(&d, SP_EINVAL, "%s", longs);
    assert_int_equal(strlen(d.msg), SP_DIAG_MSG_MAX - 1);
    sp_diag_field(&d, longs);
    assert_int_equal(strlen(d.field), SP_DIAG_FIELD_MAX - 1);
    char tiny[8];
    sp_diag_format(&d, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), 7);
    /* NULL diag is accepted everywhere */
    assert_int_equal(sp_diag_set(NULL, SP_EIO, "x"), SP_EIO);
    sp_diag_field(NULL, "f");
    sp_diag_clear(NULL);
}

/* ---- allocator ----------------------------------------------------------- */

static void test_allocator_hook(void **state)
{
    (void)state;
    sp_testalloc_install(2);
    void *a = sp_malloc(10);
    assert_non_null(a);
    assert_null(sp_malloc(10)); /* the 2nd call fails */
    void *b = sp_calloc(4, 8);
    assert_non_null(b);
    assert_int_equal(((char *)b)[31], 0);
    assert_int_equal(sp_testalloc_live(), 2);
    assert_null(sp_calloc(SIZE_MAX / 2, 4)); /* overflow: no allocation attempted */
    assert_null(sp_reallocarray(b, SIZE_MAX / 2, 4));
    char *s = sp_strdup("BTCUSDT");
    assert_string_equal(s, "BTCUSDT");
    sp_free(s);
    sp_free(a);
    sp_free(b);
    sp_free(NULL);
    assert_int_equal(sp_testalloc_live(), 0);
    sp_testalloc_uninstall();
}

/* ---- arena --------------------------------------------------------------- */

static sp_err arena_scenario(void *ctx)
{
    (void)ctx;
    sp_arena a;
    sp_arena_init(&a, 128, 4096);
    sp_err rc = SP_OK;
    for (int i = 0; i < 40 && rc == SP_OK; i++) {
        void *p;
        rc = sp_arena_alloc(&a, 50, 8, &p);
        if (rc == SP_OK)
            memset(p, i, 50);
    }
    sp_arena_fini(&a);
    return rc;
}

static void test_arena(void **state)
{
    sp_arena a;
    void *p, *q;
    (void)state;
    sp_arena_init(&a, 256, 1024);
    assert_int_equal(sp_arena_alloc(&a, 10, 64, &p), SP_OK);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_int_equal(sp_arena_alloc(&a, 3, 1, &q), SP_OK);
    assert_int_equal(sp_arena_alloc(&a, 8, 8, &q), SP_OK);
    assert_int_equal((uintptr_t)q % 8, 0);
    assert_int_equal(sp_arena_alloc(&a, 8, 3, &q), SP_EINVAL);
    assert_int_equal(sp_arena_alloc(&a, 8, 128, &q), SP_EINVAL);
    /* bigger than a block: its own block */
    assert_int_equal(sp_arena_alloc(&a, 600, 16, &q), SP_OK);
    assert_int_equal(sp_arena_held(&a), 256 + 600 + 15);
    /* past the ceiling */
    assert_int_equal(sp_arena_alloc(&a, 300, 16, &q), SP_ETOOBIG);
    char *s;
    assert_int_equal(sp_arena_strndup(&a, "ETHUSDT!", 7, &s), SP_OK);
    assert_string_equal(s, "ETHUSDT");
    sp_arena_reset(&a);
    assert_int_equal(sp_arena_held(&a), 256); /* one block kept */
    assert_int_equal(sp_arena_alloc(&a, 100, 16, &q), SP_OK);
    sp_arena_fini(&a);
    assert_int_equal(sp_arena_held(&a), 0);
    /* 40 x 56 bytes past a 4 KiB ceiling: ETOOBIG, not growth */
    assert_int_equal(arena_scenario(NULL), SP_OK);
    sp_arena_init(&a, 0, 0);
    sp_arena_fini(&a);
}

static sp_err arena_small(void *ctx)
{
    (void)ctx;
    sp_arena a;
    sp_arena_init(&a, 64, 1 << 20);
    sp_err rc = SP_OK;
    for (int i = 0; i < 10 && rc == SP_OK; i++) {
        void *p;
        rc = sp_arena_alloc(&a, 40, 8, &p);
    }
    sp_arena_fini(&a);
    return rc;
}

static void test_arena_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(arena_small, NULL, 100) > 1);
}

/* ---- bounded buffer ------------------------------------------------------ */

static void test_buf(void **state)
{
    sp_buf b;
    (void)state;
    sp_buf_init(&b, 16);
    assert_int_equal(sp_buf_puts(&b, "liq "), SP_OK);
    assert_int_equal(sp_buf_printf(&b, "%d@%s", 42, "6e4"), SP_OK);
    assert_string_equal(b.data, "liq 42@6e4");
    assert_int_equal(b.len, 10);
    /* 6 more fit (16), 7 do not: ETOOBIG and unchanged */
    assert_int_equal(sp_buf_append(&b, "1234567", 7), SP_ETOOBIG);
    assert_string_equal(b.data, "liq 42@6e4");
    assert_int_equal(sp_buf_printf(&b, "%s", "1234567"), SP_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_int_equal(sp_buf_append(&b, "123456", 6), SP_OK);
    assert_int_equal(b.len, 16);
    assert_int_equal(sp_buf_putc(&b, 'x'), SP_ETOOBIG);
    sp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    char *w;
    assert_int_equal(sp_buf_reserve(&b, 4, &w), SP_OK);
    memcpy(w, "abcd", 4);
    sp_buf_commit(&b, 4);
    assert_string_equal(b.data, "abcd");
    assert_int_equal(sp_buf_reserve(&b, 13, &w), SP_ETOOBIG);
    assert_int_equal(sp_buf_append(&b, "x", SIZE_MAX), SP_ETOOBIG);
    sp_buf_fini(&b);
    assert_null(b.data);
}

static sp_err buf_scenario(void *ctx)
{
    (void)ctx;
    sp_buf b;
    sp_buf_init(&b, 1 << 20);
    sp_err rc = SP_OK;
    for (int i = 0; i < 200 && rc == SP_OK; i++)
        rc = sp_buf_printf(&b, "event %d,", i);
    if (rc == SP_OK && b.len != 1890)
        rc = SP_EINVAL;
    sp_buf_fini(&b);
    return rc;
}

static void test_buf_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(buf_scenario, NULL, 100) > 1);
}

/* ---- symbol table -------------------------------------------------------- */

static void test_symtab(void **state)
{
    sp_symtab *t;
    uint32_t id, id2;
    (void)state;
    assert_int_equal(sp_symtab_new(&t), SP_OK);
    assert_int_equal(sp_symtab_intern(t, "BTCUSDT", 7, &id), SP_OK);
    assert_int_equal(id, 1);
    assert_int_equal(sp_symtab_intern(t, "ETHUSDTxx", 7, &id2), SP_OK);
    assert_int_equal(id2, 2);
    assert_int_equal(sp_symtab_intern(t, "BTCUSDT", 7, &id), SP_OK);
    assert_int_equal(id, 1);
    assert_int_equal(sp_symtab_find(t, "ETHUSDT", 7), 2);
    assert_int_equal(sp_symtab_find(t, "ETHUSD", 6), 0);
    assert_int_equal(sp_symtab_find(t, "SOLUSDT", 7), 0);
    assert_string_equal(sp_symtab_name(t, 2), "ETHUSDT");
    assert_null(sp_symtab_name(t, 0));
    assert_null(sp_symtab_name(t, 3));
    /* bad names */
    assert_int_equal(sp_symtab_intern(t, "", 0, &id), SP_EINVAL);
    assert_int_equal(sp_symtab_intern(t, "BTC USDT", 8, &id), SP_EINVAL);
    assert_int_equal(sp_symtab_intern(t, "BTC\nUSDT", 8, &id), SP_EINVAL);
    assert_int_equal(sp_symtab_intern(t, "\xc3\xa9", 2, &id), SP_EINVAL);
    char longname[SP_SYMBOL_MAX + 2];
    memset(longname, 'A', sizeof(longname));
    assert_int_equal(sp_symtab_intern(t, longname, SP_SYMBOL_MAX + 1, &id), SP_EINVAL);
    assert_int_equal(sp_symtab_intern(t, longname, SP_SYMBOL_MAX, &id), SP_OK);
    /* many symbols force several rehashes; every id still resolves */
    char name[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof(name), "SYM%dUSDT", i);
        assert_int_equal(sp_symtab_intern(t, name, (size_t)n, &id), SP_OK);
    }
    assert_int_equal(sp_symtab_count(t), 5003);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof(name), "SYM%dUSDT", i);
        id = sp_symtab_find(t, name, (size_t)n);
        assert_int_equal(id, (uint32_t)i + 4);
        assert_string_equal(sp_symtab_name(t, id), name);
    }
    sp_symtab_free(t);
    sp_symtab_free(NULL);
}

static sp_err symtab_scenario(void *ctx)
{
    (void)ctx;
    sp_symtab *t;
    sp_err rc = sp_symtab_new(&t);
    if (rc != SP_OK)
        return rc;
    char name[32];
    for (int i = 0; i < 100 && rc == SP_OK; i++) {
        uint32_t id;
        int n = snprintf(name, sizeof(name), "S%d", i);
        rc = sp_symtab_intern(t, name, (size_t)n, &id);
        if (rc == SP_OK && id != (uint32_t)i + 1)
            rc = SP_EINVAL;
    }
    /* after a failure the table is still whole and usable */
    for (uint32_t id = 1; id <= sp_symtab_count(t); id++) {
        const char *nm = sp_symtab_name(t, id);
        if (nm == NULL || sp_symtab_find(t, nm, strlen(nm)) != id)
            rc = SP_EINVAL;
    }
    sp_symtab_free(t);
    return rc;
}

static void test_symtab_enomem(void **state)
{
    (void)state;
    assert_true(sp_test_enomem_loop(symtab_scenario, NULL, 1000) > 3);
}

/* ---- calendar and clocks ------------------------------------------------- */

static void test_calendar(void **state)
{
    int64_t days, ns;
    int y, m, d;
    char out[40];
    (void)state;
    /* reference values from an independent calendar (Python's datetime) */
    assert_int_equal(sp_date_to_days(1970, 1, 1, &days), SP_OK);
    assert_int_equal(days, 0);
    assert_int_equal(sp_date_to_days(2026, 2, 6, &days), SP_OK);
    assert_int_equal(days, 20490);
    assert_int_equal(sp_date_to_days(2000, 2, 29, &days), SP_OK);
    assert_int_equal(days, 11016);
    assert_int_equal(sp_date_to_days(1, 1, 1, &days), SP_OK);
    assert_int_equal(days, -719162);
    assert_int_equal(sp_date_to_days(9999, 12, 31, &days), SP_OK);
    assert_int_equal(days, 2932896);
    assert_int_equal(sp_date_to_days(2026, 2, 29, &days), SP_EINVAL);
    assert_int_equal(sp_date_to_days(1900, 2, 29, &days), SP_EINVAL);
    assert_int_equal(sp_date_to_days(2026, 13, 1, &days), SP_EINVAL);
    assert_int_equal(sp_date_to_days(2026, 4, 31, &days), SP_EINVAL);
    /* every day of 400 years round-trips */
    for (int64_t k = -200 * 366; k < 200 * 366; k++) {
        sp_days_to_date(k, &y, &m, &d);
        assert_int_equal(sp_date_to_days(y, m, d, &days), SP_OK);
        assert_int_equal(days, k);
    }
    const char *s = "2026-02-06T04:00:00.123Z";
    assert_int_equal(sp_time_parse_iso(s, strlen(s), &ns), SP_OK);
    assert_int_equal(ns, (20490LL * 86400 + 4 * 3600) * 1000000000LL + 123000000LL);
    assert_string_equal(sp_time_format_iso(ns, out, sizeof(out)), s);
    s = "2025-10-06 00:00:00+00:00";
    assert_int_equal(sp_time_parse_iso(s, strlen(s), &ns), SP_OK);
    assert_string_equal(sp_time_format_iso(ns, out, sizeof(out)), "2025-10-06T00:00:00.000Z");
    assert_int_equal(sp_time_parse_iso("2026-02-06", 10, &ns), SP_OK);
    assert_int_equal(ns, 20490LL * 86400 * 1000000000LL);
    static const char *bad[] = {"2026-2-06",
                                "2026-02-06T",
                                "2026-02-06T25:00:00",
                                "2026-02-30",
                                "2026/02/06",
                                "2026-02-06T00:00:00+01:00",
                                "2026-02-06T00:00:00.",
                                "x",
                                ""};
    for (size_t i = 0; i < SP_COUNTOF(bad); i++)
        assert_int_equal(sp_time_parse_iso(bad[i], strlen(bad[i]), &ns), SP_EPARSE);
    /* int64 nanoseconds end at 2262-04-11T23:47:16.854775807Z: later dates are
     * out of range, not a wrapped value (found by fuzz_engine_log) */
    assert_int_equal(sp_time_parse_iso("2262-04-11T23:47:16", 19, &ns), SP_OK);
    assert_int_equal(sp_time_parse_iso("2262-04-11T23:47:17", 19, &ns), SP_ERANGE);
    assert_int_equal(sp_time_parse_iso("2426-02-08T00:00:00", 19, &ns), SP_ERANGE);
    assert_int_equal(sp_time_parse_iso("9999-12-31", 10, &ns), SP_ERANGE);
    assert_int_equal(sp_time_parse_iso("1677-09-21T00:12:44", 19, &ns), SP_OK);
    assert_int_equal(sp_time_parse_iso("1677-09-21T00:12:43", 19, &ns), SP_ERANGE);
    sp_time_format_iso(-1, out, sizeof(out));
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    int64_t t0 = sp_clock_mono_ns(), t1 = sp_clock_mono_ns();
    assert_true(t1 >= t0);
    assert_true(sp_clock_real_ns() > INT64_C(1700000000) * 1000000000);
}

/* ---- RNG ----------------------------------------------------------------- */

static void test_rng_reference(void **state)
{
    (void)state;
    /* splitmix64 seed 42 (the W1 generator of perf-anchors.md §1.2) and
     * xoshiro256** seeded with 1, against an independent implementation */
    uint64_t s = 42;
    assert_true(sp_splitmix64(&s) == 0xbdd732262feb6e95ull);
    assert_true(sp_splitmix64(&s) == 0x28efe333b266f103ull);
    assert_true(sp_splitmix64(&s) == 0x47526757130f9f52ull);
    sp_rng r;
    sp_rng_seed(&r, 1);
    assert_true(sp_rng_next(&r) == 0xb3f2af6d0fc710c5ull);
    assert_true(sp_rng_next(&r) == 0x853b559647364ceaull);
    assert_true(sp_rng_next(&r) == 0x92f89756082a4514ull);
    /* below(): in range, and every residue appears */
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t v = sp_rng_below(&r, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 800 && seen[i] < 1200);
    assert_true(sp_rng_below(&r, 0) == 0);
    /* jump gives a different stream; same seed gives the same stream */
    sp_rng a, b;
    sp_rng_seed(&a, 9);
    sp_rng_seed(&b, 9);
    sp_rng_jump(&b);
    assert_true(sp_rng_next(&a) != sp_rng_next(&b));
    sp_rng_seed(&a, 9);
    sp_rng_seed(&b, 9);
    for (int i = 0; i < 100; i++)
        assert_true(sp_rng_next(&a) == sp_rng_next(&b));
}

/* ---- events -------------------------------------------------------------- */

/* FNV-1a: published vectors; the int64 fold hashes little-endian bytes. */
static void test_hash(void **state)
{
    (void)state;
    assert_true(sp_fnv1a64("", 0, SP_FNV64_OFFSET) == 0xcbf29ce484222325ull);
    assert_true(sp_fnv1a64("a", 1, SP_FNV64_OFFSET) == 0xaf63dc4c8601ec8cull);
    assert_true(sp_fnv1a64("foobar", 6, SP_FNV64_OFFSET) == 0x85944171f73967e8ull);
    const unsigned char le[8] = {0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x81};
    int64_t v = (int64_t)0x8102030405060708ull;
    assert_true(sp_fnv1a64_i64(SP_FNV64_OFFSET, v) == sp_fnv1a64(le, 8, SP_FNV64_OFFSET));
    /* continuing from h equals hashing the concatenation */
    assert_true(sp_fnv1a64("bar", 3, sp_fnv1a64("foo", 3, SP_FNV64_OFFSET)) ==
                sp_fnv1a64("foobar", 6, SP_FNV64_OFFSET));
    int64_t id = sp_id_hash63("a", 1);
    assert_true(id > 0 && (uint64_t)id == (0xaf63dc4c8601ec8cull & 0x7fffffffffffffffull));
}

static void test_event_names(void **state)
{
    (void)state;
    assert_int_equal(sizeof(sp_event), 64);
    assert_int_equal(offsetof(sp_event, exch_ts_ns), 8);
    assert_int_equal(offsetof(sp_event, aux), 40);
    for (unsigned k = 1; k < SP_EV_KIND_COUNT_; k++)
        assert_int_equal(sp_event_kind_from_name(sp_event_kind_name(k)), k);
    for (unsigned v = 1; v < SP_VENUE_COUNT_; v++)
        assert_int_equal(sp_venue_from_name(sp_venue_name(v)), v);
    assert_string_equal(sp_event_kind_name(SP_EV_LIQUIDATION), "liquidation");
    assert_string_equal(sp_venue_name(SP_VENUE_BYBIT), "bybit");
    assert_string_equal(sp_event_kind_name(200), "?");
    assert_int_equal(sp_event_kind_from_name("nope"), SP_EV_NONE);
    assert_int_equal(sp_kline_interval_from_name("4h"), 8);
    assert_int_equal(sp_kline_interval_secs(sp_kline_interval_from_name("1d")), 86400);
    assert_string_equal(sp_kline_interval_name(1), "1m");
    assert_int_equal(sp_kline_interval_from_name("7m"), 0);
    assert_string_equal(sp_version(), SP_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_codes_are_pinned),
        cmocka_unit_test(test_diag),
        cmocka_unit_test(test_allocator_hook),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_arena_enomem),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_buf_enomem),
        cmocka_unit_test(test_symtab),
        cmocka_unit_test(test_symtab_enomem),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_rng_reference),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_event_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
