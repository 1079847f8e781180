/*
 * verifier/match.h: checks a value from a call against a matcher.
 *
 * Contract: pure (no I/O). rv_match() returns true when v (NULL: absent)
 * matches; otherwise false, with `where` (a path such as
 * response.body.items[0].id, built on the caller's prefix) and `why`
 * ("expected an int, got \"x\"") describing the first mismatch, and *at the
 * matcher that failed (for its spec position). References are resolved in
 * ctx: the call itself, its path parameters and the values saved so far.
 */
#ifndef RV_MATCH_H
#define RV_MATCH_H

#include "common/buf.h"
#include "core/shape.h"
#include "verifier/spec.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct rv_ctx {
    const json_t *call;     /* the call record */
    const json_t *req_body; /* parsed request body (JSON, or a string for text), NULL if none */
    const json_t *res_body;
    const rv_spec_t *spec; /* for path parameters */
    const json_t *saved;   /* object: name -> value */
} rv_ctx_t;

bool rv_match(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *where, rcx_buf_t *why,
              const rv_matcher_t **at);

/** The value a reference names in this call (a new reference), or NULL if it is not there. */
json_t *rv_resolve(const rv_ref_t *r, const rv_ctx_t *ctx);

/** Equality as specs mean it: numbers by value, also against strings holding a number. */
bool rv_equal(const json_t *a, const json_t *b);

/** Whether a path matches a spec's template. */
bool rv_path_matches(const rv_spec_t *spec, const char *path);

/** A value shown in a message: compact JSON, cut at max bytes (with "..."). */
void rv_show(rcx_buf_t *out, const json_t *v, size_t max);

/** The body of a request or response record as a value: JSON, text as a string, NULL otherwise. */
json_t *rv_body_of(const json_t *msg);

#endif
