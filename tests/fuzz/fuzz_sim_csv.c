/*
 * fuzz_sim_csv.c -- libFuzzer harness for the simulator's positions CSV
 * loader (sp_sim_pop_load_csv, docs/internals/sim.md).
 *
 * The input is written to an in-memory file (memfd) and loaded as a
 * population priced with the built-in Binance BTCUSDT rules.  Properties
 * checked on every input: no crash or out-of-bounds access (ASan); an
 * error always fills the diagnostic; every rejected row is reported with a
 * line number inside the file; every loaded position is valid (size,
 * entry and margin > 0, leverage 1..1000) and its liquidation price lies
 * between its bankruptcy price and its entry on the loss side.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stampede/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint64_t lines; /* newline count + 1: the largest possible line number */
    uint64_t n;
} seen;

static void on_reject(void *ctx, const sp_diag *why)
{
    seen *s = ctx;
    if (why->line == 0 || why->line > s->lines || why->msg[0] == '\0')
        abort();
    s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_sim_csv", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    seen s = {1, 0};
    for (size_t i = 0; i < size; i++)
        s.lines += data[i] == '\n';
    sp_sim_pop *p = NULL;
    uint64_t rejected = 0;
    sp_diag d;
    sp_diag_clear(&d);
    sp_err rc = sp_sim_pop_load_csv(path, sp_sim_venue_builtin(), on_reject, &s, &rejected, &p, &d);
    close(fd);
    if (rejected != s.n)
        abort();
    if (rc != SP_OK) {
        if (d.code != rc || d.msg[0] == '\0' || p != NULL)
            abort();
        return 0;
    }
    for (size_t i = 0; i < sp_sim_pop_count(p); i++) {
        const sp_sim_pos *q = sp_sim_pop_at(p, i);
        if (q->qty <= 0 || q->entry_px <= 0 || q->margin <= 0 || q->leverage < 1 ||
            q->leverage > 1000 || (q->side != 1 && q->side != -1))
            abort();
        if (q->side > 0 && q->liq_px > 0 && !(q->bk_px <= q->liq_px && q->liq_px <= q->entry_px))
            abort();
        if (q->side < 0 && !(q->entry_px <= q->liq_px && (q->bk_px == 0 || q->liq_px <= q->bk_px)))
            abort();
    }
    sp_sim_pop_free(p);
    return 0;
}
