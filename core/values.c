/* core/values.c: see values.h. */
#include "core/values.h"

#include "common/jsonw.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* An integer that fits 64 bits (so every JSON reader, jansson included, can hold it). */
static bool is_integer(const char *p, size_t n)
{
    size_t i = (n > 0 && p[0] == '-') ? 1 : 0;
    if (i == n || n - i > 19 || (p[i] == '0' && n - i > 1)) /* JSON allows no leading zeros */
        return false;
    for (size_t k = i; k < n; k++)
        if (p[k] < '0' || p[k] > '9')
            return false;
    if (n - i < 19)
        return true;
    /* 19 digits: compare with 9223372036854775807 (or ...808 when negative) */
    const char *limit = i ? "9223372036854775808" : "9223372036854775807";
    return memcmp(p + i, limit, 19) <= 0;
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

/* Within a double's range (a reader would otherwise refuse the line as an overflow). */
static bool fits_double(const char *p, size_t n)
{
    char tmp[64];
    if (n >= sizeof(tmp))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    errno = 0;
    double v = strtod(tmp, NULL);
    return errno != ERANGE || v == 0.0; /* underflow to zero reads back fine */
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

void core_value_json(rcx_buf_t *out, uint32_t typoid, const char *p, size_t n)
{
    switch (typoid) {
    case CORE_OID_BOOL:
        if (n == 1 && (p[0] == 't' || p[0] == 'f')) {
            rcx_jw_bool(out, p[0] == 't');
            return;
        }
        break;
    case CORE_OID_INT2:
    case CORE_OID_INT4:
    case CORE_OID_INT8:
    case CORE_OID_OID:
        if (is_integer(p, n)) {
            rcx_jw_raw(out, p, n);
            return;
        }
        break;
    case CORE_OID_FLOAT4:
    case CORE_OID_FLOAT8:
        if (is_json_number(p, n) && fits_double(p, n)) {
            rcx_jw_raw(out, p, n);
            return;
        }
        break;
    case CORE_OID_JSON:
    case CORE_OID_JSONB:
        json_doc(out, p, n);
        return;
    default:
        break;
    }
    text(out, p, n);
}
