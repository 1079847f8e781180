/* verifier/compile.c: see compile.h. */
#include "verifier/compile.h"

#include "common/buf.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(node, ...) RV_YAML_FAIL(err, node, __VA_ARGS__)

static const char *const type_names[] = {"int",       "number", "string", "bool",   "uuid",
                                         "timestamp", "date",   "null",   "object", "array"};

const char *rv_type_name(rv_type_t t)
{
    return type_names[t];
}

static json_t *scalar_json(const rv_ynode_t *n)
{
    long long i;
    double d;
    int b;
    if (rv_yaml_is_null(n))
        return json_null();
    if ((b = rv_yaml_plain_bool(n)) >= 0)
        return json_boolean(b);
    if (rv_yaml_plain_int(n, &i))
        return json_integer(i);
    if (rv_yaml_plain_float(n, &d))
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

void rv_compile_ref_free(rv_ref_t *r)
{
    for (size_t i = 0; i < r->nsegs; i++)
        free(r->segs[i]);
    free(r->segs);
    free(r->text);
    *r = (rv_ref_t){0};
}

/* Parses "root.a.b" (the whole body: "response.body"). spec gives the path template for path refs. */
int rv_compile_ref(const rv_ynode_t *at, const char *text, const rv_spec_t *spec, rv_ref_t *out,
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
    out->text = rcx_xstrdup(text);
    const char *p = text + plen;
    while (*p == '.') {
        p++;
        const char *e = strchr(p, '.');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) {
            rv_yaml_fail(err, at, "${%s}: empty name after '.'", text);
            rv_compile_ref_free(out);
            return -1;
        }
        out->segs = rcx_xrealloc(out->segs, sizeof(*out->segs) * (out->nsegs + 1));
        out->segs[out->nsegs++] = rcx_xstrndup(p, n);
        p += n;
    }
    bool needs_name = out->root == RV_R_REQUEST_QUERY || out->root == RV_R_REQUEST_HEADERS ||
                      out->root == RV_R_RESPONSE_HEADERS || out->root == RV_R_PATH || out->root == RV_R_SAVED;
    if (needs_name && out->nsegs == 0) {
        rv_yaml_fail(err, at, "${%s}: name which one (e.g. ${%s.id})", text, text);
        rv_compile_ref_free(out);
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
            rv_yaml_fail(err, at, "${%s}: the path template %s has no {%s}", text,
                         spec && spec->path ? spec->path : "(none)", out->segs[0]);
            rv_compile_ref_free(out);
            return -1;
        }
    }
    if ((out->root == RV_R_REQUEST_HEADERS || out->root == RV_R_RESPONSE_HEADERS) && out->nsegs == 1)
        for (char *c = out->segs[0]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    return 0;
}

/* ---- matchers ---- */

void rv_compile_matcher_free(rv_matcher_t *m)
{
    if (m == NULL)
        return;
    json_decref(m->lit);
    for (size_t i = 0; i < m->n; i++) {
        if (m->keys)
            free(m->keys[i]);
        rv_compile_matcher_free(m->kids[i]);
    }
    free(m->keys);
    free(m->kids);
    if (m->re)
        pcre2_code_free(m->re);
    free(m->re_src);
    rv_compile_ref_free(&m->ref);
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

static int number_of(const rv_ynode_t *n, const char *key, double *v, rcx_err_t *err)
{
    long long i;
    if (n->kind == RV_Y_SCALAR && rv_yaml_plain_int(n, &i)) {
        *v = (double)i;
        return 0;
    }
    if (n->kind == RV_Y_SCALAR && rv_yaml_plain_float(n, v))
        return 0;
    FAIL(n, "%s: expected a number, got %s%s%s", key, rv_yaml_kind_name(n), n->kind == RV_Y_SCALAR ? " " : "",
         n->kind == RV_Y_SCALAR ? n->text : "");
}

/* A scalar that starts with '$': a type, $any, $absent or ${reference}; "$$..." is a literal "$...". */
static int dollar_scalar(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err)
{
    const char *t = n->text;
    if (rv_yaml_is_escaped_dollar(t)) {
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
        int rc = rv_compile_ref(n, inner, spec, &m->ref, err);
        free(inner);
        if (rc != 0) {
            rv_compile_matcher_free(m);
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

/* $type: one of the type names. */
static rv_matcher_t *type_key(const rv_ynode_t *k, const rv_ynode_t *v, rcx_err_t *err)
{
    size_t t = 0;
    while (t < sizeof(type_names) / sizeof(type_names[0]) && strcmp(v->text, type_names[t]) != 0)
        t++;
    if (t == sizeof(type_names) / sizeof(type_names[0])) {
        rv_yaml_fail(
            err, v,
            "$type: unknown type '%s' (int, number, string, bool, uuid, timestamp, date, null, object, "
            "array)",
            v->text);
        return NULL;
    }
    rv_matcher_t *m = mnew(RV_M_TYPE, k);
    m->type = (rv_type_t)t;
    return m;
}

static rv_matcher_t *regex_key(const rv_ynode_t *k, const rv_ynode_t *v, rcx_err_t *err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)v->text, v->len, PCRE2_UTF, &code, &off, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(code, msg, sizeof(msg));
        rv_yaml_fail(err, v, "$regex: %s at offset %zu of /%s/", (const char *)msg, (size_t)off, v->text);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    rv_matcher_t *m = mnew(RV_M_REGEX, k);
    m->re = re;
    m->re_src = rcx_xstrndup(v->text, v->len);
    return m;
}

/* $min or $max: one range matcher for both, added to all the first time. */
static int range_key(const rv_ynode_t *k, const rv_ynode_t *v, rv_matcher_t *all, rv_matcher_t **range,
                     rcx_err_t *err)
{
    double d;
    if (number_of(v, k->text, &d, err) != 0)
        return -1;
    if (*range == NULL) {
        *range = mnew(RV_M_RANGE, k);
        madd(all, NULL, *range);
    }
    rv_matcher_t *r = *range;
    if (strcmp(k->text, "$min") == 0) {
        r->min = d;
        r->has_min = true;
    } else {
        r->max = d;
        r->has_max = true;
    }
    if (r->has_min && r->has_max && r->min > r->max)
        FAIL(k, "$min is above $max");
    return 0;
}

/* One $ key of a mapping, compiled into all. */
static int dollar_key(const rv_ynode_t *k, const rv_ynode_t *v, const rv_spec_t *spec, rv_matcher_t *all,
                      rv_matcher_t **range, rcx_err_t *err)
{
    const char *key = k->text;
    bool scalar_only = strcmp(key, "$type") == 0 || strcmp(key, "$regex") == 0 || strcmp(key, "$ref") == 0;
    if (scalar_only && v->kind != RV_Y_SCALAR)
        FAIL(v, "%s: expected a value, got %s", key, rv_yaml_kind_name(v));
    rv_matcher_t *m = NULL, *inner;
    if (strcmp(key, "$type") == 0) {
        m = type_key(k, v, err);
    } else if (strcmp(key, "$regex") == 0) {
        m = regex_key(k, v, err);
    } else if (strcmp(key, "$min") == 0 || strcmp(key, "$max") == 0) {
        return range_key(k, v, all, range, err);
    } else if (strcmp(key, "$len") == 0) {
        if (rv_compile_matcher(v, spec, &inner, err) != 0)
            return -1;
        m = mnew(RV_M_LEN, k);
        madd(m, NULL, inner);
    } else if (strcmp(key, "$ref") == 0) {
        m = mnew(RV_M_REF, v);
        if (rv_compile_ref(v, v->text, spec, &m->ref, err) != 0) {
            rv_compile_matcher_free(m);
            return -1;
        }
    } else if (strcmp(key, "$every") == 0 || strcmp(key, "$none") == 0 || strcmp(key, "$count") == 0) {
        if (rv_compile_matcher(v, spec, &inner, err) != 0)
            return -1;
        m = mnew(key[1] == 'e' ? RV_M_EVERY : key[1] == 'n' ? RV_M_NONE : RV_M_COUNT, k);
        madd(m, NULL, inner);
    } else if (strcmp(key, "$any") == 0 || strcmp(key, "$absent") == 0) {
        if (rv_yaml_plain_bool(v) != 1)
            FAIL(v, "%s: write %s: true (or the plain value %s)", key, key, key);
        m = mnew(key[2] == 'n' ? RV_M_ANY : RV_M_ABSENT, k);
    } else {
        FAIL(k,
             "unknown matcher key '%s' (known: $type, $regex, $min, $max, $len, $ref, $any, $absent, $every, "
             "$none, $count)",
             key);
    }
    if (m == NULL)
        return -1;
    madd(all, NULL, m);
    return 0;
}

/* A mapping of $ keys: $type, $regex, $min, $max, $len, $ref, $any, $absent; all must hold. */
static int dollar_map(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err)
{
    rv_matcher_t *all = mnew(RV_M_ALL, n), *range = NULL;
    for (size_t i = 0; i < n->n; i++)
        if (dollar_key(n->keys[i], n->vals[i], spec, all, &range, err) != 0) {
            rv_compile_matcher_free(all);
            return -1;
        }
    *out = all;
    return 0;
}

int rv_compile_matcher(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err)
{
    *out = NULL;
    if (n->kind == RV_Y_SCALAR) {
        if (n->len > 1 && n->text[0] == RV_YAML_DOLLAR)
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
            if (rv_compile_matcher(n->vals[i], spec, &kid, err) != 0) {
                rv_compile_matcher_free(m);
                return -1;
            }
            madd(m, NULL, kid);
        }
        *out = m;
        return 0;
    }
    size_t dollars = 0;
    for (size_t i = 0; i < n->n; i++)
        dollars += n->keys[i]->text[0] == RV_YAML_DOLLAR && !rv_yaml_is_escaped_dollar(n->keys[i]->text);
    if (dollars > 0 && dollars < n->n) {
        for (size_t i = 0; i < n->n; i++)
            if (n->keys[i]->text[0] != RV_YAML_DOLLAR)
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
        if (rv_compile_matcher(n->vals[i], spec, &kid, err) != 0) {
            rv_compile_matcher_free(m);
            return -1;
        }
        const char *k = n->keys[i]->text;
        madd(m, rcx_xstrdup(rv_yaml_is_escaped_dollar(k) ? k + 1 : k), kid); /* "$$x": the field "$x" */
    }
    if (m->n == 0) /* {} matches any object */
        m->keys = NULL;
    *out = m;
    return 0;
}
