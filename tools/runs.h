/*
 * tools/runs.h: recorded runs as the tools read them, and the reports of a
 * diff.
 *
 * Calls are given in the order their requests arrived (rcx_rec_arrival).
 *
 * Contract: a run is read whole (a diff of part of a run would mislead: any
 * bad line is an error, with "file:line:col: " in err); the calls belong to
 * the rt_calls_t until rt_calls_free. The reporters write, never print to
 * stderr. Not thread-safe.
 */
#ifndef RT_RUNS_H
#define RT_RUNS_H

#include "common/err.h"
#include "tools/diff.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct rt_calls {
    json_t **v;
    unsigned long *lines; /* each call's line in its capture */
    size_t n;
} rt_calls_t;

/** Every call record of a capture, appended to out; -1 with err on any bad input. */
int rt_load_calls(const char *path, rt_calls_t *out, rcx_err_t *err);

/**
 * The same, each call kept only with what a diff compares (the request's method, path, query and body; the
 * response's status, content type and body; the row changes): a diff of two large runs holds a fraction of
 * their size.
 */
int rt_load_calls_to_compare(const char *path, rt_calls_t *out, rcx_err_t *err);
void rt_calls_free(rt_calls_t *c);

/**
 * A capture's calls for a diff, read again from the file each time the diff asks for one (rt_source_t), so
 * that two large runs are compared in bounded memory: only where each call's line is (24 bytes a call) is
 * held. rt_run_open reads and checks every line once (any bad line is an error, as above) and orders the
 * calls by arrival; each call the source gives is kept only with what a diff compares. A line that no longer
 * reads as it did (the file changed meanwhile) makes the source give NULL, with the reason in
 * rt_run_error.
 */
typedef struct rt_run rt_run_t;
rt_run_t *rt_run_open(const char *path, rcx_err_t *err);
rt_source_t rt_run_source(rt_run_t *r);
const rcx_err_t *rt_run_error(const rt_run_t *r);
void rt_run_close(rt_run_t *r);

/** How many orphan transactions a capture holds; -1 with err on any bad input. */
int rt_count_orphans(const char *path, size_t *n, rcx_err_t *err);

/** Adds the paths of a noise file (one per line, # comments); -1 with err ("file:line:1: ..."). */
int rt_load_noise(const char *path, rt_noise_t *noise, rcx_err_t *err);

/** The readable report; true when the runs are the same. */
bool rt_diff_print(FILE *out, const rt_diff_t *d, size_t na, size_t nb);

/** The JSON report, written whole or not at all; -1 with err. */
int rt_diff_write_json(const char *path, const rt_diff_t *d, rcx_err_t *err);

#endif
