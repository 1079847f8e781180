/* core/rewind.c: see rewind.h. */
#include "core/rewind.h"

#include "common/lsn.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDACTED "[REDACTED]"

static const char *str(const json_t *obj, const char *key, const char *absent)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s != NULL ? s : absent;
}

typedef struct rw_tx {
    uint64_t lsn;
    const json_t *tx;
    char where[160]; /* "call #3 (POST /api/tasks)" or "orphan transaction 735" */
} rw_tx_t;

typedef struct rw_txs {
    rw_tx_t *v;
    size_t n, cap;
} rw_txs_t;

static void describe_call(const json_t *rec, char *out, size_t n)
{
    const json_t *req = json_object_get(rec, "request");
    const char *method = json_string_value(json_object_get(req, "method")),
               *path = json_string_value(json_object_get(req, "path"));
    snprintf(out, n, "call #%" JSON_INTEGER_FORMAT " (%.16s %.100s)",
             json_integer_value(json_object_get(rec, "seq")), method ? method : "?", path ? path : "?");
}

/* Adds tx unless a transaction with its commit LSN is in already (one transaction on two of its calls). */
static int add_tx(rw_txs_t *txs, const json_t *tx, const char *where, rcx_err_t *why)
{
    uint64_t lsn;
    if (rcx_lsn_parse(str(tx, "commit_lsn", ""), &lsn) != 0) {
        rcx_err_set(why, "%s: a transaction without a commit_lsn", where);
        return -1;
    }
    for (size_t i = 0; i < txs->n; i++)
        if (txs->v[i].lsn == lsn)
            return 0;
    if (json_is_true(json_object_get(tx, "images_truncated"))) {
        rcx_err_set(
            why, "%s: its row images were cut at --max-tx-rows / --max-tx-bytes, so not every row is known",
            where);
        return -1;
    }
    if (txs->n == txs->cap) {
        txs->cap = txs->cap ? txs->cap * 2 : 16;
        txs->v = rcx_xrealloc(txs->v, sizeof(*txs->v) * txs->cap);
    }
    rw_tx_t *t = &txs->v[txs->n++];
    *t = (rw_tx_t){.lsn = lsn, .tx = tx};
    snprintf(t->where, sizeof(t->where), "%s", where);
    return 0;
}

/* The transactions of one record, refusing what cannot be told to be the test's own. */
static int gather(const json_t *rec, rw_txs_t *txs, rcx_err_t *why)
{
    const char *type = json_string_value(json_object_get(rec, "type"));
    char where[160];
    if (type != NULL && strcmp(type, "orphan") == 0) {
        snprintf(where, sizeof(where), "orphan transaction %" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(rec, "xid")));
        const json_t *tests = json_object_get(rec, "tests");
        if (json_array_size(tests) > 1) {
            rcx_err_set(why,
                        "%s was committed while %zu tests ran: whose it is cannot be told (run them one at a "
                        "time, or write through calls in tag mode)",
                        where, json_array_size(tests));
            return -1;
        }
        return add_tx(txs, rec, where, why);
    }
    if (type == NULL || strcmp(type, "call") != 0)
        return 0;
    describe_call(rec, where, sizeof(where));
    const json_t *db = json_object_get(rec, "db");
    const char *status = json_string_value(json_object_get(db, "status"));
    if (status != NULL && strcmp(status, "disabled") == 0)
        return 0;
    if (status == NULL || strcmp(status, "complete") != 0) {
        const char *reason = json_string_value(json_object_get(db, "reason"));
        rcx_err_set(why, "%s: its row changes are not known (db %s%s%s)", where, status ? status : "missing",
                    reason ? ": " : "", reason ? reason : "");
        return -1;
    }
    size_t i;
    const json_t *tx;
    json_array_foreach(json_object_get(db, "transactions"), i, tx)
    {
        const char *how = json_string_value(json_object_get(tx, "attribution"));
        if (how != NULL && strcmp(how, "ambiguous") == 0) {
            rcx_err_set(why,
                        "%s: transaction %" JSON_INTEGER_FORMAT
                        " may be another call's (its window overlapped "
                        "theirs): use tag mode or --serialize for exact attribution",
                        where, json_integer_value(json_object_get(tx, "xid")));
            return -1;
        }
        if (add_tx(txs, tx, where, why) != 0)
            return -1;
    }
    return 0;
}

/* A JSON value as PostgreSQL's text input; NULL for null. */
static char *text_of(const json_t *v)
{
    char s[64];
    switch (json_typeof(v)) {
    case JSON_NULL:
        return NULL;
    case JSON_STRING:
        return rcx_xstrndup(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(s, sizeof(s), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return rcx_xstrdup(s);
    case JSON_REAL:
        snprintf(s, sizeof(s), "%.17g", json_real_value(v));
        return rcx_xstrdup(s);
    case JSON_TRUE:
        return rcx_xstrdup("true");
    case JSON_FALSE:
        return rcx_xstrdup("false");
    default: /* json and jsonb columns hold the document */
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    }
}

static bool redacted(const json_t *v)
{
    return json_is_string(v) && strcmp(json_string_value(v), REDACTED) == 0;
}

/* Columns of row (only those listed in `only` when given); a redacted one is refused when must_put. */
static int columns(const json_t *row, const json_t *only, bool must_put, core_rw_col_t **out, size_t *n,
                   const char *where, const char *table, rcx_err_t *why)
{
    *out = rcx_xcalloc(json_object_size(row) + 1, sizeof(**out));
    *n = 0;
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)row, name, v)
    {
        if (only != NULL) {
            bool listed = false;
            size_t i;
            const json_t *c;
            json_array_foreach(only, i, c) listed |=
                json_is_string(c) && strcmp(json_string_value(c), name) == 0;
            if (!listed)
                continue;
        }
        if (redacted(v)) {
            if (!must_put)
                continue; /* not needed to find the row */
            rcx_err_set(why, "%s: %s.%s must be put back, and the capture holds it redacted", where, table,
                        name);
            return -1;
        }
        (*out)[*n] = (core_rw_col_t){.name = rcx_xstrdup(name), .value = text_of(v)};
        ++*n;
    }
    return 0;
}

static core_rw_step_t *new_step(core_rw_plan_t *plan, core_rw_kind_t kind, const json_t *ch)
{
    if (plan->n == plan->cap) {
        plan->cap = plan->cap ? plan->cap * 2 : 16;
        plan->steps = rcx_xrealloc(plan->steps, sizeof(*plan->steps) * plan->cap);
    }
    core_rw_step_t *st = &plan->steps[plan->n++];
    *st = (core_rw_step_t){.kind = kind,
                           .schema = rcx_xstrdup(str(ch, "schema", "public")),
                           .table = rcx_xstrdup(str(ch, "table", "?"))};
    return st;
}

/* The step that undoes one change. */
static int undo(core_rw_plan_t *plan, const json_t *ch, const char *where, rcx_err_t *why)
{
    const char *op = str(ch, "op", "?");
    char table[256];
    snprintf(table, sizeof(table), "%s.%s", str(ch, "schema", "?"), str(ch, "table", "?"));
    if (strcmp(op, "truncate") == 0) {
        rcx_err_set(why, "%s: TRUNCATE %s cannot be undone from the capture", where, table);
        return -1;
    }
    const json_t *nw = json_object_get(ch, "new"), *old = json_object_get(ch, "old");
    if (strcmp(op, "insert") == 0) {
        core_rw_step_t *st = new_step(plan, CORE_RW_DELETE, ch);
        return columns(nw, NULL, false, &st->now, &st->nnow, where, table, why);
    }
    if (strcmp(op, "update") != 0 && strcmp(op, "delete") != 0) {
        rcx_err_set(why, "%s: a change to %s with op \"%s\"", where, table, op);
        return -1;
    }
    if (!json_is_object(old)) {
        rcx_err_set(why,
                    "%s: the %s of a row of %s carries only its key, not the old row: `recap db setup "
                    "--replica-identity-full` makes PostgreSQL send it",
                    where, op, table);
        return -1;
    }
    if (strcmp(op, "delete") == 0) {
        core_rw_step_t *st = new_step(plan, CORE_RW_INSERT, ch);
        return columns(old, NULL, true, &st->put, &st->nput, where, table, why);
    }
    const json_t *changed = json_object_get(ch, "changed");
    core_rw_step_t *st = new_step(plan, CORE_RW_UPDATE, ch);
    if (columns(nw, NULL, false, &st->now, &st->nnow, where, table, why) != 0)
        return -1;
    return columns(old, json_is_array(changed) ? changed : NULL, true, &st->put, &st->nput, where, table,
                   why);
}

static int newest_first(const void *a, const void *b)
{
    uint64_t x = ((const rw_tx_t *)a)->lsn, y = ((const rw_tx_t *)b)->lsn;
    return x < y ? 1 : x > y ? -1 : 0;
}

int core_rewind_plan(json_t *const *records, size_t n, core_rw_plan_t *plan, rcx_err_t *why)
{
    *plan = (core_rw_plan_t){0};
    rw_txs_t txs = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = gather(records[i], &txs, why);
    if (rc == 0 && txs.n > 1)
        qsort(txs.v, txs.n, sizeof(*txs.v), newest_first);
    for (size_t i = 0; i < txs.n && rc == 0; i++) {
        const json_t *changes = json_object_get(txs.v[i].tx, "changes");
        for (size_t k = json_array_size(changes); k-- > 0 && rc == 0;)
            rc = undo(plan, json_array_get(changes, k), txs.v[i].where, why);
    }
    plan->transactions = txs.n;
    free(txs.v);
    if (rc != 0)
        core_rewind_plan_free(plan);
    return rc;
}

static void free_cols(core_rw_col_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].value);
    }
    free(c);
}

void core_rewind_plan_free(core_rw_plan_t *plan)
{
    for (size_t i = 0; i < plan->n; i++) {
        free(plan->steps[i].schema);
        free(plan->steps[i].table);
        free_cols(plan->steps[i].now, plan->steps[i].nnow);
        free_cols(plan->steps[i].put, plan->steps[i].nput);
    }
    free(plan->steps);
    *plan = (core_rw_plan_t){0};
}

/* ---- SQL ---- */

/* A quoted SQL identifier ("a""b"). */
static void ident(rcx_buf_t *b, const char *s)
{
    rcx_buf_puts(b, "\"");
    for (; *s; s++)
        rcx_buf_append(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
    rcx_buf_puts(b, "\"");
}

static const core_rw_column_t *column(const core_rw_table_t *meta, const char *name)
{
    for (size_t i = 0; i < meta->ncols; i++)
        if (strcmp(meta->cols[i].name, name) == 0)
            return &meta->cols[i];
    return NULL;
}

static void param(rcx_buf_t *sql, const char **params, size_t *np, const char *value, const char *type)
{
    params[*np] = value;
    char s[24];
    snprintf(s, sizeof(s), "$%zu::", ++*np);
    rcx_buf_puts(sql, s);
    rcx_buf_puts(sql, type);
}

/* "WHERE ..." finding the row `now` describes: by primary key, else by every column it holds (as text, since
 * json and some other types have no equality), one row. */
static int where_clause(const core_rw_step_t *st, const core_rw_table_t *meta, rcx_buf_t *sql,
                        const char **params, size_t *np, rcx_err_t *why)
{
    bool has_pk = false;
    for (size_t i = 0; i < meta->ncols; i++)
        has_pk |= meta->cols[i].pk;
    size_t used = 0;
    rcx_buf_puts(sql, has_pk ? " WHERE " : " WHERE ctid = (SELECT ctid FROM ");
    if (!has_pk) {
        ident(sql, st->schema);
        rcx_buf_puts(sql, ".");
        ident(sql, st->table);
        rcx_buf_puts(sql, " WHERE ");
    }
    for (size_t i = 0; i < st->nnow; i++) {
        const core_rw_column_t *c = column(meta, st->now[i].name);
        if (c == NULL || (has_pk && !c->pk))
            continue;
        if (used++ > 0)
            rcx_buf_puts(sql, " AND ");
        ident(sql, c->name);
        if (has_pk) {
            rcx_buf_puts(sql, " = ");
            param(sql, params, np, st->now[i].value, c->type);
        } else {
            rcx_buf_puts(sql, "::text IS NOT DISTINCT FROM (");
            param(sql, params, np, st->now[i].value, c->type);
            rcx_buf_puts(sql, ")::text");
        }
    }
    if (used == 0) {
        rcx_err_set(why, "%s.%s: the row to undo has none of the table's key columns", st->schema, st->table);
        return -1;
    }
    if (!has_pk)
        rcx_buf_puts(sql, " LIMIT 1)");
    return 0;
}

int core_rewind_sql(const core_rw_step_t *st, const core_rw_table_t *meta, rcx_buf_t *sql,
                    const char **params, size_t *np, rcx_err_t *why)
{
    *np = 0;
    rcx_buf_puts(sql, st->kind == CORE_RW_DELETE   ? "DELETE FROM "
                      : st->kind == CORE_RW_UPDATE ? "UPDATE "
                                                   : "INSERT INTO ");
    ident(sql, st->schema);
    rcx_buf_puts(sql, ".");
    ident(sql, st->table);
    if (st->kind == CORE_RW_DELETE)
        return where_clause(st, meta, sql, params, np, why);
    size_t used = 0;
    if (st->kind == CORE_RW_UPDATE) {
        rcx_buf_puts(sql, " SET ");
        for (size_t i = 0; i < st->nput; i++) {
            const core_rw_column_t *c = column(meta, st->put[i].name);
            if (c == NULL || c->generated)
                continue;
            rcx_buf_puts(sql, used++ > 0 ? ", " : "");
            ident(sql, c->name);
            rcx_buf_puts(sql, " = ");
            param(sql, params, np, st->put[i].value, c->type);
        }
        if (used == 0) {
            rcx_buf_reset(sql);
            rcx_buf_puts(sql, "SELECT 1"); /* nothing a column of it changed: the row count still checks */
            *np = 0;
            return 0;
        }
        return where_clause(st, meta, sql, params, np, why);
    }
    rcx_buf_puts(sql, " (");
    rcx_buf_t values;
    rcx_buf_init(&values, SIZE_MAX);
    for (size_t i = 0; i < st->nput; i++) {
        const core_rw_column_t *c = column(meta, st->put[i].name);
        if (c == NULL || c->generated)
            continue;
        rcx_buf_puts(sql, used > 0 ? ", " : "");
        rcx_buf_puts(&values, used++ > 0 ? ", " : "");
        ident(sql, c->name);
        param(&values, params, np, st->put[i].value, c->type);
    }
    rcx_buf_puts(sql, ") OVERRIDING SYSTEM VALUE VALUES (");
    rcx_buf_append(sql, values.base ? values.base : "", values.len);
    rcx_buf_puts(sql, ")");
    rcx_buf_free(&values);
    return 0;
}
