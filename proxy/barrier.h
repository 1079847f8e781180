/*
 * proxy/barrier.h: which calls are still in flight, and barriers that wait
 * until every call received before them is in the capture file.
 *
 * Contract: pure bookkeeping, no I/O, loop thread only. Nodes are embedded in
 * the caller's per-call state (no allocation here). A call is "in flight" from
 * arrival until its record is handed to the writer (recap_inflight_remove).
 * A barrier taken at arrival count A fires once (1) no call with arrival <= A
 * is in flight and then (2) the writer's done ticket reaches the highest
 * ticket issued at that moment. Fire callbacks run from recap_barrier_poll()
 * after the barrier is unlinked, so they may free it.
 */
#ifndef RECAP_BARRIER_H
#define RECAP_BARRIER_H

#include <stddef.h>
#include <stdint.h>

typedef struct recap_inflight_node {
    struct recap_inflight_node *prev, *next;
    uint64_t arrival;
} recap_inflight_node_t;

typedef struct recap_inflight {
    recap_inflight_node_t list; /* sentinel; oldest arrival first */
    uint64_t arrivals;          /* arrivals so far */
    size_t count;
} recap_inflight_t;

void recap_inflight_init(recap_inflight_t *t);

/** Records an arrival; returns its number (1, 2, ...). */
uint64_t recap_inflight_add(recap_inflight_t *t, recap_inflight_node_t *node);

/** The call left flight (its record was handed on, or dropped). Idempotent. */
void recap_inflight_remove(recap_inflight_t *t, recap_inflight_node_t *node);

/** The call's node moves from `from` to `to` (same arrival, same place in the list). */
void recap_inflight_move(recap_inflight_t *t, recap_inflight_node_t *from, recap_inflight_node_t *to);

/** Smallest arrival still in flight, or arrivals + 1 if none. */
uint64_t recap_inflight_low(const recap_inflight_t *t);

typedef struct recap_barrier {
    struct recap_barrier *next;
    uint64_t arrival_bound; /* calls with arrival <= this must be done */
    uint64_t ticket;        /* writer ticket to wait for, once known */
    int have_ticket;
    uint64_t deadline;                       /* recap_barrier_expire() time units; 0 = none */
    void (*fire)(struct recap_barrier *b);   /* satisfied */
    void (*expire)(struct recap_barrier *b); /* deadline passed first */
} recap_barrier_t;

typedef struct recap_barriers {
    recap_barrier_t *head;
} recap_barriers_t;

/** Adds a barrier covering every arrival so far; fire must be set. */
void recap_barrier_add(recap_barriers_t *list, recap_barrier_t *b, const recap_inflight_t *t);

/** Removes a barrier that has not fired (e.g. its client went away). */
void recap_barrier_cancel(recap_barriers_t *list, recap_barrier_t *b);

/** Advances every barrier; fires those now satisfied. pushed/done are writer tickets. */
void recap_barrier_poll(recap_barriers_t *list, const recap_inflight_t *t, uint64_t pushed, uint64_t done);

/** Removes and expires every barrier whose deadline is set and <= now. Returns how many remain. */
size_t recap_barrier_expire(recap_barriers_t *list, uint64_t now);

#endif
