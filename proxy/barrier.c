/* proxy/barrier.c: see barrier.h. */
#include "proxy/barrier.h"

void recap_inflight_init(recap_inflight_t *t)
{
    t->list.prev = t->list.next = &t->list;
    t->arrivals = 0;
    t->count = 0;
}

uint64_t recap_inflight_add(recap_inflight_t *t, recap_inflight_node_t *node)
{
    node->arrival = ++t->arrivals;
    node->next = &t->list;
    node->prev = t->list.prev;
    node->prev->next = node;
    t->list.prev = node;
    t->count++;
    return node->arrival;
}

void recap_inflight_remove(recap_inflight_t *t, recap_inflight_node_t *node)
{
    if (node->next == NULL)
        return;
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->next = node->prev = NULL;
    t->count--;
}

void recap_inflight_move(recap_inflight_t *t, recap_inflight_node_t *from, recap_inflight_node_t *to)
{
    (void)t;
    if (from->next == NULL) {
        to->next = to->prev = NULL;
        return;
    }
    *to = *from;
    to->prev->next = to;
    to->next->prev = to;
    from->next = from->prev = NULL;
}

uint64_t recap_inflight_low(const recap_inflight_t *t)
{
    return t->count ? t->list.next->arrival : t->arrivals + 1;
}

void recap_barrier_add(recap_barriers_t *list, recap_barrier_t *b, const recap_inflight_t *t)
{
    b->arrival_bound = t->arrivals;
    b->have_ticket = 0;
    b->ticket = 0;
    b->next = list->head;
    list->head = b;
}

void recap_barrier_cancel(recap_barriers_t *list, recap_barrier_t *b)
{
    for (recap_barrier_t **p = &list->head; *p != NULL; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            b->next = NULL;
            return;
        }
    }
}

void recap_barrier_poll(recap_barriers_t *list, const recap_inflight_t *t, uint64_t pushed, uint64_t done)
{
    uint64_t low = recap_inflight_low(t);
    recap_barrier_t **p = &list->head;
    while (*p != NULL) {
        recap_barrier_t *b = *p;
        if (!b->have_ticket && low > b->arrival_bound) {
            b->ticket = pushed;
            b->have_ticket = 1;
        }
        if (b->have_ticket && done >= b->ticket) {
            *p = b->next;
            b->next = NULL;
            b->fire(b);
            continue;
        }
        p = &b->next;
    }
}

size_t recap_barrier_expire(recap_barriers_t *list, uint64_t now)
{
    size_t remaining = 0;
    recap_barrier_t **p = &list->head;
    while (*p != NULL) {
        recap_barrier_t *b = *p;
        if (b->deadline != 0 && b->deadline <= now) {
            *p = b->next;
            b->next = NULL;
            b->expire(b);
            continue;
        }
        remaining++;
        p = &b->next;
    }
    return remaining;
}
