/*
 * core/flow.h: the value flow of a recorded run, shared by diff, replay and
 * specgen (docs/internals.md, "Value flow").
 *
 * Real apps generate values of every shape (serial ids, uuids, slugs, tag
 * names, tokens, salts) and a look cannot tell them apart; where a value
 * comes from can. Walking a run's calls in arrival order, each call in three
 * phases (its request, then the rows it changed, then its response), the
 * flow keeps, for every value, its *origins*: the places where it appeared
 * in a response or a row image, and the places where the client sent it in a
 * request body or query, or made it up in a path (a new segment that looks
 * machine-made: /profiles/nobody-1f3a9c). A later place that carries the value *refers* to
 * those origins: `call 12 request.path[2]` to `call 5
 * response.body.article.slug`. Every value of a response or row image is an
 * origin of its own (a task id 1 may be new even though project 1 exists);
 * the tools tell a new value from a reference by looking at the origins that
 * came before it.
 *
 * Places are written as the tools write them: "request.path[2]" (the third
 * non-empty segment), "request.query.tag", "request.body.user.email",
 * "request.headers.x-key", "request.cookie.sid", "response.body.items[].id"
 * (an array's elements share one place), "response.headers.location",
 * "response.cookie.sid", "db.public.tasks.insert[].id".
 *
 * A value's text is its JSON string or its integer in decimal: the path
 * segment "64" and the body's 64 are one value. Booleans, null, reals and
 * strings of fewer than 3 bytes (or more than CORE_FLOW_MAX_TEXT) have no
 * origins; 0 and 1 are never origins of a request.
 *
 * Contract: pure (no I/O, no clock). core_flow_build reads the calls (it
 * keeps no pointer into them) and returns a flow the caller frees; origins
 * returned point into the flow. Not thread-safe while building; reads of a
 * built flow may be shared.
 */
#ifndef CORE_FLOW_H
#define CORE_FLOW_H

#include "core/pathtpl.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CORE_FLOW_MAX_TEXT 512

typedef enum { CORE_FLOW_REQUEST = 0, CORE_FLOW_ROWS = 1, CORE_FLOW_RESPONSE = 2 } core_flow_phase_t;

typedef struct core_flow core_flow_t;

/** One place a value was generated or sent. */
typedef struct core_flow_origin {
    uint32_t call;  /* the call's index in the run */
    uint32_t place; /* core_flow_place() names it */
    uint32_t elem;  /* in a body: which elements of the arrays on the way (a hash of their indexes; 0:
                       none); in rows: the row's number among the call's rows of its table and operation,
                       1, 2... in capture order */
    uint8_t phase;  /* core_flow_phase_t */
    bool made;      /* an insert made it: the table's one replica identity column (its "identity") */
} core_flow_origin_t;

/** The flow of calls[0..n), in that order (give them in arrival order). */
core_flow_t *core_flow_build(json_t *const *calls, size_t n);

/** The same one call at a time, so that a caller need not hold every call at once: a flow of n calls, then
 *  each added in arrival order (past n, nothing is added). What core_flow_origins, _known_before,
 *  _path_param and _template answer for call i is final once call i is added (they look at calls 0..i
 *  only); _oldest and _made look at every call added so far. */
core_flow_t *core_flow_new(size_t n);
void core_flow_add(core_flow_t *f, const json_t *call);
void core_flow_free(core_flow_t *f);

/** The name of an origin's place ("response.body.article.slug"). */
const char *core_flow_place(const core_flow_t *f, uint32_t place);

/**
 * The origins of the value text[0..len) known at the end of phase `phase` of
 * call `call` (so a response's own places count), newest first, at most max
 * written to out. Returns how many were written.
 */
size_t core_flow_origins(const core_flow_t *f, const char *text, size_t len, size_t call,
                         core_flow_phase_t phase, core_flow_origin_t *out, size_t max);

/** Whether an insert of the run made the value text[0..len) (an origin with `made`). */
bool core_flow_made(const core_flow_t *f, const char *text, size_t len);

/** The oldest origin of the value text[0..len) into *out; false when it has none. */
bool core_flow_oldest(const core_flow_t *f, const char *text, size_t len, core_flow_origin_t *out);

/** Whether the value text[0..len) had an origin in a call before `call` (a request that carries it refers).
 */
bool core_flow_known_before(const core_flow_t *f, const char *text, size_t len, size_t call);

/**
 * Whether the path segment s[0..n) of call `call` is a parameter: the value
 * had an origin before it first appeared in a path (a tag named in a body,
 * then addressed as /tags/urgent; a slug from a response), or one the client
 * made up in place (eight bytes or more that look machine-made:
 * /profiles/nobody-1f3a9c). Segments that were in paths before anything
 * generated them ("articles") stay literal.
 */
bool core_flow_path_param(const core_flow_t *f, const char *s, size_t n, size_t call);

/**
 * What call `call` is about: the singular of its path's last segment that is not a parameter
 * ("/orgs/7/campaigns" -> "campaign"); "" when none.
 */
const char *core_flow_resource(const core_flow_t *f, size_t call);

/**
 * The kind of thing an origin's value names, from its place: a row's table ("db.public.jobs.insert[].id"
 * -> "job"), a column or key named x_id ("x"), the object holding an "id" ("response.body.article.id" ->
 * "article"), else the call's resource. Written into out.
 */
void core_flow_role(const core_flow_t *f, const core_flow_origin_t *o, char *out, size_t outsz);

/** Whether two roles name one thing: equal, or one a prefix of the other ("org", "organization"). */
bool core_flow_same_role(const char *a, const char *b);

/** Call `call`'s path as a template (core/pathtpl.h) whose parameters are ids and core_flow_path_param's. */
void core_flow_template(const core_flow_t *f, size_t call, const char *path, core_pathtpl_t *t);

/**
 * The text of a JSON scalar as the flow keys it: a string's bytes, an
 * integer in decimal written into buf. false for anything else.
 */
bool core_flow_text(const json_t *v, char *buf, size_t bufsz, const char **text, size_t *len);

/**
 * Tokens inside a string: maximal runs of letters, digits and - _ . @ + ~ %,
 * without a trailing '.' ("project 64 not found." gives project, 64, not,
 * found). Call with *pos = 0; returns false when there is none left.
 */
bool core_flow_token(const char *s, size_t n, size_t *pos, size_t *off, size_t *len);

/**
 * Whether s[0..n) looks made by a machine, so that two runs may hold
 * different values in its place: a uuid, a timestamp, a JWT, or a string of
 * six bytes or more with a digit, or of twenty or more, or with a word of
 * eight or more hex digits of one case ("nobody-bfbbdcca"); never one with a
 * space (a sentence). Words ("open", "high") are not.
 */
bool core_flow_volatile(const char *s, size_t n);

/**
 * The shape of a string, written into out: runs of letters, digits and the
 * base64 characters become 'x', everything else stays ("mk3i5b-title" gives
 * "x-x"); uuids, timestamps and JWTs are named ("uuid", "ts", "jwt").
 */
void core_flow_shape(const char *s, size_t n, char *out, size_t outsz);

#endif
