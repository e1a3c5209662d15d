/*
 * test_bus_nats.c -- the bus API against a real nats-server -js.
 *
 * Started without a server, the program re-runs itself under
 * tests/integration/nats_server.sh (127.0.0.1, free port, temp store dir,
 * stopped by trap).  Checks:
 *   - a publish of several venues, kinds and symbols comes back from a
 *     durable consumer with every event intact (per-subject order kept,
 *     symbols re-interned by name, digest equal);
 *   - a re-publish is acknowledged as duplicates;
 *   - a consumer that fetches without acking gets the same messages again
 *     after the ack wait (redelivered count), and after the ack nothing;
 *   - allocation failure at every step of open, publish, flush, consumer
 *     open, fetch and ack returns SP_ENOMEM and leaks nothing;
 *   - raw publish / pull / ack on a work-queue stream removes the message.
 * In a build without NATS every call answers SP_EUNSUPPORTED (checked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stampede/stampede.h"
#include "testalloc.h"

#define N_EV 3000

static const char *url;
static sp_event ev[N_EV];
static sp_symtab *syms;
static uint64_t want_digest;

/* 3 subjects (venue, kind, symbol) x 1000 events with distinct natural keys. */
static void make_events(void)
{
    uint32_t ids[2];
    assert_int_equal(sp_symtab_new(&syms), SP_OK);
    assert_int_equal(sp_symtab_intern(syms, "BTCUSDT", 7, &ids[0]), SP_OK);
    assert_int_equal(sp_symtab_intern(syms, "ETF:IBIT", 8, &ids[1]), SP_OK);
    want_digest = 0;
    for (uint32_t i = 0; i < N_EV; i++) {
        sp_event *e = &ev[i];
        memset(e, 0, sizeof(*e));
        switch (i % 3) {
        case 0:
            e->kind = SP_EV_TRADE, e->venue = SP_VENUE_BINANCE_UM, e->symbol_id = ids[0];
            break;
        case 1:
            e->kind = SP_EV_LIQUIDATION, e->venue = SP_VENUE_BYBIT, e->symbol_id = ids[0];
            break;
        default:
            e->kind = SP_EV_SERIES, e->venue = SP_VENUE_EXTERNAL, e->symbol_id = ids[1];
            e->sub = 3;
            break;
        }
        e->flags = (uint8_t)(i & 1);
        e->exch_ts_ns = 1770336000000000000LL + (int64_t)i * 1000000;
        e->local_ts_ns = e->exch_ts_ns + 5;
        e->px = 6000000000000LL + i;
        e->qty = 1000 + i;
        e->aux[0] = i + 1;
        e->aux[2] = -(int64_t)i;
        want_digest = sp_bus_digest_add(want_digest, e, sp_symtab_name(syms, e->symbol_id));
    }
}

static sp_bus_opts opts(void)
{
    sp_bus_opts o = sp_bus_opts_default();
    o.timeout_ms = 5000;
    return o;
}

/* Publish ev[] and flush; OUT: stats. */
static sp_err publish_all(sp_bus_pub_stats *st)
{
    sp_bus_opts o = opts();
    sp_bus *b = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_bus_open(url, &o, &b, &d);
    if (rc == SP_OK)
        rc = sp_bus_publish(b, ev, N_EV, syms, &d);
    if (rc == SP_OK)
        rc = sp_bus_flush(b, st, &d);
    sp_bus_close(b);
    return rc;
}

/*
 * Fetch through durable `name` (ack or not) until `want` events came (0: until
 * a fetch times out empty); OUT: events, digest, redelivered.
 */
static sp_err drain(const char *name, int64_t ack_wait_ms, bool ack, uint64_t want, uint64_t *n,
                    uint64_t *dig, uint64_t *redelivered)
{
    sp_bus_opts o = opts();
    sp_bus *b = NULL;
    sp_bus_consumer *c = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    *n = *dig = *redelivered = 0;
    sp_err rc = sp_bus_open(url, &o, &b, &d);
    if (rc == SP_OK)
        rc = sp_bus_consumer_open(b, name, NULL, ack_wait_ms, &c, &d);
    while (rc == SP_OK && (want == 0 || *n < want)) {
        sp_bus_fetched f;
        rc = sp_bus_fetch(c, 16, 500, &f, &d);
        if (rc != SP_OK || f.msgs == 0)
            break;
        const sp_symtab *t = sp_bus_consumer_symtab(c);
        for (size_t i = 0; i < f.n; i++)
            *dig = sp_bus_digest_add(
                *dig, &f.ev[i], f.ev[i].symbol_id ? sp_symtab_name(t, f.ev[i].symbol_id) : NULL);
        *n += f.n;
        *redelivered += f.redelivered;
        if (ack)
            rc = sp_bus_ack(c, &d);
    }
    sp_bus_consumer_close(c);
    sp_bus_close(b);
    return rc;
}

static void test_roundtrip_and_dedup(void **state)
{
    (void)state;
    sp_bus_pub_stats st;
    assert_int_equal(publish_all(&st), SP_OK);
    assert_int_equal(st.events, N_EV);
    assert_int_equal(st.batches, 3); /* one per subject: 1000 < 1024 events */
    assert_int_equal(st.acked, 3);
    /* nothing new: the server recognises every Msg-Id */
    assert_int_equal(publish_all(&st), SP_OK);
    assert_int_equal(st.duplicates, 3);
    uint64_t n, dig, red;
    assert_int_equal(drain("rt", 30000, true, N_EV, &n, &dig, &red), SP_OK);
    assert_int_equal(n, N_EV);
    assert_true(dig == want_digest);
    /* acked: the durable has nothing more */
    assert_int_equal(drain("rt", 30000, true, 0, &n, &dig, &red), SP_OK);
    assert_int_equal(n, 0);
}

static void test_redelivery_without_ack(void **state)
{
    (void)state;
    uint64_t n, dig, red;
    assert_int_equal(drain("noack", 1000, false, N_EV, &n, &dig, &red), SP_OK);
    assert_int_equal(n, N_EV);
    assert_int_equal(red, 0);
    sleep(2); /* past the ack wait */
    assert_int_equal(drain("noack", 1000, true, N_EV, &n, &dig, &red), SP_OK);
    assert_int_equal(n, N_EV);
    assert_int_equal(red, 3);
    assert_true(dig == want_digest);
}

static int step;

/* One full cycle with a fresh durable, so a failed step's unacked messages do not matter. */
static sp_err cycle(void *ctx)
{
    (void)ctx;
    char name[32];
    snprintf(name, sizeof(name), "enomem%d", step++);
    sp_bus_pub_stats st;
    sp_err rc = publish_all(&st);
    if (rc != SP_OK)
        return rc;
    uint64_t n, dig, red;
    rc = drain(name, 30000, true, N_EV, &n, &dig, &red);
    if (rc == SP_OK && (n != N_EV || dig != want_digest))
        return SP_EIO;
    return rc;
}

static void test_enomem(void **state)
{
    (void)state;
    uint64_t steps = sp_test_enomem_loop(cycle, NULL, 200);
    assert_true(steps > 5);
}

static void test_work_queue(void **state)
{
    (void)state;
    sp_bus_opts o = opts();
    o.retries = 2; /* the publish to a subject without a stream below retries "no responders" */
    sp_bus *b = NULL;
    sp_diag d;
    sp_diag_clear(&d);
    assert_int_equal(sp_bus_open(url, &o, &b, &d), SP_OK);
    sp_bus_stream_cfg wq = {"T_WQ", "twq.>", true, 1, 0};
    assert_int_equal(sp_bus_stream_ensure(b, &wq, &d), SP_OK);
    assert_int_equal(sp_bus_stream_ensure(b, &wq, &d), SP_OK); /* exists: kept */
    bool dup = true;
    assert_int_equal(sp_bus_publish_raw(b, "twq.a", "job-1", 5, "id-1", &dup, &d), SP_OK);
    assert_false(dup);
    assert_int_equal(sp_bus_publish_raw(b, "twq.a", "job-1", 5, "id-1", &dup, &d), SP_OK);
    assert_true(dup);
    sp_bus_sub *s = NULL;
    assert_int_equal(sp_bus_sub_open(b, "T_WQ", "twq.>", "wqw", 1000, 0, &s, &d), SP_OK);
    sp_bus_msg *m[4];
    size_t got = 0;
    assert_int_equal(sp_bus_sub_fetch(s, 4, 2000, m, &got, &d), SP_OK);
    assert_int_equal(got, 1);
    size_t len = 0;
    const char *p = sp_bus_msg_data(m[0], &len);
    assert_int_equal(len, 5);
    assert_memory_equal(p, "job-1", 5);
    assert_string_equal(sp_bus_msg_subject(m[0]), "twq.a");
    assert_int_equal(sp_bus_msg_deliveries(m[0]), 1);
    assert_null(sp_bus_msg_header(m[0], "Stampede-Error"));
    assert_int_equal(sp_bus_msg_progress(m[0], &d), SP_OK);
    assert_int_equal(sp_bus_msg_ack(m[0], &d), SP_OK);
    sp_bus_msg_free(m[0]);
    /* acked on a work queue: gone, also after the ack wait */
    sleep(1);
    assert_int_equal(sp_bus_sub_fetch(s, 4, 1500, m, &got, &d), SP_OK);
    assert_int_equal(got, 0);
    sp_bus_sub_close(s);
    assert_int_equal(sp_bus_publish_raw(b, "nostream.x", "x", 1, NULL, NULL, &d), SP_ENOTFOUND);
    sp_bus_close(b);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!sp_bus_is_available()) {
        sp_bus *b = NULL;
        if (sp_bus_open(NULL, NULL, &b, NULL) != SP_EUNSUPPORTED)
            return 1;
        printf("test_bus_nats: built without NATS: every call answers SP_EUNSUPPORTED\n");
        return 0;
    }
    url = getenv("SP_TEST_NATS_URL");
    if (!url) {
        char *av[] = {"bash", (char *)sp_test_path("tests/integration/nats_server.sh"), "run",
                      argv[0], NULL};
        execvp("bash", av);
        perror("test_bus_nats: bash");
        return 2;
    }
    make_events();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_dedup),
        cmocka_unit_test(test_redelivery_without_ack),
        cmocka_unit_test(test_enomem),
        cmocka_unit_test(test_work_queue),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sp_symtab_free(syms);
    return rc;
}
