/*
 * symtab.c -- interned symbol names (see symtab.h).
 *
 * Open addressing with linear probing over a power-of-two slot array of
 * ids; names live in one array indexed by id.  The table doubles at 50%
 * load.  FNV-1a is enough here: names are short and few.
 */
#include <string.h>

#include "stampede/alloc.h"
#include "stampede/limits.h"
#include "stampede/symtab.h"

struct sp_symtab {
    char **names;    /* names[id - 1], owned */
    uint32_t count;  /* symbols held */
    uint32_t cap;    /* capacity of names */
    uint32_t *slots; /* hash slots holding ids, 0 = empty */
    uint32_t nslots; /* power of two */
};

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

sp_err sp_symtab_new(sp_symtab **out)
{
    sp_symtab *t = sp_calloc(1, sizeof(*t));
    if (t == NULL)
        return SP_ENOMEM;
    t->nslots = 64;
    t->slots = sp_calloc(t->nslots, sizeof(*t->slots));
    if (t->slots == NULL) {
        sp_free(t);
        return SP_ENOMEM;
    }
    *out = t;
    return SP_OK;
}

void sp_symtab_free(sp_symtab *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->count; i++)
        sp_free(t->names[i]);
    sp_free(t->names);
    sp_free(t->slots);
    sp_free(t);
}

static uint32_t *find_slot(uint32_t *slots, uint32_t nslots, char *const *names, const char *name,
                           size_t n)
{
    uint32_t mask = nslots - 1;
    for (uint32_t i = hash_name(name, n) & mask;; i = (i + 1) & mask) {
        uint32_t id = slots[i];
        if (id == 0)
            return &slots[i];
        const char *have = names[id - 1];
        if (strncmp(have, name, n) == 0 && have[n] == '\0')
            return &slots[i];
    }
}

uint32_t sp_symtab_find(const sp_symtab *t, const char *name, size_t n)
{
    if (n == 0 || n > SP_SYMBOL_MAX)
        return 0;
    return *find_slot(t->slots, t->nslots, t->names, name, n);
}

static sp_err rehash(sp_symtab *t)
{
    uint32_t nslots = t->nslots * 2;
    uint32_t *slots = sp_calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        return SP_ENOMEM;
    for (uint32_t id = 1; id <= t->count; id++) {
        const char *nm = t->names[id - 1];
        *find_slot(slots, nslots, t->names, nm, strlen(nm)) = id;
    }
    sp_free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return SP_OK;
}

sp_err sp_symtab_intern(sp_symtab *t, const char *name, size_t n, uint32_t *id)
{
    if (n == 0 || n > SP_SYMBOL_MAX)
        return SP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (name[i] <= 0x20 || name[i] >= 0x7f)
            return SP_EINVAL;
    }
    uint32_t *slot = find_slot(t->slots, t->nslots, t->names, name, n);
    if (*slot) {
        *id = *slot;
        return SP_OK;
    }
    if (t->count >= SP_SYMTAB_MAX)
        return SP_ETOOBIG;
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        char **names = sp_reallocarray(t->names, cap, sizeof(*names));
        if (names == NULL)
            return SP_ENOMEM;
        t->names = names;
        t->cap = cap;
    }
    char *copy = sp_strndup(name, n);
    if (copy == NULL)
        return SP_ENOMEM;
    t->names[t->count] = copy;
    t->count++;
    if ((uint64_t)t->count * 2 > t->nslots) {
        if (rehash(t) != SP_OK) {
            t->count--;
            sp_free(copy);
            return SP_ENOMEM;
        }
    } else {
        *slot = t->count;
    }
    *id = t->count;
    return SP_OK;
}

const char *sp_symtab_name(const sp_symtab *t, uint32_t id)
{
    return id >= 1 && id <= t->count ? t->names[id - 1] : NULL;
}

uint32_t sp_symtab_count(const sp_symtab *t)
{
    return t->count;
}
