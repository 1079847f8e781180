/*
 * common/buf.h: a growable byte buffer that is bounded when it is created.
 *
 * Contract: the buffer owns its bytes (malloc). rcx_buf_append() keeps at most
 * `max` bytes; what goes past the bound is counted in `seen` and sets
 * `truncated`, it never grows the buffer. Allocation failure aborts (small,
 * bounded allocations; see rcx_xmalloc). Not thread-safe: one owner at a time.
 */
#ifndef RCX_BUF_H
#define RCX_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rcx_buf {
    char *base;
    size_t len;    /* bytes kept */
    size_t cap;    /* bytes allocated */
    size_t max;    /* bound on len */
    uint64_t seen; /* bytes offered, kept or not */
    bool truncated;
    bool borrowed; /* base is storage the buffer does not own (see rcx_buf_init_with) */
} rcx_buf_t;

/** Initialises an empty buffer that will keep at most `max` bytes. No allocation. */
void rcx_buf_init(rcx_buf_t *b, size_t max);

/**
 * Like rcx_buf_init, but starts in caller-owned storage of `cap` bytes (which
 * must outlive the buffer); it moves to the heap only if it grows past it.
 */
void rcx_buf_init_with(rcx_buf_t *b, size_t max, char *storage, size_t cap);

/** Appends up to the bound; the rest is counted and flagged. */
static inline void rcx_buf_append(rcx_buf_t *b, const void *p, size_t n);

/** The general case of rcx_buf_append (growth, the bound). */
void rcx_buf_append_slow(rcx_buf_t *b, const void *p, size_t n);

/** Appends a NUL-terminated string including its NUL (for packed lists). */
void rcx_buf_append_cstr(rcx_buf_t *b, const char *p, size_t n);

/** Appends a NUL-terminated string (without its NUL; inline, so a literal's length is known at compile time).
 */
static inline void rcx_buf_puts(rcx_buf_t *b, const char *s);

/** Appends printf-style text (without a NUL), bounded like rcx_buf_append. */
void rcx_buf_printf(rcx_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Keeps the first len bytes (len <= b->len): back to a mark taken from b->len. */
void rcx_buf_truncate(rcx_buf_t *b, size_t len);

/** Empties the buffer, keeping its storage and bound (seen and truncated start again). */
void rcx_buf_reset(rcx_buf_t *b);

/**
 * Ends the buffer with a NUL and hands its bytes to the caller (who frees
 * them; never NULL, "" when empty); the buffer is left empty and reusable.
 * The NUL is written even at the bound (the last kept byte gives way to it).
 */
char *rcx_buf_take(rcx_buf_t *b);

/** The bytes kept, NUL-terminated (a NUL is added past len, not counted); borrowed. */
const char *rcx_buf_cstr(rcx_buf_t *b);

/** Frees the bytes; the buffer is empty and reusable with the same bound. */
void rcx_buf_free(rcx_buf_t *b);

/** malloc/realloc/calloc/strdup that abort with a message on failure. */
void *rcx_xmalloc(size_t n);
void *rcx_xrealloc(void *p, size_t n);
void *rcx_xcalloc(size_t count, size_t size);
char *rcx_xstrndup(const char *p, size_t n);
char *rcx_xstrdup(const char *s);

/** printf into a new string (the caller's to free); aborts with a message when out of memory. */
char *rcx_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static inline void rcx_buf_append(rcx_buf_t *b, const void *p, size_t n)
{
    if (n > 0 && n <= b->cap - b->len && n <= b->max - b->len) { /* the hot path: it fits */
        memcpy(b->base + b->len, p, n);
        b->len += n;
        b->seen += n;
        return;
    }
    rcx_buf_append_slow(b, p, n);
}

static inline void rcx_buf_puts(rcx_buf_t *b, const char *s)
{
    rcx_buf_append(b, s, strlen(s));
}

#endif
