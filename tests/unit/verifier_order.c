/* Unit tests for verifier/order.c: records handed back in the order their requests arrived. */
#include "test.h"

#include "verifier/order.h"

static json_t *call(int arrival)
{
    return json_pack("{s:s, s:i, s:i}", "type", "call", "seq", 1000 + arrival, "arrival", arrival);
}

static json_t *orphan(void)
{
    return json_pack("{s:s}", "type", "orphan");
}

/* Calls come back by arrival; an orphan stays after the calls that arrived before it was read; ties keep
 * the order they were pushed in; once drained, arrivals start again. */
static void calls_by_arrival_orphans_in_place(void **state)
{
    (void)state;
    rv_order_t *q = rv_order_new();
    rv_order_push(q, call(3), 1);
    rv_order_push(q, call(1), 2);
    rv_order_push(q, orphan(), 3); /* read after arrival 3: after it, before 4 */
    rv_order_push(q, call(4), 4);
    rv_order_push(q, call(2), 5);
    unsigned long want[] = {2, 5, 1, 3, 4}, line;
    json_t *rec;
    for (size_t i = 0; i < 5; i++) {
        assert_true(rv_order_pop(q, &rec, &line));
        assert_int_equal(line, want[i]);
        json_decref(rec);
    }
    assert_false(rv_order_pop(q, &rec, &line));
    /* drained: the next capture's arrivals count afresh (an orphan before its first call stays first) */
    rv_order_push(q, orphan(), 6);
    rv_order_push(q, call(1), 7);
    for (unsigned long want2 = 6; want2 <= 7; want2++) {
        assert_true(rv_order_pop(q, &rec, &line));
        assert_int_equal(line, want2);
        json_decref(rec);
    }
    rv_order_free(q);
}

/* The window: full past RV_ORDER_WINDOW; what is held when the queue is freed is released (ASan). */
static void the_window_and_what_is_left(void **state)
{
    (void)state;
    rv_order_t *q = rv_order_new();
    for (int i = RV_ORDER_WINDOW; i >= 0; i--) {
        assert_false(rv_order_full(q));
        rv_order_push(q, call(i + 1), (unsigned long)i);
    }
    assert_true(rv_order_full(q));
    json_t *rec;
    unsigned long line;
    assert_true(rv_order_pop(q, &rec, &line));
    assert_int_equal(line, 0);
    json_decref(rec);
    rv_order_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_by_arrival_orphans_in_place),
        cmocka_unit_test(the_window_and_what_is_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
