/*
 * proxy/cdc/batchq.h: one SQL statement run on demand on a connection of its
 * own, batched: every request made before a run starts is answered by that
 * run. recap uses two: the window start (SELECT pg_current_wal_insert_lsn())
 * and the fence (a non-transactional logical message plus an xid, which
 * forces the WAL flush that makes the walsender send it at once).
 *
 * Requests are numbered 1, 2, ... (recap_batchq_request returns the number).
 * A run takes the highest number requested when it starts and answers all up
 * to it through on_done(arg, upto, ok, lsn): ok with the LSN the statement
 * returned, or not ok after a failure (it reconnects on the next run). So a
 * request is always answered by a statement that started after it was made.
 * The statement is sql with every "%N" replaced by the run's number.
 *
 * Threads: a worker thread of its own (libpq blocks); recap_batchq_request may
 * be called from any thread; on_done runs on the worker and must only hand
 * the answer over.
 */
#ifndef RECAP_CDC_BATCHQ_H
#define RECAP_CDC_BATCHQ_H

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct recap_batchq recap_batchq_t;

typedef void (*recap_batchq_done_cb)(void *arg, uint64_t upto, bool ok, uint64_t lsn);

/** Starts the worker (it connects at its first run). sql is copied. */
recap_batchq_t *recap_batchq_start(const char *database_url, const char *name, const char *sql,
                                   recap_batchq_done_cb on_done, void *arg, rcx_err_t *err);

/** Asks for a run; returns the request's number. */
uint64_t recap_batchq_request(recap_batchq_t *q);

/** Stops and joins the worker (a run in progress finishes first); NULL allowed. */
void recap_batchq_stop(recap_batchq_t *q);

#endif
