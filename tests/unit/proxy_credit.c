/* Unit tests for proxy/credit.c: what the upstream relay may pass on of each response. */
#include "test.h"

#include "proxy/credit.h"

#include <unistd.h>

/* Reads the eventfd: how many wakes came since it was read last (0: none). */
static uint64_t wakes(recap_credit_t *c)
{
    uint64_t n = 0;
    return read(recap_credit_wake_fd(c), &n, sizeof(n)) == (ssize_t)sizeof(n) ? n : 0;
}

/* The relay waits for bytes to be handed on; the handing that reaches them wakes it, once. */
static void a_pause_is_woken_once_when_its_bytes_are_handed(void **state)
{
    (void)state;
    recap_credit_t *c = recap_credit_new(4);
    uint64_t t = recap_credit_open(c);
    assert_true(t != 0);
    recap_credit_handed(c, t, 100);
    assert_int_equal(recap_credit_handed_so_far(c, t), 100);
    assert_false(recap_credit_pause(c, t, 100)); /* handed already: go on */
    assert_true(recap_credit_pause(c, t, 300));
    recap_credit_handed(c, t, 100); /* 200: not yet */
    assert_int_equal(wakes(c), 0);
    recap_credit_handed(c, t, 150); /* 350 */
    assert_int_equal(wakes(c), 1);
    recap_credit_handed(c, t, 1000); /* no one waits any more */
    assert_int_equal(wakes(c), 0);
    recap_credit_free(c);
}

/* A closed response's token is stale: it limits nothing, and its reused slot is another response's. */
static void stale_tokens_limit_nothing(void **state)
{
    (void)state;
    recap_credit_t *c = recap_credit_new(1);
    uint64_t a = recap_credit_open(c);
    assert_int_equal(recap_credit_open(c), 0); /* every slot in use */
    recap_credit_handed(c, a, 10);
    recap_credit_close(c, a);
    assert_int_equal(recap_credit_handed_so_far(c, a), UINT64_MAX);
    assert_false(recap_credit_pause(c, a, 100));
    uint64_t b = recap_credit_open(c);
    assert_true(b != 0 && b != a);
    assert_int_equal(recap_credit_handed_so_far(c, b), 0);
    recap_credit_handed(c, a, 50); /* the old token's bytes do not count for the new response */
    assert_int_equal(recap_credit_handed_so_far(c, b), 0);
    assert_int_equal(recap_credit_handed_so_far(c, 0), UINT64_MAX);
    recap_credit_close(c, a); /* twice, or stale: nothing happens */
    assert_int_equal(recap_credit_handed_so_far(c, b), 0);
    recap_credit_close(c, b);
    recap_credit_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pause_is_woken_once_when_its_bytes_are_handed),
        cmocka_unit_test(stale_tokens_limit_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
