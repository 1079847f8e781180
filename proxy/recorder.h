/*
 * proxy/recorder.h: the capture tee, built on h2o's extension seams around
 * its unchanged reverse-proxy handler.
 *
 *   handler (ahead of the proxy): copies method, path, query, headers and the
 *     (already buffered) request body; injects X-Request-Id (keeps the
 *     client's); takes X-Recap-Test off the request; then passes on (-1).
 *   filter: reads status and headers once they are final (502 with an upstream
 *     I/O timeout becomes 504 here) and inserts an ostream that copies the
 *     body, bounded, while passing every buffer on unchanged.
 *   logger: closes the record (timings, errors) and hands it to the writer.
 *
 * Contract: loop thread only. The record is malloc'd at arrival and owned by
 * per-request state on req->pool until the logger hands it to the writer; if
 * the request is disposed without reaching the logger, the pool's dispose
 * callback closes it as aborted, so no call that reached the handler is lost.
 * With a database, a call is forwarded once the linker has its window start
 * (one batched query round trip) and its record goes to the linker, which
 * hands it to the writer once its row changes are known (linker.h); nothing
 * else here waits.
 */
#ifndef RECAP_RECORDER_H
#define RECAP_RECORDER_H

#ifndef H2O_USE_LIBUV
#define H2O_USE_LIBUV 0
#endif
#include <h2o.h>

#include "proxy/barrier.h"
#include "proxy/config.h"
#include "proxy/creds.h"
#include "proxy/credit.h"
#include "proxy/guard.h"
#include "proxy/linker.h"
#include "proxy/metrics.h"
#include "proxy/running.h"
#include "proxy/writer.h"

typedef struct recap_recorder {
    const recap_proxy_config_t *cfg;
    recap_writer_t *writer;
    recap_metrics_t metrics;
    recap_inflight_t inflight;
    recap_barriers_t barriers;
    char *current_test;              /* set by PUT /test; owned */
    recap_running_t running;         /* tests begun and not ended (POST /tests/begin), and current_test */
    uint64_t rng[2];                 /* request-id generator state */
    uint64_t arrivals;               /* requests received, counted on from the capture's last seq */
    recap_linker_t *linker;          /* NULL: no database configured */
    bool gate_busy;                  /* --serialize: a call holds the gate */
    struct call_state *gate_waiting; /* --serialize: calls waiting for it (FIFO) */
    const recap_redact_t *redact;    /* what is redacted (borrowed); NULL: no credentials traced */
    recap_creds_t creds;             /* secrets responses handed out, for request.derived */
    const recap_guard_t *guard;      /* the upstream relay (guard.h), or NULL */
    recap_credit_t *credit;          /* what h2o may hold of each response (credit.h), or NULL: no limit */
} recap_recorder_t;

/** Initialises the recorder (no I/O besides seeding the id generator). */
void recap_recorder_init(recap_recorder_t *rec, const recap_proxy_config_t *cfg, recap_writer_t *writer);

/** Registers handler, reverse proxy, filter and logger on the path, in that order. */
void recap_recorder_register(recap_recorder_t *rec, h2o_pathconf_t *pathconf, h2o_url_t *upstream,
                             h2o_proxy_config_vars_t *proxy_vars);

/** Re-checks barriers (call after the writer reports progress). */
void recap_recorder_poll_barriers(recap_recorder_t *rec);

/** Replaces the current test label (NULL clears). */
void recap_recorder_set_test(recap_recorder_t *rec, const char *name, size_t len);

/** --serialize: the call holding the gate is done with it; the next waiting one goes through. */
void recap_recorder_gate_release(recap_recorder_t *rec);

/** Closes an in-flight call as aborted and hands it to the writer (shutdown). */
void recap_recorder_abandon(recap_recorder_t *rec, recap_inflight_node_t *node);

#endif
