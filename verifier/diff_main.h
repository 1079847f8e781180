/*
 * verifier/diff_main.h: `recap diff A.jsonl B.jsonl [--noise F] [--learn X Y]
 * [--json F]`: the readable report of verifier/diff.h on stdout, and JSON.
 * Exit 0 the runs are the same, 1 they differ, 2 usage or input error (a
 * torn or bad line, a foreign format version: a diff of part of a run would
 * mislead). The JSON file is written whole or not at all.
 */
#ifndef RV_DIFF_MAIN_H
#define RV_DIFF_MAIN_H

#include "diff.h"

#include <stdbool.h>
#include <stdio.h>

/** argv[0] is "diff". */
int rv_diff_main(int argc, char **argv);

/* Shared with `recap replay`. */
typedef struct rv_calls {
    json_t **v;
    size_t n;
} rv_calls_t;

/** Every call record of a capture; -1 with "recap: VERB: file:line:col: ..." on stderr on any bad input. */
int rv_load_calls(const char *path, const char *verb, rv_calls_t *out);
void rv_calls_free(rv_calls_t *c);

/** Adds the paths of a noise file (one per line, # comments); -1 with "recap: VERB: file:line:1: ..." on
 * stderr. */
int rv_load_noise(const char *path, const char *verb, rv_noise_t *noise);

/** The readable report; true when the runs are the same. */
bool rv_diff_print(FILE *out, const rv_diff_t *d, size_t na, size_t nb);

/** The JSON report, written whole or not at all. */
int rv_diff_write_json(const char *path, const char *verb, const rv_diff_t *d);

#endif
