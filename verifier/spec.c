/* verifier/spec.c: see spec.h. The loader walks the positioned YAML tree and says exactly where it is wrong.
 */
#include "verifier/spec.h"

#include "common/buf.h"
#include "common/file.h"
#include "verifier/compile.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const op_names[] = {"inserted", "updated", "deleted"};

bool rv_is_method(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
            return false;
    return true;
}

const char *rv_op_name(rv_op_t op)
{
    return op_names[op];
}

#define FAIL(node, ...) RV_YAML_FAIL(err, node, __VA_ARGS__)

/* ---- specs ---- */

static void spec_free(rv_spec_t *s)
{
    free(s->name);
    free(s->method);
    free(s->path);
    for (size_t i = 0; i < s->nsegs; i++)
        free(s->segs[i]);
    free(s->segs);
    free(s->test);
    for (size_t i = 0; i < s->nwhen_headers; i++) {
        free(s->when_headers[i].name);
        rv_compile_matcher_free(s->when_headers[i].m);
    }
    free(s->when_headers);
    rv_compile_matcher_free(s->when_status);
    rv_compile_matcher_free(s->status);
    rv_compile_matcher_free(s->body);
    for (size_t i = 0; i < s->nheaders; i++) {
        free(s->headers[i].name);
        rv_compile_matcher_free(s->headers[i].m);
    }
    free(s->headers);
    for (size_t i = 0; i < s->ntables; i++) {
        free(s->tables[i].name);
        for (int o = 0; o < RV_OP_COUNT; o++) {
            for (size_t r = 0; r < s->tables[i].op[o].nrows; r++)
                rv_compile_matcher_free(s->tables[i].op[o].rows[r]);
            free(s->tables[i].op[o].rows);
            rv_compile_matcher_free(s->tables[i].op[o].count_m);
            rv_compile_matcher_free(s->tables[i].op[o].quant);
        }
    }
    free(s->tables);
    for (size_t i = 0; i < s->nsaves; i++) {
        free(s->saves[i].name);
        rv_compile_ref_free(&s->saves[i].ref);
    }
    free(s->saves);
}

static int load_headers(const rv_ynode_t *n, const char *where, const rv_spec_t *spec,
                        rv_header_expect_t **out, size_t *nout, rcx_err_t *err)
{
    if (n->kind != RV_Y_MAP)
        FAIL(n, "%s: expected a mapping of header names to values, got %s", where, rv_yaml_kind_name(n));
    *out = rcx_xcalloc(n->n ? n->n : 1, sizeof(**out));
    for (size_t i = 0; i < n->n; i++) {
        char *name = rcx_xstrdup(n->keys[i]->text);
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        (*out)[i].name = name;
        *nout = i + 1;
        if (rv_compile_matcher(n->vals[i], spec, &(*out)[i].m, err) != 0)
            return -1;
    }
    return 0;
}

static int load_path(const rv_ynode_t *n, rv_spec_t *s, rcx_err_t *err)
{
    if (n->kind != RV_Y_SCALAR || n->text[0] != '/')
        FAIL(n, "path: expected a path template starting with / (e.g. /api/v1/campaigns/{id})");
    if (strchr(n->text, '?'))
        FAIL(n, "path: no query string in a template (match the query with ${request.query.name})");
    s->path = rcx_xstrdup(n->text);
    const char *p = n->text + 1;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *seg = rcx_xstrndup(p, len);
        s->segs = rcx_xrealloc(s->segs, sizeof(*s->segs) * (s->nsegs + 1));
        s->segs[s->nsegs++] = seg;
        bool open = memchr(seg, '{', len) != NULL, close = memchr(seg, '}', len) != NULL;
        if (open || close) {
            if (!(len > 2 && seg[0] == '{' && seg[len - 1] == '}') || memchr(seg + 1, '{', len - 2) ||
                memchr(seg + 1, '}', len - 2))
                FAIL(n, "path: '%s' is not a parameter: write a whole segment as {name}", seg);
            for (size_t i = 0; i + 1 < s->nsegs; i++)
                if (strcmp(s->segs[i], seg) == 0)
                    FAIL(n, "path: parameter %s appears twice", seg);
        } else {
            s->specificity += 8; /* literal segments count most */
        }
        if (e == NULL)
            break;
        p = e + 1;
    }
    return 0;
}

/* Whether a mapping holds a quantifier key ($every, $none, $count). */
static bool quantified(const rv_ynode_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i]->text, "$every") == 0 || strcmp(v->keys[i]->text, "$none") == 0 ||
            strcmp(v->keys[i]->text, "$count") == 0)
            return true;
    return false;
}

static int load_table(const rv_ynode_t *name, const rv_ynode_t *n, rv_spec_t *s, rv_table_expect_t *t,
                      rcx_err_t *err)
{
    t->name = rcx_xstrdup(name->text);
    t->pos = name->pos;
    static const char *const keys[] = {"inserted", "updated", "deleted", NULL};
    if (n->kind != RV_Y_MAP)
        FAIL(n, "%s: expected a mapping with inserted, updated and/or deleted, got %s", name->text,
             rv_yaml_kind_name(n));
    if (rv_yaml_only_keys(n, name->text, keys, err) != 0)
        return -1;
    for (int o = 0; o < RV_OP_COUNT; o++) {
        const rv_ynode_t *v = rv_yaml_get(n, op_names[o]);
        if (v == NULL)
            continue;
        rv_op_expect_t *op = &t->op[o];
        op->given = true;
        op->pos = v->pos;
        long long c;
        if (v->kind == RV_Y_SCALAR && rv_yaml_plain_int(v, &c) && c >= 0) {
            op->is_count = true;
            op->count = (uint64_t)c;
        } else if (v->kind == RV_Y_MAP && v->n > 0 && quantified(v)) {
            static const char *const qkeys[] = {"$every", "$none", "$count", NULL};
            if (rv_yaml_only_keys(v, "a row quantifier", qkeys, err) != 0 ||
                rv_compile_matcher(v, s, &op->quant, err) != 0)
                return -1;
        } else if (v->kind == RV_Y_MAP && v->n > 0 && v->keys[0]->text[0] == '$') {
            if (rv_compile_matcher(v, s, &op->count_m, err) != 0)
                return -1;
        } else if (v->kind == RV_Y_SEQ) {
            op->rows = rcx_xcalloc(v->n ? v->n : 1, sizeof(*op->rows));
            for (size_t i = 0; i < v->n; i++) {
                if (v->vals[i]->kind != RV_Y_MAP)
                    FAIL(v->vals[i], "%s.%s[%zu]: a row is a mapping of column names to values", name->text,
                         op_names[o], i);
                if (rv_compile_matcher(v->vals[i], s, &op->rows[i], err) != 0)
                    return -1;
                op->nrows = i + 1;
            }
        } else {
            FAIL(v,
                 "%s.%s: expected a count, a count matcher ({$min: 1}), a list of rows or quantifiers "
                 "({$every: row, $none: row, $count: n}), got %s%s%s",
                 name->text, op_names[o], rv_yaml_kind_name(v), v->kind == RV_Y_SCALAR ? " " : "",
                 v->kind == RV_Y_SCALAR ? v->text : "");
        }
    }
    return 0;
}

static int load_db(const rv_ynode_t *n, rv_spec_t *s, rcx_err_t *err)
{
    s->db_pos = n->pos;
    s->strict = true;
    if (n->kind == RV_Y_SCALAR && strcmp(n->text, "none") == 0) {
        s->db = RV_DB_NONE;
        return 0;
    }
    if (n->kind != RV_Y_MAP)
        FAIL(n, "db: expected 'none' or a mapping with tables (and strict), got %s", rv_yaml_kind_name(n));
    static const char *const keys[] = {"tables", "strict", NULL};
    if (rv_yaml_only_keys(n, "db", keys, err) != 0)
        return -1;
    s->db = RV_DB_TABLES;
    const rv_ynode_t *strict = rv_yaml_get(n, "strict");
    if (strict != NULL) {
        int b = strict->kind == RV_Y_SCALAR ? rv_yaml_plain_bool(strict) : -1;
        if (b < 0)
            FAIL(strict, "strict: expected true or false");
        s->strict = b;
    }
    const rv_ynode_t *tables = rv_yaml_get(n, "tables");
    if (tables == NULL)
        return 0;
    if (tables->kind != RV_Y_MAP)
        FAIL(tables, "tables: expected a mapping of table names, got %s", rv_yaml_kind_name(tables));
    s->tables = rcx_xcalloc(tables->n ? tables->n : 1, sizeof(*s->tables));
    for (size_t i = 0; i < tables->n; i++) {
        s->ntables = i + 1;
        if (load_table(tables->keys[i], tables->vals[i], s, &s->tables[i], err) != 0)
            return -1;
    }
    return 0;
}

/* match.status: the outcome a spec applies to: a code (409: +3), a class (4xx) or a matcher ({$min: 400,
 * $max: 499}) (+2), so a route's 201 and 409 each have a spec, and an exact code beats its class. */
static int load_when_status(const rv_ynode_t *v, rv_spec_t *s, rcx_err_t *err)
{
    long long c;
    if (v->kind == RV_Y_SCALAR && v->len == 3 && v->text[0] >= '1' && v->text[0] <= '5' &&
        (v->text[1] == 'x' || v->text[1] == 'X') && (v->text[2] == 'x' || v->text[2] == 'X')) {
        rv_matcher_t *m = rcx_xcalloc(1, sizeof(*m));
        *m = (rv_matcher_t){.kind = RV_M_RANGE, .pos = v->pos, .has_min = true, .has_max = true};
        m->min = (v->text[0] - '0') * 100;
        m->max = m->min + 99;
        s->when_status = m;
        s->specificity += 2;
        return 0;
    }
    bool code = v->kind == RV_Y_SCALAR && rv_yaml_plain_int(v, &c) && c >= 100 && c <= 599;
    if (!code && !(v->kind == RV_Y_MAP && v->n > 0 && v->keys[0]->text[0] == RV_YAML_DOLLAR))
        FAIL(v, "match.status: expected a status (409), a class (4xx) or a matcher such as {$min: 400, $max: "
                "499}");
    if (rv_compile_matcher(v, s, &s->when_status, err) != 0)
        return -1;
    s->specificity += code ? 3 : 2;
    return 0;
}

/* match: which calls the spec applies to. */
static int load_match(const rv_ynode_t *match, rv_spec_t *s, rcx_err_t *err)
{
    if (match->kind != RV_Y_MAP)
        FAIL(match, "match: expected a mapping (method, path, test, headers, status), got %s",
             rv_yaml_kind_name(match));
    static const char *const mkeys[] = {"method", "path", "test", "headers", "status", NULL};
    if (rv_yaml_only_keys(match, "match", mkeys, err) != 0)
        return -1;
    const rv_ynode_t *path = rv_yaml_get(match, "path"), *method = rv_yaml_get(match, "method"),
                     *test = rv_yaml_get(match, "test"), *hdrs = rv_yaml_get(match, "headers");
    if (path == NULL)
        FAIL(match, "match: needs a path template");
    if (load_path(path, s, err) != 0)
        return -1;
    if (method != NULL) {
        if (method->kind != RV_Y_SCALAR || method->len == 0)
            FAIL(method, "method: expected GET, POST, ...");
        s->method = rcx_xstrdup(method->text);
        if (!rv_is_method(s->method))
            FAIL(method, "method: '%s' is not an HTTP method", method->text);
        for (char *c = s->method; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        s->specificity += 2;
    }
    if (test != NULL) {
        if (test->kind != RV_Y_SCALAR)
            FAIL(test, "test: expected a test name or a pattern (fnmatch: * ? [..])");
        s->test = rcx_xstrdup(test->text);
        s->specificity += 2;
    }
    if (hdrs != NULL) {
        if (load_headers(hdrs, "match.headers", s, &s->when_headers, &s->nwhen_headers, err) != 0)
            return -1;
        s->specificity += (int)s->nwhen_headers;
    }
    const rv_ynode_t *status = rv_yaml_get(match, "status");
    return status != NULL ? load_when_status(status, s, err) : 0;
}

/* expect: what the calls must show. */
static int load_expect(const rv_ynode_t *expect, rv_spec_t *s, rcx_err_t *err)
{
    if (expect->kind != RV_Y_MAP)
        FAIL(expect, "expect: expected a mapping (status, headers, body, db), got %s",
             rv_yaml_kind_name(expect));
    static const char *const ekeys[] = {"status", "headers", "body", "db", NULL};
    if (rv_yaml_only_keys(expect, "expect", ekeys, err) != 0)
        return -1;
    const rv_ynode_t *v;
    if ((v = rv_yaml_get(expect, "status")) != NULL) {
        long long c;
        if (v->kind == RV_Y_SEQ)
            FAIL(v, "status: expected a status code or a matcher such as {$min: 200, $max: 299}");
        if (v->kind == RV_Y_SCALAR && !(rv_yaml_plain_int(v, &c) && c >= 100 && c <= 599) &&
            v->text[0] != RV_YAML_DOLLAR)
            FAIL(v, "status: expected a status code (100-599), got %s", v->text);
        if (rv_compile_matcher(v, s, &s->status, err) != 0)
            return -1;
    }
    if ((v = rv_yaml_get(expect, "headers")) != NULL &&
        load_headers(v, "expect.headers", s, &s->headers, &s->nheaders, err) != 0)
        return -1;
    if ((v = rv_yaml_get(expect, "body")) != NULL && rv_compile_matcher(v, s, &s->body, err) != 0)
        return -1;
    if ((v = rv_yaml_get(expect, "db")) != NULL && load_db(v, s, err) != 0)
        return -1;
    return 0;
}

/* save: values of this call that later calls refer to as ${saved.name}. */
static int load_save(const rv_ynode_t *save, rv_spec_t *s, rcx_err_t *err)
{
    if (save->kind != RV_Y_MAP)
        FAIL(save, "save: expected a mapping of names to references (org_id: response.body.id)");
    s->saves = rcx_xcalloc(save->n ? save->n : 1, sizeof(*s->saves));
    for (size_t i = 0; i < save->n; i++) {
        const rv_ynode_t *v = save->vals[i];
        if (v->kind != RV_Y_SCALAR)
            FAIL(v, "save.%s: expected a reference such as response.body.id", save->keys[i]->text);
        const char *t = v->text;
        char *inner = (t[0] == RV_YAML_DOLLAR && t[1] == '{' && v->len > 3 && t[v->len - 1] == '}')
                          ? rcx_xstrndup(t + 2, v->len - 3)
                          : rcx_xstrdup(t);
        s->saves[i].name = rcx_xstrdup(save->keys[i]->text);
        s->saves[i].pos = v->pos;
        s->nsaves = i + 1;
        int rc = rv_compile_ref(v, inner, s, &s->saves[i].ref, err);
        free(inner);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int load_spec(const rv_ynode_t *n, rv_spec_t *s, rcx_err_t *err)
{
    s->pos = n->pos;
    if (n->kind != RV_Y_MAP)
        FAIL(n, "a spec is a mapping with match and expect, got %s", rv_yaml_kind_name(n));
    static const char *const keys[] = {"name", "match", "expect", "save", NULL};
    if (rv_yaml_only_keys(n, "a spec", keys, err) != 0)
        return -1;
    const rv_ynode_t *match = rv_yaml_get(n, "match"), *expect = rv_yaml_get(n, "expect"),
                     *name = rv_yaml_get(n, "name"), *save = rv_yaml_get(n, "save");
    if (match == NULL)
        FAIL(n, "a spec needs match: (which calls it applies to)");
    if (load_match(match, s, err) != 0)
        return -1;
    if (name != NULL && name->kind != RV_Y_SCALAR)
        FAIL(name, "name: expected text");
    if (name != NULL) {
        s->name = rcx_xstrdup(name->text);
    } else {
        char buf[600];
        snprintf(buf, sizeof(buf), "%s %s", s->method ? s->method : "*", s->path);
        s->name = rcx_xstrdup(buf);
    }
    if (expect != NULL && load_expect(expect, s, err) != 0)
        return -1;
    return save != NULL ? load_save(save, s, err) : 0;
}

int rv_specs_load_text(rv_specs_t *set, const char *file, const char *text, size_t len, rcx_err_t *err)
{
    set->files = rcx_xrealloc(set->files, sizeof(*set->files) * (set->nfiles + 1));
    char *fname = rcx_xstrdup(file);
    set->files[set->nfiles++] = fname;
    rv_ynode_t *root = rv_yaml_parse(fname, text, len, err);
    if (root == NULL) {
        if (err && err->msg[0] == '\0')
            rcx_err_set(err, "%s: empty spec file", file);
        return -1;
    }
    int rc = -1;
    static const char *const keys[] = {"specs", "orphans", NULL};
    const rv_ynode_t *specs, *orphans;
    if (root->kind != RV_Y_MAP) {
        rv_yaml_fail(err, root, "a spec file is a mapping with specs: (a list), got %s",
                     rv_yaml_kind_name(root));
        goto out;
    }
    if (rv_yaml_only_keys(root, "a spec file", keys, err) != 0)
        goto out;
    if ((orphans = rv_yaml_get(root, "orphans")) != NULL) {
        if (orphans->kind != RV_Y_SCALAR ||
            (strcmp(orphans->text, "allow") != 0 && strcmp(orphans->text, "forbid") != 0)) {
            rv_yaml_fail(err, orphans, "orphans: expected allow or forbid");
            goto out;
        }
        if (orphans->text[0] == 'f') {
            set->forbid_orphans = true;
            set->orphans_pos = orphans->pos;
        }
    }
    if ((specs = rv_yaml_get(root, "specs")) == NULL) {
        rv_yaml_fail(err, root, "a spec file needs specs: (a list)");
        goto out;
    }
    if (specs->kind != RV_Y_SEQ) {
        rv_yaml_fail(err, specs, "specs: expected a list, got %s", rv_yaml_kind_name(specs));
        goto out;
    }
    for (size_t i = 0; i < specs->n; i++) {
        set->v = rcx_xrealloc(set->v, sizeof(*set->v) * (set->n + 1));
        rv_spec_t *s = &set->v[set->n++];
        *s = (rv_spec_t){.order = set->n - 1};
        if (load_spec(specs->vals[i], s, err) != 0)
            goto out;
    }
    rc = 0;
out:
    rv_yaml_free(root);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_yaml_name(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' &&
           ((l > 5 && strcmp(n + l - 5, ".yaml") == 0) || (l > 4 && strcmp(n + l - 4, ".yml") == 0));
}

int rv_specs_load(rv_specs_t *set, const char *path, rcx_err_t *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        rcx_err_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d == NULL) {
            rcx_err_set(err, "%s: %s", path, strerror(errno));
            return -1;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (is_yaml_name(e->d_name)) {
                char full[4096];
                snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
                names = rcx_xrealloc(names, sizeof(*names) * (n + 1));
                names[n++] = rcx_xstrdup(full);
            }
        closedir(d);
        if (n > 1)
            qsort(names, n, sizeof(*names), by_name);
        if (n == 0) {
            rcx_err_set(err, "%s: no *.yaml or *.yml spec files in it", path);
            return -1;
        }
    } else {
        names = rcx_xrealloc(names, sizeof(*names));
        names[n++] = rcx_xstrdup(path);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rcx_buf_t b;
        if (rcx_read_file(names[i], RV_YAML_MAX_FILE, &b, err) != 0) {
            rc = -1;
            break;
        }
        rc = rv_specs_load_text(set, names[i], b.base ? b.base : "", b.len, err);
        rcx_buf_free(&b);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != 0)
        rv_specs_free(set);
    return rc;
}

/* Every ${saved.x} must name something some spec saves. */
static int check_saved(const rv_specs_t *set, const rv_matcher_t *m, rcx_err_t *err)
{
    if (m == NULL)
        return 0;
    if (m->kind == RV_M_REF && m->ref.root == RV_R_SAVED) {
        bool found = false;
        for (size_t i = 0; i < set->n && !found; i++)
            for (size_t k = 0; k < set->v[i].nsaves && !found; k++)
                found = strcmp(set->v[i].saves[k].name, m->ref.segs[0]) == 0;
        if (!found) {
            rcx_err_set(err, "%s:%d:%d: ${%s}: no spec saves '%s' (save: {%s: response.body...})",
                        m->pos.file, m->pos.line, m->pos.col, m->ref.text, m->ref.segs[0], m->ref.segs[0]);
            return -1;
        }
    }
    for (size_t i = 0; i < m->n; i++)
        if (check_saved(set, m->kids[i], err) != 0)
            return -1;
    return 0;
}

int rv_specs_finish(rv_specs_t *set, rcx_err_t *err)
{
    for (size_t i = 0; i < set->n; i++) {
        const rv_spec_t *s = &set->v[i];
        if (check_saved(set, s->status, err) || check_saved(set, s->body, err))
            return -1;
        for (size_t k = 0; k < s->nheaders; k++)
            if (check_saved(set, s->headers[k].m, err))
                return -1;
        for (size_t k = 0; k < s->nwhen_headers; k++)
            if (check_saved(set, s->when_headers[k].m, err))
                return -1;
        for (size_t t = 0; t < s->ntables; t++)
            for (int o = 0; o < RV_OP_COUNT; o++)
                for (size_t r = 0; r < s->tables[t].op[o].nrows; r++)
                    if (check_saved(set, s->tables[t].op[o].rows[r], err))
                        return -1;
    }
    return 0;
}

void rv_specs_free(rv_specs_t *set)
{
    for (size_t i = 0; i < set->n; i++)
        spec_free(&set->v[i]);
    free(set->v);
    for (size_t i = 0; i < set->nfiles; i++)
        free(set->files[i]);
    free(set->files);
    *set = (rv_specs_t){0};
}
