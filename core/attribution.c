/* core/attribution.c: see attribution.h. */
#include "core/attribution.h"

#include "common/buf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct core_attr_call {
    uint64_t id;
    uint64_t s, f;
    bool has_s, ended, has_f;
    uint64_t fence; /* the fence covering it, 0 if none yet */
};

struct core_attr_tx {
    uint64_t id, c, tag_call;
};

void core_attr_init(core_attr_t *a, const core_attr_callbacks_t *cb)
{
    *a = (core_attr_t){.cb = *cb};
}

void core_attr_dispose(core_attr_t *a)
{
    free(a->calls);
    free(a->txs);
    free(a->scratch);
    *a = (core_attr_t){0};
}

static core_attr_call_t *find(const core_attr_t *a, uint64_t id)
{
    for (size_t i = 0; i < a->ncalls; i++)
        if (a->calls[i].id == id)
            return &a->calls[i];
    return NULL;
}

size_t core_attr_calls(const core_attr_t *a)
{
    return a->ncalls;
}

size_t core_attr_pending_txs(const core_attr_t *a)
{
    return a->ntxs;
}

/* A transaction at c can be decided once no window that could hold it is still open. */
static bool decidable(const core_attr_t *a, uint64_t c)
{
    for (size_t i = 0; i < a->ncalls; i++) {
        const core_attr_call_t *x = &a->calls[i];
        if (!x->has_s)
            return false; /* its S may still turn out <= c */
        if (x->s <= c && !x->has_f)
            return false; /* its F may turn out > c */
    }
    return true;
}

static bool in_window(const core_attr_call_t *x, uint64_t c)
{
    return x->has_s && x->has_f && x->s <= c && c < x->f;
}

static void decide(core_attr_t *a, const core_attr_tx_t *t)
{
    core_attr_call_t *tagged = t->tag_call ? find(a, t->tag_call) : NULL;
    if (tagged != NULL) {
        a->cb.tx_decided(a->cb.arg, t->id, CORE_ATTR_TAG, &tagged->id, 1);
        return;
    }
    if (a->scratch_cap < a->ncalls) {
        a->scratch_cap = a->ncalls;
        a->scratch = rcx_xrealloc(a->scratch, sizeof(*a->scratch) * a->scratch_cap);
    }
    size_t n = 0;
    for (size_t i = 0; i < a->ncalls; i++)
        if (in_window(&a->calls[i], t->c))
            a->scratch[n++] = a->calls[i].id;
    core_attr_how_t how = n == 0 ? CORE_ATTR_ORPHAN : n == 1 ? CORE_ATTR_WINDOW : CORE_ATTR_AMBIGUOUS;
    a->cb.tx_decided(a->cb.arg, t->id, how, a->scratch, n);
}

/* Decides what can be decided, then completes what can be completed. */
static void progress(core_attr_t *a)
{
    size_t keep = 0;
    for (size_t i = 0; i < a->ntxs; i++) {
        core_attr_tx_t t = a->txs[i];
        bool tagged = t.tag_call && find(a, t.tag_call) != NULL;
        if (tagged || decidable(a, t.c))
            decide(a, &t);
        else
            a->txs[keep++] = t;
    }
    a->ntxs = keep;
    for (size_t i = 0; i < a->ncalls;) {
        core_attr_call_t *x = &a->calls[i];
        bool done = x->has_f;
        for (size_t k = 0; done && k < a->ntxs; k++)
            if (a->txs[k].c >= x->s && a->txs[k].c < x->f)
                done = false; /* a transaction in its window is still undecided */
        if (!done) {
            i++;
            continue;
        }
        core_attr_call_t done_call = *x;
        a->calls[i] = a->calls[--a->ncalls];
        a->cb.call_complete(a->cb.arg, done_call.id, done_call.s, done_call.f);
        /* removing a call can make earlier transactions decidable */
        progress(a);
        return;
    }
}

void core_attr_call_begin(core_attr_t *a, uint64_t call)
{
    if (a->ncalls == a->calls_cap) {
        a->calls_cap = a->calls_cap ? a->calls_cap * 2 : 16;
        a->calls = rcx_xrealloc(a->calls, sizeof(*a->calls) * a->calls_cap);
    }
    a->calls[a->ncalls++] = (core_attr_call_t){.id = call};
}

void core_attr_call_start(core_attr_t *a, uint64_t call, uint64_t s)
{
    core_attr_call_t *x = find(a, call);
    if (x == NULL)
        return;
    x->s = s;
    x->has_s = true;
    progress(a);
}

void core_attr_call_drop(core_attr_t *a, uint64_t call)
{
    core_attr_call_t *x = find(a, call);
    if (x == NULL)
        return;
    *x = a->calls[--a->ncalls];
    progress(a);
}

void core_attr_call_end(core_attr_t *a, uint64_t call)
{
    core_attr_call_t *x = find(a, call);
    if (x != NULL)
        x->ended = true;
}

uint64_t core_attr_fence_sent(core_attr_t *a)
{
    uint64_t id = 0;
    for (size_t i = 0; i < a->ncalls; i++) {
        core_attr_call_t *x = &a->calls[i];
        if (x->ended && x->fence == 0) {
            if (id == 0)
                id = ++a->next_fence;
            x->fence = id;
        }
    }
    return id;
}

void core_attr_fence_arrived(core_attr_t *a, uint64_t fence, uint64_t f)
{
    for (size_t i = 0; i < a->ncalls; i++) {
        core_attr_call_t *x = &a->calls[i];
        if (x->fence == fence && !x->has_f) {
            x->f = f;
            x->has_f = true;
        }
    }
    progress(a);
}

void core_attr_tx(core_attr_t *a, uint64_t tx, uint64_t c, uint64_t tag_call)
{
    if (a->ntxs == a->txs_cap) {
        a->txs_cap = a->txs_cap ? a->txs_cap * 2 : 16;
        a->txs = rcx_xrealloc(a->txs, sizeof(*a->txs) * a->txs_cap);
    }
    a->txs[a->ntxs++] = (core_attr_tx_t){tx, c, tag_call};
    progress(a);
}
