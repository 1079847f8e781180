/*
 * tools/specgen.h: draft specs from recorded traffic, for people to read
 * and edit (`recap specgen CAPTURE... -o DIR`, cli/specgen.c).
 *
 * Calls are grouped by method and path template (core_flow_template: ids,
 * slugs and names that came from somewhere become parameters named after the
 * segment before them: /organizations/{organization}, /articles/{article});
 * a group whose calls answered different statuses gets one spec per status
 * (match.status). For each spec: the status; the response body's shape
 * (every key present in all its calls: a reference where the value equals
 * the same request value, path parameter or query parameter in every call, a
 * literal where it is the same in two or more calls and the run did not make
 * it (core/flow.h), a $regex of its characters for a machine-made string,
 * else its type); and the row changes: `db: none`, or per table
 * and operation the count (a range when it varies), with the columns of a
 * single inserted or updated row that equal a request, path or response
 * value as references. Output is stable (groups in template order, keys in
 * the order the API sent them) and says in comments what was guessed.
 *
 * Contract: pure: call records in (borrowed), YAML text out per resource
 * (the first path segment after /api and /vN), owned by the result.
 */
#ifndef RT_SPECGEN_H
#define RT_SPECGEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct rt_specgen_file {
    char *name; /* "organizations.yaml" */
    char *text;
} rt_specgen_file_t;

typedef struct rt_specgen {
    rt_specgen_file_t *files;
    size_t n;
    size_t specs; /* specs drafted */
} rt_specgen_t;

void rt_specgen_run(json_t *const *calls, size_t n, rt_specgen_t *out);

/** Whether a call is drafted from (it has a status, and a method and path a spec can name). */
bool rt_specgen_drafts(const json_t *call);
void rt_specgen_free(rt_specgen_t *g);

#endif
