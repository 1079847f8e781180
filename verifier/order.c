/* verifier/order.c: a binary heap keyed on arrival (see order.h). */
#include "verifier/order.h"

#include "common/buf.h"
#include "common/codec.h"

#include <stdlib.h>

typedef struct held {
    uint64_t key, nth; /* 2 * arrival (calls) or 2 * the last arrival seen + 1 (others); push order */
    json_t *rec;
    unsigned long line;
} held_t;

struct rv_order {
    held_t v[RV_ORDER_WINDOW + 1];
    size_t n;
    uint64_t nth, last_arrival;
};

rv_order_t *rv_order_new(void)
{
    return rcx_xcalloc(1, sizeof(rv_order_t));
}

void rv_order_free(rv_order_t *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->n; i++)
        json_decref(q->v[i].rec);
    free(q);
}

static bool before(const held_t *a, const held_t *b)
{
    return a->key != b->key ? a->key < b->key : a->nth < b->nth;
}

void rv_order_push(rv_order_t *q, json_t *rec, unsigned long line)
{
    uint64_t arrival = rcx_rec_kind(rec) == RCX_REC_CALL ? rcx_rec_arrival(rec) : 0;
    if (arrival > q->last_arrival)
        q->last_arrival = arrival;
    held_t h = {arrival ? 2 * arrival : 2 * q->last_arrival + 1, q->nth++, rec, line};
    size_t i = q->n++;
    for (; i > 0 && before(&h, &q->v[(i - 1) / 2]); i = (i - 1) / 2)
        q->v[i] = q->v[(i - 1) / 2];
    q->v[i] = h;
}

bool rv_order_full(const rv_order_t *q)
{
    return q->n > RV_ORDER_WINDOW;
}

bool rv_order_pop(rv_order_t *q, json_t **rec, unsigned long *line)
{
    if (q->n == 0)
        return false;
    held_t top = q->v[0], last = q->v[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && before(&q->v[c + 1], &q->v[c]))
            c++;
        if (!before(&q->v[c], &last))
            break;
        q->v[i] = q->v[c];
        i = c;
    }
    q->v[i] = last;
    if (q->n == 0) /* drained: the next capture's arrivals count from 1 again */
        q->last_arrival = 0;
    *rec = top.rec;
    *line = top.line;
    return true;
}
