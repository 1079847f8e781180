/* proxy/cdc/values.c: see values.h. */
#include "values.h"

#include "../../common/jsonw.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_integer(const char *p, size_t n)
{
    size_t i = (n > 0 && p[0] == '-') ? 1 : 0;
    if (i == n)
        return false;
    for (; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i == n)
        return false;
    if (p[i] == '0')
        i++;
    else if (p[i] >= '1' && p[i] <= '9')
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    else
        return false;
    if (i < n && p[i] == '.') {
        size_t start = ++i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

static void text(rcx_buf_t *out, const char *p, size_t n)
{
    if (rcx_utf8_valid(p, n))
        rcx_jw_string(out, p, n);
    else
        rcx_jw_string_lenient(out, p, n);
}

static void json_doc(rcx_buf_t *out, const char *p, size_t n)
{
    json_t *v = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (v == NULL) { /* e.g. a number jansson cannot hold: keep the text */
        text(out, p, n);
        return;
    }
    if (memchr(p, '\n', n) == NULL && memchr(p, '\r', n) == NULL) {
        rcx_jw_raw(out, p, n); /* as stored; jsonb's text form is already normalised */
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        rcx_jw_raw(out, s, strlen(s));
        free(s);
    }
    json_decref(v);
}

void recap_cdc_value_json(rcx_buf_t *out, uint32_t typoid, const char *p, size_t n)
{
    switch (typoid) {
    case RECAP_OID_BOOL:
        if (n == 1 && (p[0] == 't' || p[0] == 'f')) {
            rcx_jw_bool(out, p[0] == 't');
            return;
        }
        break;
    case RECAP_OID_INT2:
    case RECAP_OID_INT4:
    case RECAP_OID_INT8:
    case RECAP_OID_OID:
        if (is_integer(p, n)) {
            rcx_jw_raw(out, p, n);
            return;
        }
        break;
    case RECAP_OID_FLOAT4:
    case RECAP_OID_FLOAT8:
        if (is_json_number(p, n)) {
            rcx_jw_raw(out, p, n);
            return;
        }
        break;
    case RECAP_OID_JSON:
    case RECAP_OID_JSONB:
        json_doc(out, p, n);
        return;
    default:
        break;
    }
    text(out, p, n);
}
