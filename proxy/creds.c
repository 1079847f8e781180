/* proxy/creds.c: see creds.h. */
#include "proxy/creds.h"

#include "proxy/coding.h"

#include "common/buf.h"
#include "common/hash.h"
#include "common/jsonw.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The largest compressed body whose secrets are learned (decoded on the loop thread, at most 8 times that).
 */
#define CREDS_DECODE_MAX (64 * 1024)

void recap_creds_init(recap_creds_t *c, uint64_t key)
{
    memset(c, 0, sizeof(*c));
    c->key = key | 1;
}

static uint64_t hash_of(const recap_creds_t *c, const char *s, size_t n)
{
    uint64_t h = rcx_fnv1a(RCX_FNV_OFFSET ^ c->key, s, n);
    return h ^ (h >> 29);
}

static void remember(recap_creds_t *c, const char *s, size_t n, uint64_t arrival, const char *from)
{
    if (n < 8) /* too short to be a credential handed out; too likely to be met by chance */
        return;
    size_t i = c->next++ % RECAP_CREDS_SLOTS;
    c->slot[i].hash = hash_of(c, s, n);
    c->slot[i].arrival = arrival;
    snprintf(c->slot[i].from, sizeof(c->slot[i].from), "%s", from);
}

/* The newest slot holding the secret s[0..n), or -1. */
static long find(const recap_creds_t *c, const char *s, size_t n)
{
    if (n < 8)
        return -1;
    uint64_t h = hash_of(c, s, n);
    for (size_t k = 1; k <= RECAP_CREDS_SLOTS; k++) {
        size_t i = (c->next - k) % RECAP_CREDS_SLOTS;
        if (c->slot[i].from[0] != '\0' && c->slot[i].hash == h)
            return (long)i;
    }
    return -1;
}

/* Redacted fields' string values at any depth, with their place ("response.body.user.token", "[0]" for
 * array elements so a replay can find them again). */
static void learn_json(recap_creds_t *c, const recap_redact_t *r, const json_t *v, rcx_buf_t *place,
                       uint64_t arrival, int depth)
{
    size_t mark = place->len;
    if (depth > 16)
        return;
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            rcx_buf_printf(place, ".%s", k);
            if (json_is_string(x) && recap_redact_field(r, k, strlen(k)))
                remember(c, json_string_value(x), json_string_length(x), arrival, rcx_buf_cstr(place));
            else
                learn_json(c, r, x, place, arrival, depth + 1);
            rcx_buf_truncate(place, mark);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v) && i < 64; i++) {
            rcx_buf_printf(place, "[%zu]", i);
            learn_json(c, r, json_array_get(v, i), place, arrival, depth + 1);
            rcx_buf_truncate(place, mark);
        }
    }
}

/* "sid=abc; Path=/": the cookie's name and value. */
static bool cookie_pair(const char *s, size_t n, const char **name, size_t *nl, const char **val, size_t *vl)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    const char *eq = memchr(s, '=', n);
    if (eq == NULL || eq == s)
        return false;
    *name = s;
    *nl = (size_t)(eq - s);
    *val = eq + 1;
    *vl = n - *nl - 1;
    if (*vl >= 2 && (*val)[0] == '"' && (*val)[*vl - 1] == '"')
        (*val)++, *vl -= 2;
    return true;
}

/* A compressed response body small enough to decode on the loop (a login's answer is: tokens come in small
 * responses), decoded into *out; false when there is none or it does not decode. */
static bool small_decoded(const rcx_call_t *call, rcx_buf_t *out)
{
    const rcx_buf_t *body = &call->res.body;
    const char *coding = rcx_msg_find_header(&call->res, "content-encoding");
    if (body->len == 0 || body->truncated || body->len > CREDS_DECODE_MAX || !recap_coding_known(coding))
        return false;
    rcx_buf_init(out, 8 * CREDS_DECODE_MAX);
    return recap_coding_decode(coding, body->base, body->len, false, out) == 0 && !out->truncated;
}

void recap_creds_learn(recap_creds_t *c, const recap_redact_t *r, const rcx_call_t *call)
{
    rcx_buf_t place;
    rcx_buf_init(&place, SIZE_MAX);
    const char *p = call->res.headers.base;
    for (size_t i = 0; i < call->res.nheaders; i++) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, "set-cookie") == 0) {
            const char *name, *val;
            size_t nl, vl;
            if (cookie_pair(value, strcspn(value, ";"), &name, &nl, &val, &vl)) {
                rcx_buf_reset(&place);
                rcx_buf_printf(&place, "response.cookie.%.*s", (int)nl, name);
                remember(c, val, vl, call->arrival, rcx_buf_cstr(&place));
            }
        } else if (recap_redact_header(r, p, strlen(p))) {
            rcx_buf_reset(&place);
            rcx_buf_printf(&place, "response.headers.%s", p);
            remember(c, value, strlen(value), call->arrival, rcx_buf_cstr(&place));
        }
        p = value + strlen(value) + 1;
    }
    rcx_buf_t decoded = {0};
    const rcx_buf_t *body = small_decoded(call, &decoded) ? &decoded : &call->res.body;
    const char *ct = rcx_msg_find_header(&call->res, "content-type");
    if (body->len > 0 && !body->truncated && ct != NULL && strstr(ct, "json") != NULL &&
        recap_redact_may_hold_field(r, body->base, body->len)) {
        json_t *v = json_loadb(body->base, body->len, JSON_DECODE_ANY, NULL);
        rcx_buf_reset(&place);
        rcx_buf_puts(&place, "response.body");
        learn_json(c, r, v, &place, call->arrival, 0);
        json_decref(v);
    }
    rcx_buf_free(&decoded);
    rcx_buf_free(&place);
}

static void derivation(rcx_buf_t *out, const recap_creds_t *c, long slot, const char *key, const char *prefix,
                       size_t plen)
{
    rcx_buf_puts(out, out->len ? "," : "{");
    rcx_jw_string(out, key, strlen(key));
    rcx_buf_printf(out, ":{\"call\":%llu,\"from\":", (unsigned long long)c->slot[slot].arrival);
    rcx_jw_string_lenient(out, c->slot[slot].from, strlen(c->slot[slot].from));
    if (plen > 0) {
        rcx_jw_key(out, "prefix", false);
        rcx_jw_string_lenient(out, prefix, plen);
    }
    rcx_buf_puts(out, "}");
}

void recap_creds_derive(const recap_creds_t *c, const recap_redact_t *r, rcx_call_t *call)
{
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    const char *p = call->req.headers.base;
    for (size_t i = 0; i < call->req.nheaders; i++) {
        const char *value = p + strlen(p) + 1;
        size_t vlen = strlen(value);
        if (strcasecmp(p, "cookie") == 0) {
            for (const char *q = value; *q;) {
                size_t n = strcspn(q, ";");
                const char *name, *val;
                size_t nl, vl;
                long s;
                if (cookie_pair(q, n, &name, &nl, &val, &vl) && (s = find(c, val, vl)) >= 0) {
                    char key[96];
                    snprintf(key, sizeof(key), "cookie.%.*s", (int)(nl < 80 ? nl : 80), name);
                    derivation(&out, c, s, key, NULL, 0);
                }
                q += n + (q[n] == ';');
            }
        } else if (recap_redact_header(r, p, strlen(p))) {
            const char *sp = strrchr(value, ' ');
            size_t plen = sp ? (size_t)(sp - value) + 1 : 0; /* "Token ", "Bearer " */
            long s = find(c, value + plen, vlen - plen);
            if (s >= 0) {
                char key[96];
                snprintf(key, sizeof(key), "%.80s", p);
                for (char *k = key; *k; k++)
                    *k = (char)(*k >= 'A' && *k <= 'Z' ? *k + 32 : *k);
                derivation(&out, c, s, key, value, plen);
            }
        }
        p = value + strlen(value) + 1;
    }
    if (out.len > 0) {
        rcx_buf_puts(&out, "}");
        call->derived = rcx_call_strdup(call, out.base, out.len);
    }
    rcx_buf_free(&out);
}
