/*
 * proxy/cdc/relcache.h: what pgoutput told us about each relation.
 *
 * Contract: pure. pgoutput sends a Relation message before the first change
 * to a table in a session and again after its schema changes; put() copies it
 * and replaces any older entry for the same relid (entries handed out before
 * are freed then: do not keep them across a put). Not thread-safe.
 */
#ifndef RECAP_CDC_RELCACHE_H
#define RECAP_CDC_RELCACHE_H

#include "pgoutput.h"

typedef struct recap_relcol {
    char *name;
    uint32_t typoid;
    bool key;
} recap_relcol_t;

typedef struct recap_rel {
    uint32_t relid;
    char *nspname, *relname;
    char replident;
    uint16_t ncols;
    recap_relcol_t *cols;
} recap_rel_t;

typedef struct recap_relcache {
    recap_rel_t **slots; /* open addressing on relid */
    size_t cap, count;
} recap_relcache_t;

void recap_relcache_init(recap_relcache_t *rc);
void recap_relcache_dispose(recap_relcache_t *rc);

/** Stores a copy of a decoded Relation message ('R'); returns the entry. */
const recap_rel_t *recap_relcache_put(recap_relcache_t *rc, const recap_pgo_msg_t *relation);

/** The entry for relid, or NULL if pgoutput never described it. */
const recap_rel_t *recap_relcache_get(const recap_relcache_t *rc, uint32_t relid);

/** Forgets everything (after a reconnect pgoutput describes every relation again). */
void recap_relcache_clear(recap_relcache_t *rc);

#endif
