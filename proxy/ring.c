/* proxy/ring.c: see ring.h. */
#include "proxy/ring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t seq;
    const char *test; /* inside block, or NULL; an orphan's names follow one another, each NUL-terminated */
    char *block;      /* the line, then the test names: one allocation */
    size_t len;
    uint32_t ntests;
    bool orphan;
    uint64_t pos; /* 1, 2, ... in push order */
} entry_t;

struct recap_ring {
    pthread_mutex_t lock;
    entry_t *slots;
    size_t cap, head, count; /* head = index of the oldest */
    size_t bytes, max_bytes;
    uint64_t pushed;
};

recap_ring_t *recap_ring_new(size_t max_records, size_t max_bytes)
{
    recap_ring_t *ring = rcx_xmalloc(sizeof(*ring));
    *ring = (recap_ring_t){.cap = max_records ? max_records : 1, .max_bytes = max_bytes};
    ring->slots = rcx_xmalloc(sizeof(entry_t) * ring->cap);
    pthread_mutex_init(&ring->lock, NULL);
    return ring;
}

static void drop_oldest(recap_ring_t *ring)
{
    entry_t *e = &ring->slots[ring->head];
    ring->bytes -= e->len;
    free(e->block);
    ring->head = (ring->head + 1) % ring->cap;
    ring->count--;
}

void recap_ring_free(recap_ring_t *ring)
{
    if (ring == NULL)
        return;
    while (ring->count > 0)
        drop_oldest(ring);
    free(ring->slots);
    pthread_mutex_destroy(&ring->lock);
    free(ring);
}

static void push(recap_ring_t *ring, uint64_t seq, bool orphan, const char *const *tests, size_t ntests,
                 const char *line, size_t len)
{
    if (len > ring->max_bytes) /* would evict everything and still not fit */
        return;
    size_t tlen = 0;
    for (size_t i = 0; i < ntests; i++)
        tlen += strlen(tests[i]) + 1;
    char *block = rcx_xmalloc(len + tlen);
    memcpy(block, line, len);
    for (size_t i = 0, at = len; i < ntests; i++) {
        size_t n = strlen(tests[i]) + 1;
        memcpy(block + at, tests[i], n);
        at += n;
    }
    pthread_mutex_lock(&ring->lock);
    while (ring->count == ring->cap || (ring->count > 0 && ring->bytes + len > ring->max_bytes))
        drop_oldest(ring);
    ring->slots[(ring->head + ring->count) % ring->cap] = (entry_t){.seq = seq,
                                                                    .test = ntests ? block + len : NULL,
                                                                    .block = block,
                                                                    .len = len,
                                                                    .ntests = (uint32_t)ntests,
                                                                    .orphan = orphan,
                                                                    .pos = ++ring->pushed};
    ring->count++;
    ring->bytes += len;
    pthread_mutex_unlock(&ring->lock);
}

void recap_ring_push(recap_ring_t *ring, uint64_t seq, const char *test, const char *line, size_t len)
{
    push(ring, seq, false, &test, test != NULL, line, len);
}

void recap_ring_push_orphan(recap_ring_t *ring, uint64_t seq, const char *const *tests, size_t ntests,
                            const char *line, size_t len)
{
    push(ring, seq, true, tests, ntests, line, len);
}

static bool names(const entry_t *e, const char *test)
{
    const char *t = e->test;
    for (uint32_t i = 0; i < e->ntests; i++, t += strlen(t) + 1)
        if (strcmp(t, test) == 0)
            return true;
    return false;
}

size_t recap_ring_collect(recap_ring_t *ring, const recap_ring_filter_t *f, rcx_buf_t *out, uint64_t *oldest,
                          bool *lost)
{
    size_t n = 0;
    pthread_mutex_lock(&ring->lock);
    *oldest = ring->count ? ring->slots[ring->head].seq : 0;
    if (lost != NULL) /* the oldest kept came later than the first one pushed after since */
        *lost = ring->pushed > f->since && (ring->count == 0 || ring->slots[ring->head].pos > f->since + 1);
    for (size_t i = 0; i < ring->count && n < f->limit; i++) {
        const entry_t *e = &ring->slots[(ring->head + i) % ring->cap];
        if (e->seq <= f->after || e->pos <= f->since || (e->orphan && !f->orphans))
            continue;
        if (f->test != NULL && !names(e, f->test))
            continue;
        rcx_buf_append(out, e->block, e->len);
        rcx_buf_puts(out, "\n");
        n++;
    }
    pthread_mutex_unlock(&ring->lock);
    return n;
}

uint64_t recap_ring_position(recap_ring_t *ring)
{
    pthread_mutex_lock(&ring->lock);
    uint64_t p = ring->pushed;
    pthread_mutex_unlock(&ring->lock);
    return p;
}
