/* Unit tests for proxy/control.c: query parsing of the control API. */
#include "test.h"

#include "proxy/control.h"

static void urldecode(void **state)
{
    (void)state;
    char s[64] = "tests%2Ftest_x.py%3A%3Atest_y+1%zz%4";
    size_t n = recap_control_urldecode(s, strlen(s));
    s[n] = '\0';
    assert_string_equal(s, "tests/test_x.py::test_y 1%zz%4");
}

static void query_params(void **state)
{
    (void)state;
    const char *q = "after=12&test=a%20b&testx=no&limit=";
    char out[16];
    assert_int_equal(recap_control_query_param(q, strlen(q), "after", out, sizeof(out)), 0);
    assert_string_equal(out, "12");
    assert_int_equal(recap_control_query_param(q, strlen(q), "test", out, sizeof(out)), 0);
    assert_string_equal(out, "a b");
    assert_int_equal(recap_control_query_param(q, strlen(q), "limit", out, sizeof(out)), 0);
    assert_string_equal(out, ""); /* present and empty: the route answers 400 */
    assert_int_equal(recap_control_query_param(q, strlen(q), "nope", out, sizeof(out)), -1);
    assert_int_equal(recap_control_query_param(q, strlen(q), "after", out, 2),
                     -2); /* too long: said, not cut */
    assert_int_equal(recap_control_query_param(q, 8, "test", out, sizeof(out)), -1); /* bounded by qlen */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urldecode),
        cmocka_unit_test(query_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
