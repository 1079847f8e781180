/*
 * proxy/writer.h: appends finished records to the capture file on a thread of
 * its own, so the event loop never waits for JSON encoding or the disk.
 *
 * Contract: recap_writer_open() opens (creating 0600) or appends to a capture
 * file, refusing a file that is not a capture of this format, writes a header
 * line and starts the thread. recap_writer_push() is called from the loop: it
 * consumes the record, assigns its seq and returns its ticket, or 0 when the
 * queue is over its byte bound (the record is dropped and counted; proxying is
 * never held up). `done` advances, in ticket order, once a record is written
 * (or counted lost on a write error); after each batch the writer calls
 * notify(arg) from its thread. recap_writer_stop() drains, joins and closes;
 * recap_writer_close() also frees.
 */
#ifndef RECAP_WRITER_H
#define RECAP_WRITER_H

#include "common/capture.h"
#include "common/err.h"
#include "proxy/redact.h"
#include "proxy/ring.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct recap_writer_stats {
    _Atomic uint64_t written;      /* records in the file */
    _Atomic uint64_t bytes;        /* bytes written */
    _Atomic uint64_t dropped;      /* records refused (queue full) */
    _Atomic uint64_t write_errors; /* records lost to failed writes */
    _Atomic uint64_t redacted;     /* values redacted */
    _Atomic uint64_t queued_bytes; /* bytes waiting now */
} recap_writer_stats_t;

typedef struct recap_writer_opts {
    const char *path;
    json_t *header;               /* borrowed; written as the first line of this session */
    const recap_redact_t *redact; /* borrowed */
    size_t queue_bytes;
    recap_ring_t *ring;        /* borrowed; may be NULL */
    void (*notify)(void *arg); /* may be NULL */
    void *notify_arg;
} recap_writer_opts_t;

typedef struct recap_writer recap_writer_t;

/** Opens the file and starts the thread; NULL with err on failure. */
recap_writer_t *recap_writer_open(const recap_writer_opts_t *opts, rcx_err_t *err);

/**
 * Hands a finished record over (loop thread). Returns its ticket, or 0 if
 * dropped: past queue_bytes records are dropped and counted, except those that
 * carry row changes (keep), which are bounded by the CDC stream instead. lsn
 * (0: none) is its resume_lsn, made durable as for push_line.
 */
uint64_t recap_writer_push(recap_writer_t *w, rcx_call_t *call, uint64_t lsn, bool keep);

/**
 * Frees the records written so far (loop thread). With a notify callback the
 * writer leaves freeing to the thread that allocated them; call this from it.
 */
void recap_writer_reap(recap_writer_t *w);

/** The highest ticket whose record has been handled (any thread). */
uint64_t recap_writer_done(recap_writer_t *w);

/**
 * Hands over a line already encoded (an "orphan" line; loop thread), consumed. It is
 * never dropped: database changes are not lost to a full queue (the CDC stream
 * is what bounds them: the server stops reading it while the queue is full). Once it is written, fsync'd,
 * recap_writer_durable_lsn() reaches lsn.
 */
uint64_t recap_writer_push_line(recap_writer_t *w, char *line, size_t len, uint64_t lsn);

/**
 * The highest resume_lsn whose line is on disk (any thread). When appending to
 * an existing capture it starts at the resume_lsn of the last call or orphan
 * line that has one near the file's end: where a restarted proxy resumes.
 */
uint64_t recap_writer_durable_lsn(recap_writer_t *w);

/** The highest ticket issued so far (loop thread). */
uint64_t recap_writer_pushed(recap_writer_t *w);

/** The seq the last record pushed was given (continues an appended file). */
uint64_t recap_writer_last_seq(recap_writer_t *w);

recap_writer_stats_t *recap_writer_stats(recap_writer_t *w);

/** Writes what is queued, stops the thread and closes the file; stats stay readable. Once only. */
void recap_writer_stop(recap_writer_t *w);

/** recap_writer_stop() if not done yet, then frees the writer; NULL is allowed. */
void recap_writer_close(recap_writer_t *w);

#endif
