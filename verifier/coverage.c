/* verifier/coverage.c: see coverage.h. */
#include "verifier/coverage.h"

#include "common/buf.h"
#include "common/codec.h"
#include "verifier/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rv_table_name_matches(const char *want, const char *full)
{
    if (strchr(want, '.'))
        return strcmp(want, full) == 0;
    const char *dot = strchr(full, '.');
    return dot != NULL && strcmp(dot + 1, want) == 0;
}

/* The columns of one row image, once a table's columns are known only rows that show more are read. */
static void note_row(json_t *cols, const json_t *row)
{
    if (!json_is_object(row))
        return;
    if (json_object_size(cols) > 0 && json_object_size(row) <= json_object_size(cols))
        return; /* a table's rows show the same columns: only one that shows more is read */
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)row, k, v)
    {
        (void)v;
        if (json_object_get(cols, k) == NULL)
            json_object_set_new(cols, k, json_true());
    }
}

static json_t *table_cols(rv_coverage_t *c, const char *full)
{
    if (c->tables == NULL)
        c->tables = json_object();
    json_t *cols = json_object_get(c->tables, full);
    if (cols == NULL)
        json_object_set_new(c->tables, full, cols = json_object());
    return cols;
}

static void note_tx(rv_coverage_t *c, const json_t *tx)
{
    const char *name;
    const json_t *counts;
    json_object_foreach((json_t *)json_object_get(tx, "tables"), name, counts)
    {
        (void)counts;
        if (strchr(name, '.') != NULL)
            table_cols(c, name);
    }
    size_t i;
    const json_t *ch;
    json_array_foreach(json_object_get(tx, "changes"), i, ch)
    {
        rcx_change_t rc;
        if (rcx_rec_change(ch, &rc) != 0 || rc.op == RCX_OP_TRUNCATE)
            continue;
        char full[512];
        snprintf(full, sizeof(full), "%s.%s", rc.schema, rc.table);
        json_t *cols = table_cols(c, full);
        note_row(cols, json_object_get(ch, "new"));
        note_row(cols, json_object_get(ch, "old"));
    }
}

void rv_coverage_note(rv_coverage_t *c, const json_t *rec)
{
    rcx_rec_kind_t kind = rcx_rec_kind(rec);
    if (kind == RCX_REC_ORPHAN) {
        note_tx(c, rec);
        return;
    }
    size_t i;
    const json_t *tx;
    json_array_foreach(rcx_rec_transactions(rec), i, tx) note_tx(c, tx);
}

void rv_coverage_hit(rv_coverage_t *c, const rv_spec_t *spec)
{
    if (spec->order >= c->nhits) {
        size_t n = spec->order + 64;
        c->hits = rcx_xrealloc(c->hits, sizeof(*c->hits) * n);
        memset(c->hits + c->nhits, 0, sizeof(*c->hits) * (n - c->nhits));
        c->nhits = n;
    }
    c->hits[spec->order]++;
}

void rv_coverage_join(rv_coverage_t *into, rv_coverage_t *from)
{
    for (size_t i = 0; i < from->nhits; i++)
        if (from->hits[i] > 0) {
            rv_spec_t probe = {.order = i};
            rv_coverage_hit(into, &probe);
            into->hits[i] += from->hits[i] - 1;
        }
    const char *name;
    json_t *cols;
    json_object_foreach(from->tables, name, cols)
    {
        json_t *to = table_cols(into, name);
        const char *k;
        json_t *v;
        json_object_foreach(cols, k, v) json_object_set(to, k, v);
    }
    rv_coverage_free(from);
}

void rv_coverage_free(rv_coverage_t *c)
{
    json_decref(c->tables);
    free(c->hits);
    *c = (rv_coverage_t){0};
}

/* Levenshtein distance, bounded by the buffer (names longer than 127 bytes are not compared). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return SIZE_MAX;
    size_t prev[128], cur[128];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

const char *rv_nearest_name(const char *name, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t bd = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(name, candidates[i]);
        if (d < bd) {
            bd = d;
            best = candidates[i];
        }
    }
    size_t len = strlen(name);
    return best != NULL && bd <= (len + 1) / 2 ? best : NULL;
}

/* ---- the end of a run ---- */

static void spec_finding(rv_report_t *r, const rv_spec_t *s, rv_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void spec_finding(rv_report_t *r, const rv_spec_t *s, rv_pos_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = rcx_xvasprintf(fmt, ap);
    va_end(ap);
    r->spec_findings = rcx_xrealloc(r->spec_findings, sizeof(*r->spec_findings) * (r->nspec_findings + 1));
    r->spec_findings[r->nspec_findings++] = (rv_spec_finding_t){s, pos, msg};
}

static bool expects_rows(const rv_table_expect_t *te)
{
    for (int o = 0; o < RV_OP_COUNT; o++) {
        const rv_op_expect_t *op = &te->op[o];
        if (op->given && (op->count > 0 || op->count_m != NULL || op->quant != NULL || op->nrows > 0))
            return true;
    }
    return false;
}

/* "tasks" and "public.tasks" for every table captured, for the nearest name. */
static size_t table_names(const json_t *tables, const char **names, size_t max)
{
    size_t n = 0;
    const char *full;
    json_t *cols;
    json_object_foreach((json_t *)tables, full, cols)
    {
        const char *dot = strchr(full, '.');
        if (n + 2 > max)
            break;
        names[n++] = full;
        if (dot != NULL)
            names[n++] = dot + 1;
    }
    return n;
}

/* The columns of the row matcher m (a mapping) that no captured row of te's tables has. */
static bool check_columns(rv_report_t *r, const rv_spec_t *s, const rv_table_expect_t *te, const char *where,
                          const rv_matcher_t *m, const json_t *cols)
{
    if (m == NULL || m->kind != RV_M_OBJ || json_object_size(cols) == 0)
        return false;
    const char *names[512];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cols, k, v) if (n < 512) names[n++] = k;
    bool bad = false;
    for (size_t i = 0; i < m->n; i++) {
        if (json_object_get(cols, m->keys[i]) != NULL)
            continue;
        const char *near = rv_nearest_name(m->keys[i], names, n);
        spec_finding(r, s, m->kids[i]->pos, "db.%s.%s.%s: no captured row of %s has a column '%s'%s%s%s",
                     te->name, where, m->keys[i], te->name, m->keys[i], near ? " (nearest: '" : "",
                     near ? near : "", near ? "')" : "");
        bad = true;
    }
    return bad;
}

/* A spec's table: its name and its rows' column names against what was captured. True when wrong. */
static bool check_table(rv_report_t *r, const rv_spec_t *s, const rv_table_expect_t *te)
{
    const json_t *tables = r->coverage.tables;
    json_t *cols = json_object();
    const char *full;
    json_t *tc;
    size_t matched = 0;
    json_object_foreach((json_t *)tables, full, tc)
    {
        if (!rv_table_name_matches(te->name, full))
            continue;
        matched++;
        json_object_update(cols, tc);
    }
    bool bad = false;
    if (matched == 0 && expects_rows(te)) {
        const char *names[512];
        const char *near = rv_nearest_name(te->name, names, table_names(tables, names, 512));
        spec_finding(r, s, te->pos, "db.%s: no captured change touched a table named '%s'%s%s%s", te->name,
                     te->name, near ? " (nearest: '" : "", near ? near : "", near ? "')" : "");
        bad = true;
    }
    for (int o = 0; o < RV_OP_COUNT && matched > 0; o++) {
        const rv_op_expect_t *op = &te->op[o];
        char where[64];
        for (size_t i = 0; i < op->nrows; i++) {
            snprintf(where, sizeof(where), "%s[%zu]", rv_op_name((rv_op_t)o), i);
            bad |= check_columns(r, s, te, where, op->rows[i], cols);
        }
        for (size_t i = 0; op->quant != NULL && i < op->quant->n; i++) {
            const rv_matcher_t *q = op->quant->kids[i];
            snprintf(where, sizeof(where), "%s.%s", rv_op_name((rv_op_t)o),
                     q->kind == RV_M_EVERY ? "$every" : "$none");
            if (q->kind != RV_M_COUNT)
                bad |= check_columns(r, s, te, where, q->kids[0], cols);
        }
    }
    json_decref(cols);
    return bad;
}

/* Drops the call findings about origin (and, for a misspelt table, the spec's "unexpected table" ones). */
static void drop_findings(rv_report_t *r, const rv_spec_t *s, const void *origin)
{
    for (size_t i = 0; i < r->n; i++) {
        rv_item_t *it = &r->items[i];
        if (it->spec != s || it->nf == 0)
            continue;
        size_t w = 0;
        for (size_t k = 0; k < it->nf; k++) {
            if (it->f[k].origin == origin || it->f[k].origin == &s->strict)
                free(it->f[k].msg);
            else
                it->f[w++] = it->f[k];
        }
        it->nf = w;
        if (w == 0) {
            r->failed--;
            r->passed++;
        }
    }
}

void rv_coverage_finish(rv_report_t *r, const rv_specs_t *specs)
{
    for (size_t i = 0; i < specs->n; i++) {
        const rv_spec_t *s = &specs->v[i];
        for (size_t x = 0; x < s->ntables; x++)
            if (check_table(r, s, &s->tables[x]))
                drop_findings(r, s, &s->tables[x]);
        if (s->order >= r->coverage.nhits || r->coverage.hits[s->order] == 0) {
            r->unused = rcx_xrealloc(r->unused, sizeof(*r->unused) * (r->nunused + 1));
            r->unused[r->nunused++] = s;
        }
    }
}
