/*
 * proxy/rewind.h: runs rewind plans (core/rewind.h) against the database,
 * for POST /rewind (control.h).
 *
 * One plan is one transaction: session_replication_role = replica (so
 * triggers, foreign-key checks included, stay off while rows are put back),
 * a transactional logical message "recap.rewind" (the stream knows the
 * transaction for recap's own and records it nowhere: linker.h), then every
 * step, each of which must touch exactly one row; anything else rolls the
 * whole rewind back and says which row was not as the test left it.
 * Sequences are not reset. session_replication_role needs a superuser, or
 * on PostgreSQL 15 `GRANT SET ON PARAMETER session_replication_role`: without
 * it the rewind is refused with that advice.
 *
 * Threads: a worker thread of its own (libpq blocks) with a kept connection;
 * recap_rewinder_submit and _cancel on the loop; done callbacks on the loop,
 * through the h2o queue given.
 */
#ifndef RECAP_REWIND_H
#define RECAP_REWIND_H

#ifndef H2O_USE_LIBUV
#define H2O_USE_LIBUV 0
#endif
#include <h2o.h>

#include "core/rewind.h"

typedef struct recap_rewinder recap_rewinder_t;
typedef struct recap_rewind_job recap_rewind_job_t;

/* status: 200 done, 409 refused (the rows are not as the test left them, a privilege is missing), 503 the
 * database could not be reached; body: one JSON object, {"error": ...} when not 200 */
typedef void (*recap_rewind_done_cb)(void *ctx, int status, const char *body);

/** Starts the worker (it connects at its first job). url is copied. */
recap_rewinder_t *recap_rewinder_new(const char *database_url, h2o_multithread_queue_t *queue);

/** Queues a plan (taken) for test; done(ctx, ...) is called once, unless cancelled first. */
recap_rewind_job_t *recap_rewinder_submit(recap_rewinder_t *rw, const char *test, core_rw_plan_t *plan,
                                          recap_rewind_done_cb done, void *ctx);

/** ctx is going away: done is never called (the job still runs to its end if it started). */
void recap_rewinder_cancel(recap_rewind_job_t *job);

/** Rewinds done, for /metrics. */
uint64_t recap_rewinder_count(const recap_rewinder_t *rw);

/**
 * Stops and joins the worker (a job in progress finishes first; queued ones are answered 503); their done
 * callbacks run from the loop as usual. The rewinder stays registered on the queue, as long as the loop
 * lives. NULL allowed.
 */
void recap_rewinder_stop(recap_rewinder_t *rw);

#endif
