/*
 * core/attribution.h: which committed transactions belong to which call.
 *
 * A call's window is (S, F): S is the WAL insert position taken before the
 * call was forwarded, F the position of the fence emitted after its
 * response completed. A transaction with commit LSN c (the start of its
 * commit record) belongs to call R when
 *   (a) it carries R's tag (a transactional "recap.request" message), or else
 *   (b) R is the only call with S <= c < F (equal to F means after: the fence's
 *       LSN is the end of its record), or else
 *   (c) it is ambiguous, listed on every candidate; with no candidate it is an
 *       orphan.
 * A transaction is decided only once every window that could hold it is
 * closed (every S known; every call with S <= c has its F). A call is complete
 * once its fence has arrived and every transaction that could be in its window
 * has been decided; tx_decided for those always comes before call_complete.
 *
 * Contract: pure logic, no I/O, no clock: events in, decisions out through
 * callbacks (called synchronously from the event functions; they must not
 * call back in). Calls and fences are named by the caller's non-zero ids.
 * The caller delivers transactions and fence arrivals in stream (WAL) order.
 * Memory grows only with calls in flight and transactions still undecided.
 */
#ifndef CORE_ATTRIBUTION_H
#define CORE_ATTRIBUTION_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CORE_ATTR_TAG,       /* owned through its recap.request tag */
    CORE_ATTR_WINDOW,    /* owned: the only window holding it */
    CORE_ATTR_AMBIGUOUS, /* several windows hold it: listed on each */
    CORE_ATTR_ORPHAN,    /* in no window: its own line */
} core_attr_how_t;

typedef struct core_attr_callbacks {
    void (*tx_decided)(void *arg, uint64_t tx, core_attr_how_t how, const uint64_t *calls, size_t ncalls);
    void (*call_complete)(void *arg, uint64_t call, uint64_t s, uint64_t f); /* its window [s, f) */
    void *arg;
} core_attr_callbacks_t;

typedef struct core_attr_call core_attr_call_t;
typedef struct core_attr_tx core_attr_tx_t;

typedef struct core_attr {
    core_attr_callbacks_t cb;
    core_attr_call_t *calls;
    size_t ncalls, calls_cap;
    core_attr_tx_t *txs; /* undecided, in stream order */
    size_t ntxs, txs_cap;
    uint64_t next_fence;
    uint64_t *scratch;
    size_t scratch_cap;
} core_attr_t;

void core_attr_init(core_attr_t *a, const core_attr_callbacks_t *cb);
void core_attr_dispose(core_attr_t *a);

/** A call arrived; its window start is being fetched. */
void core_attr_call_begin(core_attr_t *a, uint64_t call);

/** Its window start S is known (it is forwarded after this). */
void core_attr_call_start(core_attr_t *a, uint64_t call, uint64_t s);

/** The call will have no window (its start could not be had): forgotten, not completed. */
void core_attr_call_drop(core_attr_t *a, uint64_t call);

/** Its response completed (the next fence sent covers it). */
void core_attr_call_end(core_attr_t *a, uint64_t call);

/** A fence is being sent: it covers every call ended and not yet covered. Returns its id, 0 if it covers
 * none. */
uint64_t core_attr_fence_sent(core_attr_t *a);

/** The fence arrived on the stream at LSN f (the end of its record). */
void core_attr_fence_arrived(core_attr_t *a, uint64_t fence, uint64_t f);

/** A committed transaction arrived: commit LSN c; tag_call is the call its tag names, or 0. */
void core_attr_tx(core_attr_t *a, uint64_t tx, uint64_t c, uint64_t tag_call);

/** Calls in flight and transactions undecided (for metrics and tests). */
size_t core_attr_calls(const core_attr_t *a);
size_t core_attr_pending_txs(const core_attr_t *a);

#endif
