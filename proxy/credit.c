/* proxy/credit.c: see credit.h. */
#include "proxy/credit.h"

#include "common/buf.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IDX_BITS 20 /* a token is its slot's generation above its index */
#define IDX_MASK ((UINT64_C(1) << IDX_BITS) - 1)
#define NOT_WAITING UINT64_MAX

typedef struct slot {
    _Atomic uint64_t gen;     /* bumped at open and at close: a token names one open response */
    _Atomic uint64_t handed;  /* body bytes gone on towards the client */
    _Atomic uint64_t wake_at; /* the relay waits until handed reaches this; NOT_WAITING when it does not */
} slot_t;

struct recap_credit {
    slot_t *slots;
    size_t n;
    uint32_t *free; /* a stack of free slot indexes (the proxy loop's) */
    size_t nfree;
    int efd;
};

recap_credit_t *recap_credit_new(size_t slots)
{
    if (slots > IDX_MASK + 1)
        slots = IDX_MASK + 1;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0)
        return NULL;
    recap_credit_t *c = rcx_xcalloc(1, sizeof(*c));
    c->slots = rcx_xcalloc(slots, sizeof(*c->slots));
    c->free = rcx_xcalloc(slots, sizeof(*c->free));
    c->n = c->nfree = slots;
    for (size_t i = 0; i < slots; i++) {
        c->free[i] = (uint32_t)(slots - 1 - i);
        atomic_init(&c->slots[i].gen, 0);
        atomic_init(&c->slots[i].handed, 0);
        atomic_init(&c->slots[i].wake_at, NOT_WAITING);
    }
    c->efd = efd;
    return c;
}

void recap_credit_free(recap_credit_t *c)
{
    if (c == NULL)
        return;
    close(c->efd);
    free(c->slots);
    free(c->free);
    free(c);
}

/* The token's slot if it is still the one the token names, else NULL. */
static slot_t *slot_of(recap_credit_t *c, uint64_t token)
{
    if (token == 0 || (token & IDX_MASK) >= c->n)
        return NULL;
    slot_t *s = &c->slots[token & IDX_MASK];
    return atomic_load(&s->gen) == token >> IDX_BITS ? s : NULL;
}

uint64_t recap_credit_open(recap_credit_t *c)
{
    if (c == NULL || c->nfree == 0)
        return 0;
    uint32_t i = c->free[--c->nfree];
    slot_t *s = &c->slots[i];
    atomic_store(&s->handed, 0);
    atomic_store(&s->wake_at, NOT_WAITING);
    uint64_t gen = atomic_load(&s->gen) + 1; /* odd while open, even while free: never 0 when open */
    atomic_store(&s->gen, gen);
    return gen << IDX_BITS | i;
}

void recap_credit_handed(recap_credit_t *c, uint64_t token, size_t n)
{
    slot_t *s = c != NULL ? slot_of(c, token) : NULL;
    if (s == NULL || n == 0)
        return;
    uint64_t handed = atomic_fetch_add(&s->handed, n) + n;
    if (handed >= atomic_load(&s->wake_at) && atomic_exchange(&s->wake_at, NOT_WAITING) != NOT_WAITING) {
        uint64_t one = 1;
        ssize_t w =
            write(c->efd, &one, sizeof(one)); /* EAGAIN only when the counter is full: a wake is due */
        (void)w;
    }
}

void recap_credit_close(recap_credit_t *c, uint64_t token)
{
    slot_t *s = c != NULL ? slot_of(c, token) : NULL;
    if (s == NULL)
        return;
    atomic_fetch_add(&s->gen, 1);
    c->free[c->nfree++] = (uint32_t)(token & IDX_MASK);
}

uint64_t recap_credit_handed_so_far(recap_credit_t *c, uint64_t token)
{
    slot_t *s = slot_of(c, token);
    return s != NULL ? atomic_load(&s->handed) : UINT64_MAX;
}

bool recap_credit_pause(recap_credit_t *c, uint64_t token, uint64_t wake_at)
{
    slot_t *s = slot_of(c, token);
    if (s == NULL)
        return false;
    atomic_store(&s->wake_at, wake_at);
    /* what was handed before the store above is seen here; what is handed after it sees wake_at */
    if (atomic_load(&s->handed) >= wake_at && atomic_exchange(&s->wake_at, NOT_WAITING) != NOT_WAITING)
        return false;
    return slot_of(c, token) != NULL; /* closed meanwhile: nothing will wake it, go on */
}

int recap_credit_wake_fd(const recap_credit_t *c)
{
    return c->efd;
}
