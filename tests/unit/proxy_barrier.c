/* Unit tests for proxy/barrier.c: calls in flight and barriers over them. */
#include "test.h"

#include "proxy/barrier.h"

static int fired, expired;
static void on_fire(recap_barrier_t *b)
{
    (void)b;
    fired++;
}
static void on_expire(recap_barrier_t *b)
{
    (void)b;
    expired++;
}

static void inflight_low_water_mark(void **state)
{
    (void)state;
    recap_inflight_t t;
    recap_inflight_init(&t);
    assert_int_equal(recap_inflight_low(&t), 1);
    recap_inflight_node_t a, b, c;
    assert_int_equal(recap_inflight_add(&t, &a), 1);
    assert_int_equal(recap_inflight_add(&t, &b), 2);
    assert_int_equal(recap_inflight_add(&t, &c), 3);
    recap_inflight_remove(&t, &b);
    assert_int_equal(recap_inflight_low(&t), 1);
    recap_inflight_remove(&t, &a);
    recap_inflight_remove(&t, &a); /* idempotent */
    assert_int_equal(recap_inflight_low(&t), 3);
    assert_int_equal(t.count, 1);
    recap_inflight_remove(&t, &c);
    assert_int_equal(recap_inflight_low(&t), 4);
}

static void barrier_waits_for_earlier_calls_then_the_writer(void **state)
{
    (void)state;
    fired = 0;
    recap_inflight_t t;
    recap_barriers_t list = {NULL};
    recap_inflight_init(&t);
    recap_inflight_node_t a, b, later;
    recap_inflight_add(&t, &a);
    recap_inflight_add(&t, &b);
    recap_barrier_t bar = {.fire = on_fire, .expire = on_expire};
    recap_barrier_add(&list, &bar, &t);
    recap_inflight_add(&t, &later); /* arrives after the barrier: not waited for */

    recap_inflight_remove(&t, &b);
    recap_barrier_poll(&list, &t, 1, 0); /* a still in flight */
    assert_int_equal(fired, 0);
    assert_false(bar.have_ticket);
    recap_inflight_remove(&t, &a);
    recap_barrier_poll(&list, &t, 2, 1); /* both handed on (tickets 1, 2); writer at 1 */
    assert_int_equal(fired, 0);
    assert_true(bar.have_ticket);
    assert_int_equal(bar.ticket, 2);
    recap_barrier_poll(&list, &t, 3, 2); /* writer reached 2; `later` (3) does not matter */
    assert_int_equal(fired, 1);
    assert_null(list.head);
}

static void barrier_with_nothing_in_flight_fires_at_once(void **state)
{
    (void)state;
    fired = 0;
    recap_inflight_t t;
    recap_barriers_t list = {NULL};
    recap_inflight_init(&t);
    recap_barrier_t bar = {.fire = on_fire, .expire = on_expire};
    recap_barrier_add(&list, &bar, &t);
    recap_barrier_poll(&list, &t, 5, 5);
    assert_int_equal(fired, 1);
}

static void cancel_and_expire(void **state)
{
    (void)state;
    fired = expired = 0;
    recap_inflight_t t;
    recap_barriers_t list = {NULL};
    recap_inflight_init(&t);
    recap_inflight_node_t a;
    recap_inflight_add(&t, &a);
    recap_barrier_t b1 = {.fire = on_fire, .expire = on_expire, .deadline = 100};
    recap_barrier_t b2 = {.fire = on_fire, .expire = on_expire, .deadline = 200};
    recap_barrier_t b3 = {.fire = on_fire, .expire = on_expire, .deadline = 300};
    recap_barrier_add(&list, &b1, &t);
    recap_barrier_add(&list, &b2, &t);
    recap_barrier_add(&list, &b3, &t);
    recap_barrier_cancel(&list, &b2);
    assert_int_equal(recap_barrier_expire(&list, 150), 1);
    assert_int_equal(expired, 1);
    recap_inflight_remove(&t, &a);
    recap_barrier_poll(&list, &t, 1, 1);
    assert_int_equal(fired, 1);
    assert_int_equal(recap_barrier_expire(&list, 1000), 0);
    assert_int_equal(expired, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inflight_low_water_mark),
        cmocka_unit_test(barrier_waits_for_earlier_calls_then_the_writer),
        cmocka_unit_test(barrier_with_nothing_in_flight_fires_at_once),
        cmocka_unit_test(cancel_and_expire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
