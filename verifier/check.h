/*
 * verifier/check.h: which spec a call falls under, and what is wrong with it.
 *
 * Selection: among the specs whose method, path template, test pattern,
 * header conditions and outcome (match.status) all match, the most specific
 * wins: more literal path segments first, then more conditions (an exact
 * status 3, method, test, a status class or range 2 each, a header 1), then
 * the first loaded (files in name order, specs in file order).
 *
 * Checking: status, response headers, body, then database effects. Row
 * changes come from the call's db.transactions. Rows of transactions marked
 * ambiguous may or may not be this call's: they can satisfy an expectation
 * but are never counted against the call (counts must lie between the
 * certain rows and the certain plus ambiguous ones). Strict (the default):
 * changes to a table or an operation the spec does not name fail.
 *
 * Contract: pure. Findings are the outcome's to free (rv_outcome_clear).
 * Saved values (spec `save:`) are added to `saved` after the checks.
 */
#ifndef RV_CHECK_H
#define RV_CHECK_H

#include "verifier/spec.h"

#include <jansson.h>

typedef struct rv_finding {
    rv_pos_t pos;       /* where in the spec */
    char *msg;          /* "response.body.id: expected an int, got \"x\"" */
    const void *origin; /* the rv_table_expect_t it is about, or &spec->strict for a table the spec does not
                           name; NULL otherwise (coverage.h drops a misspelt table's findings by it) */
} rv_finding_t;

typedef struct rv_outcome {
    const rv_spec_t *spec; /* NULL: no spec matched */
    rv_finding_t *f;
    size_t nf;
    const void *origin; /* while checking: what new findings are about */
} rv_outcome_t;

const rv_spec_t *rv_select(const rv_specs_t *set, const json_t *call);

/** Checks a call against spec (not NULL) and saves what the spec saves. */
void rv_check_call(const rv_spec_t *spec, const json_t *call, json_t *saved, rv_outcome_t *out);

void rv_outcome_clear(rv_outcome_t *out);

#endif
