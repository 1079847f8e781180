/* proxy/redact.c: see redact.h. */
#include "redact.h"

#include "../common/buf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool listed(const char *const *list, const char *name, size_t len)
{
    for (; list != NULL && *list != NULL; list++)
        if (strlen(*list) == len && strncasecmp(*list, name, len) == 0)
            return true;
    return false;
}

static size_t redact_headers(const recap_redact_t *r, json_t *headers)
{
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach(headers, key, value)
    {
        if (listed(r->headers, key, strlen(key))) {
            json_object_set_new(headers, key, json_string(RECAP_REDACTED));
            n++;
        }
    }
    return n;
}

static size_t redact_json(const recap_redact_t *r, json_t *v)
{
    size_t n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            if (listed(r->fields, key, strlen(key))) {
                json_object_set_new(v, key, json_string(RECAP_REDACTED));
                n++;
            } else {
                n += redact_json(r, child);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) n += redact_json(r, child);
    }
    return n;
}

/* Rewrites name=value pairs of a query string whose name is listed. */
static size_t redact_query(const recap_redact_t *r, json_t *holder, const char *key)
{
    const char *q = json_string_value(json_object_get(holder, key));
    if (q == NULL || *q == '\0' || r->fields == NULL || r->fields[0] == NULL)
        return 0;
    size_t qlen = strlen(q), n = 0;
    rcx_buf_t out;
    rcx_buf_init(&out, qlen * 2 + sizeof(RECAP_REDACTED) * qlen + 1);
    const char *p = q;
    while (*p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : q + qlen;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq != NULL && listed(r->fields, p, (size_t)(eq - p))) {
            rcx_buf_append(&out, p, (size_t)(eq - p) + 1);
            rcx_buf_append(&out, RECAP_REDACTED, strlen(RECAP_REDACTED));
            n++;
        } else {
            rcx_buf_append(&out, p, (size_t)(end - p));
        }
        if (amp == NULL)
            break;
        rcx_buf_append(&out, "&", 1);
        p = amp + 1;
    }
    if (n > 0)
        json_object_set_new(holder, key, json_stringn(out.base, out.len));
    rcx_buf_free(&out);
    return n;
}

size_t recap_redact_record(const recap_redact_t *r, json_t *record)
{
    size_t n = 0;
    static const char *const parts[] = {"request", "response"};
    for (size_t i = 0; i < 2; i++) {
        json_t *part = json_object_get(record, parts[i]);
        if (!json_is_object(part))
            continue;
        n += redact_headers(r, json_object_get(part, "headers"));
        if (r->fields != NULL && r->fields[0] != NULL) {
            n += redact_json(r, json_object_get(part, "body"));
            const char *ct =
                json_string_value(json_object_get(json_object_get(part, "headers"), "content-type"));
            if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
                n += redact_query(r, part, "body_text");
        }
    }
    n += redact_query(r, json_object_get(record, "request"), "query");
    return n;
}
