/*
 * proxy/cdc/stream.h: the logical replication stream from PostgreSQL.
 *
 * A thread of its own runs libpq (replication=database): it checks
 * wal_level and the publication, creates the slot (TEMPORARY unless a name
 * is given), starts pgoutput (proto_version 1, messages on), decodes every
 * frame and hands each committed transaction to on_tx as a finished transaction
 * object. It answers keepalives, sends standby status every second, and
 * reports as flushed only the LSN the owner confirmed durable
 * (recap_cdc_confirm). On any failure it says why (on_state), reconnects with
 * backoff (100 ms doubling to 5 s) and resumes after the last transaction it
 * delivered, dropping any the server sends again.
 *
 * Why a thread and not the event loop: h2o 2.2.5's evloop reads every socket
 * it watches itself and has no readiness-only watch, so libpq cannot share
 * it. Callbacks run on the CDC thread: they must only hand data over (on_tx may
 * wait, which is how the owner applies backpressure: the stream is not read
 * meanwhile and PostgreSQL holds the WAL).
 */
#ifndef RECAP_CDC_STREAM_H
#define RECAP_CDC_STREAM_H

#include "common/err.h"
#include "core/txbuild.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A committed transaction: line and tag are the receiver's to free. */
typedef struct recap_cdc_tx {
    char *line; /* the transaction object (common/codec.h), no newline */
    size_t len;
    uint64_t commit_lsn, end_lsn; /* start and end of its commit record */
    char *tag;                    /* content of its "recap.request" message, or NULL */
    bool rewind;                  /* recap's own undoing of a test (a "recap.rewind" message): not recorded */
    char *test;                   /* a test's own write (a "recap.test" message), or NULL; the receiver's */
} recap_cdc_tx_t;

typedef struct recap_cdc_callbacks {
    void (*on_tx)(void *arg, const recap_cdc_tx_t *tx);
    /* a non-transactional logical message (fences) */
    void (*on_message)(void *arg, const char *prefix, const char *content, size_t len, uint64_t lsn);
    /* streaming started (why == NULL) or stopped (why says why) */
    void (*on_state)(void *arg, const char *why);
    void *arg;
} recap_cdc_callbacks_t;

typedef struct recap_cdc_opts {
    const char *database_url; /* libpq URL or key=value conninfo */
    const char *slot;         /* persistent slot name, or NULL for a temporary one */
    bool drop_slot;           /* drop the slot on a clean stop (a slot of this run, not the user's) */
    const char *publication;  /* "recap" */
    core_txbuild_opts_t tx;
    uint64_t resume_after; /* persistent slot: end LSN of the last transaction already in the capture */
} recap_cdc_opts_t;

typedef struct recap_cdc_stats {
    _Atomic uint64_t transactions, changes, reconnects, received_lsn, flushed_lsn;
    _Atomic int64_t lag_us; /* receipt time - commit time of the last transaction */
    _Atomic int streaming;
    _Atomic uint64_t backpressure_waits; /* counted by the owner: times on_tx waited for the writer */
    _Atomic uint64_t unwatched_tables;   /* user tables not in the publication, at the last connect */
} recap_cdc_stats_t;

typedef struct recap_cdc recap_cdc_t;

/** Starts the thread (it connects on its own; failures go to on_state). */
recap_cdc_t *recap_cdc_start(const recap_cdc_opts_t *opts, const recap_cdc_callbacks_t *cb, rcx_err_t *err);

/** Everything up to lsn is durably written (any thread). */
void recap_cdc_confirm(recap_cdc_t *c, uint64_t lsn);

recap_cdc_stats_t *recap_cdc_stats(recap_cdc_t *c);

/** Stops streaming, sends a last status update, joins the thread and frees; NULL allowed. */
void recap_cdc_stop(recap_cdc_t *c);

/** The URL without its password, for logs and capture headers (into out). */
void recap_cdc_redact_url(const char *url, char *out, size_t outsz);

#endif
