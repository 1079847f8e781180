/* proxy/redact.c: see redact.h. */
#include "proxy/redact.h"

#include <string.h>
#include <strings.h>

static bool listed(const char *const *list, const char *name, size_t len)
{
    for (; list != NULL && *list != NULL; list++)
        if (strlen(*list) == len && strncasecmp(*list, name, len) == 0)
            return true;
    return false;
}

bool recap_redact_header(const recap_redact_t *r, const char *name, size_t len)
{
    return listed(r->headers, name, len);
}

bool recap_redact_may_hold_field(const recap_redact_t *r, const char *p, size_t n)
{
    for (const char *const *f = r->fields; f != NULL && *f != NULL; f++)
        if (memmem(p, n, *f, strlen(*f)) != NULL)
            return true;
    return false;
}

size_t recap_redact_json(const recap_redact_t *r, json_t *v)
{
    size_t n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            if (listed(r->fields, key, strlen(key))) {
                json_object_set_new(v, key, json_string(RECAP_REDACTED)); /* replaces in place */
                n++;
            } else {
                n += recap_redact_json(r, child);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) n += recap_redact_json(r, child);
    }
    return n;
}

size_t recap_redact_params(const recap_redact_t *r, const char *q, size_t qlen, rcx_buf_t *out)
{
    size_t n = 0;
    const char *p = q, *end = q + qlen;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq != NULL && listed(r->fields, p, (size_t)(eq - p))) {
            rcx_buf_append(out, p, (size_t)(eq - p) + 1);
            rcx_buf_append(out, RECAP_REDACTED, strlen(RECAP_REDACTED));
            n++;
        } else {
            rcx_buf_append(out, p, (size_t)(stop - p));
        }
        if (amp == NULL)
            break;
        rcx_buf_puts(out, "&");
        p = amp + 1;
    }
    return n;
}
