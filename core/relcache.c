/* core/relcache.c: see relcache.h. */
#include "core/relcache.h"

#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

void core_relcache_init(core_relcache_t *rc)
{
    *rc = (core_relcache_t){0};
}

static void free_rel(core_rel_t *r)
{
    if (r == NULL)
        return;
    for (uint16_t i = 0; i < r->ncols; i++)
        free(r->cols[i].name);
    free(r->cols);
    free(r->nspname);
    free(r->relname);
    free(r);
}

void core_relcache_clear(core_relcache_t *rc)
{
    for (size_t i = 0; i < rc->cap; i++) {
        free_rel(rc->slots[i]);
        rc->slots[i] = NULL;
    }
    rc->count = 0;
}

void core_relcache_dispose(core_relcache_t *rc)
{
    core_relcache_clear(rc);
    free(rc->slots);
    *rc = (core_relcache_t){0};
}

static size_t slot_of(const core_relcache_t *rc, uint32_t relid)
{
    size_t i = (relid * 2654435761u) & (rc->cap - 1);
    while (rc->slots[i] != NULL && rc->slots[i]->relid != relid)
        i = (i + 1) & (rc->cap - 1);
    return i;
}

static void grow(core_relcache_t *rc)
{
    core_relcache_t bigger = {.cap = rc->cap ? rc->cap * 2 : 16};
    bigger.slots = rcx_xcalloc(bigger.cap, sizeof(*bigger.slots));
    if (bigger.slots == NULL)
        abort();
    for (size_t i = 0; i < rc->cap; i++)
        if (rc->slots[i] != NULL)
            bigger.slots[slot_of(&bigger, rc->slots[i]->relid)] = rc->slots[i];
    bigger.count = rc->count;
    free(rc->slots);
    *rc = bigger;
}

const core_rel_t *core_relcache_put(core_relcache_t *rc, const core_pgo_msg_t *m)
{
    if ((rc->count + 1) * 2 > rc->cap)
        grow(rc);
    core_rel_t *r = rcx_xmalloc(sizeof(*r));
    r->relid = m->u.relation.relid;
    r->nspname = rcx_xstrdup(m->u.relation.nspname);
    r->relname = rcx_xstrdup(m->u.relation.relname);
    r->replident = m->u.relation.replident;
    r->ncols = m->u.relation.ncols;
    r->cols = rcx_xmalloc(sizeof(*r->cols) * (r->ncols ? r->ncols : 1));
    for (uint16_t i = 0; i < r->ncols; i++) {
        const core_pgo_relcol_t *c = &m->u.relation.cols[i];
        r->cols[i] = (core_relcol_t){rcx_xstrdup(c->name), c->typoid, (c->flags & CORE_PGO_RELCOL_KEY) != 0};
    }
    size_t i = slot_of(rc, r->relid);
    if (rc->slots[i] != NULL)
        free_rel(rc->slots[i]);
    else
        rc->count++;
    rc->slots[i] = r;
    return r;
}

const core_rel_t *core_relcache_get(const core_relcache_t *rc, uint32_t relid)
{
    if (rc->cap == 0)
        return NULL;
    return rc->slots[slot_of(rc, relid)];
}
