/*
 * proxy/ring.h: the most recent encoded records, for GET /calls.
 *
 * Contract: bounded by a record count and a byte total; the oldest records
 * are evicted first. recap_ring_push() copies the line and the test name
 * into one allocation. All functions lock an internal mutex: the writer thread pushes,
 * the event loop reads; reads copy what they need, so nothing borrowed
 * escapes the lock.
 */
#ifndef RECAP_RING_H
#define RECAP_RING_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct recap_ring recap_ring_t;

recap_ring_t *recap_ring_new(size_t max_records, size_t max_bytes);
void recap_ring_free(recap_ring_t *ring);

/** Adds a copy of a record (line without newline); test may be NULL. */
void recap_ring_push(recap_ring_t *ring, uint64_t seq, const char *test, const char *line, size_t len);

/**
 * Appends to out, one per line, every kept record with seq > after whose test
 * equals `test` (NULL: any), at most `limit` of them. Returns how many; sets
 * *oldest to the smallest seq still kept (0 if empty).
 */
size_t recap_ring_collect(recap_ring_t *ring, uint64_t after, const char *test, size_t limit, rcx_buf_t *out,
                          uint64_t *oldest);

#endif
