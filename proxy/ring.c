/* proxy/ring.c: see ring.h. */
#include "proxy/ring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t seq;
    const char *test; /* inside block, or NULL */
    char *block;      /* the line, then the test name: one allocation */
    size_t len;
} entry_t;

struct recap_ring {
    pthread_mutex_t lock;
    entry_t *slots;
    size_t cap, head, count; /* head = index of the oldest */
    size_t bytes, max_bytes;
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

void recap_ring_push(recap_ring_t *ring, uint64_t seq, const char *test, const char *line, size_t len)
{
    if (len > ring->max_bytes) /* would evict everything and still not fit */
        return;
    size_t tlen = test ? strlen(test) + 1 : 0;
    char *block = rcx_xmalloc(len + tlen);
    memcpy(block, line, len);
    if (test)
        memcpy(block + len, test, tlen);
    pthread_mutex_lock(&ring->lock);
    while (ring->count == ring->cap || (ring->count > 0 && ring->bytes + len > ring->max_bytes))
        drop_oldest(ring);
    ring->slots[(ring->head + ring->count) % ring->cap] =
        (entry_t){seq, test ? block + len : NULL, block, len};
    ring->count++;
    ring->bytes += len;
    pthread_mutex_unlock(&ring->lock);
}

size_t recap_ring_collect(recap_ring_t *ring, uint64_t after, const char *test, size_t limit, rcx_buf_t *out,
                          uint64_t *oldest)
{
    size_t n = 0;
    pthread_mutex_lock(&ring->lock);
    *oldest = ring->count ? ring->slots[ring->head].seq : 0;
    for (size_t i = 0; i < ring->count && n < limit; i++) {
        const entry_t *e = &ring->slots[(ring->head + i) % ring->cap];
        if (e->seq <= after)
            continue;
        if (test != NULL && (e->test == NULL || strcmp(e->test, test) != 0))
            continue;
        rcx_buf_append(out, e->block, e->len);
        rcx_buf_puts(out, "\n");
        n++;
    }
    pthread_mutex_unlock(&ring->lock);
    return n;
}
