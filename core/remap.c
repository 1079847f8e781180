/* core/remap.c: see remap.h. */
#include "core/remap.h"

#include "common/buf.h"
#include "core/pathtpl.h"
#include "core/shape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

void core_remap_init(core_remap_t *m)
{
    m->map = json_object();
}

void core_remap_free(core_remap_t *m)
{
    json_decref(m->map);
    m->map = NULL;
}

static bool id_key(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    return n > 0 && (strcmp(k, "id") == 0 || (n > 3 && strcmp(k + n - 3, "_id") == 0));
}

/* The role of an integer id named name inside a container named role: "id" is the container's own
 * (an organization's id under "organizations"), "org_id" names "org"; one name for one thing ("jobs" and
 * "job_id" are both "job", by the path templates' rule). */
static void role_of(const char *role, const char *name, char *out, size_t n)
{
    size_t l = name ? strlen(name) : 0;
    if (name && l > 3 && strcmp(name + l - 3, "_id") == 0)
        core_pathtpl_singular(name, l - 3, out, n);
    else
        core_pathtpl_singular(role ? role : "", role ? strlen(role) : 0, out, n);
}

static void set_key(json_t *map, const char *key, const json_t *to)
{
    const json_t *had = json_object_get(map, key);
    if (had == NULL)
        json_object_set(map, key, (json_t *)to);
    else if (!json_equal((json_t *)had, (json_t *)to))
        json_object_set_new(map, key, json_null()); /* two meanings: never used without a role */
}

static void learn(core_remap_t *m, const char *role, const char *name, const json_t *a, const json_t *b,
                  int depth)
{
    if (a == NULL || b == NULL || depth > 8)
        return;
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v) learn(m, json_is_object(v) || json_is_array(v) ? k : role, k,
                                                     v, json_object_get(b, k), depth + 1);
    } else if (json_is_array(a) && json_is_array(b)) {
        for (size_t i = 0; i < json_array_size(a) && i < json_array_size(b); i++)
            learn(m, role, name, json_array_get(a, i), json_array_get(b, i), depth + 1);
    } else if (json_is_integer(a) && json_is_integer(b) && id_key(name) &&
               !json_equal((json_t *)a, (json_t *)b)) {
        char r[200], key[300];
        role_of(role, name, r, sizeof(r));
        snprintf(key, sizeof(key), "%s|i:%lld", r, (long long)json_integer_value(a));
        json_object_set(m->map, key, (json_t *)b);
        snprintf(key, sizeof(key), "*|i:%lld", (long long)json_integer_value(a));
        set_key(m->map, key, b);
    } else if (json_is_string(a) && json_is_string(b) &&
               core_is_uuid(json_string_value(a), json_string_length(a)) &&
               core_is_uuid(json_string_value(b), json_string_length(b)) &&
               !json_equal((json_t *)a, (json_t *)b)) {
        char key[300];
        snprintf(key, sizeof(key), "*|s:%s", json_string_value(a)); /* uuids are unique on their own */
        set_key(m->map, key, b);
    }
}

void core_remap_learn(core_remap_t *m, const char *resource, const json_t *old_body, const json_t *new_body)
{
    learn(m, resource, NULL, old_body, new_body, 0);
}

/* The new value of an old one in a role (NULL role: any, when unambiguous). */
static const json_t *lookup(const core_remap_t *m, const char *role, const char *value, size_t n)
{
    bool digits = core_is_digits(value, n);
    if (!digits && !core_is_uuid(value, n))
        return NULL;
    char key[400];
    if (digits && role != NULL) {
        snprintf(key, sizeof(key), "%s|i:%.*s", role, (int)n, value);
        const json_t *to = json_object_get(m->map, key);
        if (to != NULL)
            return to;
    }
    snprintf(key, sizeof(key), "*|%s:%.*s", digits ? "i" : "s", (int)n, value);
    const json_t *to = json_object_get(m->map, key);
    return json_is_null(to) ? NULL : to;
}

static void append_value(rcx_buf_t *b, const json_t *to, const char *orig, size_t n)
{
    if (to != NULL && json_is_integer(to)) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(to));
        rcx_buf_append(b, v, strlen(v));
    } else if (to != NULL && json_is_string(to)) {
        rcx_buf_append(b, json_string_value(to), json_string_length(to));
    } else {
        rcx_buf_append(b, orig, n);
    }
}

char *core_remap_text(const core_remap_t *m, const char *text, char sep)
{
    /* a path segment's role is the segment before it (/organizations/1: an organization); a query value's
     * is its parameter's name */
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    const char *p = text ? text : "";
    char role[200] = "";
    while (*p) {
        size_t n = strcspn(p, sep == '/' ? "/" : "&=");
        const json_t *to = lookup(m, role[0] ? role : NULL, p, n);
        append_value(&b, to, p, n);
        if (sep == '/' && !core_is_id_segment(p, n)) {
            char seg[200];
            snprintf(seg, sizeof(seg), "%.*s", (int)n, p);
            role_of(seg, NULL, role, sizeof(role));
        } else if (sep != '/' && p[n] == '=') {
            char param[200];
            snprintf(param, sizeof(param), "%.*s", (int)n, p);
            role_of(NULL, param, role, sizeof(role));
        }
        p += n;
        if (*p) {
            rcx_buf_append(&b, p, 1);
            p++;
        }
    }
    return rcx_buf_take(&b);
}

static json_t *remap_value(const core_remap_t *m, const char *name, const json_t *v, int depth)
{
    if (json_is_object(v) && depth < 16) {
        json_t *o = json_object();
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) json_object_set_new(o, k, remap_value(m, k, x, depth + 1));
        return o;
    }
    if (json_is_array(v) && depth < 16) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, remap_value(m, name, json_array_get(v, i), depth + 1));
        return a;
    }
    const json_t *to = NULL;
    if (json_is_integer(v) && id_key(name)) {
        char r[200], num[32];
        role_of(NULL, name, r, sizeof(r));
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        to = lookup(m, r[0] ? r : NULL, num, strlen(num));
    } else if (json_is_string(v)) {
        to = lookup(m, NULL, json_string_value(v), json_string_length(v));
    }
    return json_deep_copy(to && (json_is_integer(v) ? json_is_integer(to) : json_is_string(to)) ? to : v);
}

json_t *core_remap_json(const core_remap_t *m, const json_t *body)
{
    return remap_value(m, NULL, body, 0);
}
