/* Unit tests for common/jsonw.c: JSON text written by hand must parse back exactly. */
#include "test.h"

#include "common/jsonw.h"

#include <jansson.h>

static void utf8_validation(void **state)
{
    (void)state;
    assert_true(rcx_utf8_valid("", 0));
    assert_true(rcx_utf8_valid("plain ascii", 11));
    assert_true(rcx_utf8_valid("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12));
    assert_false(rcx_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(rcx_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(rcx_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(rcx_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
    assert_false(rcx_utf8_valid("\xe2\x82", 2));         /* cut short */
    assert_false(rcx_utf8_valid("\x80", 1));             /* lone continuation */
    assert_false(rcx_utf8_valid("\xff", 1));
}

static void complete_prefix_drops_a_cut_sequence(void **state)
{
    (void)state;
    const char *s = "ab\xe2\x82\xac"; /* "ab€" */
    assert_int_equal(rcx_utf8_complete_prefix(s, 5), 5);
    assert_int_equal(rcx_utf8_complete_prefix(s, 4), 2);
    assert_int_equal(rcx_utf8_complete_prefix(s, 3), 2);
    assert_int_equal(rcx_utf8_complete_prefix(s, 2), 2);
    assert_int_equal(rcx_utf8_complete_prefix("\xf0\x9f\x98", 3), 0);
    assert_int_equal(rcx_utf8_complete_prefix("", 0), 0);
}

static json_t *roundtrip(void (*write)(rcx_buf_t *, const char *, size_t), const char *p, size_t n)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    write(&b, p, n);
    json_t *v = json_loadb(b.base, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(v);
    assert_null(memchr(b.base, '\n', b.len)); /* one line, always */
    rcx_buf_free(&b);
    return v;
}

static void strings_escape_and_parse_back(void **state)
{
    (void)state;
    const char s[] =
        "quote\" back\\ nl\n cr\r tab\t nul\0 bell\x07 del\x7f ls\xe2\x80\xa8 ps\xe2\x80\xa9 \xc3\xa9";
    json_t *v = roundtrip(rcx_jw_string, s, sizeof(s) - 1);
    assert_int_equal(json_string_length(v), sizeof(s) - 1);
    assert_memory_equal(json_string_value(v), s, sizeof(s) - 1);
    json_decref(v);
}

static void lenient_strings_percent_encode_bad_bytes(void **state)
{
    (void)state;
    json_t *v = roundtrip(rcx_jw_string_lenient, "/a\xff/b\xc3\xa9/\"", 10);
    assert_string_equal(json_string_value(v), "/a%FF/b\xc3\xa9/\"");
    json_decref(v);
}

static void numbers_bools_and_base64(void **state)
{
    (void)state;
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_buf_append(&b, "[", 1);
    rcx_jw_int(&b, -9223372036854775807LL - 1);
    rcx_buf_append(&b, ",", 1);
    rcx_jw_bool(&b, true);
    rcx_buf_append(&b, ",", 1);
    rcx_jw_base64(&b, "\x00\xff\x10\x80", 4);
    rcx_buf_append(&b, ",", 1);
    rcx_jw_base64(&b, "", 0);
    rcx_buf_append(&b, "]", 1);
    rcx_buf_append(&b, "", 1);
    assert_string_equal(b.base, "[-9223372036854775808,true,\"AP8QgA==\",\"\"]");
    rcx_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_validation),
        cmocka_unit_test(complete_prefix_drops_a_cut_sequence),
        cmocka_unit_test(strings_escape_and_parse_back),
        cmocka_unit_test(lenient_strings_percent_encode_bad_bytes),
        cmocka_unit_test(numbers_bools_and_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
