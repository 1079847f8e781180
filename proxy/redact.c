/* proxy/redact.c: see redact.h. */
#include "proxy/redact.h"

#include "common/jsonw.h"
#include "common/hash.h"

#include "core/secret.h"

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

bool recap_redact_field(const recap_redact_t *r, const char *name, size_t len)
{
    return listed(r->fields, name, len) || (r->defaults && core_secret_name(name, len));
}

static bool contains_ci(const char *p, size_t n, const char *s, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(p + i, s, k) == 0)
            return true;
    return false;
}

bool recap_redact_may_hold_field(const recap_redact_t *r, const char *p, size_t n)
{
    if (r->defaults && core_secret_may_occur(p, n))
        return true;
    bool any = false;
    for (const char *const *f = r->fields; f != NULL && *f != NULL; f++) {
        any = true;
        if (contains_ci(p, n, *f, strlen(*f)))
            return true;
    }
    /* a name written with escapes (JSON's \u0077, a query's %77) is only known once decoded */
    return any && (memchr(p, '\\', n) != NULL || memchr(p, '%', n) != NULL);
}

static void add_class(const recap_redact_t *r, rcx_buf_t *classes, const char *place, const json_t *secret)
{
    uint64_t h =
        rcx_fnv1a(RCX_FNV_OFFSET ^ (r->class_key | 1), json_string_value(secret), json_string_length(secret));
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ULL;
    if (classes->len > 0)
        rcx_buf_puts(classes, ",");
    rcx_jw_string_lenient(classes, place, strlen(place));
    rcx_buf_printf(classes, ":\"%08x\"", (unsigned)(h >> 32));
}

static size_t redact_at(const recap_redact_t *r, json_t *v, rcx_buf_t *place, rcx_buf_t *classes, int depth)
{
    size_t n = 0, mark = place->len;
    if (depth > 64)
        return 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            rcx_buf_printf(place, ".%s", key);
            if (recap_redact_field(r, key, strlen(key))) {
                if (json_is_string(child))
                    add_class(r, classes, rcx_buf_cstr(place), child);
                json_object_set_new(v, key, json_string(RECAP_REDACTED)); /* replaces in place */
                n++;
            } else {
                n += redact_at(r, child, place, classes, depth + 1);
            }
            rcx_buf_truncate(place, mark);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            rcx_buf_printf(place, "[%zu]", i);
            n += redact_at(r, child, place, classes, depth + 1);
            rcx_buf_truncate(place, mark);
        }
    }
    return n;
}

size_t recap_redact_json_classes(const recap_redact_t *r, json_t *v, rcx_buf_t *classes)
{
    rcx_buf_t place;
    rcx_buf_init(&place, SIZE_MAX);
    rcx_buf_puts(&place, "body");
    size_t n = redact_at(r, v, &place, classes, 0);
    rcx_buf_free(&place);
    return n;
}

size_t recap_redact_json(const recap_redact_t *r, json_t *v)
{
    size_t n = 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            if (recap_redact_field(r, key, strlen(key))) {
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

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A parameter name as the application reads it: %XX and '+' decoded (cut at the buffer: a longer name is not
 * on any list). */
static size_t decoded_name(const char *p, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            out[o++] = p[i] == '+' ? ' ' : p[i];
        }
    }
    return o;
}

size_t recap_redact_params(const recap_redact_t *r, const char *q, size_t qlen, rcx_buf_t *out)
{
    size_t n = 0;
    const char *p = q, *end = q + qlen;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        char name[256];
        size_t nlen = eq != NULL ? decoded_name(p, (size_t)(eq - p), name, sizeof(name)) : 0;
        if (eq != NULL && recap_redact_field(r, name, nlen)) {
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

/* memmem for a needle that may start the haystack or follow a CRLF: a multipart delimiter line. */
static const char *find_delimiter(const char *p, const char *end, const char *d, size_t dlen, bool at_start)
{
    for (const char *s = p; s + dlen <= end; s++) {
        s = memmem(s, (size_t)(end - s), d, dlen);
        if (s == NULL)
            return NULL;
        if ((at_start && s == p) || (s - p >= 2 && s[-2] == '\r' && s[-1] == '\n'))
            return s;
    }
    return NULL;
}

/* The boundary parameter of a multipart/form-data Content-Type, quoted or not; 0 when there is none. */
static size_t boundary_of(const char *ct, const char **b)
{
    if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return 0;
    const char *s = strcasestr(ct, "boundary=");
    if (s == NULL)
        return 0;
    s += 9;
    size_t n = *s == '"' ? strcspn(++s, "\"") : strcspn(s, "; \t");
    *b = s;
    return n > 0 && n <= 70 ? n : 0; /* RFC 2046: 1 to 70 characters */
}

/* The name="..." of a part's headers (not filename="..."); 0 when there is none. */
static size_t part_name(const char *h, size_t n, const char **name)
{
    for (const char *s = h, *end = h + n; s + 6 <= end; s++) {
        s = memmem(s, (size_t)(end - s), "name=\"", 6);
        if (s == NULL)
            return 0;
        if (s > h && (s[-1] == ' ' || s[-1] == ';' || s[-1] == '\t')) {
            const char *v = s + 6, *q = memchr(v, '"', (size_t)(end - v));
            *name = v;
            return q != NULL ? (size_t)(q - v) : 0;
        }
    }
    return 0;
}

bool recap_redact_is_multipart(const char *ct)
{
    const char *b;
    return boundary_of(ct, &b) > 0;
}

size_t recap_redact_multipart(const recap_redact_t *r, const char *ct, const char *p, size_t len,
                              rcx_buf_t *out)
{
    const char *b, *end = p + len, *from = p;
    size_t blen = boundary_of(ct, &b), n = 0;
    if (blen == 0) { /* no boundary: no parts */
        rcx_buf_append(out, p, len);
        return 0;
    }
    char d[80] = "--";
    memcpy(d + 2, b, blen);
    size_t dlen = blen + 2;
    const char *s = find_delimiter(p, end, d, dlen, true);
    while (s != NULL) {
        const char *head = s + dlen;
        if (end - head >= 2 && head[0] == '-' && head[1] == '-')
            break; /* the closing delimiter */
        const char *hend = memmem(head, (size_t)(end - head), "\r\n\r\n", 4);
        if (hend == NULL)
            break;
        const char *body = hend + 4, *next = find_delimiter(body, end, d, dlen, false);
        const char *stop =
            next != NULL ? next - 2 : end; /* the CRLF before the delimiter is not the part's */
        const char *name;
        size_t nlen = part_name(head, (size_t)(hend - head), &name);
        if (nlen > 0 && recap_redact_field(r, name, nlen)) {
            rcx_buf_append(out, from, (size_t)(body - from));
            rcx_buf_append(out, RECAP_REDACTED, strlen(RECAP_REDACTED));
            from = stop;
            n++;
        }
        s = next;
    }
    rcx_buf_append(out, from, (size_t)(end - from));
    return n;
}
