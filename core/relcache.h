/*
 * core/relcache.h: what pgoutput told us about each relation.
 *
 * Contract: pure. pgoutput sends a Relation message before the first change
 * to a table in a session and again after its schema changes; put() copies it
 * and replaces any older entry for the same relid (entries handed out before
 * are freed then: do not keep them across a put). Not thread-safe.
 */
#ifndef CORE_RELCACHE_H
#define CORE_RELCACHE_H

#include "core/pgoutput.h"

typedef struct core_relcol {
    char *name;
    uint32_t typoid;
    bool key;
} core_relcol_t;

typedef struct core_rel {
    uint32_t relid;
    char *nspname, *relname;
    char replident;
    uint16_t ncols;
    core_relcol_t *cols;
} core_rel_t;

typedef struct core_relcache {
    core_rel_t **slots; /* open addressing on relid */
    size_t cap, count;
} core_relcache_t;

void core_relcache_init(core_relcache_t *rc);
void core_relcache_dispose(core_relcache_t *rc);

/** Stores a copy of a decoded Relation message ('R'); returns the entry. */
const core_rel_t *core_relcache_put(core_relcache_t *rc, const core_pgo_msg_t *relation);

/** The entry for relid, or NULL if pgoutput never described it. */
const core_rel_t *core_relcache_get(const core_relcache_t *rc, uint32_t relid);

/** Forgets everything (after a reconnect pgoutput describes every relation again). */
void core_relcache_clear(core_relcache_t *rc);

#endif
