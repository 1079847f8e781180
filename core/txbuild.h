/*
 * core/txbuild.h: turns a decoded transaction (Begin, changes,
 * messages, Commit) into one transaction object ({"xid":...,"changes":[...]}): the linker
 * (proxy/linker.h) embeds it in the call that made it, or writes it as an
 * "orphan" line.
 *
 * Contract: pure: decoded messages in, JSON text out. Row images are kept up
 * to max_rows changes or max_bytes of JSON per transaction; past either, the
 * per-table counts stay exact and the line says "images_truncated": true, so
 * a transaction of any size is recorded in bounded memory. Unchanged TOAST
 * values ('u') are taken from the old row when pgoutput sent the whole old row
 * (REPLICA IDENTITY FULL); otherwise the column is left out of "new" and
 * named in "toast_unchanged", never invented. Errors (a change outside a
 * transaction, an unknown relation, a tuple that does not fit its relation)
 * return -1 with err and leave the builder ready for the next Begin.
 * Not thread-safe.
 */
#ifndef CORE_TXBUILD_H
#define CORE_TXBUILD_H

#include "common/buf.h"
#include "core/relcache.h"

typedef struct core_txbuild_opts {
    uint64_t max_rows; /* row images kept per transaction */
    size_t max_bytes;  /* JSON bytes of row images kept per transaction */
    /* columns whose values are written "[REDACTED]" (a NULL stays null): those named here (any case,
     * NULL-terminated, may be NULL) and, with redact_defaults, those core/secret.h takes for secrets */
    const char *const *redact_columns;
    bool redact_defaults;
} core_txbuild_opts_t;

typedef struct core_table_count {
    char *name; /* "schema.table" */
    uint64_t insert, update, delete, truncate;
} core_table_count_t;

typedef struct core_txbuild {
    core_txbuild_opts_t opts;
    bool in_tx;
    uint32_t xid;
    uint64_t final_lsn;
    int64_t commit_ts;
    rcx_buf_t changes; /* comma-separated change objects */
    uint64_t nchanges, nimages;
    bool images_truncated;
    core_table_count_t *tables;
    size_t ntables, tables_cap;
    char *tag;   /* content of the first transactional "recap.request" message */
    bool rewind; /* it carries a "recap.rewind" message: recap's own undoing of a test (POST /rewind) */
    char *test;  /* content of the first "recap.test" message: a test's own direct write (a fixture's) */
    rcx_buf_t scratch;
} core_txbuild_t;

void core_txbuild_init(core_txbuild_t *tb, const core_txbuild_opts_t *opts);
void core_txbuild_dispose(core_txbuild_t *tb);

bool core_txbuild_in_tx(const core_txbuild_t *tb);

int core_txbuild_begin(core_txbuild_t *tb, const core_pgo_msg_t *begin, rcx_err_t *err);

/** An Insert, Update or Delete of relation rel (NULL if unknown: an error). */
int core_txbuild_change(core_txbuild_t *tb, const core_rel_t *rel, const core_pgo_msg_t *m, rcx_err_t *err);

int core_txbuild_truncate(core_txbuild_t *tb, const core_relcache_t *rc, const core_pgo_msg_t *m,
                          rcx_err_t *err);

/** A transactional logical message (recap.request tags the transaction with its call, recap.test with a
 *  test; recap.rewind marks it recap's). */
int core_txbuild_message(core_txbuild_t *tb, const core_pgo_msg_t *m, rcx_err_t *err);

/** Appends the transaction object (no newline) to out and resets for the next transaction. */
int core_txbuild_commit(core_txbuild_t *tb, const core_pgo_msg_t *commit, rcx_buf_t *out, rcx_err_t *err);

/**
 * Feeds one decoded message through the relation cache and the builder: Begin,
 * Relation, Insert/Update/Delete, Truncate, transactional Message and Commit.
 * Origin, Type and non-transactional messages are not the builder's (0).
 * Returns 1 when a Commit appended a transaction object to out, 0 otherwise, -1 with err.
 */
int core_txbuild_apply(core_txbuild_t *tb, core_relcache_t *rc, const core_pgo_msg_t *m, rcx_buf_t *out,
                       rcx_err_t *err);

/** Drops a transaction in progress (the stream broke mid-transaction). */
void core_txbuild_abort(core_txbuild_t *tb);

/** PostgreSQL timestamps (µs since 2000-01-01) as RFC 3339 UTC into out[32]. */
void core_pg_time(int64_t pg_us, char out[32]);

#endif
