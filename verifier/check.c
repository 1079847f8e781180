/* verifier/check.c: see check.h. */
#include "verifier/check.h"

#include "common/buf.h"
#include "common/codec.h"

#include "verifier/coverage.h"
#include "verifier/match.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void add(rv_outcome_t *out, rv_pos_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(rv_outcome_t *out, rv_pos_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = rcx_xvasprintf(fmt, ap);
    va_end(ap);
    out->f = rcx_xrealloc(out->f, sizeof(*out->f) * (out->nf + 1));
    out->f[out->nf++] = (rv_finding_t){pos, msg, out->origin};
}

void rv_outcome_clear(rv_outcome_t *out)
{
    for (size_t i = 0; i < out->nf; i++)
        free(out->f[i].msg);
    free(out->f);
    *out = (rv_outcome_t){0};
}

static bool when_headers_match(const rv_spec_t *s, const json_t *call, const rv_ctx_t *ctx)
{
    const json_t *h = json_object_get(json_object_get(call, "request"), "headers");
    for (size_t i = 0; i < s->nwhen_headers; i++) {
        rcx_buf_t where, why;
        rcx_buf_init(&where, SIZE_MAX);
        rcx_buf_init(&why, SIZE_MAX);
        const rv_matcher_t *at;
        bool ok = rv_match(s->when_headers[i].m, json_object_get(h, s->when_headers[i].name), ctx, &where,
                           &why, &at);
        rcx_buf_free(&where);
        rcx_buf_free(&why);
        if (!ok)
            return false;
    }
    return true;
}

static bool when_status_matches(const rv_spec_t *s, const json_t *call, const rv_ctx_t *ctx)
{
    if (s->when_status == NULL)
        return true;
    rcx_buf_t where, why;
    rcx_buf_init(&where, SIZE_MAX);
    rcx_buf_init(&why, SIZE_MAX);
    const rv_matcher_t *at;
    bool ok = rv_match(s->when_status, json_object_get(json_object_get(call, "response"), "status"), ctx,
                       &where, &why, &at);
    rcx_buf_free(&where);
    rcx_buf_free(&why);
    return ok;
}

const rv_spec_t *rv_select(const rv_specs_t *set, const json_t *call)
{
    const char *method = rcx_rec_str(call, "request", "method"), *path = rcx_rec_str(call, "request", "path");
    const char *test = json_string_value(json_object_get(call, "test"));
    const rv_spec_t *best = NULL;
    for (size_t i = 0; i < set->n; i++) {
        const rv_spec_t *s = &set->v[i];
        if (best != NULL && s->specificity <= best->specificity)
            continue; /* cannot win: ties go to the first loaded */
        if (s->method && (method == NULL || strcasecmp(s->method, method) != 0))
            continue;
        if (!rv_path_matches(s, path))
            continue;
        if (s->test && (test == NULL || fnmatch(s->test, test, 0) != 0))
            continue;
        if (s->nwhen_headers > 0 || s->when_status != NULL) {
            rv_ctx_t ctx = {.call = call, .spec = s};
            if (!when_headers_match(s, call, &ctx) || !when_status_matches(s, call, &ctx))
                continue;
        }
        best = s;
    }
    return best;
}

/* A value check: records a finding at the failing matcher. */
static void expect(rv_outcome_t *out, const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx,
                   const char *prefix)
{
    rcx_buf_t where, why;
    rcx_buf_init(&where, SIZE_MAX);
    rcx_buf_init(&why, SIZE_MAX);
    rcx_buf_append(&where, prefix, strlen(prefix));
    const rv_matcher_t *at;
    if (!rv_match(m, v, ctx, &where, &why, &at))
        add(out, at->pos, "%.*s: %.*s", (int)where.len, where.base, (int)why.len, why.base);
    rcx_buf_free(&where);
    rcx_buf_free(&why);
}

/* ---- database effects ---- */

typedef struct row {
    const json_t *v;  /* the row it leaves or removes (rcx_change_t.row) */
    const json_t *ch; /* the change: old image, changed columns */
    bool ambiguous;
    bool used;
} row_t;

typedef struct table {
    const char *name; /* schema.table */
    row_t *rows[RV_OP_COUNT];
    size_t nrows[RV_OP_COUNT];
    uint64_t certain[RV_OP_COUNT], maybe[RV_OP_COUNT];
    bool named; /* some expectation names it */
} table_t;

typedef struct effects {
    table_t *t;
    size_t n;
} effects_t;

static table_t *table_for(effects_t *e, const char *name)
{
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->t[i].name, name) == 0)
            return &e->t[i];
    e->t = rcx_xrealloc(e->t, sizeof(*e->t) * (e->n + 1));
    e->t[e->n] = (table_t){.name = name};
    return &e->t[e->n++];
}

static void gather(const json_t *db, effects_t *e)
{
    size_t i;
    const json_t *tx;
    json_array_foreach(json_object_get(db, "transactions"), i, tx)
    {
        const char *how = json_string_value(json_object_get(tx, "attribution"));
        bool amb = how && strcmp(how, "ambiguous") == 0;
        const char *name;
        const json_t *counts;
        json_object_foreach((json_t *)json_object_get(tx, "tables"), name, counts)
        {
            if (strchr(name, '.') == NULL)
                continue; /* not "schema.table": not written by recap */
            table_t *t = table_for(e, name);
            static const char *const keys[] = {"insert", "update", "delete"};
            for (int o = 0; o < RV_OP_COUNT; o++) {
                uint64_t c = (uint64_t)json_integer_value(json_object_get(counts, keys[o]));
                if (amb)
                    t->maybe[o] += c;
                else
                    t->certain[o] += c;
            }
        }
        size_t k;
        const json_t *ch;
        json_array_foreach(json_object_get(tx, "changes"), k, ch)
        {
            rcx_change_t c;
            if (rcx_rec_change(ch, &c) != 0 || c.op > RCX_OP_DELETE)
                continue;
            int o = c.op == RCX_OP_INSERT   ? RV_OP_INSERT
                    : c.op == RCX_OP_UPDATE ? RV_OP_UPDATE
                                            : RV_OP_DELETE;
            char full[512];
            snprintf(full, sizeof(full), "%s.%s", c.schema, c.table);
            table_t *t = NULL;
            for (size_t x = 0; x < e->n && t == NULL; x++)
                if (strcmp(e->t[x].name, full) == 0)
                    t = &e->t[x];
            if (t == NULL)
                continue;
            t->rows[o] = rcx_xrealloc(t->rows[o], sizeof(row_t) * (t->nrows[o] + 1));
            t->rows[o][t->nrows[o]++] = (row_t){c.row, ch, amb, false};
        }
    }
}

static void effects_free(effects_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        for (int o = 0; o < RV_OP_COUNT; o++)
            free(e->t[i].rows[o]);
    free(e->t);
}

static bool row_matches(const rv_matcher_t *m, const json_t *row, const rv_ctx_t *ctx)
{
    rcx_buf_t where, why;
    rcx_buf_init(&where, SIZE_MAX);
    rcx_buf_init(&why, SIZE_MAX);
    const rv_matcher_t *at;
    bool ok = rv_match(m, row, ctx, &where, &why, &at);
    rcx_buf_free(&where);
    rcx_buf_free(&why);
    return ok;
}

/* Kuhn's augmenting paths: expected row i tries the actual rows it matches. */
static bool augment(size_t i, const bool *ok, size_t na, int *owner, bool *seen)
{
    for (size_t a = 0; a < na; a++) {
        if (!ok[i * na + a] || seen[a])
            continue;
        seen[a] = true;
        if (owner[a] < 0 || augment((size_t)owner[a], ok, na, owner, seen)) {
            owner[a] = (int)i;
            return true;
        }
    }
    return false;
}

/* A row as a finding shows it: an update whose old image was captured as its key and the columns that changed
 * (old -> new), anything else whole (cut). */
static void show_row(rcx_buf_t *b, const row_t *r)
{
    const json_t *changed = json_object_get(r->ch, "changed"), *old = json_object_get(r->ch, "old");
    if (!json_is_array(changed) || !json_is_object(old) || !json_is_object(r->v)) {
        rv_show(b, r->v, 200);
        return;
    }
    const json_t *key = json_object_get(r->ch, "key");
    const json_t *id = json_object_get(r->v, "id");
    if (json_is_object(key))
        rv_show(b, key, 100);
    else if (id != NULL) {
        rcx_buf_puts(b, "{\"id\":");
        rv_show(b, id, 60);
        rcx_buf_puts(b, "}");
    }
    size_t i;
    const json_t *col;
    json_array_foreach(changed, i, col)
    {
        const char *name = json_string_value(col);
        if (name == NULL)
            continue;
        rcx_buf_printf(b, "%s %s: ", i == 0 ? "" : ",", name);
        rv_show(b, json_object_get(old, name), 60);
        rcx_buf_puts(b, " -> ");
        rv_show(b, json_object_get(r->v, name), 60);
    }
    if (json_array_size(changed) == 0)
        rcx_buf_puts(b, " (no column changed)");
}

/* A deleted row of which only the key was captured: why its other columns are absent, and the cure. */
static const char *key_only_hint(const row_t *r)
{
    return json_object_get(r->ch, "key") != NULL && json_object_get(r->ch, "old") == NULL &&
                   json_object_get(r->ch, "new") == NULL
               ? " (only the key of deleted rows was captured: `recap db setup --replica-identity-full` "
                 "records "
                 "whole old rows)"
               : "";
}

/* The actual rows of every table a spec's name covers, for one operation. */
typedef struct rowset {
    row_t **rows;
    size_t n;
    uint64_t certain, maybe; /* counts: rows surely this call's, and rows it may share (ambiguous) */
} rowset_t;

static void gather_rows(table_t **ts, size_t nts, rv_op_t o, rowset_t *rs)
{
    size_t na = 0;
    for (size_t t = 0; t < nts; t++)
        na += ts[t]->nrows[o];
    *rs = (rowset_t){.rows = rcx_xcalloc(na ? na : 1, sizeof(*rs->rows))};
    for (size_t t = 0; t < nts; t++) {
        for (size_t r = 0; r < ts[t]->nrows[o]; r++)
            rs->rows[rs->n++] = &ts[t]->rows[o][r];
        rs->certain += ts[t]->certain[o];
        rs->maybe += ts[t]->maybe[o];
    }
}

/* A count given as a matcher ({$min: 1}): it passes if the certain count, or certain plus ambiguous, does. */
static void check_count_matcher(rv_outcome_t *out, const rv_op_expect_t *op, const char *label,
                                const rowset_t *rs, const rv_ctx_t *ctx)
{
    json_t *n = json_integer((json_int_t)rs->certain),
           *m = json_integer((json_int_t)(rs->certain + rs->maybe));
    rcx_buf_t where, why, w2, y2;
    rcx_buf_init(&where, SIZE_MAX);
    rcx_buf_init(&why, SIZE_MAX);
    rcx_buf_init(&w2, SIZE_MAX);
    rcx_buf_init(&y2, SIZE_MAX);
    rcx_buf_puts(&where, label);
    const rv_matcher_t *at;
    if (!rv_match(op->count_m, n, ctx, &where, &why, &at) &&
        (rs->maybe == 0 || !rv_match(op->count_m, m, ctx, &w2, &y2, &at)))
        add(out, at->pos, "%s (row count): %.*s", label, (int)why.len, why.base);
    rcx_buf_free(&w2);
    rcx_buf_free(&y2);
    rcx_buf_free(&where);
    rcx_buf_free(&why);
    json_decref(n);
    json_decref(m);
}

static void check_count(rv_outcome_t *out, const rv_op_expect_t *op, const char *label, const rowset_t *rs)
{
    if (op->count >= rs->certain && op->count <= rs->certain + rs->maybe)
        return;
    if (rs->maybe > 0)
        add(out, op->pos, "%s: expected %llu rows, got %llu (and %llu ambiguous)", label,
            (unsigned long long)op->count, (unsigned long long)rs->certain, (unsigned long long)rs->maybe);
    else
        add(out, op->pos, "%s: expected %llu rows, got %llu", label, (unsigned long long)op->count,
            (unsigned long long)rs->certain);
}

/* Expected row i matched no actual row: say why with the closest candidate (a row nothing else took). */
static void report_unmatched(rv_outcome_t *out, const rv_op_expect_t *op, const char *label, rv_op_t o,
                             const rowset_t *rs, const int *owner, bool *blamed, size_t i,
                             const rv_ctx_t *ctx)
{
    if (rs->n == 0) {
        add(out, op->rows[i]->pos, "%s[%zu]: expected a row like this, got no %s rows", label, i,
            rv_op_name(o));
        return;
    }
    size_t a = 0;
    while (a < rs->n && (owner[a] >= 0 || blamed[a]))
        a++;
    if (a == rs->n)
        a = 0;
    blamed[a] = true; /* shown here: not reported again as unexpected */
    rcx_buf_t where, why, shown;
    rcx_buf_init(&where, SIZE_MAX);
    rcx_buf_init(&why, SIZE_MAX);
    rcx_buf_init(&shown, SIZE_MAX);
    rcx_buf_printf(&where, "%s[%zu]", label, i);
    const rv_matcher_t *at = op->rows[i];
    rv_match(op->rows[i], rs->rows[a]->v, ctx, &where, &why, &at);
    show_row(&shown, rs->rows[a]);
    add(out, at->pos, "%.*s: no %s row matches (closest %.*s: %.*s)%s", (int)where.len, where.base,
        rv_op_name(o), (int)shown.len, shown.base, (int)why.len, why.base, key_only_hint(rs->rows[a]));
    rcx_buf_free(&shown);
    rcx_buf_free(&where);
    rcx_buf_free(&why);
}

/* A row list, matched as a set (a maximum bipartite matching): unmatched expectations and unexpected rows. */
static void check_row_list(rv_outcome_t *out, const rv_op_expect_t *op, const char *label, rv_op_t o,
                           const rowset_t *rs, const rv_ctx_t *ctx)
{
    size_t ne = op->nrows, na = rs->n;
    bool *ok = rcx_xcalloc(ne * na + 1, 1);
    for (size_t i = 0; i < ne; i++)
        for (size_t a = 0; a < na; a++)
            ok[i * na + a] = row_matches(op->rows[i], rs->rows[a]->v, ctx);
    int *owner = rcx_xmalloc(sizeof(int) * (na + 1));
    bool *seen = rcx_xmalloc(na + 1);
    for (size_t a = 0; a < na; a++)
        owner[a] = -1;
    bool *matched = rcx_xcalloc(ne + 1, 1), *blamed = rcx_xcalloc(na + 1, 1);
    for (size_t i = 0; i < ne; i++) {
        memset(seen, 0, na + 1);
        matched[i] = augment(i, ok, na, owner, seen);
    }
    for (size_t i = 0; i < ne; i++)
        if (!matched[i])
            report_unmatched(out, op, label, o, rs, owner, blamed, i, ctx);
    for (size_t a = 0; a < na; a++) { /* a certain row no expectation took is unexpected */
        if (owner[a] >= 0 || rs->rows[a]->ambiguous || blamed[a])
            continue;
        rcx_buf_t shown;
        rcx_buf_init(&shown, SIZE_MAX);
        show_row(&shown, rs->rows[a]);
        add(out, op->pos, "%s: unexpected %s row %.*s", label, rv_op_name(o), (int)shown.len, shown.base);
        rcx_buf_free(&shown);
    }
    if (rs->certain > na) /* images were capped: rows beyond them cannot be matched */
        add(out, op->pos, "%s: %llu rows, only %zu recorded with their values (--max-tx-rows): use a count",
            label, (unsigned long long)rs->certain, na);
    free(ok);
    free(owner);
    free(seen);
    free(matched);
    free(blamed);
}

/* $every: each certain row matches (an ambiguous one may not be this call's: not held against it). */
static void check_every(rv_outcome_t *out, const rv_matcher_t *q, const char *label, const rowset_t *rs,
                        const rv_ctx_t *ctx)
{
    for (size_t a = 0; a < rs->n; a++) {
        if (rs->rows[a]->ambiguous)
            continue;
        rcx_buf_t where, why, shown;
        rcx_buf_init(&where, SIZE_MAX);
        rcx_buf_init(&why, SIZE_MAX);
        rcx_buf_init(&shown, SIZE_MAX);
        rcx_buf_printf(&where, "%s[%zu]", label, a);
        const rv_matcher_t *at = q;
        if (!rv_match(q->kids[0], rs->rows[a]->v, ctx, &where, &why, &at)) {
            show_row(&shown, rs->rows[a]);
            add(out, at->pos, "%.*s: row %.*s does not match $every: %.*s%s", (int)where.len, where.base,
                (int)shown.len, shown.base, (int)why.len, why.base, key_only_hint(rs->rows[a]));
        }
        rcx_buf_free(&where);
        rcx_buf_free(&why);
        rcx_buf_free(&shown);
    }
}

/* $none: no row matches (ambiguous ones included: a row that may be this call's and matches is suspect). */
static void check_none(rv_outcome_t *out, const rv_matcher_t *q, const char *label, const rowset_t *rs,
                       const rv_ctx_t *ctx)
{
    for (size_t a = 0; a < rs->n; a++) {
        if (rs->rows[a]->ambiguous || !row_matches(q->kids[0], rs->rows[a]->v, ctx))
            continue;
        rcx_buf_t shown;
        rcx_buf_init(&shown, SIZE_MAX);
        show_row(&shown, rs->rows[a]);
        add(out, q->pos, "%s[%zu]: row %.*s matches $none", label, a, (int)shown.len, shown.base);
        rcx_buf_free(&shown);
    }
}

/* {$every: m, $none: m, $count: n} over the rows of one operation. */
static void check_quantifiers(rv_outcome_t *out, const rv_op_expect_t *op, const char *label,
                              const rowset_t *rs, const rv_ctx_t *ctx)
{
    for (size_t i = 0; i < op->quant->n; i++) {
        const rv_matcher_t *q = op->quant->kids[i];
        if (q->kind == RV_M_EVERY) {
            check_every(out, q, label, rs, ctx);
        } else if (q->kind == RV_M_NONE) {
            check_none(out, q, label, rs, ctx);
        } else {
            rv_op_expect_t count = {.pos = q->pos, .count_m = q->kids[0]};
            check_count_matcher(out, &count, label, rs, ctx);
        }
    }
}

static void check_rows(rv_outcome_t *out, const rv_op_expect_t *op, const char *label, table_t **ts,
                       size_t nts, rv_op_t o, const rv_ctx_t *ctx)
{
    rowset_t rs;
    gather_rows(ts, nts, o, &rs);
    if (op->quant != NULL)
        check_quantifiers(out, op, label, &rs, ctx);
    else if (op->count_m != NULL)
        check_count_matcher(out, op, label, &rs, ctx);
    else if (op->is_count)
        check_count(out, op, label, &rs);
    else
        check_row_list(out, op, label, o, &rs, ctx);
    free(rs.rows);
}

static void check_db(rv_outcome_t *out, const rv_spec_t *s, const json_t *call, const rv_ctx_t *ctx)
{
    const json_t *db = json_object_get(call, "db");
    const char *status = json_string_value(json_object_get(db, "status"));
    if (status == NULL || strcmp(status, "complete") != 0) {
        const char *reason = json_string_value(json_object_get(db, "reason"));
        add(out, s->db_pos, "db: the capture has no row changes for this call (db status %s%s%s)",
            status ? status : "missing", reason ? ": " : "", reason ? reason : "");
        return;
    }
    effects_t e = {0};
    gather(db, &e);
    if (s->db == RV_DB_NONE) {
        for (size_t i = 0; i < e.n; i++)
            for (int o = 0; o < RV_OP_COUNT; o++)
                if (e.t[i].certain[o] > 0)
                    add(out, s->db_pos, "db: expected no row changes, got %llu %s in %s",
                        (unsigned long long)e.t[i].certain[o], rv_op_name((rv_op_t)o), e.t[i].name);
        effects_free(&e);
        return;
    }
    for (size_t x = 0; x < s->ntables; x++) {
        const rv_table_expect_t *te = &s->tables[x];
        out->origin = te;
        table_t *ts[64];
        size_t nts = 0;
        for (size_t i = 0; i < e.n && nts < 64; i++)
            if (rv_table_name_matches(te->name, e.t[i].name)) {
                ts[nts++] = &e.t[i];
                e.t[i].named = true;
            }
        for (int o = 0; o < RV_OP_COUNT; o++) {
            char label[300];
            snprintf(label, sizeof(label), "db.%s.%s", te->name, rv_op_name((rv_op_t)o));
            if (te->op[o].given) {
                check_rows(out, &te->op[o], label, ts, nts, (rv_op_t)o, ctx);
            } else if (s->strict) {
                uint64_t got = 0;
                for (size_t t = 0; t < nts; t++)
                    got += ts[t]->certain[o];
                if (got > 0)
                    add(out, te->pos, "%s: %llu rows %s, and the spec names no %s for %s (strict)", label,
                        (unsigned long long)got, rv_op_name((rv_op_t)o), rv_op_name((rv_op_t)o), te->name);
            }
        }
    }
    out->origin = &s->strict;
    if (s->strict)
        for (size_t i = 0; i < e.n; i++) {
            if (e.t[i].named)
                continue;
            char what[200] = "";
            for (int o = 0; o < RV_OP_COUNT; o++)
                if (e.t[i].certain[o] > 0)
                    snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%llu %s",
                             what[0] ? ", " : "", (unsigned long long)e.t[i].certain[o],
                             rv_op_name((rv_op_t)o));
            if (what[0])
                add(out, s->db_pos, "db: unexpected changes to %s: %s (the spec does not name it; strict)",
                    e.t[i].name, what);
        }
    out->origin = NULL;
    effects_free(&e);
}

void rv_check_call(const rv_spec_t *s, const json_t *call, json_t *saved, rv_outcome_t *out)
{
    *out = (rv_outcome_t){.spec = s};
    const json_t *req = json_object_get(call, "request"), *res = json_object_get(call, "response");
    json_t *req_body = rv_body_of(req), *res_body = rv_body_of(res);
    rv_ctx_t ctx = {.call = call, .req_body = req_body, .res_body = res_body, .spec = s, .saved = saved};
    if (s->status)
        expect(out, s->status, json_object_get(res, "status"), &ctx, "status");
    const json_t *hdrs = json_object_get(res, "headers");
    for (size_t i = 0; i < s->nheaders; i++) {
        char prefix[300];
        snprintf(prefix, sizeof(prefix), "response.headers.%s", s->headers[i].name);
        expect(out, s->headers[i].m, json_object_get(hdrs, s->headers[i].name), &ctx, prefix);
    }
    if (s->body) {
        if (res_body == NULL && json_object_get(res, "body_b64") != NULL)
            add(out, s->body->pos,
                "response.body: the body is binary (recorded as base64); it cannot be matched");
        else if (json_is_true(json_object_get(res, "truncated")))
            add(out, s->body->pos,
                "response.body: the body was recorded truncated (--max-body); it cannot be matched");
        else
            expect(out, s->body, res_body, &ctx, "response.body");
    }
    if (s->db != RV_DB_UNCHECKED)
        check_db(out, s, call, &ctx);
    for (size_t i = 0; i < s->nsaves; i++) {
        json_t *v = rv_resolve(&s->saves[i].ref, &ctx);
        if (v == NULL) {
            add(out, s->saves[i].pos, "save %s: ${%s} has no value in this call", s->saves[i].name,
                s->saves[i].ref.text);
            continue;
        }
        json_object_set_new(saved, s->saves[i].name, v);
    }
    json_decref(req_body);
    json_decref(res_body);
}
