/* core/remap.c: see remap.h. */
#include "core/remap.h"

#include "common/buf.h"
#include "core/pathtpl.h"
#include "core/shape.h"

#include <stdio.h>
#include <string.h>

void core_remap_init(core_remap_t *m, const core_flow_t *baseline)
{
    m->flow = baseline;
    m->map = json_object();
}

void core_remap_free(core_remap_t *m)
{
    json_decref(m->map);
    m->map = NULL;
}

/* Learned per baseline call: "<call>|<text>" -> the new value, so that a reference finds the value its own
 * origin became (ids of every table start at 1: 1001 is a user in call 0 and a comment in call 22). */
static void learn_pair(core_remap_t *m, size_t call, const char *ta, size_t la, const json_t *b)
{
    char key[CORE_FLOW_MAX_TEXT + 32];
    if (la < 1 || la > CORE_FLOW_MAX_TEXT)
        return;
    int k = snprintf(key, sizeof(key), "%zu|", call);
    memcpy(key + k, ta, la);
    key[(size_t)k + la] = '\0';
    json_object_set(m->map, key, (json_t *)b);
}

static void learn(core_remap_t *m, size_t call, const json_t *a, const json_t *b, int depth)
{
    if (a == NULL || b == NULL || depth > 32)
        return;
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v) learn(m, call, v, json_object_get(b, k), depth + 1);
        return;
    }
    if (json_is_array(a) && json_is_array(b)) {
        for (size_t i = 0; i < json_array_size(a) && i < json_array_size(b); i++)
            learn(m, call, json_array_get(a, i), json_array_get(b, i), depth + 1);
        return;
    }
    char na[32], nb[32];
    const char *ta, *tb;
    size_t la, lb;
    if (json_is_integer(a) != json_is_integer(b) || !core_flow_text(a, na, sizeof(na), &ta, &la) ||
        !core_flow_text(b, nb, sizeof(nb), &tb, &lb) || (la == lb && memcmp(ta, tb, la) == 0))
        return;
    if (json_is_string(a) && la < 3)
        return;
    core_flow_origin_t o, here[64];
    bool sent =
        core_flow_oldest(m->flow, ta, la, &o) && o.phase == CORE_FLOW_REQUEST; /* sent again as it was */
    bool made_here = !sent && o.call == call;
    size_t n = core_flow_origins(m->flow, ta, la, call, CORE_FLOW_RESPONSE, here, 64);
    for (size_t i = 0; i < n && here[i].call == call; i++)
        made_here |= here[i].made; /* an insert of this call made it, whatever else had the same value */
    if (made_here || (!sent && core_flow_volatile(ta, la) && core_flow_volatile(tb, lb)))
        learn_pair(m, call, ta, la, b);
}

void core_remap_learn(core_remap_t *m, size_t call, const json_t *old_body, const json_t *new_body)
{
    learn(m, call, old_body, new_body, 0);
}

void core_remap_learn_text(core_remap_t *m, size_t call, const char *old, size_t on, const char *now,
                           size_t nn)
{
    if (on < 3 || (on == nn && memcmp(old, now, on) == 0))
        return;
    json_t *v = json_stringn(now, nn);
    if (v != NULL)
        learn_pair(m, call, old, on, v);
    json_decref(v);
}

/* The new value of s[0..n) when the baseline's flow says it came from before `call`: what one of its origins
 * became. When they became different things (an organization 1 and a job 1 of a database that was not
 * emptied), the origin whose role (core_flow_role) is the reference's own wins, then one an insert made, then
 * the newest. NULL if none was learned. */
static const json_t *lookup_as(const core_remap_t *m, size_t call, const char *s, size_t n, const char *role,
                               bool need_role);

static const json_t *lookup(const core_remap_t *m, size_t call, const char *s, size_t n, const char *role)
{
    return lookup_as(m, call, s, n, role, false);
}

/* need_role: only an origin of the reference's own role will do (a 1 that is a flag, unless its name says
 * whose id it is). */
static const json_t *lookup_as(const core_remap_t *m, size_t call, const char *s, size_t n, const char *role,
                               bool need_role)
{
    core_flow_origin_t o[64];
    if (n < 1 || n > CORE_FLOW_MAX_TEXT || call == 0)
        return NULL;
    size_t k = core_flow_origins(m->flow, s, n, call - 1, CORE_FLOW_RESPONSE, o, 64);
    char key[CORE_FLOW_MAX_TEXT + 32];
    const json_t *best = NULL, *first = NULL;
    int best_score = -1;
    bool agree = true;
    for (size_t i = 0; i < k; i++) {
        int h = snprintf(key, sizeof(key), "%u|", o[i].call);
        memcpy(key + h, s, n);
        key[(size_t)h + n] = '\0';
        const json_t *to = json_object_get(m->map, key);
        if (to == NULL)
            continue;
        if (first == NULL)
            first = to;
        agree &= json_equal((json_t *)first, (json_t *)to);
        char r[64];
        core_flow_role(m->flow, &o[i], r, sizeof(r));
        bool same = role != NULL && role[0] && core_flow_same_role(role, r);
        int score = same * 2 + o[i].made;
        if (need_role && !same)
            continue;
        if (score > best_score) {
            best = to;
            best_score = score;
        }
    }
    return agree && !need_role ? first : best;
}

static void append_text(rcx_buf_t *b, const json_t *v, const char *orig, size_t n)
{
    char num[32];
    const char *t;
    size_t l;
    if (v != NULL && core_flow_text(v, num, sizeof(num), &t, &l))
        rcx_buf_append(b, t, l);
    else
        rcx_buf_append(b, orig, n);
}

/* s[0..n) with every token that refers to an earlier value rewritten; whole first. */
static void rewrite(const core_remap_t *m, size_t call, const char *s, size_t n, const char *role,
                    rcx_buf_t *out)
{
    const json_t *whole = lookup(m, call, s, n, role);
    if (whole != NULL) {
        append_text(out, whole, s, n);
        return;
    }
    size_t pos = 0, off, len, done = 0;
    while (core_flow_token(s, n, &pos, &off, &len)) {
        const json_t *to = lookup(m, call, s + off, len, NULL);
        if (to == NULL)
            continue;
        rcx_buf_append(out, s + done, off - done);
        append_text(out, to, s + off, len);
        done = off + len;
    }
    rcx_buf_append(out, s + done, n - done);
}

char *core_remap_path(const core_remap_t *m, size_t call, const char *path)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    char role[64] = ""; /* a segment names what the segment before it says: /organizations/7 */
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, "/");
        const json_t *to = lookup(m, call, p, n, role);
        append_text(&b, to, p, n);
        if (n > 0 && !core_is_id_segment(p, n) && !core_flow_path_param(m->flow, p, n, call))
            core_pathtpl_singular(p, n, role, sizeof(role));
        p += n;
        if (*p == '/') {
            rcx_buf_puts(&b, "/");
            p++;
        }
    }
    return rcx_buf_take(&b);
}

/* The role a key names: org_id -> "org", campaign -> "campaign"; "id" names nothing by itself. */
static void key_role(const char *k, size_t n, char *out, size_t outsz)
{
    if (n > 3 && strncmp(k + n - 3, "_id", 3) == 0)
        n -= 3;
    if (n == 2 && strncmp(k, "id", 2) == 0)
        n = 0;
    core_pathtpl_singular(k, n, out, outsz);
}

char *core_remap_query(const core_remap_t *m, size_t call, const char *query)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    for (const char *p = query ? query : ""; *p;) {
        size_t n = strcspn(p, "&"), eq = strcspn(p, "=");
        if (eq < n) {
            const char *v = p + eq + 1;
            size_t vn = n - eq - 1;
            rcx_buf_append(&b, p, eq + 1);
            char role[64];
            key_role(p, eq, role, sizeof(role));
            bool flag = vn == 1 && (*v == '0' || *v == '1'); /* a flag or a first page, unless named an id */
            append_text(&b, lookup_as(m, call, v, vn, role, flag), v, vn);
        } else {
            rcx_buf_append(&b, p, n);
        }
        p += n;
        if (*p == '&') {
            rcx_buf_puts(&b, "&");
            p++;
        }
    }
    return rcx_buf_take(&b);
}

static json_t *remap_value(const core_remap_t *m, size_t call, const char *key, const json_t *v, int depth)
{
    if (json_is_object(v) && depth < 32) {
        json_t *o = json_object();
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
            json_object_set_new(o, k, remap_value(m, call, k, x, depth + 1));
        return o;
    }
    if (json_is_array(v) && depth < 32) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, remap_value(m, call, key, json_array_get(v, i), depth + 1));
        return a;
    }
    char role[64] = "";
    if (key != NULL)
        key_role(key, strlen(key), role, sizeof(role));
    if (json_is_integer(v)) {
        char num[32];
        int k = snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        const json_t *to = lookup_as(m, call, num, (size_t)k, role, json_integer_value(v) <= 1);
        return json_deep_copy(json_is_integer(to) ? to : v);
    }
    if (json_is_string(v)) {
        rcx_buf_t b;
        rcx_buf_init(&b, SIZE_MAX);
        rewrite(m, call, json_string_value(v), json_string_length(v), role, &b);
        json_t *s = json_stringn(b.base ? b.base : "", b.len);
        rcx_buf_free(&b);
        return s != NULL ? s : json_deep_copy(v);
    }
    return json_deep_copy(v);
}

json_t *core_remap_json(const core_remap_t *m, size_t call, const json_t *body)
{
    return remap_value(m, call, NULL, body, 0);
}

char *core_remap_string(const core_remap_t *m, size_t call, const char *s, size_t n)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rewrite(m, call, s, n, NULL, &b);
    return rcx_buf_take(&b);
}
