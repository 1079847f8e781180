/* tools/specgen.c: see specgen.h. */
#include "tools/specgen.h"

#include "common/codec.h"
#include "core/flow.h"
#include "core/pathtpl.h"
#include "verifier/yaml.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/capture_reader.h"
#include "verifier/match.h"
#include "verifier/report.h"
#include "verifier/spec.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct group {
    char *method, *resource;
    const core_flow_t *flow; /* the run's value flow (borrowed) */
    core_pathtpl_t tpl;      /* the path template and its parameters' names */
    const json_t **calls;
    size_t n;
} group_t;

static const char *sv(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static char *resource_of(const char *path)
{
    for (const char *p = path; *p;) {
        if (*p == '/') {
            p++;
            continue;
        }
        size_t n = strcspn(p, "/");
        bool skip = (n == 3 && strncmp(p, "api", 3) == 0) ||
                    (n >= 2 && p[0] == 'v' && strspn(p + 1, "0123456789") == n - 1) ||
                    core_is_id_segment(p, n);
        if (!skip) {
            char name[64];
            size_t k = 0;
            for (size_t i = 0; i < n && k + 1 < sizeof(name); i++)
                name[k++] =
                    isalnum((unsigned char)p[i]) || p[i] == '-' ? (char)tolower((unsigned char)p[i]) : '_';
            name[k] = '\0';
            return rcx_xstrdup(name);
        }
        p += n;
    }
    return rcx_xstrdup("root");
}

/* ---- references: the values of a call a spec can name ---- */

typedef struct cand {
    char ref[300];
    const json_t *v; /* borrowed, or owned in own */
    json_t *own;
} cand_t;

typedef struct cands {
    cand_t *v;
    size_t n;
} cands_t;

static void cand_add(cands_t *c, const char *ref, const json_t *v, json_t *own)
{
    c->v = rcx_xrealloc(c->v, sizeof(*c->v) * (c->n + 1));
    cand_t *x = &c->v[c->n++];
    snprintf(x->ref, sizeof(x->ref), "%s", ref);
    x->v = v;
    x->own = own;
}

static void flatten(cands_t *c, const char *prefix, const json_t *v, int depth)
{
    if (json_is_object(v) && depth < 3) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            if (strchr(k, '.') || !*k)
                continue;
            char ref[300];
            snprintf(ref, sizeof(ref), "%s.%s", prefix, k);
            flatten(c, ref, x, depth + 1);
        }
    } else if (!json_is_object(v) && !json_is_array(v) && depth > 0) {
        cand_add(c, prefix, v, NULL);
    }
}

/* Candidates in order of preference: path parameters, request body, query, (for rows) response body. */
static void candidates(const group_t *g, const json_t *call, bool with_response, cands_t *c)
{
    *c = (cands_t){0};
    const char *path = rcx_rec_str(call, "request", "path");
    size_t seg = 0;
    for (const char *p = path ? path : ""; *p && seg < g->tpl.nsegs;) {
        if (*p == '/') {
            p++;
            continue;
        }
        size_t n = strcspn(p, "/");
        if (g->tpl.params[seg]) {
            char ref[300];
            snprintf(ref, sizeof(ref), "path.%s", g->tpl.params[seg]);
            json_t *v = json_stringn(p, n);
            cand_add(c, ref, v, v);
        }
        seg++;
        p += n;
    }
    flatten(c, "request.body", json_object_get(json_object_get(call, "request"), "body"), 0);
    const char *q = rcx_rec_str(call, "request", "query");
    while (q && *q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        if (eq && eq > q && (size_t)(eq - q) < 100 && memchr(q, '%', len) == NULL &&
            memchr(q, '+', len) == NULL) {
            char ref[300];
            snprintf(ref, sizeof(ref), "request.query.%.*s", (int)(eq - q), q);
            json_t *v = json_stringn(eq + 1, len - (size_t)(eq - q) - 1);
            cand_add(c, ref, v, v);
        }
        q += len + (q[len] == '&');
    }
    if (with_response)
        flatten(c, "response.body", json_object_get(json_object_get(call, "response"), "body"), 0);
}

static void cands_free(cands_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->v[i].own);
    free(c->v);
}

static const char *last_name(const char *ref)
{
    const char *d = strrchr(ref, '.');
    return d ? d + 1 : ref;
}

static bool id_like(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "id") == 0 || (n > 3 && strcmp(name + n - 3, "_id") == 0);
}

/* A reference that equals values[i] in every call i, or NULL. Numbers need a name that agrees (an id, or
 * the same field name) so that a 1 is not tied to any other 1 by chance. */
static const char *find_ref(const char *field, json_t *const *values, cands_t *cs, size_t n)
{
    if (json_is_null(values[0]) || json_is_boolean(values[0]))
        return NULL;
    if (json_is_string(values[0]) && json_string_length(values[0]) < 2)
        return NULL;
    for (size_t k = 0; k < cs[0].n; k++) {
        const char *ref = cs[0].v[k].ref;
        if (strncmp(ref, "response.body", 13) == 0 && strncmp(field, "response.", 9) == 0)
            continue;
        if (json_is_number(values[0]) && strcmp(last_name(ref), last_name(field)) != 0 &&
            !(strncmp(ref, "path.", 5) == 0 && id_like(last_name(field))))
            continue; /* a number is tied only to a field of the same name, or to a path id, not to any 1 */
        bool all = true;
        for (size_t i = 0; i < n && all; i++) {
            const cand_t *hit = NULL;
            for (size_t j = 0; j < cs[i].n && !hit; j++)
                if (strcmp(cs[i].v[j].ref, ref) == 0)
                    hit = &cs[i].v[j];
            all = hit != NULL && rv_equal(hit->v, values[i]);
        }
        if (all)
            return ref;
    }
    return NULL;
}

static const char *type_of(const json_t *v)
{
    if (json_is_integer(v))
        return "$int";
    if (json_is_real(v))
        return "$number";
    if (json_is_boolean(v))
        return "$bool";
    if (json_is_null(v))
        return "$null";
    if (json_is_object(v))
        return "$object";
    if (json_is_array(v))
        return "$array";
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (core_is_uuid(s, n))
        return "$uuid";
    if (core_is_timestamp(s))
        return "$timestamp";
    if (n == 10 && core_is_date(s))
        return "$date";
    return "$string";
}

static bool all_equal(json_t *const *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (!json_equal(v[0], v[i]))
            return false;
    return true;
}

/* The matcher for one place (values of every call there) as YAML after "key: ". */
/* Whether the run made v (an id an insert made, a slug, a token, a uuid): never written as a literal. */
static bool made_by_run(const core_flow_t *f, const json_t *v)
{
    char num[32];
    const char *t;
    size_t l;
    if (!core_flow_text(v, num, sizeof(num), &t, &l))
        return false;
    return json_is_string(v) ? core_flow_volatile(t, l) : core_flow_made(f, t, l);
}

/* Machine-made strings (a slug, a code) that are no uuid, timestamp or token: a regex of the characters they
 * are made of ({$regex: "^[a-z0-9-]+$"}), so a change of format fails while every new value passes. Letters
 * and digits go together (a random suffix may lack either); each other character only where one was seen. */
static bool shape_regex(rcx_buf_t *b, json_t *const *v, size_t n)
{
    bool lower = false, upper = false, other[128] = {false};
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(v[i]);
        size_t l = json_string_length(v[i]);
        if (s == NULL || !core_flow_volatile(s, l) || strcmp(type_of(v[i]), "$string") != 0)
            return false;
        char shape[16];
        core_flow_shape(s, l, shape, sizeof(shape));
        if (strcmp(shape, "jwt") == 0)
            return false;
        for (size_t k = 0; k < l; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c >= 128 || c < 32)
                return false;
            if (islower(c) || isdigit(c))
                lower = true;
            else if (isupper(c))
                upper = true;
            else
                other[c] = true;
        }
    }
    rcx_buf_puts(b, "{$regex: \"^[");
    if (lower)
        rcx_buf_puts(b, "a-z0-9");
    if (upper)
        rcx_buf_puts(b, lower ? "A-Z" : "A-Z0-9");
    for (int c = 32; c < 128; c++)
        if (other[c])
            rcx_buf_printf(b, "%s%c",
                           c == '-' || c == ']' || c == '\\' || c == '^' ? "\\\\"
                           : c == '"'                                    ? "\\"
                                                                         : "",
                           (char)c);
    rcx_buf_puts(b, "]+$\"}");
    return true;
}

static void infer(rcx_buf_t *b, const core_flow_t *f, const char *field, json_t *const *v, size_t n,
                  cands_t *cs, int indent, int depth)
{
    if (json_is_object(v[0]) && depth < 3) {
        bool objects = true;
        for (size_t i = 0; i < n && objects; i++)
            objects = json_is_object(v[i]);
        if (objects) {
            size_t keys = 0;
            const char *k;
            const json_t *x;
            json_object_foreach((json_t *)v[0], k, x)
            {
                (void)x;
                json_t *kv[256];
                size_t m = n < 256 ? n : 256;
                bool everywhere = true;
                for (size_t i = 0; i < m && everywhere; i++)
                    everywhere = (kv[i] = json_object_get(v[i], k)) != NULL;
                if (!everywhere)
                    continue;
                rcx_buf_printf(b, "\n%*s", indent, "");
                rv_yaml_write_key(b, k);
                rcx_buf_puts(b, ": ");
                char sub[400];
                snprintf(sub, sizeof(sub), "%s.%s", field, k);
                infer(b, f, sub, kv, m, cs, indent + 2, depth + 1);
                keys++;
            }
            if (keys == 0)
                rcx_buf_puts(b, "{}");
            return;
        }
    }
    if (json_is_array(v[0])) {
        json_t *lens[256] = {0};
        size_t m = n < 256 ? n : 256;
        bool arrays = true;
        for (size_t i = 0; i < m && arrays; i++)
            arrays = json_is_array(v[i]);
        if (arrays) {
            for (size_t i = 0; i < m; i++)
                lens[i] = json_integer((json_int_t)json_array_size(v[i]));
            const char *ref = find_ref("count", lens, cs, m);
            if (ref)
                rcx_buf_printf(b, "{$len: {$ref: %s}}", ref);
            else if (m > 1 && all_equal(lens, m))
                rcx_buf_printf(b, "{$len: %lld}", (long long)json_integer_value(lens[0]));
            else
                rcx_buf_puts(b, "$array");
            for (size_t i = 0; i < m; i++)
                json_decref(lens[i]);
            return;
        }
    }
    const char *ref = find_ref(field, v, cs, n);
    if (ref) {
        rcx_buf_printf(b, "${%s}", ref);
        return;
    }
    if (shape_regex(b, v, n))
        return;
    const char *t = type_of(v[0]);
    bool same_type = true;
    for (size_t i = 1; i < n && same_type; i++)
        same_type = strcmp(type_of(v[i]), t) == 0;
    bool volatile_type = strcmp(t, "$uuid") == 0 || strcmp(t, "$timestamp") == 0;
    if (n > 1 && all_equal(v, n) && !json_is_object(v[0]) && !volatile_type && !id_like(last_name(field)) &&
        !made_by_run(f, v[0]))
        rv_yaml_write_literal(b, v[0]);
    else
        rcx_buf_puts(b, same_type ? t : "$any");
}

/* ---- row changes ---- */

static const char *const ops[] = {"insert", "update", "delete"};
static const char *const op_keys[] = {"inserted", "updated", "deleted"};

/* Exact counts of one table and operation in a call; -1 if its changes were not captured. */
static long long count_in(const json_t *call, const char *table, int op)
{
    const json_t *db = json_object_get(call, "db");
    if (strcmp(sv(json_object_get(db, "status")), "complete") != 0)
        return -1;
    long long n = 0;
    size_t i;
    const json_t *tx;
    json_array_foreach(json_object_get(db, "transactions"), i, tx) n +=
        json_integer_value(json_object_get(json_object_get(json_object_get(tx, "tables"), table), ops[op]));
    return n;
}

/* The single row of a table and operation in a call (borrowed); NULL unless the call's changes hold exactly
 * one (its counts say 1, but only the rows themselves can be listed in a spec). */
static const json_t *only_row(const json_t *call, const char *table, int op)
{
    const json_t *found = NULL;
    size_t rows = 0;
    size_t i, j;
    const json_t *tx, *ch;
    json_array_foreach(json_object_get(json_object_get(call, "db"), "transactions"), i, tx)
        json_array_foreach(json_object_get(tx, "changes"), j, ch)
    {
        char full[600];
        snprintf(full, sizeof(full), "%s.%s", sv(json_object_get(ch, "schema")),
                 sv(json_object_get(ch, "table")));
        if (strcmp(full, table) == 0 && strcmp(sv(json_object_get(ch, "op")), ops[op]) == 0) {
            rows++;
            found = op == 2 ? (json_object_get(ch, "old") ? json_object_get(ch, "old")
                                                          : json_object_get(ch, "key"))
                            : json_object_get(ch, "new");
        }
    }
    return rows == 1 ? found : NULL;
}

/* The tables these calls inserted, updated or deleted rows in ("schema.table" -> true, in the order first
 * seen; a spec has no word for a truncate); NULL when some call was recorded without its row changes. */
static json_t *tables_written(const json_t **calls, size_t n)
{
    json_t *tables = json_object();
    for (size_t i = 0; i < n; i++) {
        const json_t *db = json_object_get(calls[i], "db");
        if (strcmp(sv(json_object_get(db, "status")), "complete") != 0) {
            json_decref(tables);
            return NULL;
        }
        size_t k;
        const json_t *tx;
        json_array_foreach(rcx_rec_transactions(calls[i]), k, tx)
        {
            const char *name;
            const json_t *x;
            json_object_foreach((json_t *)json_object_get(tx, "tables"), name, x)
            {
                if (strchr(name, '.') != NULL) /* "schema.table", as recap writes them */
                    json_object_set_new(tables, name, json_true());
            }
        }
    }
    const char *tname;
    json_t *tv;
    void *tmp;
    json_object_foreach_safe(tables, tmp, tname, tv)
    {
        long long any = 0;
        for (int op = 0; op < 3; op++)
            for (size_t i = 0; i < n; i++)
                any += count_in(calls[i], tname, op) > 0;
        if (any == 0)
            json_object_del(tables, tname);
    }
    return tables;
}

/* "organizations" for public.organizations, unless another schema has one too (it would match both). */
static const char *short_name(const json_t *tables, const char *name)
{
    const char *shown = strncmp(name, "public.", 7) == 0 && !strchr(name + 7, '.') ? name + 7 : name;
    const char *other;
    json_t *ov;
    json_object_foreach((json_t *)tables, other, ov)
    {
        const char *dot = strchr(other, '.');
        if (shown != name && strcmp(other, name) != 0 && dot && strcmp(dot + 1, shown) == 0)
            return name;
    }
    return shown;
}

/* One row in every call: its columns that equal a request, path or response value, as a row list item into
 * row; how many. */
static size_t row_refs(rcx_buf_t *row, const group_t *g, const json_t **calls, size_t n, const char *name,
                       int op)
{
    const json_t *rows[256];
    if (n > 256)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((rows[i] = only_row(calls[i], name, op)) == NULL || !json_is_object(rows[i]))
            return 0;
    cands_t *cs = rcx_xcalloc(n, sizeof(*cs));
    for (size_t i = 0; i < n; i++)
        candidates(g, calls[i], true, &cs[i]);
    size_t cols = 0;
    const char *col;
    const json_t *cv;
    json_object_foreach((json_t *)rows[0], col, cv)
    {
        json_t *vals[256];
        bool everywhere = true;
        for (size_t i = 0; i < n && everywhere; i++)
            everywhere = (vals[i] = json_object_get(rows[i], col)) != NULL;
        char field[300];
        snprintf(field, sizeof(field), "db.%s", col);
        const char *ref = everywhere ? find_ref(field, vals, cs, n) : NULL;
        if (ref == NULL)
            continue;
        rcx_buf_printf(row, "\n                %s", cols ? "  " : "- ");
        rv_yaml_write_key(row, col);
        rcx_buf_printf(row, ": ${%s}", ref);
        cols++;
    }
    for (size_t i = 0; i < n; i++)
        cands_free(&cs[i]);
    free(cs);
    return cols;
}

/* A table's operations: the count (a range when it varies), or the single row's references. */
static void emit_table(rcx_buf_t *b, const group_t *g, const json_t **calls, size_t n, const char *name)
{
    for (int op = 0; op < 3; op++) {
        long long lo = -1, hi = -1;
        for (size_t i = 0; i < n; i++) {
            long long c = count_in(calls[i], name, op);
            lo = lo < 0 || c < lo ? c : lo;
            hi = c > hi ? c : hi;
        }
        if (hi <= 0)
            continue;
        rcx_buf_printf(b, "\n            %s: ", op_keys[op]);
        if (lo != hi) {
            rcx_buf_printf(b, "{$min: %lld, $max: %lld}", lo, hi);
            continue;
        }
        rcx_buf_t row;
        rcx_buf_init(&row, SIZE_MAX);
        if (lo == 1 && row_refs(&row, g, calls, n, name, op) > 0)
            rcx_buf_append(b, row.base, row.len);
        else
            rcx_buf_printf(b, "%lld", lo);
        rcx_buf_free(&row);
    }
}

static void emit_db(rcx_buf_t *b, const group_t *g, const json_t **calls, size_t n)
{
    json_t *tables = tables_written(calls, n);
    if (tables == NULL) {
        rcx_buf_puts(b, "\n      # db: not checked: some calls were recorded without their row changes");
        return;
    }
    if (json_object_size(tables) == 0) {
        rcx_buf_puts(b, "\n      db: none");
        json_decref(tables);
        return;
    }
    rcx_buf_puts(b, "\n      db:\n        tables:");
    const char *name;
    json_t *x;
    json_object_foreach(tables, name, x)
    {
        rcx_buf_puts(b, "\n          ");
        rv_yaml_write_name(b, short_name(tables, name));
        rcx_buf_puts(b, ":");
        emit_table(b, g, calls, n, name);
    }
    json_decref(tables);
}

/* One spec for these calls of a group (outcome: the status it is chosen by, or 0 for any). */
static void emit_spec(rcx_buf_t *b, const group_t *g, const json_t **calls, size_t n, long long outcome)
{
    rcx_buf_printf(b, "\n  - name: ");
    char name[700];
    if (outcome > 0)
        snprintf(name, sizeof(name), "%s %s -> %lld", g->method, g->tpl.tmpl, outcome);
    else
        snprintf(name, sizeof(name), "%s %s", g->method, g->tpl.tmpl);
    rv_yaml_write_string(b, name);
    rcx_buf_printf(b, "\n    # drafted from %zu call%s", n, n == 1 ? "" : "s");
    rcx_buf_puts(b, "\n    match:\n      method: ");
    rv_yaml_write_string(b, g->method);
    rcx_buf_puts(b, "\n      path: ");
    rv_yaml_write_string(b, g->tpl.tmpl);
    if (outcome > 0)
        rcx_buf_printf(b, "\n      status: %lld", outcome);
    rcx_buf_puts(b, "\n    expect:");
    long long lo = -1, hi = -1;
    for (size_t i = 0; i < n; i++) {
        long long s = json_integer_value(json_object_get(json_object_get(calls[i], "response"), "status"));
        lo = lo < 0 || s < lo ? s : lo;
        hi = s > hi ? s : hi;
    }
    if (lo == hi)
        rcx_buf_printf(b, "\n      status: %lld", lo);
    else
        rcx_buf_printf(
            b,
            "\n      status: {$min: %lld, $max: %lld}  # statuses vary and the test names do not tell them "
            "apart",
            lo, hi);
    json_t **bodies = rcx_xcalloc(n, sizeof(*bodies));
    bool all_json = true;
    for (size_t i = 0; i < n; i++) {
        bodies[i] = json_object_get(json_object_get(calls[i], "response"), "body");
        all_json &= bodies[i] != NULL &&
                    !json_is_true(json_object_get(json_object_get(calls[i], "response"), "truncated"));
    }
    if (all_json && (json_is_object(bodies[0]) || json_is_array(bodies[0]))) {
        cands_t *cs = rcx_xcalloc(n, sizeof(*cs));
        for (size_t i = 0; i < n; i++)
            candidates(g, calls[i], false, &cs[i]);
        rcx_buf_puts(
            b, "\n      body: "); /* a nested block follows on its own lines; the space is stripped then */
        infer(b, g->flow, "response.body", bodies, n, cs, 8, 0);
        for (size_t i = 0; i < n; i++)
            cands_free(&cs[i]);
        free(cs);
    }
    free(bodies);
    emit_db(b, g, calls, n);
    rcx_buf_puts(b, "\n");
}

/* One spec per outcome: a route whose calls ended differently (201 and 409) gets a spec for each status,
 * chosen by match.status, so the 409's body and rows are not blurred into the 201's. */
static void emit_group(rcx_buf_t *b, const group_t *g, size_t *specs)
{
    long long statuses[64];
    size_t ns = 0;
    for (size_t i = 0; i < g->n && ns < 64; i++) {
        long long s = json_integer_value(json_object_get(json_object_get(g->calls[i], "response"), "status"));
        size_t k = 0;
        while (k < ns && statuses[k] != s)
            k++;
        if (k == ns)
            statuses[ns++] = s;
    }
    if (ns <= 1) {
        emit_spec(b, g, g->calls, g->n, 0);
        (*specs)++;
        return;
    }
    for (size_t a = 1; a < ns; a++) /* in status order, for stable output */
        for (size_t k = a; k > 0 && statuses[k - 1] > statuses[k]; k--) {
            long long t = statuses[k];
            statuses[k] = statuses[k - 1];
            statuses[k - 1] = t;
        }
    const json_t **sel = rcx_xcalloc(g->n, sizeof(*sel));
    for (size_t k = 0; k < ns; k++) {
        size_t m = 0;
        for (size_t i = 0; i < g->n; i++)
            if (json_integer_value(json_object_get(json_object_get(g->calls[i], "response"), "status")) ==
                statuses[k])
                sel[m++] = g->calls[i];
        emit_spec(b, g, sel, m, statuses[k]);
        (*specs)++;
    }
    free(sel);
}

static int by_template(const void *x, const void *y)
{
    const group_t *a = *(group_t *const *)x, *b = *(group_t *const *)y;
    int c = strcmp(a->resource, b->resource);
    if (c == 0)
        c = strcmp(a->tpl.tmpl, b->tpl.tmpl);
    return c ? c : strcmp(a->method, b->method);
}

bool rt_specgen_drafts(const json_t *call)
{
    const char *method = rcx_rec_str(call, "request", "method"), *path = rcx_rec_str(call, "request", "path");
    json_int_t status = json_integer_value(json_object_get(json_object_get(call, "response"), "status"));
    if (!rv_is_method(method) || path == NULL || *path != '/' || status < 100 || status > 599)
        return false;                    /* no response (the client went away): nothing to draft from */
    return strpbrk(path, "{}?") == NULL; /* braces (or a '?') in a path cannot be written in a template */
}

void rt_specgen_run(json_t *const *calls, size_t n, rt_specgen_t *out)
{
    *out = (rt_specgen_t){0};
    core_flow_t *flow = core_flow_build(calls, n);
    group_t **groups = NULL;
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        const char *method = rcx_rec_str(calls[i], "request", "method"),
                   *path = rcx_rec_str(calls[i], "request", "path");
        if (!rt_specgen_drafts(calls[i]))
            continue;
        group_t probe = {.flow = flow};
        core_flow_template(flow, i, path, &probe.tpl);
        group_t *g = NULL;
        for (size_t k = 0; k < ng && !g; k++)
            if (strcasecmp(groups[k]->method, method) == 0 &&
                strcmp(groups[k]->tpl.tmpl, probe.tpl.tmpl) == 0)
                g = groups[k];
        if (g == NULL) {
            g = rcx_xcalloc(1, sizeof(*g));
            *g = probe;
            g->method = rcx_xstrdup(method);
            for (char *c = g->method; *c; c++) /* methods match in any case, as in verify */
                *c = (char)toupper((unsigned char)*c);
            g->resource = resource_of(path);
            groups = rcx_xrealloc(groups, sizeof(*groups) * (ng + 1));
            groups[ng++] = g;
        } else {
            core_pathtpl_free(&probe.tpl);
        }
        g->calls = rcx_xrealloc(g->calls, sizeof(*g->calls) * (g->n + 1));
        g->calls[g->n++] = calls[i];
    }
    if (ng > 1)
        qsort(groups, ng, sizeof(*groups), by_template);
    for (size_t k = 0; k < ng;) {
        rcx_buf_t b;
        rcx_buf_init(&b, SIZE_MAX);
        rcx_buf_printf(
            &b,
            "# Specs drafted by `recap specgen` from recorded traffic: read and edit them.\n"
            "# A reference (${...}) is used where a value equalled the same request, path or response\n"
            "# value in every call seen; a type where it did not; a literal where two or more calls agreed.\n"
            "specs:");
        size_t j = k;
        while (j < ng && strcmp(groups[j]->resource, groups[k]->resource) == 0)
            emit_group(&b, groups[j++], &out->specs);
        /* no trailing spaces ("key: " before a nested block) */
        size_t w = 0;
        for (size_t r = 0; r < b.len; r++) {
            if (b.base[r] == '\n')
                while (w > 0 && b.base[w - 1] == ' ')
                    w--;
            b.base[w++] = b.base[r];
        }
        rcx_buf_truncate(&b, w);
        out->files = rcx_xrealloc(out->files, sizeof(*out->files) * (out->n + 1));
        char fname[100];
        snprintf(fname, sizeof(fname), "%s.yaml", groups[k]->resource);
        out->files[out->n++] = (rt_specgen_file_t){rcx_xstrdup(fname), rcx_buf_take(&b)};
        k = j;
    }
    for (size_t k = 0; k < ng; k++) {
        free(groups[k]->method);
        core_pathtpl_free(&groups[k]->tpl);
        free(groups[k]->resource);
        free(groups[k]->calls);
        free(groups[k]);
    }
    free(groups);
    core_flow_free(flow);
}

void rt_specgen_free(rt_specgen_t *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->files[i].name);
        free(g->files[i].text);
    }
    free(g->files);
    *g = (rt_specgen_t){0};
}
