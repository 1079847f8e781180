/* Unit tests for proxy/redact.c: which values are secrets. */
#include "test.h"

#include "proxy/redact.h"

static const char *const headers[] = {"authorization", "cookie", "x-api-key", NULL};
static const char *const fields[] = {"password", "token", NULL};
static const char *const none[] = {NULL};
static const recap_redact_t r = {.headers = headers, .fields = fields};

static void headers_by_name_case_insensitive(void **state)
{
    (void)state;
    assert_true(recap_redact_header(&r, "Authorization", 13));
    assert_true(recap_redact_header(&r, "X-API-KEY", 9));
    assert_false(recap_redact_header(&r, "authorizationx", 14));
    assert_false(recap_redact_header(&r, "accept", 6));
}

static void json_fields_at_any_depth(void **state)
{
    (void)state;
    json_t *v = json_loads(
        "{\"user\":\"u\",\"password\":\"p\",\"deep\":[{\"token\":{\"a\":1}},3,[{\"password\":null}]]}", 0,
        NULL);
    assert_int_equal(recap_redact_json(&r, v), 3);
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"deep\":[{\"token\":\"[REDACTED]\"},3,[{\"password\":\"[REDACTED]\"}]],"
                           "\"password\":\"[REDACTED]\",\"user\":\"u\"}");
    free(s);
    json_decref(v);
}

static void parameters(void **state)
{
    (void)state;
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    const char *q = "token=abc&keep=1&tokenish=2&password=&x";
    assert_int_equal(recap_redact_params(&r, q, strlen(q), &out), 2);
    rcx_buf_append(&out, "", 1);
    assert_string_equal(out.base, "token=[REDACTED]&keep=1&tokenish=2&password=[REDACTED]&x");
    rcx_buf_free(&out);
}

static void pre_check(void **state)
{
    (void)state;
    assert_true(recap_redact_may_hold_field(&r, "{\"password\":1}", 14));
    assert_false(recap_redact_may_hold_field(&r, "{\"user\":1}", 10));
    recap_redact_t empty = {.headers = none, .fields = none};
    assert_false(recap_redact_may_hold_field(&empty, "password", 8));
    json_t *v = json_loads("{\"password\":1}", 0, NULL);
    assert_int_equal(recap_redact_json(&empty, v), 0);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(headers_by_name_case_insensitive),
        cmocka_unit_test(json_fields_at_any_depth),
        cmocka_unit_test(parameters),
        cmocka_unit_test(pre_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
