/* Unit tests for common/buf.c: bounded buffers. */
#include "test.h"

#include "common/buf.h"

static void keeps_up_to_the_bound_and_counts_the_rest(void **state)
{
    (void)state;
    rcx_buf_t b;
    rcx_buf_init(&b, 10);
    rcx_buf_append(&b, "hello", 5);
    assert_false(b.truncated);
    rcx_buf_append(&b, " world!", 7);
    assert_int_equal(b.len, 10);
    assert_int_equal(b.seen, 12);
    assert_true(b.truncated);
    assert_memory_equal(b.base, "hello worl", 10);
    rcx_buf_append(&b, "more", 4);
    assert_int_equal(b.len, 10);
    assert_int_equal(b.seen, 16);
    assert_true(b.cap <= 10);
    rcx_buf_free(&b);
    assert_null(b.base);
    assert_int_equal(b.max, 10);
}

static void zero_bound_keeps_nothing(void **state)
{
    (void)state;
    rcx_buf_t b;
    rcx_buf_init(&b, 0);
    rcx_buf_append(&b, "x", 1);
    assert_int_equal(b.len, 0);
    assert_null(b.base);
    assert_true(b.truncated);
    rcx_buf_append(&b, "", 0);
    rcx_buf_free(&b);
}

static void packs_strings_whole_or_not_at_all(void **state)
{
    (void)state;
    rcx_buf_t b;
    rcx_buf_init(&b, 8);
    rcx_buf_append_cstr(&b, "abc", 3);
    rcx_buf_append_cstr(&b, "defgh", 5); /* 4 + 6 > 8: refused whole */
    assert_int_equal(b.len, 4);
    assert_string_equal(b.base, "abc");
    assert_true(b.truncated);
    rcx_buf_append_cstr(&b, "de", 2);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.base + 4, "de");
    rcx_buf_free(&b);
}

static void grows_past_initial_capacity(void **state)
{
    (void)state;
    rcx_buf_t b;
    rcx_buf_init(&b, 1 << 20);
    char chunk[1000];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 1000; i++)
        rcx_buf_append(&b, chunk, sizeof(chunk));
    assert_int_equal(b.len, 1000000);
    assert_false(b.truncated);
    assert_int_equal(b.base[999999], 'z');
    rcx_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keeps_up_to_the_bound_and_counts_the_rest),
        cmocka_unit_test(zero_bound_keeps_nothing),
        cmocka_unit_test(packs_strings_whole_or_not_at_all),
        cmocka_unit_test(grows_past_initial_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
