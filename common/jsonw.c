/* common/jsonw.c: see jsonw.h. */
#include "common/jsonw.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid sequence starting at p (0 if invalid or cut short). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlongs */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

bool rcx_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq(p + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

size_t rcx_utf8_complete_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    /* step back over at most 3 continuation bytes to the lead byte of the last sequence */
    size_t i = n;
    for (size_t back = 0; back < 4 && i > 0; back++) {
        i--;
        if ((p[i] & 0xc0) != 0x80) {
            size_t want = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc0 ? 2 : 1;
            return (n - i < want) ? i : n;
        }
    }
    return n;
}

/* Bytes that need a look: control characters, '"', '\\', DEL and every non-ASCII byte. */
static inline bool special(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x7f;
}

static void escape_into(rcx_buf_t *b, const unsigned char *p, size_t n, bool lenient)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the pending run of plain bytes */
    size_t i = 0;
    while (i < n) {
        while (i < n && !special(p[i])) /* the common case: plain ASCII */
            i++;
        if (i == n)
            break;
        unsigned char c = p[i];
        const char *esc = NULL;
        char tmp[8];
        size_t elen = 0, adv = 1;
        if (c == '"')
            esc = "\\\"", elen = 2;
        else if (c == '\\')
            esc = "\\\\", elen = 2;
        else if (c == '\n')
            esc = "\\n", elen = 2;
        else if (c == '\r')
            esc = "\\r", elen = 2;
        else if (c == '\t')
            esc = "\\t", elen = 2;
        else if (c < 0x20 || c == 0x7f) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            esc = tmp, elen = 6;
        } else if (c >= 0x80) {
            size_t len = utf8_seq(p + i, n - i);
            if (len == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                esc = p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", elen = 6, adv = 3;
            } else if (len == 0 && lenient) {
                tmp[0] = '%';
                tmp[1] = "0123456789ABCDEF"[c >> 4];
                tmp[2] = "0123456789ABCDEF"[c & 15];
                esc = tmp, elen = 3;
            } else {
                i += len ? len : 1;
                continue;
            }
        }
        if (esc == NULL) {
            i++;
            continue;
        }
        rcx_buf_append(b, p + run, i - run);
        rcx_buf_append(b, esc, elen);
        i += adv;
        run = i;
    }
    rcx_buf_append(b, p + run, n - run);
}

void rcx_jw_string(rcx_buf_t *b, const char *p, size_t n)
{
    rcx_buf_puts(b, "\"");
    escape_into(b, (const unsigned char *)p, n, false);
    rcx_buf_puts(b, "\"");
}

void rcx_jw_string_lenient(rcx_buf_t *b, const char *p, size_t n)
{
    rcx_buf_puts(b, "\"");
    escape_into(b, (const unsigned char *)p, n, true);
    rcx_buf_puts(b, "\"");
}

void rcx_jw_int(rcx_buf_t *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v; /* INT64_MIN too */
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--p = '-';
    rcx_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void rcx_jw_bool(rcx_buf_t *b, bool v)
{
    rcx_buf_append(b, v ? "true" : "false", v ? 4 : 5);
}

void rcx_jw_raw(rcx_buf_t *b, const char *p, size_t n)
{
    rcx_buf_append(b, p, n);
}

void rcx_jw_base64(rcx_buf_t *b, const char *p, size_t n)
{
    size_t out = 4 * ((n + 2) / 3);
    char *tmp = rcx_xmalloc(out + 1);
    EVP_EncodeBlock((unsigned char *)tmp, (const unsigned char *)p, (int)n);
    rcx_buf_puts(b, "\"");
    rcx_buf_append(b, tmp, out);
    rcx_buf_puts(b, "\"");
    free(tmp);
}
