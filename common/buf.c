/* common/buf.c: see buf.h. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *rcx_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fputs("recap: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *rcx_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fputs("recap: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *rcx_xstrndup(const char *p, size_t n)
{
    char *s = rcx_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
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
