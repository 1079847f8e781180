/*
 * core/remap.h: rewrites the generated values of a recorded run (integer ids
 * in their role, uuids) into those a new run generated in the same place,
 * for `recap replay`.
 *
 * Contract: pure. A remap owns its map (core_remap_free); the strings and
 * JSON returned are new and the caller's.
 */
#ifndef CORE_REMAP_H
#define CORE_REMAP_H

#include <jansson.h>

/** Rewrites old generated values into new ones. */
typedef struct core_remap {
    json_t *map; /* "i:5" / "s:<uuid>" -> the new value */
} core_remap_t;

void core_remap_init(core_remap_t *m);
void core_remap_free(core_remap_t *m);

/**
 * Learns old -> new from a baseline response body and the new run's, walked
 * together. Integer ids are learned in their role (an "id" belongs to the
 * resource that returned it, or to the key of the list holding it; "org_id"
 * to "org"), so an organization 1 and a job 1 are never confused; uuids on
 * their own.
 */
void core_remap_learn(core_remap_t *m, const char *resource, const json_t *old_body, const json_t *new_body);

/** The path (and query) with every segment or value that was learned replaced; caller frees. */
char *core_remap_text(const core_remap_t *m, const char *path, char sep);

/** A copy of a JSON body with learned ids and uuids replaced (a new reference). */
json_t *core_remap_json(const core_remap_t *m, const json_t *body);

#endif
