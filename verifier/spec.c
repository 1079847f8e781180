/* verifier/spec.c: see spec.h. The loader walks the positioned YAML tree and says exactly where it is wrong.
 */
#include "verifier/spec.h"

#include "common/buf.h"

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

static const char *const type_names[] = {"int",       "number", "string", "bool",   "uuid",
                                         "timestamp", "date",   "null",   "object", "array"};
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

const char *rv_type_name(rv_type_t t)
{
    return type_names[t];
}

const char *rv_op_name(rv_op_t op)
{
    return op_names[op];
}

/* A failure at a node: "file:line:col: what". */
#define FAIL(node, ...)                                                                                      \
    do {                                                                                                     \
        fail_at(err, (node), __VA_ARGS__);                                                                   \
        return -1;                                                                                           \
    } while (0)

static void fail_at(rcx_err_t *err, const rv_ynode_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_at(rcx_err_t *err, const rv_ynode_t *n, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    rcx_err_set(err, "%s:%d:%d: %s", n->pos.file, n->pos.line, n->pos.col, what);
}

static const char *kind_name(const rv_ynode_t *n)
{
    return n->kind == RV_Y_MAP ? "a mapping" : n->kind == RV_Y_SEQ ? "a list" : "a value";
}

static char *dup(const char *s)
{
    return rcx_xstrndup(s, strlen(s));
}

/* Refuses keys outside the allowed list (NULL-terminated). */
static int only_keys(const rv_ynode_t *map, const char *where, const char *const *allowed, rcx_err_t *err)
{
    for (size_t i = 0; i < map->n; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(map->keys[i]->text, *a) == 0;
        if (!ok) {
            char list[200] = "";
            for (const char *const *a = allowed; *a; a++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", a == allowed ? "" : ", ",
                         *a);
            FAIL(map->keys[i], "unknown key '%s' in %s (known: %s)", map->keys[i]->text, where, list);
        }
    }
    return 0;
}

/* ---- scalars ---- */

static bool is_null(const rv_ynode_t *n)
{
    return n->plain && (n->len == 0 || strcmp(n->text, "null") == 0 || strcmp(n->text, "~") == 0 ||
                        strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

static int plain_bool(const rv_ynode_t *n)
{
    if (!n->plain)
        return -1;
    if (strcmp(n->text, "true") == 0 || strcmp(n->text, "True") == 0 || strcmp(n->text, "TRUE") == 0)
        return 1;
    if (strcmp(n->text, "false") == 0 || strcmp(n->text, "False") == 0 || strcmp(n->text, "FALSE") == 0)
        return 0;
    return -1;
}

static bool plain_int(const rv_ynode_t *n, long long *v)
{
    if (!n->plain || n->len == 0 || n->len > 20)
        return false;
    const char *p = n->text;
    if (*p == '-' || *p == '+')
        p++;
    if (*p == '\0')
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    char *end;
    *v = strtoll(n->text, &end, 10);
    return errno == 0 && *end == '\0';
}

static bool plain_float(const rv_ynode_t *n, double *v)
{
    if (!n->plain || n->len == 0)
        return false;
    const char *p = n->text;
    if (strchr(p, 'x') || strchr(p, 'X') || strcasestr(p, "inf") || strcasestr(p, "nan"))
        return false;
    char *end;
    errno = 0;
    *v = strtod(p, &end);
    return *end == '\0' && errno == 0 && isfinite(*v);
}

/* The JSON value of a scalar under YAML 1.2's core schema (quoted: always a string). */
static json_t *scalar_json(const rv_ynode_t *n)
{
    long long i;
    double d;
    int b;
    if (is_null(n))
        return json_null();
    if ((b = plain_bool(n)) >= 0)
        return json_boolean(b);
    if (plain_int(n, &i))
        return json_integer(i);
    if (plain_float(n, &d))
        return json_real(d);
    return json_stringn(n->text, n->len);
}

/* ---- references ---- */

static const struct {
    const char *prefix;
    rv_root_t root;
} roots[] = {
    {"request.body", RV_R_REQUEST_BODY},
    {"request.query", RV_R_REQUEST_QUERY},
    {"request.headers", RV_R_REQUEST_HEADERS},
    {"response.body", RV_R_RESPONSE_BODY},
    {"response.headers", RV_R_RESPONSE_HEADERS},
    {"path", RV_R_PATH},
    {"saved", RV_R_SAVED},
};

static void ref_free(rv_ref_t *r)
{
    for (size_t i = 0; i < r->nsegs; i++)
        free(r->segs[i]);
    free(r->segs);
    free(r->text);
    *r = (rv_ref_t){0};
}

/* Parses "root.a.b" (the whole body: "response.body"). spec gives the path template for path refs. */
static int parse_ref(const rv_ynode_t *at, const char *text, const rv_spec_t *spec, rv_ref_t *out,
                     rcx_err_t *err)
{
    *out = (rv_ref_t){0};
    size_t k = 0, plen = 0;
    for (; k < sizeof(roots) / sizeof(roots[0]); k++) {
        plen = strlen(roots[k].prefix);
        if (strncmp(text, roots[k].prefix, plen) == 0 && (text[plen] == '\0' || text[plen] == '.'))
            break;
    }
    if (k == sizeof(roots) / sizeof(roots[0]))
        FAIL(at,
             "${%s}: unknown reference (it starts with request.body, request.query, request.headers, "
             "response.body, response.headers, path or saved)",
             text);
    out->root = roots[k].root;
    out->text = dup(text);
    const char *p = text + plen;
    while (*p == '.') {
        p++;
        const char *e = strchr(p, '.');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) {
            fail_at(err, at, "${%s}: empty name after '.'", text);
            ref_free(out);
            return -1;
        }
        out->segs = rcx_xrealloc(out->segs, sizeof(*out->segs) * (out->nsegs + 1));
        out->segs[out->nsegs++] = rcx_xstrndup(p, n);
        p += n;
    }
    bool needs_name = out->root == RV_R_REQUEST_QUERY || out->root == RV_R_REQUEST_HEADERS ||
                      out->root == RV_R_RESPONSE_HEADERS || out->root == RV_R_PATH || out->root == RV_R_SAVED;
    if (needs_name && out->nsegs == 0) {
        fail_at(err, at, "${%s}: name which one (e.g. ${%s.id})", text, text);
        ref_free(out);
        return -1;
    }
    if (out->root == RV_R_PATH) {
        bool found = false;
        for (size_t i = 0; spec != NULL && i < spec->nsegs; i++) {
            const char *s = spec->segs[i];
            size_t sl = strlen(s);
            found |=
                s[0] == '{' && sl == strlen(out->segs[0]) + 2 && strncmp(s + 1, out->segs[0], sl - 2) == 0;
        }
        if (!found || out->nsegs != 1) {
            fail_at(err, at, "${%s}: the path template %s has no {%s}", text,
                    spec && spec->path ? spec->path : "(none)", out->segs[0]);
            ref_free(out);
            return -1;
        }
    }
    if ((out->root == RV_R_REQUEST_HEADERS || out->root == RV_R_RESPONSE_HEADERS) && out->nsegs == 1)
        for (char *c = out->segs[0]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    return 0;
}

/* ---- matchers ---- */

static void matcher_free(rv_matcher_t *m)
{
    if (m == NULL)
        return;
    json_decref(m->lit);
    for (size_t i = 0; i < m->n; i++) {
        if (m->keys)
            free(m->keys[i]);
        matcher_free(m->kids[i]);
    }
    free(m->keys);
    free(m->kids);
    if (m->re)
        pcre2_code_free(m->re);
    free(m->re_src);
    ref_free(&m->ref);
    free(m);
}

static rv_matcher_t *mnew(rv_mkind_t kind, const rv_ynode_t *at)
{
    rv_matcher_t *m = rcx_xcalloc(1, sizeof(*m));
    if (m == NULL)
        abort();
    m->kind = kind;
    m->pos = at->pos;
    return m;
}

static void madd(rv_matcher_t *m, char *key, rv_matcher_t *kid)
{
    m->kids = rcx_xrealloc(m->kids, sizeof(*m->kids) * (m->n + 1));
    if (key != NULL || m->keys != NULL) {
        m->keys = rcx_xrealloc(m->keys, sizeof(*m->keys) * (m->n + 1));
        m->keys[m->n] = key;
    }
    m->kids[m->n++] = kid;
}

static int load_matcher(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err);

static int number_of(const rv_ynode_t *n, const char *key, double *v, rcx_err_t *err)
{
    long long i;
    if (n->kind == RV_Y_SCALAR && plain_int(n, &i)) {
        *v = (double)i;
        return 0;
    }
    if (n->kind == RV_Y_SCALAR && plain_float(n, v))
        return 0;
    FAIL(n, "%s: expected a number, got %s%s%s", key, kind_name(n), n->kind == RV_Y_SCALAR ? " " : "",
         n->kind == RV_Y_SCALAR ? n->text : "");
}

/* A scalar that starts with '$': a type, $any, $absent or ${reference}; "$$..." is a literal "$...". */
static int dollar_scalar(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err)
{
    const char *t = n->text;
    if (t[1] == '$') {
        rv_matcher_t *m = mnew(RV_M_LIT, n);
        m->lit = json_stringn(t + 1, n->len - 1);
        *out = m;
        return 0;
    }
    if (t[1] == '{') {
        if (n->len < 4 || t[n->len - 1] != '}')
            FAIL(n, "%s: a reference is written ${root.name}", t);
        char *inner = rcx_xstrndup(t + 2, n->len - 3);
        rv_matcher_t *m = mnew(RV_M_REF, n);
        int rc = parse_ref(n, inner, spec, &m->ref, err);
        free(inner);
        if (rc != 0) {
            matcher_free(m);
            return -1;
        }
        *out = m;
        return 0;
    }
    if (strcmp(t, "$any") == 0 || strcmp(t, "$absent") == 0) {
        *out = mnew(t[1] == 'a' && t[2] == 'n' ? RV_M_ANY : RV_M_ABSENT, n);
        return 0;
    }
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcmp(t + 1, type_names[i]) == 0) {
            rv_matcher_t *m = mnew(RV_M_TYPE, n);
            m->type = (rv_type_t)i;
            *out = m;
            return 0;
        }
    FAIL(n,
         "unknown matcher '%s' (types: $int $number $string $bool $uuid $timestamp $date $null $object "
         "$array; "
         "also $any, $absent, ${reference}; write $$ for a literal $)",
         t);
}

/* A mapping of $ keys: $type, $regex, $min, $max, $len, $ref, $any, $absent. */
static int dollar_map(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err)
{
    rv_matcher_t *all = mnew(RV_M_ALL, n), *range = NULL;
    for (size_t i = 0; i < n->n; i++) {
        const rv_ynode_t *k = n->keys[i], *v = n->vals[i];
        const char *key = k->text;
        rv_matcher_t *m = NULL;
        if (strcmp(key, "$type") == 0) {
            if (v->kind != RV_Y_SCALAR)
                goto bad_value;
            size_t t = 0;
            while (t < sizeof(type_names) / sizeof(type_names[0]) && strcmp(v->text, type_names[t]) != 0)
                t++;
            if (t == sizeof(type_names) / sizeof(type_names[0])) {
                fail_at(err, v,
                        "$type: unknown type '%s' (int, number, string, bool, uuid, timestamp, date, null, "
                        "object, array)",
                        v->text);
                goto fail;
            }
            m = mnew(RV_M_TYPE, k);
            m->type = (rv_type_t)t;
        } else if (strcmp(key, "$regex") == 0) {
            if (v->kind != RV_Y_SCALAR)
                goto bad_value;
            int code;
            PCRE2_SIZE off;
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->text, v->len, PCRE2_UTF, &code, &off, NULL);
            if (re == NULL) {
                PCRE2_UCHAR msg[200];
                pcre2_get_error_message(code, msg, sizeof(msg));
                rcx_err_set(err, "%s:%d:%d: $regex: %s at offset %zu of /%s/", v->pos.file, v->pos.line,
                            v->pos.col, (const char *)msg, (size_t)off, v->text);
                goto fail;
            }
            pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
            m = mnew(RV_M_REGEX, k);
            m->re = re;
            m->re_src = rcx_xstrndup(v->text, v->len);
        } else if (strcmp(key, "$min") == 0 || strcmp(key, "$max") == 0) {
            double d;
            if (number_of(v, key, &d, err) != 0)
                goto fail;
            if (range == NULL) {
                range = mnew(RV_M_RANGE, k);
                madd(all, NULL, range);
            }
            if (key[2] == 'i') {
                range->min = d;
                range->has_min = true;
            } else {
                range->max = d;
                range->has_max = true;
            }
            if (range->has_min && range->has_max && range->min > range->max) {
                fail_at(err, k, "$min is above $max");
                goto fail;
            }
            continue;
        } else if (strcmp(key, "$len") == 0) {
            rv_matcher_t *inner;
            if (load_matcher(v, spec, &inner, err) != 0)
                goto fail;
            m = mnew(RV_M_LEN, k);
            madd(m, NULL, inner);
        } else if (strcmp(key, "$ref") == 0) {
            if (v->kind != RV_Y_SCALAR)
                goto bad_value;
            m = mnew(RV_M_REF, v);
            if (parse_ref(v, v->text, spec, &m->ref, err) != 0) {
                matcher_free(m);
                goto fail;
            }
        } else if (strcmp(key, "$any") == 0 || strcmp(key, "$absent") == 0) {
            if (plain_bool(v) != 1) {
                fail_at(err, v, "%s: write %s: true (or the plain value %s)", key, key, key);
                goto fail;
            }
            m = mnew(key[2] == 'n' ? RV_M_ANY : RV_M_ABSENT, k);
        } else {
            fail_at(err, k,
                    "unknown matcher key '%s' (known: $type, $regex, $min, $max, $len, $ref, $any, $absent)",
                    key);
            goto fail;
        }
        madd(all, NULL, m);
        continue;
    bad_value:
        fail_at(err, v, "%s: expected a value, got %s", key, kind_name(v));
        goto fail;
    }
    *out = all;
    return 0;
fail:
    matcher_free(all);
    return -1;
}

static int load_matcher(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err)
{
    *out = NULL;
    if (n->kind == RV_Y_SCALAR) {
        if (n->len > 1 && n->text[0] == '$')
            return dollar_scalar(n, spec, out, err);
        rv_matcher_t *m = mnew(RV_M_LIT, n);
        m->lit = scalar_json(n);
        *out = m;
        return 0;
    }
    if (n->kind == RV_Y_SEQ) {
        rv_matcher_t *m = mnew(RV_M_ARR, n);
        for (size_t i = 0; i < n->n; i++) {
            rv_matcher_t *kid;
            if (load_matcher(n->vals[i], spec, &kid, err) != 0) {
                matcher_free(m);
                return -1;
            }
            madd(m, NULL, kid);
        }
        *out = m;
        return 0;
    }
    size_t dollars = 0;
    for (size_t i = 0; i < n->n; i++)
        dollars += n->keys[i]->text[0] == '$' && n->keys[i]->text[1] != '$';
    if (dollars > 0 && dollars < n->n) {
        for (size_t i = 0; i < n->n; i++)
            if (n->keys[i]->text[0] != '$')
                FAIL(n->keys[i],
                     "'%s' next to $ keys: a mapping is either matchers ($type, $regex...) or "
                     "fields, not both",
                     n->keys[i]->text);
    }
    if (dollars > 0)
        return dollar_map(n, spec, out, err);
    rv_matcher_t *m = mnew(RV_M_OBJ, n);
    m->keys = NULL;
    for (size_t i = 0; i < n->n; i++) {
        rv_matcher_t *kid;
        if (load_matcher(n->vals[i], spec, &kid, err) != 0) {
            matcher_free(m);
            return -1;
        }
        const char *k = n->keys[i]->text;
        madd(m, rcx_xstrndup(k[0] == '$' ? k + 1 : k, strlen(k[0] == '$' ? k + 1 : k)), kid);
    }
    if (m->n == 0) /* {} matches any object */
        m->keys = NULL;
    *out = m;
    return 0;
}

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
        matcher_free(s->when_headers[i].m);
    }
    free(s->when_headers);
    matcher_free(s->status);
    matcher_free(s->body);
    for (size_t i = 0; i < s->nheaders; i++) {
        free(s->headers[i].name);
        matcher_free(s->headers[i].m);
    }
    free(s->headers);
    for (size_t i = 0; i < s->ntables; i++) {
        free(s->tables[i].name);
        for (int o = 0; o < RV_OP_COUNT; o++) {
            for (size_t r = 0; r < s->tables[i].op[o].nrows; r++)
                matcher_free(s->tables[i].op[o].rows[r]);
            free(s->tables[i].op[o].rows);
            matcher_free(s->tables[i].op[o].count_m);
        }
    }
    free(s->tables);
    for (size_t i = 0; i < s->nsaves; i++) {
        free(s->saves[i].name);
        ref_free(&s->saves[i].ref);
    }
    free(s->saves);
}

static int load_headers(const rv_ynode_t *n, const char *where, const rv_spec_t *spec,
                        rv_header_expect_t **out, size_t *nout, rcx_err_t *err)
{
    if (n->kind != RV_Y_MAP)
        FAIL(n, "%s: expected a mapping of header names to values, got %s", where, kind_name(n));
    *out = rcx_xcalloc(n->n ? n->n : 1, sizeof(**out));
    for (size_t i = 0; i < n->n; i++) {
        char *name = dup(n->keys[i]->text);
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        (*out)[i].name = name;
        *nout = i + 1;
        if (load_matcher(n->vals[i], spec, &(*out)[i].m, err) != 0)
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
    s->path = dup(n->text);
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

static int load_table(const rv_ynode_t *name, const rv_ynode_t *n, rv_spec_t *s, rv_table_expect_t *t,
                      rcx_err_t *err)
{
    t->name = dup(name->text);
    t->pos = name->pos;
    static const char *const keys[] = {"inserted", "updated", "deleted", NULL};
    if (n->kind != RV_Y_MAP)
        FAIL(n, "%s: expected a mapping with inserted, updated and/or deleted, got %s", name->text,
             kind_name(n));
    if (only_keys(n, name->text, keys, err) != 0)
        return -1;
    for (int o = 0; o < RV_OP_COUNT; o++) {
        const rv_ynode_t *v = rv_yaml_get(n, op_names[o]);
        if (v == NULL)
            continue;
        rv_op_expect_t *op = &t->op[o];
        op->given = true;
        op->pos = v->pos;
        long long c;
        if (v->kind == RV_Y_SCALAR && plain_int(v, &c) && c >= 0) {
            op->is_count = true;
            op->count = (uint64_t)c;
        } else if (v->kind == RV_Y_MAP && v->n > 0 && v->keys[0]->text[0] == '$') {
            if (load_matcher(v, s, &op->count_m, err) != 0)
                return -1;
        } else if (v->kind == RV_Y_SEQ) {
            op->rows = rcx_xcalloc(v->n ? v->n : 1, sizeof(*op->rows));
            for (size_t i = 0; i < v->n; i++) {
                if (v->vals[i]->kind != RV_Y_MAP)
                    FAIL(v->vals[i], "%s.%s[%zu]: a row is a mapping of column names to values", name->text,
                         op_names[o], i);
                if (load_matcher(v->vals[i], s, &op->rows[i], err) != 0)
                    return -1;
                op->nrows = i + 1;
            }
        } else {
            FAIL(v, "%s.%s: expected a count, a count matcher ({$min: 1}) or a list of rows, got %s%s%s",
                 name->text, op_names[o], kind_name(v), v->kind == RV_Y_SCALAR ? " " : "",
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
        FAIL(n, "db: expected 'none' or a mapping with tables (and strict), got %s", kind_name(n));
    static const char *const keys[] = {"tables", "strict", NULL};
    if (only_keys(n, "db", keys, err) != 0)
        return -1;
    s->db = RV_DB_TABLES;
    const rv_ynode_t *strict = rv_yaml_get(n, "strict");
    if (strict != NULL) {
        int b = strict->kind == RV_Y_SCALAR ? plain_bool(strict) : -1;
        if (b < 0)
            FAIL(strict, "strict: expected true or false");
        s->strict = b;
    }
    const rv_ynode_t *tables = rv_yaml_get(n, "tables");
    if (tables == NULL)
        return 0;
    if (tables->kind != RV_Y_MAP)
        FAIL(tables, "tables: expected a mapping of table names, got %s", kind_name(tables));
    s->tables = rcx_xcalloc(tables->n ? tables->n : 1, sizeof(*s->tables));
    for (size_t i = 0; i < tables->n; i++) {
        s->ntables = i + 1;
        if (load_table(tables->keys[i], tables->vals[i], s, &s->tables[i], err) != 0)
            return -1;
    }
    return 0;
}

static int load_spec(const rv_ynode_t *n, rv_spec_t *s, rcx_err_t *err)
{
    s->pos = n->pos;
    if (n->kind != RV_Y_MAP)
        FAIL(n, "a spec is a mapping with match and expect, got %s", kind_name(n));
    static const char *const keys[] = {"name", "match", "expect", "save", NULL};
    if (only_keys(n, "a spec", keys, err) != 0)
        return -1;
    const rv_ynode_t *match = rv_yaml_get(n, "match"), *expect = rv_yaml_get(n, "expect"),
                     *name = rv_yaml_get(n, "name"), *save = rv_yaml_get(n, "save");
    if (match == NULL)
        FAIL(n, "a spec needs match: (which calls it applies to)");
    if (match->kind != RV_Y_MAP)
        FAIL(match, "match: expected a mapping (method, path, test, headers), got %s", kind_name(match));
    static const char *const mkeys[] = {"method", "path", "test", "headers", NULL};
    if (only_keys(match, "match", mkeys, err) != 0)
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
        s->method = dup(method->text);
        if (!rv_is_method(s->method))
            FAIL(method, "method: '%s' is not an HTTP method", method->text);
        for (char *c = s->method; *c; c++) {
            *c = (char)toupper((unsigned char)*c);
        }
        s->specificity += 2;
    }
    if (test != NULL) {
        if (test->kind != RV_Y_SCALAR)
            FAIL(test, "test: expected a test name or a pattern (fnmatch: * ? [..])");
        s->test = dup(test->text);
        s->specificity += 2;
    }
    if (hdrs != NULL) {
        if (load_headers(hdrs, "match.headers", s, &s->when_headers, &s->nwhen_headers, err) != 0)
            return -1;
        s->specificity += (int)s->nwhen_headers;
    }
    if (name != NULL) {
        if (name->kind != RV_Y_SCALAR)
            FAIL(name, "name: expected text");
        s->name = dup(name->text);
    } else {
        char buf[600];
        snprintf(buf, sizeof(buf), "%s %s", s->method ? s->method : "*", s->path);
        s->name = dup(buf);
    }
    if (expect != NULL) {
        if (expect->kind != RV_Y_MAP)
            FAIL(expect, "expect: expected a mapping (status, headers, body, db), got %s", kind_name(expect));
        static const char *const ekeys[] = {"status", "headers", "body", "db", NULL};
        if (only_keys(expect, "expect", ekeys, err) != 0)
            return -1;
        const rv_ynode_t *v;
        if ((v = rv_yaml_get(expect, "status")) != NULL) {
            if (v->kind == RV_Y_SEQ || v->kind == RV_Y_MAP) {
                if (v->kind == RV_Y_SEQ)
                    FAIL(v, "status: expected a status code or a matcher such as {$min: 200, $max: 299}");
            } else {
                long long c;
                if (!(plain_int(v, &c) && c >= 100 && c <= 599) && !(v->text[0] == '$'))
                    FAIL(v, "status: expected a status code (100-599), got %s", v->text);
            }
            if (load_matcher(v, s, &s->status, err) != 0)
                return -1;
        }
        if ((v = rv_yaml_get(expect, "headers")) != NULL &&
            load_headers(v, "expect.headers", s, &s->headers, &s->nheaders, err) != 0)
            return -1;
        if ((v = rv_yaml_get(expect, "body")) != NULL && load_matcher(v, s, &s->body, err) != 0)
            return -1;
        if ((v = rv_yaml_get(expect, "db")) != NULL && load_db(v, s, err) != 0)
            return -1;
    }
    if (save != NULL) {
        if (save->kind != RV_Y_MAP)
            FAIL(save, "save: expected a mapping of names to references (org_id: response.body.id)");
        s->saves = rcx_xcalloc(save->n ? save->n : 1, sizeof(*s->saves));
        for (size_t i = 0; i < save->n; i++) {
            const rv_ynode_t *v = save->vals[i];
            if (v->kind != RV_Y_SCALAR)
                FAIL(v, "save.%s: expected a reference such as response.body.id", save->keys[i]->text);
            const char *t = v->text;
            char *inner = (t[0] == '$' && t[1] == '{' && v->len > 3 && t[v->len - 1] == '}')
                              ? rcx_xstrndup(t + 2, v->len - 3)
                              : dup(t);
            s->saves[i].name = dup(save->keys[i]->text);
            s->saves[i].pos = v->pos;
            s->nsaves = i + 1;
            int rc = parse_ref(v, inner, s, &s->saves[i].ref, err);
            free(inner);
            if (rc != 0)
                return -1;
        }
    }
    return 0;
}

int rv_specs_load_text(rv_specs_t *set, const char *file, const char *text, size_t len, rcx_err_t *err)
{
    set->files = rcx_xrealloc(set->files, sizeof(*set->files) * (set->nfiles + 1));
    char *fname = dup(file);
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
        fail_at(err, root, "a spec file is a mapping with specs: (a list), got %s", kind_name(root));
        goto out;
    }
    if (only_keys(root, "a spec file", keys, err) != 0)
        goto out;
    if ((orphans = rv_yaml_get(root, "orphans")) != NULL) {
        if (orphans->kind != RV_Y_SCALAR ||
            (strcmp(orphans->text, "allow") != 0 && strcmp(orphans->text, "forbid") != 0)) {
            fail_at(err, orphans, "orphans: expected allow or forbid");
            goto out;
        }
        if (orphans->text[0] == 'f') {
            set->forbid_orphans = true;
            set->orphans_pos = orphans->pos;
        }
    }
    if ((specs = rv_yaml_get(root, "specs")) == NULL) {
        fail_at(err, root, "a spec file needs specs: (a list)");
        goto out;
    }
    if (specs->kind != RV_Y_SEQ) {
        fail_at(err, specs, "specs: expected a list, got %s", kind_name(specs));
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
                names[n++] = dup(full);
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
        names[n++] = dup(path);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        FILE *f = fopen(names[i], "rb");
        if (f == NULL) {
            rcx_err_set(err, "%s: %s", names[i], strerror(errno));
            rc = -1;
            break;
        }
        rcx_buf_t b;
        rcx_buf_init(&b, 64u * 1024 * 1024);
        char chunk[65536];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            rcx_buf_append(&b, chunk, got);
        fclose(f);
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
