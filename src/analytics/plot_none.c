/*
 * plot_none.c -- sp_an_plots_write when the library is built without
 * cairo (libcairo2-dev not installed): the report still works, only the
 * charts are unavailable, and the caller is told so.
 */
#include "analytics/analytics_int.h"

sp_err sp_an_plots_write(sp_store *s, const sp_an_report *r, const char *dir, sp_diag *d)
{
    (void)s;
    (void)r;
    (void)dir;
    return sp_diag_set(d, SP_EUNSUPPORTED,
                       "plots: this stampede was built without cairo (install libcairo2-dev)");
}

void sp_an_plots_cleanup(void)
{
}
