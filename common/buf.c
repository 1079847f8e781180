/* common/buf.c: see buf.h. */
#include "common/buf.h"

#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n) __attribute__((noreturn));
static void out_of_memory(size_t n)
{
    rcx_log_error("out of memory (%zu bytes)", n);
    abort();
}

void *rcx_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        out_of_memory(n);
    return p;
}

void *rcx_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        out_of_memory(n);
    return q;
}

void *rcx_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

char *rcx_xstrndup(const char *p, size_t n)
{
    char *s = rcx_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *rcx_xstrdup(const char *s)
{
    return rcx_xstrndup(s, strlen(s));
}

char *rcx_xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        out_of_memory(strlen(fmt));
    return s;
}

void rcx_buf_init(rcx_buf_t *b, size_t max)
{
    *b = (rcx_buf_t){.max = max};
}

void rcx_buf_init_with(rcx_buf_t *b, size_t max, char *storage, size_t cap)
{
    *b = (rcx_buf_t){.max = max, .base = storage, .cap = cap, .borrowed = true};
}

static void reserve(rcx_buf_t *b, size_t need)
{
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max && need <= b->max)
        cap = b->max;
    if (b->borrowed) {
        char *p = rcx_xmalloc(cap);
        memcpy(p, b->base, b->len);
        b->base = p;
        b->borrowed = false;
    } else {
        b->base = rcx_xrealloc(b->base, cap);
    }
    b->cap = cap;
}

void rcx_buf_append_slow(rcx_buf_t *b, const void *p, size_t n)
{
    b->seen += n;
    size_t room = b->max - b->len;
    if (n > room) {
        n = room;
        b->truncated = true;
    }
    if (n == 0)
        return;
    reserve(b, b->len + n);
    memcpy(b->base + b->len, p, n);
    b->len += n;
}

void rcx_buf_append_cstr(rcx_buf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->max) {
        b->seen += n + 1;
        b->truncated = true;
        return;
    }
    rcx_buf_append(b, p, n);
    rcx_buf_append(b, "", 1);
}

void rcx_buf_free(rcx_buf_t *b)
{
    if (!b->borrowed)
        free(b->base);
    size_t max = b->max;
    rcx_buf_init(b, max);
}

void rcx_buf_truncate(rcx_buf_t *b, size_t len)
{
    if (len < b->len)
        b->len = len;
}

void rcx_buf_printf(rcx_buf_t *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        rcx_buf_append(b, tmp, (size_t)n);
        return;
    }
    char *big = rcx_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rcx_buf_append(b, big, (size_t)n);
    free(big);
}

void rcx_buf_reset(rcx_buf_t *b)
{
    b->len = 0;
    b->seen = 0;
    b->truncated = false;
}

const char *rcx_buf_cstr(rcx_buf_t *b)
{
    if (b->len == b->cap || b->cap == 0)
        reserve(b, b->len + 1);
    b->base[b->len] = '\0';
    return b->base;
}

char *rcx_buf_take(rcx_buf_t *b)
{
    rcx_buf_cstr(b);
    char *p = b->base;
    if (b->borrowed)
        p = rcx_xstrndup(b->base, b->len);
    size_t max = b->max;
    rcx_buf_init(b, max);
    return p;
}
