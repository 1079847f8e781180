/* Unit tests for proxy/ring.c: recent records for GET /calls. */
#include "test.h"

#include "proxy/ring.h"

static void push(recap_ring_t *r, uint64_t seq, const char *test, const char *line)
{
    recap_ring_push(r, seq, test, line, strlen(line));
}

static char *collect(recap_ring_t *r, uint64_t after, const char *test, size_t limit, size_t *n,
                     uint64_t *oldest)
{
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    *n = recap_ring_collect(r, &(recap_ring_filter_t){.after = after, .test = test, .limit = limit}, &out,
                            oldest, NULL);
    rcx_buf_append(&out, "", 1);
    return out.base;
}

/* Orphans come only when asked for, under each test that ran when they were committed. */
static void orphans_under_their_tests(void **state)
{
    (void)state;
    recap_ring_t *r = recap_ring_new(8, 1 << 20);
    const char *one[] = {"a"}, *two[] = {"a", "b"};
    push(r, 1, "a", "call-a");
    recap_ring_push_orphan(r, 1, one, 1, "orphan-a", 8);
    recap_ring_push_orphan(r, 1, two, 2, "orphan-ab", 9);
    recap_ring_push_orphan(r, 1, NULL, 0, "orphan-none", 11);
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    uint64_t oldest;
    recap_ring_filter_t f = {.test = "a", .limit = SIZE_MAX};
    assert_int_equal(recap_ring_collect(r, &f, &out, &oldest, NULL), 1);
    rcx_buf_reset(&out);
    f.orphans = true;
    assert_int_equal(recap_ring_collect(r, &f, &out, &oldest, NULL), 3);
    rcx_buf_append(&out, "", 1);
    assert_string_equal(out.base, "call-a\norphan-a\norphan-ab\n");
    rcx_buf_reset(&out);
    f.test = "b";
    assert_int_equal(recap_ring_collect(r, &f, &out, &oldest, NULL), 1);
    rcx_buf_reset(&out);
    f.test = NULL;
    assert_int_equal(recap_ring_collect(r, &f, &out, &oldest, NULL), 4);
    /* since a position: what was pushed after it, whatever seq it has (an orphan has the next call's) */
    uint64_t since = recap_ring_position(r);
    assert_int_equal(since, 4);
    recap_ring_push_orphan(r, 1, one, 1, "orphan-a-later", 14);
    rcx_buf_reset(&out);
    f = (recap_ring_filter_t){.test = "a", .orphans = true, .since = since, .limit = SIZE_MAX};
    bool lost = true;
    assert_int_equal(recap_ring_collect(r, &f, &out, &oldest, &lost), 1);
    assert_false(lost);
    rcx_buf_append(&out, "", 1);
    assert_string_equal(out.base, "orphan-a-later\n");
    rcx_buf_free(&out);
    recap_ring_free(r);
}

static void evicts_by_count_and_filters(void **state)
{
    (void)state;
    recap_ring_t *r = recap_ring_new(3, 1 << 20);
    push(r, 1, "a", "one");
    push(r, 2, "b", "two");
    push(r, 3, "a", "three");
    push(r, 4, NULL, "four");
    size_t n;
    uint64_t oldest;
    char *s = collect(r, 0, NULL, SIZE_MAX, &n, &oldest);
    assert_int_equal(n, 3);
    assert_int_equal(oldest, 2);
    assert_string_equal(s, "two\nthree\nfour\n");
    free(s);
    s = collect(r, 2, "a", SIZE_MAX, &n, &oldest);
    assert_string_equal(s, "three\n");
    free(s);
    s = collect(r, 0, NULL, 1, &n, &oldest);
    assert_string_equal(s, "two\n");
    free(s);
    recap_ring_free(r);
}

static void evicts_by_bytes(void **state)
{
    (void)state;
    recap_ring_t *r = recap_ring_new(100, 10);
    push(r, 1, NULL, "aaaa");
    push(r, 2, NULL, "bbbb");
    push(r, 3, NULL, "cccc"); /* 12 > 10: the oldest goes */
    push(r, 4, NULL, "this line is longer than the whole ring");
    size_t n;
    uint64_t oldest;
    char *s = collect(r, 0, NULL, SIZE_MAX, &n, &oldest);
    assert_string_equal(s, "bbbb\ncccc\n");
    assert_int_equal(oldest, 2);
    free(s);
    recap_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evicts_by_count_and_filters),
        cmocka_unit_test(orphans_under_their_tests),
        cmocka_unit_test(evicts_by_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
