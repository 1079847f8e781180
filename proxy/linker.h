/*
 * proxy/linker.h: puts each committed transaction on the call that made it.
 *
 * The glue between the recorder, the two database workers (cdc/batchq.h) and
 * the attribution core (attribution.h). A call admitted here waits for its
 * window start S (a batched pg_current_wal_insert_lsn() issued after it
 * arrived) and is forwarded once S is known; when its response is ready (or
 * --settle after it is sent) a batched fence closes its window, and the end of
 * the response is held until the fence is in the WAL; its record is held until the
 * core says it is complete, then handed on with its transactions embedded
 * ("db": {"status": "complete", ...}). Transactions in no window go out as
 * "orphan" lines. When the stream or a query fails, every held record goes out
 * at once with db "unavailable" and undecided transactions as orphans: nothing
 * is lost and nothing is held for ever. With --serialize, the gate is released
 * once the fence after the call through has been sent, so windows never
 * overlap.
 *
 * Every record and line handed on carries resume_lsn: every transaction that
 * committed before it is in the capture at or before that line. The writer
 * makes it durable; the stream confirms it and resumes from it.
 *
 * The states a call goes through here, and what moves it on, are the table in
 * docs/internals.md ("The linker"); tests/unit/proxy_linker.c drives each row.
 *
 * Contract: loop thread only (held_bytes may be read from any thread). The
 * linker owns the records handed to it and gives them to hooks.write_call;
 * hooks are called synchronously and must not call back in.
 */
#ifndef RECAP_LINKER_H
#define RECAP_LINKER_H

#include "common/capture.h"
#include "proxy/barrier.h"
#include "proxy/cdc/stream.h"

#include <stdatomic.h>
#include <stdbool.h>

typedef struct recap_link recap_link_t;
typedef struct recap_linker recap_linker_t;

typedef struct recap_linker_hooks {
    uint64_t (*request_start)(void *arg); /* asks for a window-start run; returns its number */
    uint64_t (*request_fence)(void *arg); /* asks for a fence run; returns its number */
    /* a finished record (its inflight node already removed); resume_lsn 0: no position; has_rows: it
     * holds transactions (never to be dropped) */
    void (*write_call)(void *arg, rcx_call_t *call, uint64_t resume_lsn, bool has_rows);
    /* an orphan line (takes line), with the tests running when its transaction arrived */
    void (*write_line)(void *arg, char *line, size_t len, uint64_t resume_lsn, const char *const *tests,
                       size_t ntests);
    /* the tests running now (PUT /test, POST /tests/begin): NULL-terminated, borrowed until the next call;
     * may be NULL */
    const char *const *(*running)(void *arg);
    void (*release)(void *arg); /* --serialize: the call through is fenced; let the next one in */
    /* --settle: call recap_linker_settled(link) once ms have passed; returns a handle for settle_cancel */
    void *(*settle_arm)(void *arg, recap_link_t *link, uint64_t ms);
    void (*settle_cancel)(void *arg, void *handle); /* the timer must not fire (the handle is spent) */
    void *arg;
} recap_linker_hooks_t;

typedef struct recap_linker_opts {
    uint64_t settle_ms; /* delay between a response and its closing fence */
    bool serialize;     /* calls come one at a time: say "serialized" */
} recap_linker_opts_t;

recap_linker_t *recap_linker_new(const recap_linker_opts_t *opts, const recap_linker_hooks_t *hooks,
                                 recap_inflight_t *inflight);

/** Frees what is held (after recap_linker_flush, nothing). */
void recap_linker_free(recap_linker_t *l);

/** True while streaming: only then are calls admitted. */
bool recap_linker_up(const recap_linker_t *l);

/** The stream started (why NULL) or stopped; delivered in stream order. */
void recap_linker_stream_state(recap_linker_t *l, const char *why);

/**
 * Admits a call whose request id is id: go(ctx) forwards it once its window
 * start is known (or could not be had). gated: it holds the --serialize gate.
 */
recap_link_t *recap_linker_admit(recap_linker_t *l, const char *id, bool gated, void (*go)(void *ctx),
                                 void *ctx);

/**
 * The response's last bytes are ready. Without --settle they are held until
 * the fence that closes the call's window is in the WAL: resume(ctx) sends
 * them. So nothing the client does after seeing the response (a fixture's
 * next commit) can fall inside the window. With --settle, resume is at once.
 */
void recap_linker_end(recap_linker_t *l, recap_link_t *link, void (*resume)(void *ctx), void *ctx);

/** The call is done: its record (and its inflight node, moved) are handed over; go is not called after. */
void recap_linker_finish(recap_linker_t *l, recap_link_t *link, rcx_call_t *call,
                         recap_inflight_node_t *node);

/** The --settle timer armed for link fired (its handle is spent: not cancelled after). */
void recap_linker_settled(recap_linker_t *l, recap_link_t *link);

/** Worker answers, on the loop. */
void recap_linker_start_done(recap_linker_t *l, uint64_t upto, bool ok, uint64_t lsn);
void recap_linker_fence_done(recap_linker_t *l, uint64_t upto, bool ok);

/** Stream events, on the loop and in stream order. */
void recap_linker_fence_arrived(recap_linker_t *l, uint64_t seq, uint64_t lsn);
void recap_linker_tx(recap_linker_t *l, const recap_cdc_tx_t *tx); /* takes line and tag */

/*
 * A wait until every transaction committed before it is decided (a fence sent after it arrived on the
 * stream): fire(sync, ok) once, on the loop; not ok when the stream is down or failed first. Embedded in
 * the caller's state; cancel it if that goes first.
 */
typedef struct recap_linker_sync {
    struct recap_linker_sync *next;
    uint64_t fence; /* the fence that satisfies it; 0 until one is sent */
    void (*fire)(struct recap_linker_sync *sync, bool ok);
} recap_linker_sync_t;

void recap_linker_sync(recap_linker_t *l, recap_linker_sync_t *sync);
void recap_linker_sync_cancel(recap_linker_t *l, recap_linker_sync_t *sync);

typedef struct recap_linker_stats {
    uint64_t tx_tag, tx_window, tx_ambiguous, tx_orphan; /* transactions by how they were decided */
    uint64_t tx_rewind;                                  /* recap's own rewinds, not recorded */
    uint64_t records_complete, records_unavailable;      /* records handed on, by db status */
    uint64_t window_starts, fences;                      /* queries asked for */
    uint64_t resets;                                     /* stream or query failures */
    uint64_t records_held;                               /* gauge: waiting for their rows */
} recap_linker_stats_t;

/** Counters, for /metrics. */
recap_linker_stats_t recap_linker_stats(const recap_linker_t *l);

/** Records held waiting for their fence or transactions. */
size_t recap_linker_held(const recap_linker_t *l);

/** Bytes of transaction JSON held (for backpressure; any thread). */
size_t recap_linker_held_bytes(const recap_linker_t *l);

/**
 * A call that was never admitted (the stream was not up when it arrived): its record says db "unavailable"
 * and why (the stream's last failure), and it is counted as such.
 */
void recap_linker_unadmitted(recap_linker_t *l, rcx_call_t *call);

/** Shutdown: hands on everything held now (db "unavailable"); later transactions go out as orphans. */
void recap_linker_flush(recap_linker_t *l, const char *why);

#endif
