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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct recap_ring recap_ring_t;

recap_ring_t *recap_ring_new(size_t max_records, size_t max_bytes);
void recap_ring_free(recap_ring_t *ring);

/** Adds a copy of a call record (line without newline); test may be NULL. */
void recap_ring_push(recap_ring_t *ring, uint64_t seq, const char *test, const char *line, size_t len);

/** Adds a copy of an orphan line, with the tests running when it was committed; seq is the next call's. */
void recap_ring_push_orphan(recap_ring_t *ring, uint64_t seq, const char *const *tests, size_t ntests,
                            const char *line, size_t len);

/** What to collect: call records (and orphan lines, with `orphans`) after both positions, of one test. */
typedef struct recap_ring_filter {
    uint64_t after;   /* seq > after */
    uint64_t since;   /* pushed after recap_ring_position() said since (0: any) */
    const char *test; /* whose test is, or whose tests include, this (NULL: any) */
    bool orphans;
    size_t limit;
} recap_ring_filter_t;

/**
 * Appends to out, one per line, the kept entries f selects, in the order they were pushed, at most f->limit.
 * Returns how many; sets *oldest to the smallest seq still kept (0 if empty) and *lost to whether an entry
 * pushed after f->since was evicted already (NULL allowed).
 */
size_t recap_ring_collect(recap_ring_t *ring, const recap_ring_filter_t *f, rcx_buf_t *out, uint64_t *oldest,
                          bool *lost);

/** Entries pushed so far: a position to collect since. */
uint64_t recap_ring_position(recap_ring_t *ring);

#endif
