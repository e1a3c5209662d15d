/*
 * mc.c -- the Monte Carlo stress driver: K scenarios on T threads.
 *
 * Each scenario draws, from its own RNG stream seeded from (seed, index)
 * (sp__sim_stream), the shock magnitude (uniform integer bp in [min, max]),
 * its direction (a fall with probability down_bp), the depth thinning
 * (uniform in [0, thin_max]) and the population variant (the leverage-mix
 * range, one pre-built population per variant), then runs the fast
 * cascade on the shared, read-only population and market.  Workers take
 * scenario indices from an atomic counter and write row i only, so rows
 * and the summary are identical whatever the number of threads.  The
 * summary sorts copies of the columns for quantiles (lower nearest rank).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

static const uint32_t quantile_bp[SP_SIM_MC_QUANTILES] = {500, 2500, 5000, 7500, 9500, 9900};
static const uint32_t threshold_bp[SP_SIM_MC_THRESHOLDS] = {500, 1000, 1500, 2000, 3000};

/* The i-th reported quantile level in bp (500 = 5%), 0 past the end. */
uint32_t sp_sim_mc_quantile_bp(unsigned i)
{
    return i < SP_SIM_MC_QUANTILES ? quantile_bp[i] : 0;
}

/* The i-th fall threshold in bp (500 = a 5% fall), 0 past the end. */
uint32_t sp_sim_mc_threshold_bp(unsigned i)
{
    return i < SP_SIM_MC_THRESHOLDS ? threshold_bp[i] : 0;
}

/* The documented scenario distribution (docs/internals/sim.md, Monte Carlo). */
sp_sim_mc_cfg sp_sim_mc_cfg_default(void)
{
    sp_sim_mc_cfg c;
    memset(&c, 0, sizeof(c));
    c.k = 1000;
    c.threads = 1;
    c.seed = 1;
    c.shock_min_bp = 100;
    c.shock_max_bp = 1500;
    c.down_bp = 7000;
    c.thin_max_bp = 8000;
    c.insurance_usd = (int64_t)1000000000 * SP__SIM_ONE;
    return c;
}

typedef struct mc_job {
    const sp_sim_mc_cfg *cfg;
    sp_sim_mc_row *rows;  /* rows[i] is scenario first + i */
    uint32_t first;       /* first scenario index of the range */
    uint32_t count;       /* scenarios in the range */
    uint32_t next;        /* next offset in the range to take (atomic) */
    uint32_t done;        /* scenarios finished (under lock) */
    pthread_mutex_t lock; /* progress and the first error */
    sp_err rc;            /* error of the lowest failing scenario */
    uint32_t rc_at;       /* its index */
    sp_diag diag;         /* its diagnostic */
} mc_job;

/* Run scenario i into *row. */
static sp_err one(const sp_sim_mc_cfg *c, uint32_t i, sp_sim_mc_row *row, sp_diag *d)
{
    sp_rng r;
    sp__sim_stream(&r, c->seed, i);
    uint32_t mag = c->shock_min_bp +
                   (uint32_t)sp_rng_below(&r, (uint64_t)(c->shock_max_bp - c->shock_min_bp) + 1);
    bool down = sp_rng_below(&r, 10000) < c->down_bp;
    uint32_t thin = (uint32_t)sp_rng_below(&r, (uint64_t)c->thin_max_bp + 1);
    uint32_t pop = (uint32_t)sp_rng_below(&r, c->npops);
    sp_sim_shock s = sp_sim_shock_default();
    s.move_bp = down ? -(int32_t)mag : (int32_t)mag;
    s.thin_bp = thin;
    s.resilience_bp = c->resilience_bp;
    s.insurance_usd = c->insurance_usd;
    sp_sim_result res;
    sp_err rc = sp_sim_run(c->pops[pop], c->market, &s, NULL, 0, &res, d);
    if (rc != SP_OK)
        return rc;
    memset(row, 0, sizeof(*row));
    row->shock_bp = s.move_bp;
    row->thin_bp = thin;
    row->pop = pop;
    row->waves = res.waves;
    row->n_liq = res.n_liq;
    row->notional = res.notional;
    int64_t tot = res.extreme_px - res.start_px, exo = res.shock_px - res.start_px;
    tot = tot < 0 ? -tot : tot;
    exo = exo < 0 ? -exo : exo;
    row->drawdown_bp = (int64_t)((__int128)tot * 10000 / res.start_px);
    row->amplification_milli = exo ? (int64_t)((__int128)tot * 1000 / exo) : 1000;
    return SP_OK;
}

/* A worker: take the next scenario index until none is left; report progress under the lock. */
static void *worker(void *arg)
{
    mc_job *J = arg;
    const sp_sim_mc_cfg *c = J->cfg;
    for (;;) {
        uint32_t i = __atomic_fetch_add(&J->next, 1, __ATOMIC_RELAXED);
        if (i >= J->count)
            break;
        sp_diag d;
        sp_diag_clear(&d);
        sp_err rc = one(c, J->first + i, &J->rows[i], &d);
        i += J->first; /* errors name the scenario index */
        pthread_mutex_lock(&J->lock);
        if (rc != SP_OK && (J->rc == SP_OK || i < J->rc_at)) {
            J->rc = rc;
            J->rc_at = i;
            J->diag = d;
        }
        J->done++;
        if (c->progress)
            c->progress(c->progress_ctx, J->done, J->count);
        pthread_mutex_unlock(&J->lock);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : (x > y);
}

/* Quantiles of col[0..k) (sorted in place) into q[]. */
static void quantiles(int64_t *col, uint32_t k, int64_t *q)
{
    qsort(col, k, sizeof(*col), cmp_i64);
    for (unsigned i = 0; i < SP_SIM_MC_QUANTILES; i++)
        q[i] = col[(uint64_t)quantile_bp[i] * (k - 1) / 10000];
}

/* Validate the distribution and the shared inputs; d names the bad field. */
static sp_err check_cfg(const sp_sim_mc_cfg *c, sp_diag *d)
{
    if (c->k == 0 || c->k > SP_SIM_MC_MAX)
        return sp_diag_set(d, SP_EINVAL, "scenarios must be 1 .. %u", (unsigned)SP_SIM_MC_MAX);
    if (c->threads == 0 || c->threads > SP_SIM_THREADS_MAX)
        return sp_diag_set(d, SP_EINVAL, "threads must be 1 .. %u", (unsigned)SP_SIM_THREADS_MAX);
    if (c->shock_min_bp == 0 || c->shock_min_bp > c->shock_max_bp || c->shock_max_bp > 9900)
        return sp_diag_set(d, SP_EINVAL, "shock range must satisfy 0 < min <= max <= 99%%");
    if (c->down_bp > 10000 || c->thin_max_bp > 9900 || c->resilience_bp > 10000)
        return sp_diag_set(d, SP_EINVAL,
                           "probabilities and shares must be 0 .. 100%% "
                           "(thinning at most 99%%)");
    if (!c->pops || c->npops == 0 || !c->market)
        return sp_diag_set(d, SP_EINVAL, "need at least one population and a market");
    for (size_t i = 0; i < c->npops; i++)
        if (!c->pops[i])
            return sp_diag_set(d, SP_EINVAL, "population %zu is NULL", i);
    if (c->insurance_usd < 0)
        return sp_diag_set(d, SP_EINVAL, "insurance fund must be >= 0");
    return SP_OK;
}

/*
 * Run scenarios first .. first + count - 1 of cfg into rows[0..count):
 * start threads - 1 workers and work on the calling thread too, then join.
 * The first failing scenario by index decides the error, so even failures
 * are thread-count independent.
 */
sp_err sp_sim_mc_run_range(const sp_sim_mc_cfg *cfg, uint32_t first, uint32_t count,
                           sp_sim_mc_row *rows, sp_diag *d)
{
    if (!cfg || !rows)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    sp_err rc = check_cfg(cfg, d);
    if (rc != SP_OK)
        return rc;
    if (count == 0 || first >= cfg->k || count > cfg->k - first)
        return sp_diag_set(d, SP_EINVAL, "scenario range %u + %u outside 0 .. %u", first, count,
                           cfg->k);
    pthread_t *th = sp_calloc(cfg->threads, sizeof(*th));
    if (!th)
        return sp_diag_set(d, SP_ENOMEM, "Monte Carlo threads");
    mc_job J;
    memset(&J, 0, sizeof(J));
    J.cfg = cfg;
    J.rows = rows;
    J.first = first;
    J.count = count;
    if (pthread_mutex_init(&J.lock, NULL) != 0) {
        sp_free(th);
        return sp_diag_set(d, SP_ESTATE, "cannot create a mutex");
    }
    uint32_t started = 0;
    for (; started + 1 < cfg->threads; started++)
        if (pthread_create(&th[started], NULL, worker, &J) != 0)
            break;
    worker(&J); /* the calling thread works too */
    for (uint32_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_destroy(&J.lock);
    sp_free(th);
    if (J.rc != SP_OK) {
        if (d)
            *d = J.diag;
        return sp_diag_set(d, J.rc, "scenario %u: %s", J.rc_at, J.diag.msg);
    }
    return SP_OK;
}

/*
 * Summarise k rows in scenario order (hash, fall probabilities) and by
 * sorted columns (quantiles).  The rows are not modified.
 */
sp_err sp_sim_mc_summarize(const sp_sim_mc_row *rows, uint32_t k, sp_sim_mc_summary *sum,
                           sp_diag *d)
{
    if (!rows || !sum || k == 0)
        return sp_diag_set(d, SP_EINVAL, "NULL argument or no rows");
    int64_t *col = sp_calloc(k, sizeof(*col));
    if (!col)
        return sp_diag_set(d, SP_ENOMEM, "Monte Carlo summary of %u scenarios", k);
    memset(sum, 0, sizeof(*sum));
    sum->k = k;
    uint64_t h = 0xCBF29CE484222325ull;
    uint32_t over[SP_SIM_MC_THRESHOLDS] = {0};
    for (uint32_t i = 0; i < k; i++) {
        const sp_sim_mc_row *r = &rows[i];
        h = sp__sim_mix(h, (uint64_t)(uint32_t)r->shock_bp);
        h = sp__sim_mix(h, ((uint64_t)r->thin_bp << 32) | r->pop);
        h = sp__sim_mix(h, r->n_liq);
        h = sp__sim_mix(h, (uint64_t)r->notional);
        h = sp__sim_mix(h, (uint64_t)r->drawdown_bp);
        h = sp__sim_mix(h, (uint64_t)r->amplification_milli);
        for (unsigned t = 0; t < SP_SIM_MC_THRESHOLDS; t++)
            if (r->shock_bp < 0 && r->drawdown_bp > threshold_bp[t])
                over[t]++;
    }
    sum->hash = h;
    for (unsigned t = 0; t < SP_SIM_MC_THRESHOLDS; t++)
        sum->p_fall_bp[t] = (uint32_t)((uint64_t)over[t] * 10000 / k);
    for (uint32_t i = 0; i < k; i++)
        col[i] = rows[i].notional;
    quantiles(col, k, sum->q_notional);
    for (uint32_t i = 0; i < k; i++)
        col[i] = rows[i].drawdown_bp;
    quantiles(col, k, sum->q_drawdown_bp);
    for (uint32_t i = 0; i < k; i++)
        col[i] = rows[i].amplification_milli;
    quantiles(col, k, sum->q_amplification_milli);
    sp_free(col);
    return SP_OK;
}

/* All k scenarios (sp_sim_mc_run_range over 0 .. k - 1), then the summary. */
sp_err sp_sim_mc_run(const sp_sim_mc_cfg *cfg, sp_sim_mc_row *rows, sp_sim_mc_summary *sum,
                     sp_diag *d)
{
    if (!cfg || !sum)
        return sp_diag_set(d, SP_EINVAL, "NULL argument");
    sp_err rc = check_cfg(cfg, d);
    if (rc != SP_OK)
        return rc;
    sp_sim_mc_row *own = NULL;
    if (!rows)
        rows = own = sp_calloc(cfg->k, sizeof(*rows));
    if (!rows)
        return sp_diag_set(d, SP_ENOMEM, "Monte Carlo of %u scenarios", cfg->k);
    rc = sp_sim_mc_run_range(cfg, 0, cfg->k, rows, d);
    if (rc == SP_OK)
        rc = sp_sim_mc_summarize(rows, cfg->k, sum, d);
    sp_free(own);
    return rc;
}
