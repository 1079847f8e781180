/* tools/diff.c: see diff.h. */
#include "tools/diff.h"

#include "common/codec.h"
#include "core/pathtpl.h"

#include "common/buf.h"
#include "verifier/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 64

char *rt_call_key(const json_t *call)
{
    const char *method = rcx_rec_str(call, "request", "method");
    core_pathtpl_t t;
    core_pathtpl_make(&t, rcx_rec_str(call, "request", "path"));
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_buf_printf(&b, "%s %s", method ? method : "?", t.tmpl);
    core_pathtpl_free(&t);
    return rcx_buf_take(&b);
}

/* ---- comparing ---- */

typedef struct ctx {
    json_t *a2b, *b2a; /* ids and uuids seen in the same role: "i:5" -> "i:7" */
    const rt_noise_t *noise;
    const char *key;
    rt_diff_pair_t *pair;
} ctx_t;

static void show(rcx_buf_t *b, const json_t *v)
{
    if (v == NULL)
        rcx_buf_puts(b, "(absent)");
    else
        rv_show(b, v, 200);
}

static bool noisy(const ctx_t *c, const char *where)
{
    if (c->noise == NULL)
        return false;
    size_t kl = strlen(c->key);
    for (size_t i = 0; i < c->noise->n; i++) {
        const char *n = c->noise->v[i];
        const char *tab = strchr(n, '\t');
        if (tab == NULL
                ? strcmp(n, where) == 0
                : ((size_t)(tab - n) == kl && strncmp(n, c->key, kl) == 0 && strcmp(tab + 1, where) == 0))
            return true;
    }
    return false;
}

static void delta(ctx_t *c, const char *where, const json_t *a, const json_t *b)
{
    if (noisy(c, where))
        return;
    rcx_buf_t x, y;
    rcx_buf_init(&x, SIZE_MAX);
    rcx_buf_init(&y, SIZE_MAX);
    show(&x, a);
    show(&y, b);
    rt_diff_pair_t *p = c->pair;
    p->d = rcx_xrealloc(p->d, sizeof(*p->d) * (p->nd + 1));
    p->d[p->nd++] = (rt_delta_t){rcx_xstrndup(where, strlen(where)), rcx_buf_take(&x), rcx_buf_take(&y)};
}

/* A value in its role as a map key: "<role>|i:5", "<role>|s:abc". The role is where the value sits (the
 * call's key and the field's path, or a table's column), so ids of different things never collide. */
static void idkey(const char *role, const json_t *v, char *out, size_t n)
{
    if (json_is_integer(v))
        snprintf(out, n, "%s|i:%lld", role, (long long)json_integer_value(v));
    else
        snprintf(out, n, "%s|s:%s", role, json_string_value(v));
}

/* Whether a pairs with b as ids of the same role; learns the pair when both are new. */
static bool same_role(ctx_t *c, const char *role, const json_t *a, const json_t *b)
{
    char ka[1024], kb[1024];
    idkey(role, a, ka, sizeof(ka));
    idkey(role, b, kb, sizeof(kb));
    const char *ma = json_string_value(json_object_get(c->a2b, ka));
    const char *mb = json_string_value(json_object_get(c->b2a, kb));
    if (ma == NULL && mb == NULL) {
        json_object_set_new(c->a2b, ka, json_string(kb));
        json_object_set_new(c->b2a, kb, json_string(ka));
        return true;
    }
    return ma != NULL && mb != NULL && strcmp(ma, kb) == 0 && strcmp(mb, ka) == 0;
}

static bool id_name(const char *where)
{
    const char *last = strrchr(where, '.');
    last = last ? last + 1 : where;
    size_t n = strcspn(last, "[");
    return (n == 2 && strncmp(last, "id", 2) == 0) || (n > 3 && strncmp(last + n - 3, "_id", 3) == 0);
}

/* The role of an id at where: a row's column is one role across calls; elsewhere, the place in this kind of
 * call. */
static void role_of(const ctx_t *c, const char *where, char *out, size_t n)
{
    if (strncmp(where, "db.", 3) == 0)
        snprintf(out, n, "%s", where);
    else
        snprintf(out, n, "%s %s", c->key, where);
}

static void compare(ctx_t *c, rcx_buf_t *where, const json_t *a, const json_t *b)
{
    size_t mark = where->len;
    const char *w = rcx_buf_cstr(where);
    if (a == NULL || b == NULL) {
        if (a != b)
            delta(c, w, a, b);
        return;
    }
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            rcx_buf_puts(where, ".");
            rcx_buf_append(where, k, strlen(k));
            compare(c, where, v, json_object_get(b, k));
            rcx_buf_truncate(where, mark);
        }
        json_object_foreach((json_t *)b, k, v)
        {
            if (json_object_get(a, k) != NULL)
                continue;
            rcx_buf_puts(where, ".");
            rcx_buf_append(where, k, strlen(k));
            delta(c, rcx_buf_cstr(where), NULL, v);
            rcx_buf_truncate(where, mark);
        }
        return;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) {
            rcx_buf_puts(where, ".$len");
            json_t *la = json_integer((json_int_t)json_array_size(a)),
                   *lb = json_integer((json_int_t)json_array_size(b));
            delta(c, rcx_buf_cstr(where), la, lb);
            json_decref(la);
            json_decref(lb);
            rcx_buf_truncate(where, mark);
        }
        size_t n = json_array_size(a) < json_array_size(b) ? json_array_size(a) : json_array_size(b);
        for (size_t i = 0; i < n; i++) {
            rcx_buf_puts(where, "[]");
            compare(c, where, json_array_get(a, i), json_array_get(b, i));
            rcx_buf_truncate(where, mark);
        }
        return;
    }
    char role[1024];
    role_of(c, w, role, sizeof(role));
    if (json_equal((json_t *)a, (json_t *)b)) {
        if ((json_is_integer(a) && id_name(w)) ||
            (json_is_string(a) && core_is_uuid(json_string_value(a), json_string_length(a))))
            if (!same_role(c, role, a, b))
                delta(c, w, a, b); /* the same value, but it stands for a different thing than before */
        return;
    }
    if (json_is_string(a) && json_is_string(b)) {
        const char *x = json_string_value(a), *y = json_string_value(b);
        if (core_is_timestamp(x) && core_is_timestamp(y))
            return; /* volatile */
        if (core_is_uuid(x, json_string_length(a)) && core_is_uuid(y, json_string_length(b))) {
            if (!same_role(c, role, a, b))
                delta(c, w, a, b);
            return;
        }
    }
    if (json_is_integer(a) && json_is_integer(b) && id_name(w)) {
        if (!same_role(c, role, a, b))
            delta(c, w, a, b);
        return;
    }
    delta(c, w, a, b);
}

/* Path segments that the template makes parameters: ids of the same role on both sides. */
static void compare_paths(ctx_t *c, const json_t *a, const json_t *b)
{
    const char *pa = rcx_rec_str(a, "request", "path"), *pb = rcx_rec_str(b, "request", "path");
    if (pa == NULL || pb == NULL)
        return;
    for (int seg = 0; *pa && *pb; seg++) {
        size_t na = strcspn(pa, "/"), nb = strcspn(pb, "/");
        char role[600];
        snprintf(role, sizeof(role), "%s path[%d]", c->key, seg);
        bool ids = (core_is_digits(pa, na) && core_is_digits(pb, nb)) ||
                   (core_is_uuid(pa, na) && core_is_uuid(pb, nb));
        if (ids) {
            json_t *x = core_is_digits(pa, na) ? json_integer(strtoll(pa, NULL, 10)) : json_stringn(pa, na);
            json_t *y = core_is_digits(pb, nb) ? json_integer(strtoll(pb, NULL, 10)) : json_stringn(pb, nb);
            if (!same_role(c, role, x, y))
                delta(c, "request.path", json_object_get(json_object_get(a, "request"), "path"),
                      json_object_get(json_object_get(b, "request"), "path"));
            json_decref(x);
            json_decref(y);
        }
        pa += na + (pa[na] == '/');
        pb += nb + (pb[nb] == '/');
    }
}

/* Row changes per table and operation: {"public.jobs.insert": [rows...]} plus exact counts. */
static json_t *rows_of(const json_t *call, json_t **counts)
{
    json_t *rows = json_object();
    *counts = json_object();
    size_t i;
    const json_t *tx;
    json_array_foreach(rcx_rec_transactions(call), i, tx)
    {
        const char *name;
        const json_t *cs;
        json_object_foreach((json_t *)json_object_get(tx, "tables"), name, cs)
        {
            static const char *const ops[] = {"insert", "update", "delete", "truncate"};
            for (int o = 0; o < 4; o++) {
                json_int_t n = json_integer_value(json_object_get(cs, ops[o]));
                if (n == 0)
                    continue;
                char k[600];
                snprintf(k, sizeof(k), "%s.%s", name, ops[o]);
                json_int_t had = json_integer_value(json_object_get(*counts, k));
                json_object_set_new(*counts, k, json_integer(had + n));
            }
        }
        size_t j;
        const json_t *ch;
        json_array_foreach(json_object_get(tx, "changes"), j, ch)
        {
            rcx_change_t c;
            if (rcx_rec_change(ch, &c) != 0 || c.op == RCX_OP_TRUNCATE)
                continue;
            const json_t *row = c.row;
            char k[600];
            snprintf(k, sizeof(k), "%s.%s.%s", c.schema, c.table, c.op_name);
            json_t *list = json_object_get(rows, k);
            if (list == NULL)
                json_object_set_new(rows, k, list = json_array());
            json_array_append(list, (json_t *)row);
        }
    }
    return rows;
}

static void compare_pair(ctx_t *c, const json_t *a, const json_t *b)
{
    compare_paths(c, a, b);
    rcx_buf_t where;
    rcx_buf_init(&where, SIZE_MAX);
    const json_t *ra = json_object_get(a, "response"), *rb = json_object_get(b, "response");
    rcx_buf_puts(&where, "status");
    compare(c, &where, json_object_get(ra, "status"), json_object_get(rb, "status"));
    rcx_buf_reset(&where);
    rcx_buf_puts(&where, "response.headers.content-type");
    compare(c, &where, json_object_get(json_object_get(ra, "headers"), "content-type"),
            json_object_get(json_object_get(rb, "headers"), "content-type"));
    json_t *ba = rv_body_of(ra), *bb = rv_body_of(rb);
    rcx_buf_reset(&where);
    rcx_buf_puts(&where, "response.body");
    compare(c, &where, ba, bb);
    json_decref(ba);
    json_decref(bb);
    const char *sa = rcx_rec_str(a, "db", "status"), *sb = rcx_rec_str(b, "db", "status");
    if (sa == NULL || sb == NULL || strcmp(sa, "complete") != 0 || strcmp(sb, "complete") != 0) {
        rcx_buf_free(&where); /* row changes were not captured on both sides: nothing to compare */
        return;
    }
    json_t *ca, *cb, *rowsa = rows_of(a, &ca), *rowsb = rows_of(b, &cb);
    rcx_buf_reset(&where);
    rcx_buf_puts(&where, "db");
    compare(c, &where, ca, cb); /* counts per table and operation */
    const char *k;
    json_t *v;
    json_object_foreach(rowsa, k, v)
    {
        json_t *w = json_object_get(rowsb, k);
        if (w == NULL || json_array_size(v) != json_array_size(w))
            continue; /* the counts already differ */
        for (size_t i = 0; i < json_array_size(v); i++) {
            rcx_buf_reset(&where);
            rcx_buf_puts(&where, "db.");
            rcx_buf_append(&where, k, strlen(k));
            rcx_buf_puts(&where, "[]");
            compare(c, &where, json_array_get(v, i), json_array_get(w, i));
        }
    }
    json_decref(ca);
    json_decref(cb);
    json_decref(rowsa);
    json_decref(rowsb);
    rcx_buf_free(&where);
}

static void add_pair(rt_diff_t *d, const json_t *a, const json_t *b, char *key)
{
    d->pairs = rcx_xrealloc(d->pairs, sizeof(*d->pairs) * (d->n + 1));
    d->pairs[d->n++] = (rt_diff_pair_t){.a = a, .b = b, .key = key};
}

void rt_diff_run(json_t *const *a, size_t na, json_t *const *b, size_t nb, const rt_noise_t *noise,
                 rt_diff_t *out)
{
    *out = (rt_diff_t){0};
    char **ka = rcx_xcalloc(na + 1, sizeof(*ka)), **kb = rcx_xcalloc(nb + 1, sizeof(*kb));
    for (size_t i = 0; i < na; i++)
        ka[i] = rt_call_key(a[i]);
    for (size_t j = 0; j < nb; j++)
        kb[j] = rt_call_key(b[j]);
    ctx_t c = {.a2b = json_object(), .b2a = json_object(), .noise = noise};
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && strcmp(ka[i], kb[j]) == 0) {
            add_pair(out, a[i], b[j], rcx_xstrndup(ka[i], strlen(ka[i])));
            c.key = out->pairs[out->n - 1].key;
            c.pair = &out->pairs[out->n - 1];
            compare_pair(&c, a[i], b[j]);
            out->differ += c.pair->nd > 0;
            i++;
            j++;
            continue;
        }
        /* the nearest place the runs meet again: skip what is only in one of them */
        size_t skip_a = 0, skip_b = 0;
        bool found = false;
        for (size_t d = 1; d <= WINDOW && !found; d++) {
            if (i + d < na && j < nb && strcmp(ka[i + d], kb[j]) == 0) {
                skip_a = d;
                found = true;
            } else if (j + d < nb && i < na && strcmp(ka[i], kb[j + d]) == 0) {
                skip_b = d;
                found = true;
            }
        }
        if (!found) { /* nothing close: both calls stand alone */
            skip_a = i < na;
            skip_b = j < nb;
        }
        for (size_t s = 0; s < skip_a; s++, i++) {
            add_pair(out, a[i], NULL, rcx_xstrndup(ka[i], strlen(ka[i])));
            out->only_a++;
        }
        for (size_t s = 0; s < skip_b; s++, j++) {
            add_pair(out, NULL, b[j], rcx_xstrndup(kb[j], strlen(kb[j])));
            out->only_b++;
        }
    }
    for (size_t x = 0; x < na; x++)
        free(ka[x]);
    for (size_t x = 0; x < nb; x++)
        free(kb[x]);
    free(ka);
    free(kb);
    json_decref(c.a2b);
    json_decref(c.b2a);
}

void rt_noise_add(rt_noise_t *noise, const char *where)
{
    for (size_t i = 0; i < noise->n; i++)
        if (strcmp(noise->v[i], where) == 0)
            return;
    noise->v = rcx_xrealloc(noise->v, sizeof(*noise->v) * (noise->n + 1));
    noise->v[noise->n++] = rcx_xstrndup(where, strlen(where));
}

void rt_diff_learn(json_t *const *a, size_t na, json_t *const *b, size_t nb, rt_noise_t *noise)
{
    rt_diff_t d;
    rt_diff_run(a, na, b, nb, NULL, &d);
    for (size_t i = 0; i < d.n; i++)
        for (size_t k = 0; k < d.pairs[i].nd; k++) {
            char *n = NULL;
            if (asprintf(&n, "%s\t%s", d.pairs[i].key, d.pairs[i].d[k].where) < 0)
                abort();
            rt_noise_add(noise, n);
            free(n);
        }
    rt_diff_free(&d);
}

void rt_noise_free(rt_noise_t *noise)
{
    for (size_t i = 0; i < noise->n; i++)
        free(noise->v[i]);
    free(noise->v);
    *noise = (rt_noise_t){0};
}

void rt_diff_free(rt_diff_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (size_t k = 0; k < d->pairs[i].nd; k++) {
            free(d->pairs[i].d[k].where);
            free(d->pairs[i].d[k].a);
            free(d->pairs[i].d[k].b);
        }
        free(d->pairs[i].d);
        free(d->pairs[i].key);
    }
    free(d->pairs);
    *d = (rt_diff_t){0};
}
