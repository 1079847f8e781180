/*
 * core/remap.h: a recorded run's requests rewritten with the values a new
 * run generated in their place, for `recap replay`.
 *
 * Which values to rewrite is the baseline's value flow (core/flow.h): a path
 * segment, query value, JSON body value or a token inside a string (a slug
 * in "Token <jwt>", an id in a sentence) is rewritten when an earlier call of
 * the baseline had it (a response, a row, or what the client sent) and the
 * new run returned something else in that place. What the new run returned
 * is learned by walking each baseline response and the new one together
 * (core_remap_learn). When one value was several things (an organization 1
 * and a job 1), the reference's role decides (the segment before a path
 * segment, a key or parameter named org_id; core_flow_role). Integers 0 and 1
 * in bodies and queries are flags, rewritten only where their name says whose
 * id they are.
 *
 * Contract: pure. A remap borrows the flow (it must outlive the remap) and
 * owns its map (core_remap_free); strings and JSON returned are new and the
 * caller's.
 */
#ifndef CORE_REMAP_H
#define CORE_REMAP_H

#include "core/flow.h"

#include <jansson.h>

typedef struct core_remap {
    const core_flow_t *flow; /* the baseline's */
    json_t *map;             /* "<baseline call>|<text>" -> the new run's value (a JSON scalar) */
} core_remap_t;

void core_remap_init(core_remap_t *m, const core_flow_t *baseline);
void core_remap_free(core_remap_t *m);

/**
 * Learns old -> new from baseline call `call`'s response body and the new run's, walked together: a value
 * where the baseline made it (its oldest origin is this call: an insert's id, a response's new slug) or that
 * looks made (core_flow_volatile: a uuid, a token); a count or a flag that changed is not a new value, and
 * what the client sent first is sent again as it was.
 */
void core_remap_learn(core_remap_t *m, size_t call, const json_t *old_body, const json_t *new_body);

/** Learns one value of baseline call `call`: old[0..on) became now[0..nn) (a Location, a header). */
void core_remap_learn_text(core_remap_t *m, size_t call, const char *old, size_t on, const char *now,
                           size_t nn);

/** Call `call`'s path with its segments rewritten; caller frees. */
char *core_remap_path(const core_remap_t *m, size_t call, const char *path);

/** Call `call`'s query ("a=1&b=x") with its values rewritten; caller frees. */
char *core_remap_query(const core_remap_t *m, size_t call, const char *query);

/** A copy of call `call`'s JSON body with its values and tokens rewritten (a new reference). */
json_t *core_remap_json(const core_remap_t *m, size_t call, const json_t *body);

/** The string s[0..n) of call `call` (a header value) with its tokens rewritten; caller frees. */
char *core_remap_string(const core_remap_t *m, size_t call, const char *s, size_t n);

#endif
