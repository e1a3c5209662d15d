/*
 * dist.c -- the random variates of the simulator that need floating point.
 *
 * This is the one file of src/sim/ allowed to use double
 * (scripts/checksrc.allow): it draws statistics (relative size weights of
 * the heavy-tailed position-size law), never balances.  Every value leaves
 * this file as an integer with an explicit rounding (llround, half away
 * from zero) and is turned into money by exact fixed-point arithmetic in
 * pop.c.  Integer draws (sides, leverage buckets, bars, prices inside a
 * bar, Monte Carlo shocks) use sp_rng_below directly and do not come here.
 */
#include <math.h>

#include "sim_int.h"

/* 53 random bits scaled to [0, 1): exact in a double, identical on every machine. */
static double u01(sp_rng *r)
{
    return (double)(sp_rng_next(r) >> 11) * 0x1.0p-53;
}

/*
 * Inverse CDF of the Pareto law truncated to [1, R] with exponent a:
 * F(x) = (1 - x^-a) / (1 - R^-a), so x = (1 - u (1 - R^-a))^(-1/a).
 * Trade and position sizes in financial markets follow such a power law
 * with a near 1.5 (Gabaix, Gopikrishnan, Plerou & Stanley, Nature 423,
 * 2003); docs/internals/sim.md gives the default and the range.
 */
uint64_t sp__sim_pareto_weight(sp_rng *r, uint32_t alpha_milli, uint32_t max_ratio)
{
    double a = (double)alpha_milli / 1000.0;
    double rmax = max_ratio > 1 ? (double)max_ratio : 1.0;
    double u = u01(r);
    double x = pow(1.0 - u * (1.0 - pow(rmax, -a)), -1.0 / a);
    if (!(x >= 1.0))
        x = 1.0;
    if (x > rmax)
        x = rmax;
    return (uint64_t)llround(x * 1e6);
}
