/*
 * core/rewind.h: what undoes one test's row changes, for per-test isolation
 * (POST /rewind, docs/pytest.md "Isolation").
 *
 * core_rewind_plan reads the test's records as recap wrote them (its calls,
 * and the orphan lines committed while it ran) and lists the steps that undo
 * every change they hold, newest transaction first and, within one, last
 * change first: an insert is undone by deleting the row, an update by
 * putting the changed columns' old values back, a delete by inserting the old
 * row. It refuses, with a reason naming the call or transaction, whatever it
 * cannot undo exactly: a call whose rows are not known (db not complete), a
 * transaction that may belong to another call (ambiguous) or was committed
 * while several tests ran, images cut at --max-tx-rows, a TRUNCATE, an update
 * or delete whose old row is only its key (REPLICA IDENTITY DEFAULT), and a
 * value it must put back that the capture holds redacted.
 *
 * core_rewind_sql renders one step as SQL with $1.. parameters (text, cast to
 * the column's type), given the table's columns from the catalog: rows are
 * found by their primary key, or for a table without one by every column the
 * image holds (compared as text, one row at a time).
 *
 * Contract: pure. Plans own their strings (core_rewind_plan_free); records
 * are borrowed. Errors: -1 with one line in why.
 */
#ifndef CORE_REWIND_H
#define CORE_REWIND_H

#include "common/buf.h"
#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum core_rw_kind {
    CORE_RW_DELETE, /* undoes an insert */
    CORE_RW_UPDATE, /* undoes an update */
    CORE_RW_INSERT, /* undoes a delete */
} core_rw_kind_t;

typedef struct core_rw_col {
    char *name;
    char *value; /* PostgreSQL's text input for the value; NULL: SQL NULL */
} core_rw_col_t;

typedef struct core_rw_step {
    core_rw_kind_t kind;
    char *schema, *table;
    core_rw_col_t *now; /* the row as the change left it (DELETE, UPDATE: how to find it) */
    size_t nnow;
    core_rw_col_t *put; /* UPDATE: the changed columns' old values; INSERT: the whole old row */
    size_t nput;
} core_rw_step_t;

typedef struct core_rw_plan {
    core_rw_step_t *steps; /* in the order to run them */
    size_t n, cap;
    size_t transactions; /* distinct transactions undone */
} core_rw_plan_t;

/** Plans the undoing of records (parsed capture lines: calls and orphans, any order). */
int core_rewind_plan(json_t *const *records, size_t n, core_rw_plan_t *plan, rcx_err_t *why);

void core_rewind_plan_free(core_rw_plan_t *plan);

typedef struct core_rw_column {
    const char *name, *type; /* type as format_type() prints it */
    bool pk, generated;
} core_rw_column_t;

typedef struct core_rw_table {
    const core_rw_column_t *cols;
    size_t ncols;
} core_rw_table_t;

/**
 * Appends step's SQL to sql and its parameters (borrowed from step; NULL for SQL NULL) to params[0..*np)
 * (room for 2 * (nnow + nput) entries). The statement affects exactly one row when the row is as the change
 * left it.
 */
int core_rewind_sql(const core_rw_step_t *step, const core_rw_table_t *meta, rcx_buf_t *sql,
                    const char **params, size_t *np, rcx_err_t *why);

#endif
