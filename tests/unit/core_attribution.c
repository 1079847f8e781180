/*
 * Unit tests for core/attribution.c: 100,000 random interleavings of calls,
 * commits and fences, each checked against a brute-force oracle that knows
 * every window after the fact. Never wrong; exact wherever the owner is unique.
 */
#include "test.h"

#include "core/attribution.h"

#define MAX_CALLS 8
#define MAX_TXS 16
#define MAX_EVENTS 128

/* What happened, as the oracle sees it at the end. */
typedef struct truth {
    int ncalls, ntxs;
    uint64_t s[MAX_CALLS + 1], f[MAX_CALLS + 1];
    uint64_t c[MAX_TXS + 1], tag[MAX_TXS + 1];
} truth_t;

/* What the engine said. */
typedef struct seen {
    int decided[MAX_TXS + 1];
    core_attr_how_t how[MAX_TXS + 1];
    uint64_t owners[MAX_TXS + 1][MAX_CALLS];
    size_t nowners[MAX_TXS + 1];
    int completed[MAX_CALLS + 1];
    int order_ok;
    truth_t *truth;
} seen_t;

static void on_tx(void *arg, uint64_t tx, core_attr_how_t how, const uint64_t *calls, size_t n)
{
    seen_t *s = arg;
    assert_true(tx >= 1 && tx <= MAX_TXS);
    s->decided[tx]++;
    s->how[tx] = how;
    s->nowners[tx] = n;
    for (size_t i = 0; i < n; i++) {
        s->owners[tx][i] = calls[i];
        if (s->completed[calls[i]]) /* a call's transactions come before its completion */
            s->order_ok = 0;
    }
}

static void on_complete(void *arg, uint64_t call, uint64_t start, uint64_t end)
{
    seen_t *s = arg;
    s->completed[call]++;
    if (s->truth != NULL) { /* the window reported is the call's own */
        assert_int_equal(start, s->truth->s[call]);
        assert_int_equal(end, s->truth->f[call]);
    }
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

typedef struct stream_event {
    int is_fence;
    uint64_t id, lsn, tag;
} stream_event_t;

/* One random run: a plausible real-time order of everything that can happen. */
static void run_once(int tag_mode, int *ambiguous, int *orphans, int *windows)
{
    truth_t t = {0};
    seen_t s = {.order_ok = 1, .truth = &t};
    core_attr_t a;
    core_attr_callbacks_t cb = {.tx_decided = on_tx, .call_complete = on_complete, .arg = &s};
    core_attr_init(&a, &cb);

    uint64_t lsn = 1000;
    int want_calls = 1 + (int)rnd(MAX_CALLS);
    int active[MAX_CALLS + 1] = {0}, started[MAX_CALLS + 1] = {0}, ended[MAX_CALLS + 1] = {0};
    int covered[MAX_CALLS + 1] = {0};
    uint64_t fence_of_call[MAX_CALLS + 1] = {0};
    stream_event_t stream[MAX_EVENTS];
    int head = 0, tail = 0;

    for (int step = 0; step < 200; step++) {
        int all_done = t.ncalls == want_calls;
        for (int i = 1; i <= t.ncalls; i++)
            all_done &= ended[i] && covered[i];
        if (all_done && head == tail)
            break;
        switch (rnd(7)) {
        case 0: /* a call arrives; its S is the insert position now */
            if (t.ncalls < want_calls) {
                int i = ++t.ncalls;
                active[i] = 1;
                t.s[i] = lsn;
                core_attr_call_begin(&a, (uint64_t)i);
                if (rnd(2)) { /* the S answer may come back later */
                    core_attr_call_start(&a, (uint64_t)i, t.s[i]);
                    started[i] = 1;
                }
            }
            break;
        case 1: /* a call's own commit (it was forwarded: its S is known) */
        case 2: {
            int i = 1 + (int)rnd((uint32_t)(t.ncalls ? t.ncalls : 1));
            if (i > t.ncalls || !active[i] || ended[i] || t.ntxs == MAX_TXS)
                break;
            if (!started[i]) {
                core_attr_call_start(&a, (uint64_t)i, t.s[i]);
                started[i] = 1;
            }
            int k = ++t.ntxs;
            t.c[k] = lsn;
            lsn += 10;
            t.tag[k] = tag_mode && rnd(2) ? (uint64_t)i : 0;
            stream[tail++] = (stream_event_t){0, (uint64_t)k, t.c[k], t.tag[k]};
            break;
        }
        case 3: /* a fixture or background job commits directly */
            if (t.ntxs < MAX_TXS && rnd(3) == 0) {
                int k = ++t.ntxs;
                t.c[k] = lsn;
                lsn += 10;
                stream[tail++] = (stream_event_t){0, (uint64_t)k, t.c[k], 0};
            }
            break;
        case 4: { /* a response completes */
            int i = 1 + (int)rnd((uint32_t)(t.ncalls ? t.ncalls : 1));
            if (i > t.ncalls || !active[i] || ended[i])
                break;
            if (!started[i]) {
                core_attr_call_start(&a, (uint64_t)i, t.s[i]);
                started[i] = 1;
            }
            ended[i] = 1;
            core_attr_call_end(&a, (uint64_t)i);
            break;
        }
        case 5: { /* a fence goes out: its LSN is the end of its record */
            uint64_t fence = core_attr_fence_sent(&a);
            int covers = 0;
            for (int i = 1; i <= t.ncalls; i++)
                if (ended[i] && !covered[i]) {
                    covered[i] = 1;
                    fence_of_call[i] = fence;
                    covers = 1;
                }
            assert_int_equal(fence != 0, covers);
            if (fence) {
                lsn += 5;
                for (int i = 1; i <= t.ncalls; i++)
                    if (fence_of_call[i] == fence)
                        t.f[i] = lsn;
                stream[tail++] = (stream_event_t){1, fence, lsn, 0};
                /* sometimes the next commit starts exactly where the fence ends: it is after */
                if (rnd(2) == 0)
                    lsn += 1;
            }
            break;
        }
        default: /* the stream delivers, in order, whatever is due */
            for (int n = (int)rnd(3); n >= 0 && head < tail; n--) {
                stream_event_t e = stream[head++];
                if (e.is_fence)
                    core_attr_fence_arrived(&a, e.id, e.lsn);
                else
                    core_attr_tx(&a, e.id, e.lsn, e.tag);
            }
            for (int i = 1; i <= t.ncalls; i++) /* late S answers */
                if (!started[i] && rnd(2)) {
                    core_attr_call_start(&a, (uint64_t)i, t.s[i]);
                    started[i] = 1;
                }
            if (t.ncalls == want_calls) /* wind down: end what is left */
                for (int i = 1; i <= t.ncalls; i++)
                    if (!ended[i] && rnd(2)) {
                        if (!started[i]) {
                            core_attr_call_start(&a, (uint64_t)i, t.s[i]);
                            started[i] = 1;
                        }
                        ended[i] = 1;
                        core_attr_call_end(&a, (uint64_t)i);
                    }
        }
    }
    /* wind down: every call ends, one last fence, the stream delivers everything */
    for (int i = 1; i <= t.ncalls; i++) {
        if (!started[i])
            core_attr_call_start(&a, (uint64_t)i, t.s[i]);
        if (!ended[i]) {
            ended[i] = 1;
            core_attr_call_end(&a, (uint64_t)i);
        }
    }
    uint64_t last = core_attr_fence_sent(&a);
    if (last) {
        lsn += 5;
        for (int i = 1; i <= t.ncalls; i++)
            if (!covered[i])
                t.f[i] = lsn;
        stream[tail++] = (stream_event_t){1, last, lsn, 0};
    }
    while (head < tail) {
        stream_event_t e = stream[head++];
        if (e.is_fence)
            core_attr_fence_arrived(&a, e.id, e.lsn);
        else
            core_attr_tx(&a, e.id, e.lsn, e.tag);
    }
    assert_int_equal(core_attr_calls(&a), 0);
    assert_int_equal(core_attr_pending_txs(&a), 0);
    assert_true(s.order_ok);

    /* the oracle */
    for (int i = 1; i <= t.ncalls; i++)
        assert_int_equal(s.completed[i], 1);
    for (int k = 1; k <= t.ntxs; k++) {
        assert_int_equal(s.decided[k], 1);
        if (t.tag[k]) {
            assert_int_equal(s.how[k], CORE_ATTR_TAG);
            assert_int_equal(s.nowners[k], 1);
            assert_int_equal(s.owners[k][0], t.tag[k]);
            continue;
        }
        uint64_t want[MAX_CALLS];
        size_t n = 0;
        for (int i = 1; i <= t.ncalls; i++)
            if (t.s[i] <= t.c[k] && t.c[k] < t.f[i])
                want[n++] = (uint64_t)i;
        assert_int_equal(s.nowners[k], n);
        for (size_t j = 0; j < n; j++) { /* same set */
            int found = 0;
            for (size_t m = 0; m < n; m++)
                found |= s.owners[k][m] == want[j];
            assert_true(found);
        }
        assert_int_equal(s.how[k], n == 0   ? CORE_ATTR_ORPHAN
                                   : n == 1 ? CORE_ATTR_WINDOW
                                            : CORE_ATTR_AMBIGUOUS);
        *ambiguous += n > 1;
        *orphans += n == 0;
        *windows += n == 1;
    }
    core_attr_dispose(&a);
}

static void random_interleavings_match_the_oracle(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    int ambiguous = 0, orphans = 0, windows = 0;
    for (int run = 0; run < 100000; run++)
        run_once(run % 2, &ambiguous, &orphans, &windows);
    /* the runs exercise every outcome */
    assert_true(ambiguous > 1000 && orphans > 1000 && windows > 1000);
    printf("100000 interleavings: %d owned by window, %d ambiguous, %d orphans (and the tagged)\n", windows,
           ambiguous, orphans);
}

static void a_fixture_committed_before_the_call_is_an_orphan(void **state)
{
    (void)state;
    seen_t s = {.order_ok = 1};
    core_attr_callbacks_t cb = {.tx_decided = on_tx, .call_complete = on_complete, .arg = &s};
    core_attr_t a;
    core_attr_init(&a, &cb);
    core_attr_call_begin(&a, 1);
    core_attr_tx(&a, 1, 90, 0);        /* committed before S: arrives late on the stream */
    assert_int_equal(s.decided[1], 0); /* S unknown: it waits */
    core_attr_call_start(&a, 1, 100);
    assert_int_equal(s.decided[1], 1);
    assert_int_equal(s.how[1], CORE_ATTR_ORPHAN);
    core_attr_tx(&a, 2, 120, 0);
    core_attr_call_end(&a, 1);
    uint64_t f = core_attr_fence_sent(&a);
    assert_int_equal(s.decided[2], 0); /* its window is still open */
    core_attr_tx(&a, 3, 130, 0);
    core_attr_fence_arrived(&a, f, 130); /* equal to F: after */
    assert_int_equal(s.how[2], CORE_ATTR_WINDOW);
    assert_int_equal(s.owners[2][0], 1);
    assert_int_equal(s.how[3], CORE_ATTR_ORPHAN);
    assert_int_equal(s.completed[1], 1);
    assert_int_equal(core_attr_fence_sent(&a), 0); /* nothing to cover */
    core_attr_dispose(&a);
}

static void a_dropped_call_neither_holds_nor_completes(void **state)
{
    (void)state;
    seen_t s = {.order_ok = 1};
    core_attr_callbacks_t cb = {.tx_decided = on_tx, .call_complete = on_complete, .arg = &s};
    core_attr_t a;
    core_attr_init(&a, &cb);
    core_attr_call_begin(&a, 1);
    core_attr_call_begin(&a, 2);
    core_attr_call_start(&a, 2, 100);
    core_attr_tx(&a, 1, 110, 0);
    assert_int_equal(s.decided[1], 0); /* call 1's S is unknown: it could hold it */
    core_attr_call_drop(&a, 1);        /* its start query failed */
    assert_int_equal(s.decided[1], 0); /* call 2's window is still open */
    core_attr_call_end(&a, 2);
    core_attr_fence_arrived(&a, core_attr_fence_sent(&a), 200);
    assert_int_equal(s.how[1], CORE_ATTR_WINDOW);
    assert_int_equal(s.owners[1][0], 2);
    assert_int_equal(s.completed[1], 0);
    assert_int_equal(s.completed[2], 1);
    assert_int_equal(core_attr_calls(&a), 0);
    core_attr_call_drop(&a, 7); /* unknown: nothing happens */
    core_attr_dispose(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_dropped_call_neither_holds_nor_completes),
        cmocka_unit_test(a_fixture_committed_before_the_call_is_an_orphan),
        cmocka_unit_test(random_interleavings_match_the_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
