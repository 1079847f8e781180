/*
 * verifier/diff_main.h: `recap diff A.jsonl B.jsonl [--noise F] [--learn X Y]
 * [--json F]`: the readable report of verifier/diff.h on stdout, and JSON.
 * Exit 0 the runs are the same, 1 they differ, 2 usage or input error (a
 * torn or bad line, a foreign format version: a diff of part of a run would
 * mislead). The JSON file is written whole or not at all.
 */
#ifndef RV_DIFF_MAIN_H
#define RV_DIFF_MAIN_H

/** argv[0] is "diff". */
int rv_diff_main(int argc, char **argv);

#endif
