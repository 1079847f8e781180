/* Unit tests for proxy/redact.c: secrets never reach the capture. */
#include "test.h"

#include "../../proxy/redact.h"

static const char *const headers[] = {"authorization", "cookie", "set-cookie", "x-api-key", NULL};
static const char *const fields[] = {"password", "token", NULL};
static const char *const none[] = {NULL};

static void headers_fields_and_parameters(void **state)
{
    (void)state;
    json_t *rec =
        json_loads("{\"request\":{\"query\":\"token=abc&keep=1&tokenish=2\","
                   "\"headers\":{\"authorization\":\"Bearer x\",\"X-Api-Key\":\"k\",\"accept\":\"*/*\"},"
                   "\"body\":{\"user\":\"u\",\"password\":\"p\",\"deep\":[{\"token\":{\"a\":1}},3]}},"
                   "\"response\":{\"headers\":{\"set-cookie\":\"sid=1\"},\"body\":[{\"password\":null}]}}",
                   0, NULL);
    recap_redact_t r = {.headers = headers, .fields = fields};
    assert_int_equal(recap_redact_record(&r, rec), 7);
    char *s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        s, "{\"request\":{\"body\":{\"deep\":[{\"token\":\"[REDACTED]\"},3],\"password\":\"[REDACTED]\","
           "\"user\":\"u\"},\"headers\":{\"X-Api-Key\":\"[REDACTED]\",\"accept\":\"*/*\","
           "\"authorization\":\"[REDACTED]\"},\"query\":\"token=[REDACTED]&keep=1&tokenish=2\"},"
           "\"response\":{\"body\":[{\"password\":\"[REDACTED]\"}],\"headers\":{\"set-cookie\":"
           "\"[REDACTED]\"}}}");
    free(s);
    json_decref(rec);
}

static void form_bodies(void **state)
{
    (void)state;
    json_t *rec =
        json_loads("{\"request\":{\"query\":\"\",\"headers\":{\"content-type\":"
                   "\"application/x-www-form-urlencoded\"},\"body_text\":\"user=a&password=hunter2\"}}",
                   0, NULL);
    recap_redact_t r = {.headers = headers, .fields = fields};
    assert_int_equal(recap_redact_record(&r, rec), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "request"), "body_text")),
                        "user=a&password=[REDACTED]");
    json_decref(rec);
}

static void nothing_configured_touches_nothing(void **state)
{
    (void)state;
    json_t *rec = json_loads(
        "{\"request\":{\"query\":\"password=1\",\"headers\":{},\"body\":{\"password\":1}}}", 0, NULL);
    recap_redact_t r = {.headers = none, .fields = none};
    assert_int_equal(recap_redact_record(&r, rec), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(rec, "request"), "body"), "password")),
                     1);
    json_decref(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(headers_fields_and_parameters),
        cmocka_unit_test(form_bodies),
        cmocka_unit_test(nothing_configured_touches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
