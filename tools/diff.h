/*
 * tools/diff.h: two recorded runs compared call by call, on their value flow
 * (core/flow.h).
 *
 * Alignment: calls are taken in arrival order and keyed by method and path
 * template, whose parameters are generated ids and the segments the flow
 * shows came from somewhere (a slug from a response, a tag the client named
 * in a body); where keys differ, the nearest match within a window of 64
 * calls on either side is taken and what was skipped is reported as only in
 * one run, so an inserted or missing call does not shift everything after it.
 *
 * Comparison of an aligned pair: path, status, content-type, response body
 * (JSON, every leaf), and row changes per table and operation (counts, then
 * rows as multisets: each row of A pairs with a row of B that does not differ,
 * whatever order they were flushed in) when both runs captured them (db
 * status complete on both sides). Two values that differ are the same when:
 * - they come from the same place of aligned calls (a path's slug from the
 *   same response field, an e-mail the suite made up and sent in the same
 *   request field, a polymorphic column's id from whichever table made it);
 * - or both were made at this very place by the run (new on at least one
 *   side, not sent by the client) and look alike: an integer a row's insert
 *   made (or its echo in the response), or a machine-made string of the
 *   same shape (uuid, timestamp, JWT, slug: core_flow_shape), so a change of
 *   type or format still shows;
 * - or they are sentences whose differing words are such values ("project
 *   64 not found").
 * Explicit noise paths and, learned the way Diffy does, whatever differs
 * between two runs of the same build (rt_diff_learn) are never reported.
 *
 * Contract: pure (no I/O): records in (borrowed, in arrival order), a result
 * out that owns its strings. Paths name places as response.body.items[].id and
 * db.public.campaigns.update[].status (indexes normalised to []).
 */
#ifndef RT_DIFF_H
#define RT_DIFF_H

#include "core/flow.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct rt_delta {
    char *where; /* response.body.name, status, db.public.jobs.insert */
    char *a, *b; /* the values, shown as compact JSON ("(absent)" when missing) */
} rt_delta_t;

typedef struct rt_diff_pair {
    bool has_a, has_b;      /* false: the call is only in the other run */
    long long seq_a, seq_b; /* the calls' seq in their captures */
    char *path_a, *path_b;  /* their request paths, kept for the pairs a report shows (else NULL) */
    char *key;              /* "POST /api/v1/organizations/{organization}/campaigns" */
    rt_delta_t *d;
    size_t nd;
} rt_diff_pair_t;

typedef struct rt_noise {
    char **v; /* "KEY\tWHERE" (learned) or "WHERE" (any call) */
    size_t n;
} rt_noise_t;

typedef struct rt_diff {
    rt_diff_pair_t *pairs;
    size_t n;
    size_t differ, only_a, only_b;
} rt_diff_t;

/**
 * Where a diff reads a run: n calls in arrival order, call i parsed when the diff asks for it (a new
 * reference, which the diff releases at once; NULL: it cannot be read any more, and the diff stops). Each
 * call is asked for twice (for the value flow and its key, then to be compared), so no run is ever held
 * whole: the diff keeps the two flows, one key per call and what it reports.
 */
typedef struct rt_source {
    size_t n;
    json_t *(*get)(void *ctx, size_t i);
    void *ctx;
} rt_source_t;

/** Compares two runs; 0, or -1 when a source failed (out is then empty). noise may be NULL. */
int rt_diff_sources(const rt_source_t *a, const rt_source_t *b, const rt_noise_t *noise, rt_diff_t *out);

/** Adds to noise everything that differs between two runs of the same build; -1 when a source failed. */
int rt_diff_learn_sources(const rt_source_t *a, const rt_source_t *b, rt_noise_t *noise);

/** The same on call records held in memory (in arrival order). */
void rt_diff_run(json_t *const *a, size_t na, json_t *const *b, size_t nb, const rt_noise_t *noise,
                 rt_diff_t *out);
void rt_diff_learn(json_t *const *a, size_t na, json_t *const *b, size_t nb, rt_noise_t *noise);

/** Adds one explicit noise path (any call). */
void rt_noise_add(rt_noise_t *noise, const char *where);

void rt_noise_free(rt_noise_t *noise);
void rt_diff_free(rt_diff_t *d);

/** The method and path template of a call record ("GET /orgs/{org}"), ids only; caller frees. */
char *rt_call_key(const json_t *call);

/** The same, with the parameters call i of a run's flow shows (slugs, names); f may be NULL. */
char *rt_call_key_flow(const core_flow_t *f, const json_t *call, size_t i);

#endif
