/*
 * verifier/coverage.h: what the specs name against what was captured.
 *
 * While a capture is verified, every record's row changes add the tables and
 * columns it shows (rv_coverage_note), and every checked call counts a hit
 * for its spec (rv_coverage_hit). At the end (rv_coverage_finish):
 * - a table a spec expects rows of, that no captured change touched, and a
 *   column a spec's row names that no captured row of its table has, are
 *   findings of the spec itself (file:line:col, with the nearest captured
 *   name), and the per-call findings that table caused are dropped: a typo
 *   says "typo", not "expected 1 rows, got 0";
 * - specs no call selected are listed (and fail with require_used).
 *
 * Contract: a coverage belongs to a report (report.h) and is freed with it;
 * rv_coverage_join merges a shard's into the whole. Not thread-safe.
 */
#ifndef RV_COVERAGE_H
#define RV_COVERAGE_H

#include "verifier/spec.h"

#include <jansson.h>
#include <stddef.h>

typedef struct rv_coverage {
    json_t *tables; /* "schema.table" -> {"column": rows seen with it} */
    size_t *hits;   /* calls selected per spec (spec->order) */
    size_t nhits;
} rv_coverage_t;

/** A finding of a spec (not of a call): a name nothing captured has, a spec nothing used. */
typedef struct rv_spec_finding {
    const rv_spec_t *spec;
    rv_pos_t pos;
    char *msg;
} rv_spec_finding_t;

/** The tables and columns of a record's row changes (a call's or an orphan's). */
void rv_coverage_note(rv_coverage_t *c, const json_t *rec);

/** A call was selected by spec. */
void rv_coverage_hit(rv_coverage_t *c, const rv_spec_t *spec);

void rv_coverage_join(rv_coverage_t *into, rv_coverage_t *from);

struct rv_report;

/**
 * After every record: the names the specs use that nothing captured has become the report's spec
 * findings, the per-call findings such a misspelt table caused are dropped, and the specs no call selected
 * are listed in the report.
 */
void rv_coverage_finish(struct rv_report *r, const rv_specs_t *specs);

void rv_coverage_free(rv_coverage_t *c);

/** Whether a spec's table name ("tasks" for any schema, or "public.tasks") names the captured "schema.table".
 */
bool rv_table_name_matches(const char *want, const char *full);

/** The closest of the candidates to name by edit distance (NULL when none is within half its length). */
const char *rv_nearest_name(const char *name, const char *const *candidates, size_t n);

#endif
