/*
 * proxy/control.h: the control API, served on its own listener.
 *
 *   GET  /healthz                 200 while the process serves
 *   GET  /readyz                  200 when ready, 503 with the reason otherwise
 *   GET  /calls?after=SEQ&test=NAME&limit=N   finished records as JSONL
 *   POST /barrier?timeout_ms=N    returns once every call received before it is
 *                                 in the capture file (504 after the timeout);
 *                                 with sync=1, also once every transaction
 *                                 committed before it is decided (a fence
 *                                 through the stream), orphans included
 *   PUT  /test                    names the running test (body: the name, or
 *                                 {"test": name}); DELETE /test or an empty
 *                                 body clears it; GET /test reads it
 *   GET  /metrics                 Prometheus text
 *   POST /tests/begin?test=NAME   NAME runs from now: orphan transactions that
 *                                 commit while it runs carry its name
 *                                 (running.h); answers {"last_seq": N,
 *                                 "since": P}, P a position in GET /calls' ring
 *   POST /tests/end?test=NAME     once every call received before it is
 *                                 recorded and every transaction committed
 *                                 before it is decided (GET /calls then has
 *                                 them all), NAME stops running
 *   POST /rewind?test=NAME&since=P   ends NAME as /tests/end does, then
 *                                 undoes every row change of its calls (kept
 *                                 since P) and of the orphans committed while it
 *                                 ran (core/rewind.h, rewind.h): 200 with what
 *                                 was undone, 409 with the reason it cannot be
 *                                 done exactly (nothing is changed then)
 *
 * GET /calls takes orphans=1 to add the orphan lines kept with the calls, and
 * since=P for only what was kept after POST /tests/begin answered P.
 *
 * Contract: loop thread only. With a token configured, every route requires
 * "Authorization: Bearer <token>" and answers 401 otherwise. Borrowed
 * pointers must outlive the server.
 */
#ifndef RECAP_CONTROL_H
#define RECAP_CONTROL_H

#include "proxy/recorder.h"
#include "proxy/ring.h"

typedef struct recap_control {
    recap_recorder_t *rec;
    recap_ring_t *ring;
    const char *token;                   /* NULL: no authentication */
    recap_cdc_stats_t *cdc;              /* NULL: no database */
    struct recap_rewinder *rewinder;     /* NULL: no database */
    const char *(*not_ready)(void *arg); /* NULL when ready, else why not */
    void *not_ready_arg;
    /* private: the tick that expires barriers */
    h2o_loop_t *loop;
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
} recap_control_t;

/** Registers the control routes on a path ("/") of the control host. */
void recap_control_register(recap_control_t *ctl, h2o_pathconf_t *pathconf);

/** Decodes %XX and '+' in place; returns the new length. Exposed for tests. */
size_t recap_control_urldecode(char *s, size_t len);

/** Finds parameter `name` in a query string; copies its decoded value into out. 0 found, -1 absent,
 * -2 present but longer than outsz - 1 (never cut: a filter cut short would select other calls). */
int recap_control_query_param(const char *query, size_t qlen, const char *name, char *out, size_t outsz);

#endif
