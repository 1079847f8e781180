/*
 * verifier/report.h: the outcome of a verify run, and the reporters that
 * print it (terminal, JSON, JUnit XML, self-contained HTML).
 *
 * Contract: an rv_report_t owns its items; rv_report_add() takes a call's
 * findings. Reporters only write to the stream they are given and return
 * nonzero on a write error. The terminal reporter colours only when told
 * (the CLI asks isatty). Every finding is printed as one line:
 *   spec.yaml:12:9: call #3 POST /api/v1/x (test t): response.body.id: expected an int, got "x"
 */
#ifndef RV_REPORT_H
#define RV_REPORT_H

#include "verifier/check.h"
#include "verifier/coverage.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rv_item {
    const char *capture; /* borrowed: the capture file's name */
    unsigned long line;  /* its line in the capture */
    uint64_t seq;
    char *id, *method, *path, *test; /* owned; test may be NULL */
    int status;
    uint64_t duration_us;
    const rv_spec_t *spec; /* NULL: no spec matched */
    rv_finding_t *f;       /* owned */
    size_t nf;
    json_t *call; /* kept for the HTML report (failures first, then a bounded number of passes) */
} rv_item_t;

typedef struct rv_orphan {
    const char *capture;
    unsigned long line;
    char *summary; /* "public.event_log: 1 inserted" */
    json_t *tx;
} rv_orphan_t;

typedef struct rv_report {
    rv_item_t *items;
    size_t n, cap;
    rv_orphan_t *orphans; /* failures when a spec file forbids orphans */
    size_t norphans;
    rv_pos_t orphans_pos;
    size_t passed, failed, unmatched;
    bool require_spec;
    size_t kept_passes; /* calls kept whole for the HTML report */
    char **notes;       /* input problems reported (a torn last line...) */
    size_t nnotes;
    rv_coverage_t coverage;           /* names captured, calls per spec */
    rv_spec_finding_t *spec_findings; /* a spec's own failures (rv_report_finish) */
    size_t nspec_findings;
    const rv_spec_t **unused; /* specs no call selected (rv_report_finish) */
    size_t nunused;
    bool require_used;  /* an unused spec fails */
    json_t *leaks;      /* verifier/leaks.h's result when asked for (owned), or NULL */
    bool fail_on_leaks; /* its findings are failures (JUnit, HTML) */
} rv_report_t;

/** Adds a call's outcome (findings moved out of o); keeps the call for HTML if keep. */
void rv_report_add(rv_report_t *r, const char *capture, unsigned long line, const json_t *call,
                   rv_outcome_t *o, bool keep);

/**
 * One record of a capture into the report: a call is matched to its spec, checked (its saves go into
 * saved) and added; an orphan is added when a spec file forbids them; other records are not the report's.
 * The serial and the threaded verify (shard.h) both go through here.
 */
void rv_report_record(rv_report_t *r, const rv_specs_t *specs, const char *capture, unsigned long line,
                      const json_t *rec, json_t *saved, bool keep);

void rv_report_add_orphan(rv_report_t *r, const char *capture, unsigned long line, const json_t *orphan);

void rv_report_note(rv_report_t *r, const char *msg);

/** True when nothing failed and the input was whole (unmatched calls fail only with require_spec, unused
 * specs with require_used): a run with a bad line is never reported PASS. */
bool rv_report_ok(const rv_report_t *r);

/** One finding as its one-line form (caller frees). */
char *rv_finding_line(const rv_item_t *it, const rv_finding_t *f);

void rv_report_free(rv_report_t *r);

/** Writes s[0..n) escaped for XML 1.0 and HTML text and attributes: & < > " ' as entities, and the
 * control characters XML forbids as U+FFFD. */
void rv_escape_markup(FILE *out, const char *s, size_t n);

/** quiet: calls without a spec are only counted (unless --require-spec makes them failures). */
int rv_report_term(FILE *out, const rv_report_t *r, bool color, bool quiet);
int rv_report_json(FILE *out, const rv_report_t *r);
int rv_report_junit(FILE *out, const rv_report_t *r);
int rv_report_html(FILE *out, const rv_report_t *r);

#endif
