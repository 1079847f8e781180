/*
 * verifier/leaks.h: rows that outlive the test that made them, and tests
 * that depend on another test's rows (the "passes alone, fails in CI"
 * class), from a capture's calls and their row changes.
 *
 * A row is known by its table and its replica identity (the columns an
 * insert's "identity" names; an update or delete carries them in its old or
 * key image). Per test label, in arrival order:
 * - left: rows its calls inserted that no call had deleted by the end of the
 *   test's last call;
 * - depends: a call of one test updated or deleted a row another test's call
 *   inserted.
 * Calls without a test label are not a test's: their rows are nobody's.
 *
 * Contract: feed call records in arrival order (rv_leaks_add borrows them
 * only for the call); rv_leaks_json gives the result as a new JSON value
 * {"tests_leaking": n, "leaks": [{"test", "rows": [{"table", "key"}]}],
 * "depends": [{"test", "on", "table", "key", "op", "seq"}]}. Not
 * thread-safe.
 */
#ifndef RV_LEAKS_H
#define RV_LEAKS_H

#include <jansson.h>

typedef struct rv_leaks {
    json_t *identity; /* "schema.table" -> [column names], learned from inserts */
    json_t *rows;     /* "schema.table key" -> {"test", "alive", "table", "key"} */
    json_t *last;     /* test -> arrival of its last call */
    json_t *depends;  /* [{"test", "on", "table", "key", "op", "seq"}] */
    json_t *deleted;  /* "schema.table key" -> arrival of the delete */
} rv_leaks_t;

void rv_leaks_init(rv_leaks_t *l);
void rv_leaks_add(rv_leaks_t *l, const json_t *call);

/** The result (a new reference). */
json_t *rv_leaks_json(const rv_leaks_t *l);

/**
 * The result as one line per finding, for every report format: emit(arg, kind, test, text) with kind "LEAK"
 * ("left 1 row: public.organizations id=5") or "DEPENDS" ("(call #4) deleted public.organizations id=5, a
 * row t.py::test_a made").
 */
void rv_leaks_lines(const json_t *leaks,
                    void (*emit)(void *arg, const char *kind, const char *test, const char *text), void *arg);

/** How many findings the result holds (leaking tests plus dependent calls). */
size_t rv_leaks_count(const json_t *leaks);
void rv_leaks_free(rv_leaks_t *l);

#endif
