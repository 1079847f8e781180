/* verifier/match.c: see match.h. */
#include "verifier/match.h"

#include "common/codec.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rv_show(rcx_buf_t *out, const json_t *v, size_t max)
{
    if (v == NULL) {
        rcx_buf_puts(out, "nothing (absent)");
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = s ? strlen(s) : 0;
    if (n > max) {
        rcx_buf_append(out, s, max);
        rcx_buf_puts(out, "...");
    } else if (s) {
        rcx_buf_append(out, s, n);
    }
    free(s);
}

static void say(rcx_buf_t *why, const char *expected, const json_t *got)
{
    rcx_buf_puts(why, "expected ");
    rcx_buf_append(why, expected, strlen(expected));
    rcx_buf_puts(why, ", got ");
    rv_show(why, got, 120);
}

static bool numeric_string(const char *s, double *d)
{
    if (*s == '\0' || isspace((unsigned char)*s))
        return false;
    char *end;
    *d = strtod(s, &end);
    return *end == '\0' && isfinite(*d) && strncasecmp(s, "0x", 2) != 0 && strncasecmp(s, "-0x", 3) != 0;
}

static bool num_of(const json_t *v, double *d)
{
    if (json_is_number(v)) {
        *d = json_number_value(v);
        return true;
    }
    return json_is_string(v) && numeric_string(json_string_value(v), d);
}

bool rv_equal(const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    double x, y;
    if ((json_is_number(a) || json_is_number(b)) && num_of(a, &x) && num_of(b, &y))
        return x == y;
    return json_equal((json_t *)a, (json_t *)b);
}

static bool type_ok(rv_type_t t, const json_t *v)
{
    double d;
    switch (t) {
    case RV_T_INT:
        return json_is_integer(v) || (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v));
    case RV_T_NUMBER:
        return num_of(v, &d);
    case RV_T_STRING:
        return json_is_string(v);
    case RV_T_BOOL:
        return json_is_boolean(v);
    case RV_T_UUID:
        return json_is_string(v) && core_is_uuid(json_string_value(v), json_string_length(v));
    case RV_T_TIMESTAMP:
        return json_is_string(v) && core_is_timestamp(json_string_value(v));
    case RV_T_DATE:
        return json_is_string(v) && strlen(json_string_value(v)) == 10 && core_is_date(json_string_value(v));
    case RV_T_NULL:
        return json_is_null(v);
    case RV_T_OBJECT:
        return json_is_object(v);
    case RV_T_ARRAY:
        return json_is_array(v);
    }
    return false;
}

static const char *article(rv_type_t t)
{
    return (t == RV_T_INT || t == RV_T_UUID || t == RV_T_OBJECT || t == RV_T_ARRAY) ? "an " : "a ";
}

/* Walks object keys and array indexes. Borrowed result. */
static const json_t *walk(const json_t *v, char *const *segs, size_t n)
{
    for (size_t i = 0; i < n && v != NULL; i++) {
        if (json_is_object(v)) {
            v = json_object_get(v, segs[i]);
        } else if (json_is_array(v)) {
            char *end;
            unsigned long k = strtoul(segs[i], &end, 10);
            v = (*segs[i] && *end == '\0') ? json_array_get(v, k) : NULL;
        } else {
            v = NULL;
        }
    }
    return v;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10);
}

/* The value of name in a query string (percent- and +-decoded), as a new string, or NULL. */
static json_t *query_param(const char *q, const char *name)
{
    size_t nl = strlen(name);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t kl = eq ? (size_t)(eq - q) : len;
        if (kl == nl && strncmp(q, name, nl) == 0) {
            rcx_buf_t b;
            rcx_buf_init(&b, SIZE_MAX);
            for (const char *p = eq ? eq + 1 : q + len; p < q + len; p++) {
                char c = *p;
                if (c == '+')
                    c = ' ';
                else if (c == '%' && p + 2 < q + len && isxdigit((unsigned char)p[1]) &&
                         isxdigit((unsigned char)p[2])) {
                    c = (char)(hexval((unsigned char)p[1]) * 16 + hexval((unsigned char)p[2]));
                    p += 2;
                }
                rcx_buf_append(&b, &c, 1);
            }
            json_t *v = json_stringn(b.base ? b.base : "", b.len);
            rcx_buf_free(&b);
            return v;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* The value of path parameter name: the request path's segment where the template has {name}. */
static json_t *path_param(const rv_spec_t *spec, const char *path, const char *name)
{
    if (spec == NULL || path == NULL)
        return NULL;
    const char *p = path + (*path == '/');
    for (size_t i = 0; i < spec->nsegs; i++) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *s = spec->segs[i];
        if (s[0] == '{' && strlen(s) == strlen(name) + 2 && strncmp(s + 1, name, strlen(name)) == 0)
            return json_stringn(p, len);
        if (e == NULL)
            return NULL;
        p = e + 1;
    }
    return NULL;
}

json_t *rv_resolve(const rv_ref_t *r, const rv_ctx_t *ctx)
{
    const json_t *req = json_object_get(ctx->call, "request"), *res = json_object_get(ctx->call, "response");
    const json_t *v = NULL;
    switch (r->root) {
    case RV_R_REQUEST_BODY:
        v = walk(ctx->req_body, r->segs, r->nsegs);
        break;
    case RV_R_RESPONSE_BODY:
        v = walk(ctx->res_body, r->segs, r->nsegs);
        break;
    case RV_R_REQUEST_HEADERS:
        v = walk(json_object_get(req, "headers"), r->segs, r->nsegs);
        break;
    case RV_R_RESPONSE_HEADERS:
        v = walk(json_object_get(res, "headers"), r->segs, r->nsegs);
        break;
    case RV_R_REQUEST_QUERY: {
        json_t *q = query_param(json_string_value(json_object_get(req, "query")), r->segs[0]);
        return q;
    }
    case RV_R_PATH:
        return path_param(ctx->spec, rcx_rec_str(ctx->call, "request", "path"), r->segs[0]);
    case RV_R_SAVED:
        v = walk(ctx->saved, r->segs, r->nsegs);
        break;
    }
    return v ? json_incref((json_t *)v) : NULL;
}

bool rv_path_matches(const rv_spec_t *spec, const char *path)
{
    if (path == NULL || *path != '/')
        return false;
    const char *p = path + 1;
    for (size_t i = 0; i < spec->nsegs; i++) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *s = spec->segs[i];
        if (s[0] == '{') {
            if (len == 0)
                return false;
        } else if (strlen(s) != len || memcmp(s, p, len) != 0) {
            return false;
        }
        if (i + 1 == spec->nsegs)
            return e == NULL;
        if (e == NULL)
            return false;
        p = e + 1;
    }
    return false;
}

json_t *rv_body_of(const json_t *msg)
{
    json_t *b = json_object_get(msg, "body");
    if (b != NULL)
        return json_incref(b);
    b = json_object_get(msg, "body_text");
    return b ? json_incref(b) : NULL;
}

static void where_key(rcx_buf_t *where, const char *key)
{
    rcx_buf_puts(where, ".");
    rcx_buf_append(where, key, strlen(key));
}

static void where_index(rcx_buf_t *where, size_t i)
{
    char s[32];
    int n = snprintf(s, sizeof(s), "[%zu]", i);
    rcx_buf_append(where, s, (size_t)n);
}

/* Says "expected <what shown of want>, got v". */
static void say_shown(rcx_buf_t *why, const json_t *want, const char *after, const json_t *v)
{
    rcx_buf_t e;
    rcx_buf_init(&e, SIZE_MAX);
    if (want != NULL)
        rv_show(&e, want, 120);
    else
        rcx_buf_puts(&e, "a value");
    rcx_buf_puts(&e, after);
    say(why, rcx_buf_cstr(&e), v);
    rcx_buf_free(&e);
}

static bool match_regex(const rv_matcher_t *m, const json_t *v, rcx_buf_t *why)
{
    if (!json_is_string(v)) {
        say(why, "a string", v);
        return false;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
    int rc = pcre2_match(m->re, (PCRE2_SPTR)json_string_value(v), json_string_length(v), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return true;
    if (rc != PCRE2_ERROR_NOMATCH) { /* the match limit, or another failure: not a mismatch */
        PCRE2_UCHAR msg[120];
        pcre2_get_error_message(rc, msg, sizeof(msg));
        rcx_buf_printf(why, "/%.250s/ could not be tried on this value: %s", m->re_src, (const char *)msg);
        return false;
    }
    char e[300];
    snprintf(e, sizeof(e), "a string matching /%.250s/", m->re_src);
    say(why, e, v);
    return false;
}

static bool match_range(const rv_matcher_t *m, const json_t *v, rcx_buf_t *why)
{
    double d;
    if (num_of(v, &d) && (!m->has_min || d >= m->min) && (!m->has_max || d <= m->max))
        return true;
    char e[120];
    if (m->has_min && m->has_max)
        snprintf(e, sizeof(e), "a number from %g to %g", m->min, m->max);
    else if (m->has_min)
        snprintf(e, sizeof(e), "a number >= %g", m->min);
    else
        snprintf(e, sizeof(e), "a number <= %g", m->max);
    say(why, e, v);
    return false;
}

static bool match_len(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *where,
                      rcx_buf_t *why, const rv_matcher_t **at)
{
    size_t n;
    if (json_is_string(v))
        n = json_string_length(v);
    else if (json_is_array(v))
        n = json_array_size(v);
    else if (json_is_object(v))
        n = json_object_size(v);
    else {
        say(why, "a string, list or object (for $len)", v);
        return false;
    }
    json_t *len = json_integer((json_int_t)n);
    size_t mark = where->len;
    rcx_buf_puts(where, ".$len");
    bool ok = rv_match(m->kids[0], len, ctx, where, why, at);
    json_decref(len);
    if (ok)
        rcx_buf_truncate(where, mark);
    return ok;
}

static bool match_ref(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *why)
{
    json_t *want = rv_resolve(&m->ref, ctx);
    if (want == NULL) {
        rcx_buf_printf(why, "${%s} has no value in this call%s", m->ref.text,
                       m->ref.root == RV_R_SAVED ? " (nothing saved it yet)" : "");
        return false;
    }
    bool ok = rv_equal(want, v);
    if (!ok) {
        rcx_buf_t after;
        rcx_buf_init(&after, SIZE_MAX);
        rcx_buf_printf(&after, " (${%s})", m->ref.text);
        say_shown(why, want, rcx_buf_cstr(&after), v);
        rcx_buf_free(&after);
    }
    json_decref(want);
    return ok;
}

static bool match_obj(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *where,
                      rcx_buf_t *why, const rv_matcher_t **at)
{
    if (!json_is_object(v)) {
        say(why, "an object", v);
        return false;
    }
    for (size_t i = 0; i < m->n; i++) {
        size_t mark = where->len;
        where_key(where, m->keys[i]);
        if (!rv_match(m->kids[i], json_object_get(v, m->keys[i]), ctx, where, why, at))
            return false;
        rcx_buf_truncate(where, mark);
    }
    return true;
}

static bool match_arr(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *where,
                      rcx_buf_t *why, const rv_matcher_t **at)
{
    if (!json_is_array(v)) {
        say(why, "a list", v);
        return false;
    }
    if (json_array_size(v) != m->n) {
        char e[64];
        snprintf(e, sizeof(e), "a list of %zu", m->n);
        say(why, e, v);
        return false;
    }
    for (size_t i = 0; i < m->n; i++) {
        size_t mark = where->len;
        where_index(where, i);
        if (!rv_match(m->kids[i], json_array_get(v, i), ctx, where, why, at))
            return false;
        rcx_buf_truncate(where, mark);
    }
    return true;
}

/* $every, $none and $count over a list; a failing element is named by its index and shown. */
static bool match_quantifier(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *where,
                             rcx_buf_t *why, const rv_matcher_t **at)
{
    if (!json_is_array(v)) {
        say(why, "a list", v);
        return false;
    }
    size_t mark = where->len;
    if (m->kind == RV_M_COUNT) {
        json_t *n = json_integer((json_int_t)json_array_size(v));
        rcx_buf_puts(where, ".$count");
        bool ok = rv_match(m->kids[0], n, ctx, where, why, at);
        json_decref(n);
        if (ok)
            rcx_buf_truncate(where, mark);
        return ok;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *el = json_array_get(v, i);
        where_index(where, i);
        rcx_buf_t w, y;
        rcx_buf_init(&w, SIZE_MAX);
        rcx_buf_init(&y, SIZE_MAX);
        const rv_matcher_t *inner_at = m;
        bool ok = rv_match(m->kids[0], el, ctx, &w, &y, &inner_at);
        bool fails = m->kind == RV_M_EVERY ? !ok : ok;
        if (fails) {
            rcx_buf_append(where, w.base, w.len);
            if (m->kind == RV_M_EVERY) {
                *at = inner_at;
                rcx_buf_append(why, y.base, y.len);
                rcx_buf_puts(why, " (in ");
            } else {
                *at = m;
                rcx_buf_puts(why, "expected no element to match, got ");
            }
            rv_show(why, el, 200);
            if (m->kind == RV_M_EVERY)
                rcx_buf_puts(why, ")");
        }
        rcx_buf_free(&w);
        rcx_buf_free(&y);
        if (fails)
            return false;
        rcx_buf_truncate(where, mark);
    }
    return true;
}

bool rv_match(const rv_matcher_t *m, const json_t *v, const rv_ctx_t *ctx, rcx_buf_t *where, rcx_buf_t *why,
              const rv_matcher_t **at)
{
    *at = m;
    if (m->kind == RV_M_ABSENT) {
        if (v != NULL)
            say(why, "it to be absent", v);
        return v == NULL;
    }
    if (v == NULL && m->kind != RV_M_ALL) {
        if (m->kind == RV_M_ANY)
            rcx_buf_puts(why, "expected a value, got nothing (absent)");
        else
            say_shown(why, m->kind == RV_M_LIT ? m->lit : NULL, "", NULL);
        return false;
    }
    switch (m->kind) {
    case RV_M_ANY:
        return true;
    case RV_M_LIT:
        if (!rv_equal(m->lit, v))
            say_shown(why, m->lit, "", v);
        return rv_equal(m->lit, v);
    case RV_M_TYPE:
        if (!type_ok(m->type, v)) {
            char e[40];
            snprintf(e, sizeof(e), "%s%s", article(m->type), rv_type_name(m->type));
            say(why, e, v);
            return false;
        }
        return true;
    case RV_M_REGEX:
        return match_regex(m, v, why);
    case RV_M_RANGE:
        return match_range(m, v, why);
    case RV_M_LEN:
        return match_len(m, v, ctx, where, why, at);
    case RV_M_REF:
        return match_ref(m, v, ctx, why);
    case RV_M_ALL:
        for (size_t i = 0; i < m->n; i++)
            if (!rv_match(m->kids[i], v, ctx, where, why, at))
                return false;
        return true;
    case RV_M_OBJ:
        return match_obj(m, v, ctx, where, why, at);
    case RV_M_ARR:
        return match_arr(m, v, ctx, where, why, at);
    case RV_M_EVERY:
    case RV_M_NONE:
    case RV_M_COUNT:
        return match_quantifier(m, v, ctx, where, why, at);
    default:
        return false;
    }
}
