/*
 * routes_sim.c -- POST /api/v1/simulate: one bounded cascade simulation.
 *
 * The body is a small JSON object (jansson) with the population's size,
 * open interest, long share, leverage mix, market depth and up to
 * SP_API_SIM_SCEN_MAX shocks.  Work is bounded four ways: positions are
 * capped (SP_API_SIM_POS_MAX), shocks are capped, each request has a time
 * limit (checked between scenarios: past it the answer is a 503
 * "time_limit" instead of a late one), and requests wait in a bounded
 * queue served by one worker thread -- when the queue is full the answer
 * is 429 at once.  The HTTP worker threads never run a simulation: the
 * connection is suspended while its job waits and runs, and resumed by
 * the simulation worker when the answer is ready, so cached GETs keep
 * flowing during a simulation.
 *
 * Inputs fixed at start (sp__api_sim_init): the Binance USD-M BTCUSDT
 * rules and the tier table in force on 2026-02-05, entry-price history
 * (the shipped Binance spot 4h klines of the 30 days before 2026-02-05)
 * and the shipped Bybit BTCUSDT book snapshot re-centred on the start
 * price -- the same setup as `stampede simulate`'s defaults.  Each job
 * generates its population (sp_sim_pop_generate, fixed seed) and runs
 * sp_sim_decompose per shock: waves, liquidated notional and the
 * amplification (total move / exogenous move).
 */
#include <jansson.h>
#include <microhttpd.h>
#include <string.h>

#include "api/api_int.h"
#include "stampede/alloc.h"
#include "stampede/clock.h"

#define AT_MS     (INT64_C(20489) * 86400000) /* 2026-02-05 00:00 UTC */
#define ONE       INT64_C(100000000)
#define WAVES_MAX 64

typedef struct sim_params {
    int64_t n;          /* positions */
    int64_t oi_musd;    /* open interest, US$ millions */
    int64_t long_pct;   /* 0..100 */
    int64_t depth_musd; /* book depth within 1% of mid, US$ millions */
    int64_t thin_pct;   /* depth withdrawn, 0..99 */
    int64_t seed;
    int64_t mix; /* 0 default, 1 low, 2 high */
    int64_t shock_bp[SP_API_SIM_SCEN_MAX];
    size_t nshock;
} sim_params;

typedef enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE } job_state;

typedef struct job {
    sim_params p;
    job_state state;
    bool abandoned;             /* the request ended first: the worker frees the job */
    struct MHD_Connection *con; /* suspended connection */
    int64_t deadline_ns;        /* monotonic */
    int64_t enqueued_ns;
    unsigned status; /* answer */
    sp_buf out;      /* answer body (JSON) */
    struct job *next;
} job;

struct sp__api_simq {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thr;
    bool thr_started;
    bool stop;
    job *head, *tail; /* queued jobs */
    unsigned queued;
};

/* ---- the worker -------------------------------------------------------------------- */

static void job_free(job *j)
{
    sp_buf_fini(&j->out);
    sp_free(j);
}

static void jerr(job *jb, unsigned status, const char *err, const char *detail)
{
    sp__api_out o;
    memset(&o, 0, sizeof(o));
    o.body = jb->out;
    sp__api_error(&o, status, err, NULL, detail);
    jb->out = o.body;
    jb->status = status;
}

static void fmt8(sp__json *j, int64_t v)
{
    sp__api_jdecnum(j, v, 8);
}

/* Run one job into jb->out (status and JSON). */
static void run(sp_api_server *s, job *jb)
{
    const sp__api_simenv *env = &s->sim;
    const sim_params *p = &jb->p;
    int64_t t0 = sp_clock_mono_ns();
    sp_sim_pop *pop = NULL;
    sp_sim_market *mkt = NULL;
    sp_diag d = {0};
    char msg[512];
    sp_sim_lev_bucket mix[SP_SIM_LEV_BUCKETS_MAX];
    sp_sim_pop_cfg c = sp_sim_pop_cfg_default();
    c.venue = env->venue;
    c.n = (uint64_t)p->n;
    c.oi_usd = p->oi_musd * 1000000 * ONE;
    c.long_bp = (uint32_t)(p->long_pct * 100);
    c.nlev = sp_sim_lev_mix((unsigned)p->mix, mix, SP_COUNTOF(mix));
    c.lev = mix;
    c.bars = env->bars;
    c.nbars = env->nbars;
    c.mark_px = env->start_px;
    c.seed = (uint64_t)p->seed;
    if (sp_sim_pop_generate(&c, &pop, &d) != SP_OK) {
        jerr(jb, 400, "bad_parameter", sp_diag_format(&d, msg, sizeof(msg)));
        return;
    }
    sp_sim_market_cfg m = sp_sim_market_cfg_default();
    m.mid_px = env->start_px;
    m.bids = env->bids;
    m.nbids = env->nb;
    m.asks = env->asks;
    m.nasks = env->na;
    m.depth_1pct_usd = p->depth_musd * 1000000 * ONE;
    m.tick = env->venue.inst->tick;
    if (sp_sim_market_new(&m, &mkt, &d) != SP_OK) {
        sp_sim_pop_free(pop);
        jerr(jb, 400, "bad_parameter", sp_diag_format(&d, msg, sizeof(msg)));
        return;
    }
    sp_sim_pop_info info;
    sp_sim_pop_info_get(pop, &info);
    sp__json j = {&jb->out, SP_OK};
    sp__api_jfmt(&j, "{\"positions\":%llu,\"start_px\":", (unsigned long long)info.n);
    fmt8(&j, env->start_px);
    sp__api_jraw(&j, ",\"oi_long\":");
    fmt8(&j, info.oi_long);
    sp__api_jraw(&j, ",\"oi_short\":");
    fmt8(&j, info.oi_short);
    sp__api_jraw(&j, ",\"scenarios\":[");
    sp_sim_wave waves[WAVES_MAX];
    for (size_t i = 0; i < p->nshock; i++) {
        if (sp_clock_mono_ns() > jb->deadline_ns) {
            sp_buf_reset(&jb->out);
            jerr(jb, 503, "time_limit",
                 "the simulation passed its time limit; use fewer "
                 "positions or shocks");
            goto out;
        }
        sp_sim_shock sh = sp_sim_shock_default();
        sh.move_bp = (int32_t)p->shock_bp[i];
        sh.thin_bp = (uint32_t)(p->thin_pct * 100);
        sp_sim_decomp dc;
        if (sp_sim_decompose(pop, mkt, &sh, waves, WAVES_MAX, &dc, &d) != SP_OK) {
            sp_buf_reset(&jb->out);
            jerr(jb, 400, "bad_parameter", sp_diag_format(&d, msg, sizeof(msg)));
            goto out;
        }
        const sp_sim_result *w = &dc.with;
        sp__api_jfmt(&j, "%s{\"shock_bp\":%lld,\"move_exo_bp\":%lld,\"move_total_bp\":%lld,",
                     i ? "," : "", (long long)p->shock_bp[i], (long long)dc.move_exo_bp,
                     (long long)dc.move_total_bp);
        sp__api_jraw(&j, "\"amplification\":");
        sp__api_jdecnum(&j, dc.amplification_milli, 3);
        sp__api_jfmt(&j, ",\"endogenous_bp\":%lld,\"liquidated\":%llu,\"liquidated_without\":%llu,",
                     (long long)dc.endogenous_bp, (unsigned long long)w->n_liq,
                     (unsigned long long)dc.without.n_liq);
        sp__api_jraw(&j, "\"notional\":");
        fmt8(&j, w->notional);
        sp__api_jraw(&j, ",\"shock_px\":");
        fmt8(&j, w->shock_px);
        sp__api_jraw(&j, ",\"final_px\":");
        fmt8(&j, w->final_px);
        sp__api_jraw(&j, ",\"extreme_px\":");
        fmt8(&j, w->extreme_px);
        sp__api_jfmt(&j, ",\"waves_total\":%u,\"truncated\":%s,\"waves\":[", w->waves,
                     w->truncated ? "true" : "false");
        size_t nw = w->waves < WAVES_MAX ? w->waves : WAVES_MAX;
        for (size_t k = 0; k < nw; k++) {
            sp__api_jfmt(&j, "%s{\"n\":%u,\"notional\":", k ? "," : "", waves[k].n);
            fmt8(&j, waves[k].notional);
            sp__api_jraw(&j, ",\"px_trigger\":");
            fmt8(&j, waves[k].px_trigger);
            sp__api_jraw(&j, ",\"px_after\":");
            fmt8(&j, waves[k].px_after);
            sp__api_jraw(&j, "}");
        }
        sp__api_jraw(&j, "]}");
    }
    sp__api_jfmt(&j, "],\"queued_ms\":%lld,\"elapsed_ms\":%lld}",
                 (long long)((t0 - jb->enqueued_ns) / 1000000),
                 (long long)((sp_clock_mono_ns() - t0) / 1000000));
    if (j.e != SP_OK) {
        sp_buf_reset(&jb->out);
        jerr(jb, 503, "unavailable", "out of memory");
    } else {
        jb->status = 200;
    }
out:
    sp_sim_market_free(mkt);
    sp_sim_pop_free(pop);
}

static void *worker(void *arg)
{
    sp_api_server *s = arg;
    sp__api_simq *q = s->simq;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->stop && q->head == NULL)
            pthread_cond_wait(&q->cv, &q->mu);
        job *jb = q->head;
        if (jb == NULL)
            break; /* stopping and nothing left */
        q->head = jb->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->queued--;
        jb->state = JOB_RUNNING;
        bool stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop)
            jerr(jb, 503, "unavailable", "the server is stopping");
        else
            run(s, jb);
        pthread_mutex_lock(&q->mu);
        jb->state = JOB_DONE;
        if (jb->abandoned)
            job_free(jb);
        else
            MHD_resume_connection(jb->con);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* ---- the route ------------------------------------------------------------------------ */

/* An integer member of the body in [min, max], default dflt.  false after a 400. */
static bool jint(json_t *root, const char *key, int64_t min, int64_t max, int64_t dflt,
                 int64_t *out, sp__api_out *o)
{
    json_t *v = json_object_get(root, key);
    *out = dflt;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char why[96];
        snprintf(why, sizeof(why), "want an integer in [%lld, %lld]", (long long)min,
                 (long long)max);
        sp__api_error(o, 400, "bad_parameter", key, why);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static bool parse(const sp__api_req *r, sim_params *p, sp__api_out *o)
{
    static const char *const known[] = {"positions",  "oi_musd",    "long_pct",
                                        "depth_musd", "thin_pct",   "seed",
                                        "lev_mix",    "shocks_pct", NULL};
    json_error_t je;
    json_t *root = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL || !json_is_object(root)) {
        char why[256];
        snprintf(why, sizeof(why), "body is not a JSON object: %s (at byte %d)",
                 root ? "not an object" : je.text, root ? 0 : je.position);
        sp__api_error(o, 400, "bad_body", NULL, why);
        json_decref(root);
        return false;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (!known[k]) {
            sp__api_error(o, 400, "bad_parameter", key, "unknown member (see openapi.json)");
            json_decref(root);
            return false;
        }
    }
    bool ok = jint(root, "positions", 1, SP_API_SIM_POS_MAX, 20000, &p->n, o) &&
              jint(root, "oi_musd", 1, 1000000, 8000, &p->oi_musd, o) &&
              jint(root, "long_pct", 0, 100, 50, &p->long_pct, o) &&
              jint(root, "depth_musd", 1, 1000000, 50, &p->depth_musd, o) &&
              jint(root, "thin_pct", 0, 99, 0, &p->thin_pct, o) &&
              jint(root, "seed", 0, INT32_MAX, 7, &p->seed, o);
    json_t *mix = json_object_get(root, "lev_mix");
    p->mix = 0;
    if (ok && mix) {
        const char *ms = json_string_value(mix);
        if (ms && strcmp(ms, "default") == 0)
            p->mix = 0;
        else if (ms && strcmp(ms, "low") == 0)
            p->mix = 1;
        else if (ms && strcmp(ms, "high") == 0)
            p->mix = 2;
        else {
            sp__api_error(o, 400, "bad_parameter", "lev_mix", "want default, low or high");
            ok = false;
        }
    }
    json_t *sh = json_object_get(root, "shocks_pct");
    if (ok && sh == NULL) {
        p->shock_bp[0] = -800;
        p->nshock = 1;
    } else if (ok) {
        size_t n = json_is_array(sh) ? json_array_size(sh) : 0;
        if (n == 0 || n > SP_API_SIM_SCEN_MAX) {
            sp__api_error(o, 400, "bad_parameter", "shocks_pct",
                          "want an array of 1..16 shocks in percent, e.g. [-8]");
            ok = false;
        }
        for (size_t i = 0; ok && i < n; i++) {
            json_t *x = json_array_get(sh, i);
            double v = json_is_number(x) ? json_number_value(x) : 0;
            if (!json_is_number(x) || !(v >= -99 && v <= 99) || v == 0) {
                sp__api_error(o, 400, "bad_parameter", "shocks_pct",
                              "each shock is a non-zero number of percent in [-99, 99]");
                ok = false;
                break;
            }
            /* percent to basis points, rounded to the nearest bp */
            p->shock_bp[i] = (int64_t)(v * 100 + (v < 0 ? -0.5 : 0.5));
            if (p->shock_bp[i] == 0)
                p->shock_bp[i] = v < 0 ? -1 : 1;
        }
        p->nshock = n;
    }
    json_decref(root);
    if (ok && (uint64_t)p->n * p->nshock > (uint64_t)SP_API_SIM_POS_MAX * 4) {
        sp__api_error(o, 400, "bad_parameter", "positions",
                      "positions x shocks above 800000: use fewer of either");
        ok = false;
    }
    return ok;
}

void sp__api_route_simulate(sp__api_req *r, sp__api_out *o)
{
    sp_api_server *s = r->srv;
    sp__api_simq *q = s->simq;
    if (r->sim != NULL) { /* resumed: the worker has written the answer */
        job *jb = r->sim;
        o->status = jb->status;
        sp_buf_reset(&o->body);
        if (sp_buf_append(&o->body, jb->out.data ? jb->out.data : "", jb->out.len) != SP_OK)
            sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return;
    }
    static const char *const none[] = {NULL};
    if (!sp__api_p_only(r, o, none))
        return;
    if (!s->sim.ok) {
        sp__api_error(o, 503, "unavailable", NULL, "no simulator inputs (serve --data DIR)");
        return;
    }
    sim_params p;
    memset(&p, 0, sizeof(p));
    if (!parse(r, &p, o))
        return;
    job *jb = sp_calloc(1, sizeof(*jb));
    if (jb == NULL) {
        sp__api_error(o, 503, "unavailable", NULL, "out of memory");
        return;
    }
    jb->p = p;
    jb->con = r->con;
    sp_buf_init(&jb->out, 8u << 20);
    jb->enqueued_ns = sp_clock_mono_ns();
    jb->deadline_ns = jb->enqueued_ns + (int64_t)s->cfg.sim_time_ms * 1000000;
    pthread_mutex_lock(&q->mu);
    if (q->stop || q->queued >= s->cfg.sim_queue) {
        pthread_mutex_unlock(&q->mu);
        job_free(jb);
        char why[96];
        snprintf(why, sizeof(why), "%u simulations already waiting; retry later", s->cfg.sim_queue);
        sp__api_error(o, 429, "too_many_requests", NULL, why);
        return;
    }
    if (q->tail)
        q->tail->next = jb;
    else
        q->head = jb;
    q->tail = jb;
    q->queued++;
    r->sim = jb;
    MHD_suspend_connection(r->con);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    o->status = 0; /* answered after resume */
}

void sp__api_sim_forget(sp__api_req *r)
{
    job *jb = r->sim;
    if (jb == NULL)
        return;
    sp__api_simq *q = r->srv->simq;
    pthread_mutex_lock(&q->mu);
    if (jb->state == JOB_DONE)
        job_free(jb);
    else
        jb->abandoned = true;
    pthread_mutex_unlock(&q->mu);
    r->sim = NULL;
}

/* ---- setup ------------------------------------------------------------------------------ */

/*
 * Load the fixed inputs.  A missing piece only turns the simulator off
 * (503); running out of memory fails the start (SP_ENOMEM).
 */
static sp_err load_env(sp_api_server *s)
{
    sp__api_simenv *e = &s->sim;
    char path[4096];
    sp_diag d = {0};
    if (s->cfg.data_dir == NULL)
        return SP_OK;
    if (s->rules) {
        e->venue.inst = sp_rules_db_instrument(s->rules, SP_VENUE_BINANCE_UM, "BTCUSDT");
        e->venue.tiers =
            sp_rules_db_tiers(s->rules, SP_VENUE_BINANCE_UM, "BTCUSDT", 20260205, false);
    }
    if (e->venue.inst == NULL)
        e->venue = sp_sim_venue_builtin();
    snprintf(path, sizeof(path), "%s/binance_spot_klines/BTCUSDT_4h.csv", s->cfg.data_dir);
    sp_err rc =
        sp_sim_load_bars(path, AT_MS - 30 * INT64_C(86400000), AT_MS, &e->bars, &e->nbars, &d);
    if (rc == SP_ENOMEM)
        return rc;
    if (rc != SP_OK) {
        if (!s->cfg.quiet) {
            char msg[512];
            fprintf(stderr, "stampede serve: note: %s (the simulator is off)\n",
                    sp_diag_format(&d, msg, sizeof(msg)));
        }
        return SP_OK;
    }
    e->start_px = e->bars[e->nbars - 1].close;
    e->start_px -= e->start_px % e->venue.inst->tick;
    snprintf(path, sizeof(path), "%s/cryptofeed_bybit_v5_raw/BYBIT.jsonl", s->cfg.data_dir);
    sp_diag_clear(&d);
    rc = sp_sim_load_snapshot(path, "BTCUSDT", &e->bids, &e->nb, &e->asks, &e->na, &d);
    if (rc == SP_ENOMEM)
        return rc;
    if (rc != SP_OK) {
        e->bids = e->asks = NULL; /* the square-root model alone */
        e->nb = e->na = 0;
    }
    e->ok = true;
    return SP_OK;
}

sp_err sp__api_sim_init(sp_api_server *s, sp_diag *d)
{
    if (load_env(s) != SP_OK)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    sp__api_simq *q = sp_calloc(1, sizeof(*q));
    if (q == NULL)
        return sp_diag_set(d, SP_ENOMEM, "out of memory");
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    s->simq = q;
    if (pthread_create(&q->thr, NULL, worker, s) != 0)
        return sp_diag_set(d, SP_ENOMEM, "cannot start the simulation thread");
    q->thr_started = true;
    return SP_OK;
}

/*
 * Stop the worker: queued jobs are answered 503 and their connections
 * resumed, so the daemon can close them.  Called before MHD_stop_daemon.
 */
void sp__api_sim_drain(sp_api_server *s)
{
    sp__api_simq *q = s->simq;
    if (q == NULL || !q->thr_started)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thr, NULL);
    q->thr_started = false;
}

void sp__api_sim_fini(sp_api_server *s)
{
    sp__api_simq *q = s->simq;
    sp__api_sim_drain(s);
    if (q) {
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->cv);
        sp_free(q);
        s->simq = NULL;
    }
    sp_free(s->sim.bars);
    sp_free(s->sim.bids);
    sp_free(s->sim.asks);
    memset(&s->sim, 0, sizeof(s->sim));
}
