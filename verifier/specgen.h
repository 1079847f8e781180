/*
 * verifier/specgen.h: draft specs from recorded traffic, for people to read
 * and edit (`recap specgen CAPTURE... -o DIR`).
 *
 * Calls are grouped by method and path template (numeric and uuid segments
 * become parameters named after the segment before them: /organizations/{n}
 * -> /organizations/{organization}); a group whose calls answered different
 * statuses is split by test name when that separates them. For each group:
 * the status; the response body's shape (every key present in all its calls:
 * a reference where the value equals the same request value, path parameter
 * or query parameter in every call, a literal where it is the same in two or
 * more calls, else its type); and the row changes: `db: none`, or per table
 * and operation the count (a range when it varies), with the columns of a
 * single inserted or updated row that equal a request, path or response
 * value as references. Output is stable (groups in template order, keys in
 * the order the API sent them) and says in comments what was guessed.
 *
 * Contract: pure: call records in (borrowed), YAML text out per resource
 * (the first path segment after /api and /vN), owned by the result.
 */
#ifndef RV_SPECGEN_H
#define RV_SPECGEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct rv_specgen_file {
    char *name; /* "organizations.yaml" */
    char *text;
} rv_specgen_file_t;

typedef struct rv_specgen {
    rv_specgen_file_t *files;
    size_t n;
    size_t specs; /* specs drafted */
} rv_specgen_t;

void rv_specgen_run(json_t *const *calls, size_t n, rv_specgen_t *out);

/** Whether a call is drafted from (it has a status, and a method and path a spec can name). */
bool rv_specgen_drafts(const json_t *call);
void rv_specgen_free(rv_specgen_t *g);

/** argv[0] is "specgen": the CLI. Exit 0, or 2 with a message. */
int rv_specgen_main(int argc, char **argv);

#endif
