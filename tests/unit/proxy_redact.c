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

static const recap_redact_t defaults = {.headers = headers, .fields = none, .defaults = true};

/* Names that say secret, whatever their case, spelling or encoding; and ones that do not. */
static void the_default_rule(void **state)
{
    (void)state;
    static const char *const secret[] = {
        "password",     "Password",     "PASSWORD",     "password_hash", "passwordHash",  "passwd",
        "new-password", "access_token", "refreshToken", "csrftoken",     "client_secret", "X-Api-Key",
        "apikey",       "api_key",      "private_key",  "salt",          "user_salt",     "hash",
        "session",      "sessionId",    "otp"};
    static const char *const plain[] = {
        "name",    "hashtags", "email",  "key",      "monkey", "tokens_left_count_x",
        "passage", "id",       "status", "saltwater"};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (!recap_redact_field(&defaults, secret[i], strlen(secret[i])))
            fail_msg("%s is a secret", secret[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (recap_redact_field(&defaults, plain[i], strlen(plain[i])))
            fail_msg("%s is not a secret", plain[i]);
    const recap_redact_t off = {.headers = headers, .fields = none};
    assert_false(recap_redact_field(&off, "password", 8)); /* switched off */
    assert_true(recap_redact_field(&r, "PASSWORD", 8));    /* a configured name, any case */
}

/* The pre-check never says "cannot hold" for a name written in another case or with escapes. */
static void the_pre_check_sees_through_case_and_escapes(void **state)
{
    (void)state;
    const char *escaped = "{\"pass\\u0077ord\":\"x\"}";
    assert_true(recap_redact_may_hold_field(&r, escaped, strlen(escaped)));
    assert_true(recap_redact_may_hold_field(&r, "{\"PASSWORD\":1}", 14));
    assert_true(recap_redact_may_hold_field(&r, "pass%77ord=x", 12));
    assert_false(recap_redact_may_hold_field(&r, "{\"name\":\"x\"}", 12));
    json_t *v = json_loads(escaped, 0, NULL); /* the parser decodes the key: it is redacted by name */
    assert_int_equal(recap_redact_json(&r, v), 1);
    json_decref(v);
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    const char *q = "Pass%77ord=x&PASSWORD=y&user+name=z";
    assert_int_equal(recap_redact_params(&r, q, strlen(q), &out), 2);
    assert_memory_equal(out.base, "Pass%77ord=[REDACTED]&PASSWORD=[REDACTED]&user+name=z", out.len);
    rcx_buf_free(&out);
}

static void equal_secrets_have_equal_classes_and_no_value(void **state)
{
    (void)state;
    recap_redact_t keyed = r;
    keyed.class_key = 12345;
    json_t *v = json_loads("{\"user\":{\"password\":\"hunter22\"},\"again\":[{\"password\":\"hunter22\"}],"
                           "\"token\":\"other-value\"}",
                           0, NULL);
    rcx_buf_t classes;
    rcx_buf_init(&classes, SIZE_MAX);
    assert_int_equal(recap_redact_json_classes(&keyed, v, &classes), 3);
    char *text = rcx_buf_take(&classes);
    char obj[512];
    snprintf(obj, sizeof(obj), "{%s}", text);
    json_t *m = json_loads(obj, 0, NULL);
    assert_non_null(m);
    const char *a = json_string_value(json_object_get(m, "body.user.password"));
    const char *b = json_string_value(json_object_get(m, "body.again[0].password"));
    const char *t = json_string_value(json_object_get(m, "body.token"));
    assert_non_null(a);
    assert_non_null(t);
    assert_string_equal(a, b);     /* the same password twice: one class */
    assert_string_not_equal(a, t); /* another secret: another class */
    assert_int_equal(strlen(a), 8);
    assert_null(strstr(text, "hunter22"));
    keyed.class_key = 999; /* another proxy's run: other classes */
    json_t *w = json_loads("{\"password\":\"hunter22\"}", 0, NULL);
    rcx_buf_t other;
    rcx_buf_init(&other, SIZE_MAX);
    recap_redact_json_classes(&keyed, w, &other);
    assert_null(strstr(rcx_buf_cstr(&other), a));
    rcx_buf_free(&other);
    json_decref(w);
    json_decref(m);
    json_decref(v);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(equal_secrets_have_equal_classes_and_no_value),
        cmocka_unit_test(the_default_rule),
        cmocka_unit_test(the_pre_check_sees_through_case_and_escapes),
        cmocka_unit_test(headers_by_name_case_insensitive),
        cmocka_unit_test(json_fields_at_any_depth),
        cmocka_unit_test(parameters),
        cmocka_unit_test(pre_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
