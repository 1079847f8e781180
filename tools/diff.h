/*
 * tools/diff.h: two recorded runs compared call by call.
 *
 * Alignment: calls are keyed by method and path template (numeric and uuid
 * segments become {n} and {uuid}) and aligned in order; where keys differ,
 * the nearest match within a window of 64 calls on either side is taken and
 * what was skipped is reported as only in one run, so an inserted or missing
 * call does not shift everything after it.
 *
 * Comparison of an aligned pair: status, content-type, response body (JSON,
 * every leaf), and row changes per table and operation (counts, then rows in
 * order) when both runs captured them (db status complete on both sides). Noise, never reported: timestamps
 * on both sides; generated ids and uuids that play the same role: at the same place (the same field of the
 * same kind of call, the same column of a table's rows, the same path
 * segment), a value of A always pairs with the same value of B (a bijection
 * learned in call order; a break in it is a difference); explicit noise paths;
 * and, learned the way Diffy does, whatever differs between two runs of the
 * same build (rt_diff_learn).
 *
 * Contract: pure (no I/O): records in (borrowed), a result out that owns its
 * strings. Paths name places as response.body.items[].id and
 * db.public.campaigns.update[].status (indexes normalised to []).
 */
#ifndef RT_DIFF_H
#define RT_DIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct rt_delta {
    char *where; /* response.body.name, status, db.public.jobs.insert */
    char *a, *b; /* the values, shown as compact JSON ("(absent)" when missing) */
} rt_delta_t;

typedef struct rt_diff_pair {
    const json_t *a, *b; /* NULL: the call is only in the other run */
    char *key;           /* "POST /api/v1/organizations/{n}/campaigns" */
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

/** Compares two runs' call records (in capture order). noise may be NULL. */
void rt_diff_run(json_t *const *a, size_t na, json_t *const *b, size_t nb, const rt_noise_t *noise,
                 rt_diff_t *out);

/** Adds to noise everything that differs between two runs of the same build. */
void rt_diff_learn(json_t *const *a, size_t na, json_t *const *b, size_t nb, rt_noise_t *noise);

/** Adds one explicit noise path (any call). */
void rt_noise_add(rt_noise_t *noise, const char *where);

void rt_noise_free(rt_noise_t *noise);
void rt_diff_free(rt_diff_t *d);

/** The method and path template of a call record ("GET /orgs/{n}"); caller frees. */
char *rt_call_key(const json_t *call);

#endif
