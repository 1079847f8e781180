/* Unit tests for common/capture.c: the record model and its JSON encoding. */
#include "test.h"

#include "../../common/capture.h"

static json_t *encode_body(const char *ct, const char *p, size_t n, uint64_t size, bool truncated)
{
    json_t *o = json_object();
    rcx_body_encode(o, ct, p, n, size, truncated);
    return o;
}

static void json_body_is_kept_as_json(void **state)
{
    (void)state;
    json_t *o = encode_body("application/json; charset=utf-8", "{\"a\":[1,2.5,\"x\"]}", 17, 17, false);
    json_t *b = json_object_get(o, "body");
    assert_non_null(b);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(b, "a"), 0)), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "body_size")), 17);
    assert_true(json_is_false(json_object_get(o, "truncated")));
    json_decref(o);
    o = encode_body("application/problem+json", "\"just a string\"", 15, 15, false);
    assert_string_equal(json_string_value(json_object_get(o, "body")), "just a string");
    json_decref(o);
}

static void invalid_or_truncated_json_becomes_text(void **state)
{
    (void)state;
    json_t *o = encode_body("application/json", "{\"a\":", 5, 5, false);
    assert_null(json_object_get(o, "body"));
    assert_string_equal(json_string_value(json_object_get(o, "body_text")), "{\"a\":");
    json_decref(o);
    o = encode_body("application/json", "{\"a\":1}", 7, 100, true);
    assert_null(json_object_get(o, "body"));
    assert_string_equal(json_string_value(json_object_get(o, "body_text")), "{\"a\":1}");
    assert_true(json_is_true(json_object_get(o, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(o, "body_size")), 100);
    json_decref(o);
}

static void text_without_json_type_stays_text(void **state)
{
    (void)state;
    json_t *o = encode_body("text/plain", "{\"a\":1}", 7, 7, false);
    assert_null(json_object_get(o, "body"));
    assert_string_equal(json_string_value(json_object_get(o, "body_text")), "{\"a\":1}");
    json_decref(o);
}

static void utf8_cut_mid_sequence_drops_the_partial_character(void **state)
{
    (void)state;
    const char *s = "h\xc3\xa9llo \xe2\x82\xac"; /* "héllo €" */
    json_t *o = encode_body("text/plain", s, strlen(s) - 1, 20, true);
    assert_string_equal(json_string_value(json_object_get(o, "body_text")), "h\xc3\xa9llo ");
    json_decref(o);
    /* not truncated: a broken sequence is binary */
    o = encode_body("text/plain", s, strlen(s) - 1, strlen(s) - 1, false);
    assert_null(json_object_get(o, "body_text"));
    assert_non_null(json_object_get(o, "body_b64"));
    json_decref(o);
}

static void binary_is_base64(void **state)
{
    (void)state;
    const char bytes[] = {0x00, (char)0xff, 0x10, (char)0x80};
    json_t *o = encode_body("application/octet-stream", bytes, 4, 4, false);
    assert_string_equal(json_string_value(json_object_get(o, "body_b64")), "AP8QgA==");
    json_decref(o);
}

static void empty_body_has_only_a_size(void **state)
{
    (void)state;
    json_t *o = encode_body(NULL, NULL, 0, 0, false);
    assert_int_equal(json_object_size(o), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "body_size")), 0);
    json_decref(o);
}

static void headers_are_found_case_insensitively_and_joined(void **state)
{
    (void)state;
    rcx_call_t *c = rcx_call_new(1024);
    rcx_msg_add_header(&c->res, "content-type", 12, "text/plain", 10);
    rcx_msg_add_header(&c->res, "vary", 4, "accept", 6);
    rcx_msg_add_header(&c->res, "vary", 4, "origin", 6);
    assert_string_equal(rcx_msg_find_header(&c->res, "Content-Type"), "text/plain");
    assert_null(rcx_msg_find_header(&c->res, "x-nope"));
    c->method = strdup("GET");
    c->path = strdup("/p");
    c->query = strdup("");
    json_t *j = rcx_call_to_json(c);
    json_t *h = json_object_get(json_object_get(j, "response"), "headers");
    assert_string_equal(json_string_value(json_object_get(h, "vary")), "accept, origin");
    json_decref(j);
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
    assert_int_equal(c->req.nheaders, 1);
    assert_true(c->req.headers.truncated);
    c->method = strdup("GET");
    c->path = strdup("/");
    c->query = strdup("");
    json_t *j = rcx_call_to_json(c);
    assert_true(json_is_true(json_object_get(json_object_get(j, "request"), "headers_truncated")));
    json_decref(j);
    rcx_call_free(c);
}

static void call_record_has_every_field(void **state)
{
    (void)state;
    rcx_call_t *c = rcx_call_new(1024);
    c->seq = 12;
    strcpy(c->id, "req-1");
    c->test = strdup("tests/test_x.py::test_y");
    c->started_at = (struct timespec){.tv_sec = 1700000000, .tv_nsec = 123456789};
    c->duration_ms = 4.1004;
    c->ttfb_ms = 3.0;
    c->http_version = 0x200;
    c->method = strdup("POST");
    c->path = strdup("/api/\xff"); /* not UTF-8: escaped, not dropped */
    c->query = strdup("a=1");
    c->status = 201;
    c->error = strdup("I/O timeout");
    rcx_msg_add_header(&c->req, "content-type", 12, "application/json", 16);
    rcx_buf_append(&c->req.body, "{\"n\":1}", 7);
    json_t *j = rcx_call_to_json(c);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "call");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 12);
    assert_string_equal(json_string_value(json_object_get(j, "test")), "tests/test_x.py::test_y");
    assert_string_equal(json_string_value(json_object_get(j, "started_at")), "2023-11-14T22:13:20.123456Z");
    assert_int_equal(json_integer_value(json_object_get(j, "duration_us")), 4100);
    assert_int_equal(json_integer_value(json_object_get(j, "ttfb_us")), 3000);
    assert_string_equal(json_string_value(json_object_get(j, "http")), "2");
    json_t *req = json_object_get(j, "request");
    assert_string_equal(json_string_value(json_object_get(req, "path")), "/api/%FF");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(req, "body"), "n")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "response"), "status")), 201);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "I/O timeout");
    assert_true(json_is_false(json_object_get(j, "aborted")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "db"), "status")), "disabled");
    json_decref(j);
    rcx_call_free(c);
}

static void header_line_carries_the_format_version(void **state)
{
    (void)state;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 0};
    json_t *h = rcx_capture_header_json("http://api:8000", NULL, &ts);
    assert_string_equal(json_string_value(json_object_get(h, "type")), "header");
    assert_int_equal(json_integer_value(json_object_get(h, "recap")), RCX_CAPTURE_FORMAT);
    assert_true(json_is_null(json_object_get(h, "database")));
    assert_string_equal(json_string_value(json_object_get(h, "started_at")), "1970-01-01T00:00:00.000000Z");
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_body_is_kept_as_json),
        cmocka_unit_test(invalid_or_truncated_json_becomes_text),
        cmocka_unit_test(text_without_json_type_stays_text),
        cmocka_unit_test(utf8_cut_mid_sequence_drops_the_partial_character),
        cmocka_unit_test(binary_is_base64),
        cmocka_unit_test(empty_body_has_only_a_size),
        cmocka_unit_test(headers_are_found_case_insensitively_and_joined),
        cmocka_unit_test(oversized_headers_are_dropped_and_flagged),
        cmocka_unit_test(call_record_has_every_field),
        cmocka_unit_test(header_line_carries_the_format_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
