/*
 * verifier/order.h: records put back in the order their requests arrived.
 *
 * A capture (and GET /calls) holds calls as they finished, so a call may
 * follow one that arrived after it, by at most the calls in flight at once.
 * Specs that save values and the leak finder need arrival order: a heap
 * holds the last RV_ORDER_WINDOW records and hands out the earliest arrival
 * (a call's "arrival", else its "seq"); records that are not calls (orphan
 * transactions) keep their place after the calls that arrived before them.
 *
 * Contract: push takes the caller's reference to rec and pop gives it back;
 * pop when rv_order_full says so, and drain with rv_order_pop at the end of
 * a capture or batch: once drained, the next records' arrivals are not
 * compared with those before (a capture's count from 1 again). Allocation
 * failure aborts (common/buf.h). Not thread-safe.
 */
#ifndef RV_ORDER_H
#define RV_ORDER_H

#include <jansson.h>

#include <stdbool.h>

#define RV_ORDER_WINDOW 512

typedef struct rv_order rv_order_t;

rv_order_t *rv_order_new(void);
void rv_order_free(rv_order_t *q);

/** Holds rec (its reference is the queue's now); line is where it was read, given back by pop. */
void rv_order_push(rv_order_t *q, json_t *rec, unsigned long line);

/** Whether more than the window is held: pop one. */
bool rv_order_full(const rv_order_t *q);

/** The earliest held record (the caller's reference now) and its line; false when none is held. */
bool rv_order_pop(rv_order_t *q, json_t **rec, unsigned long *line);

#endif
