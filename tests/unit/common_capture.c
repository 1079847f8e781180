/* Unit tests for common/capture.c: the record model and the header line. */
#include "test.h"

#include "common/capture.h"

static void headers_are_found_case_insensitively(void **state)
{
    (void)state;
    rcx_call_t *c = rcx_call_new(1024);
    rcx_msg_add_header(&c->res, "content-type", 12, "text/plain", 10);
    rcx_msg_add_header(&c->res, "vary", 4, "accept", 6);
    assert_string_equal(rcx_msg_find_header(&c->res, "Content-Type"), "text/plain");
    assert_string_equal(rcx_msg_find_header(&c->res, "VARY"), "accept");
    assert_null(rcx_msg_find_header(&c->res, "x-nope"));
    assert_null(rcx_msg_find_header(&c->req, "content-type"));
    rcx_call_free(c);
}

static void oversized_headers_are_dropped_and_flagged(void **state)
{
    (void)state;
    rcx_call_t *c = rcx_call_new(16);
    char big[40000];
    memset(big, 'v', sizeof(big));
    rcx_msg_add_header(&c->req, "a", 1, big, sizeof(big));
    rcx_msg_add_header(&c->req, "b", 1, big, sizeof(big)); /* over 64 KiB: dropped */
    rcx_msg_add_header(&c->req, "c", 1, "small", 5);
    assert_int_equal(c->req.nheaders, 2);
    assert_true(c->req.headers.truncated);
    assert_string_equal(rcx_msg_find_header(&c->req, "c"), "small");
    assert_null(rcx_msg_find_header(&c->req, "b"));
    rcx_call_free(c);
}

static void bodies_are_bounded(void **state)
{
    (void)state;
    rcx_call_t *c = rcx_call_new(4);
    rcx_buf_append(&c->req.body, "abcdef", 6);
    assert_int_equal(c->req.body.len, 4);
    assert_int_equal(c->req.body.seen, 6);
    assert_true(c->req.body.truncated);
    assert_string_equal(c->db_status, "disabled");
    assert_true(c->ttfb_ms < 0);
    rcx_call_free(c);
    rcx_call_free(NULL);
}

static void header_line_carries_the_format_version(void **state)
{
    (void)state;
    struct timespec ts = {.tv_sec = 1700000000, .tv_nsec = 123456789};
    json_t *h = rcx_capture_header_json("http://api:8000", NULL, &ts);
    assert_string_equal(json_string_value(json_object_get(h, "type")), "header");
    assert_int_equal(json_integer_value(json_object_get(h, "recap")), RCX_CAPTURE_FORMAT);
    assert_string_equal(json_string_value(json_object_get(h, "upstream")), "http://api:8000");
    assert_true(json_is_null(json_object_get(h, "database")));
    assert_string_equal(json_string_value(json_object_get(h, "started_at")), "2023-11-14T22:13:20.123456Z");
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(headers_are_found_case_insensitively),
        cmocka_unit_test(oversized_headers_are_dropped_and_flagged),
        cmocka_unit_test(bodies_are_bounded),
        cmocka_unit_test(header_line_carries_the_format_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
