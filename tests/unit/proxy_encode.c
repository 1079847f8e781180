/* Unit tests for proxy/encode.c: a call as one capture line, parsed back with jansson. */
#include "test.h"

#include "squeeze.h"

#include "proxy/encode.h"

#include <brotli/encode.h>
#include <openssl/evp.h>

static const char *const headers[] = {"authorization", "cookie", NULL};
static const char *const fields[] = {"password", NULL};
static const recap_redact_t redact = {.headers = headers, .fields = fields};

static rcx_call_t *new_call(size_t max_body)
{
    rcx_call_t *c = rcx_call_new(max_body);
    c->method = strdup("GET");
    c->path = strdup("/");
    c->query = strdup("");
    return c;
}

/* Encodes, checks it is one valid JSON line, returns the parsed record. */
static json_t *encode(const rcx_call_t *c, size_t *redacted)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    size_t k = recap_encode_call(c, &redact, &b);
    if (redacted)
        *redacted = k;
    assert_null(memchr(b.base, '\n', b.len));
    json_error_t je;
    json_t *v = json_loadb(b.base, b.len, 0, &je);
    if (v == NULL)
        fail_msg("not JSON (%s): %.*s", je.text, (int)b.len, b.base);
    rcx_buf_free(&b);
    return v;
}

/* Encodes a call whose request (or response) has these headers (name, value, ..., NULL) and body; returns
 * that side of the record. */
static json_t *encoded(bool request, const char *const *headers, const void *p, size_t n, size_t max_body)
{
    rcx_call_t *c = new_call(max_body);
    rcx_msg_t *m = request ? &c->req : &c->res;
    for (size_t i = 0; headers[i] != NULL; i += 2)
        rcx_msg_add_header(m, headers[i], strlen(headers[i]), headers[i + 1], strlen(headers[i + 1]));
    rcx_buf_append(&m->body, p, n);
    json_t *rec = encode(c, NULL);
    rcx_call_free(c);
    json_t *side = json_incref(json_object_get(rec, request ? "request" : "response"));
    json_decref(rec);
    return side;
}

static json_t *response_with_body(const char *ct, const char *p, size_t n, size_t max_body)
{
    const char *h[] = {"content-type", ct, NULL};
    return encoded(false, ct != NULL ? h : h + 2, p, n, max_body);
}

static void json_body_is_embedded_as_sent(void **state)
{
    (void)state;
    const char *body = "{\"a\":[1,2.50,\"x\"],\"big\":12345678901234567890.123456789}";
    rcx_call_t *c = new_call(1024);
    rcx_msg_add_header(&c->res, "content-type", 12, "application/json; charset=utf-8", 31);
    rcx_buf_append(&c->res.body, body, strlen(body));
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    recap_encode_call(c, &redact, &b);
    rcx_buf_append(&b, "", 1);
    assert_non_null(strstr(b.base, "\"body\":{\"a\":[1,2.50,\"x\"],\"big\":12345678901234567890.123456789}"));
    rcx_buf_free(&b);
    rcx_call_free(c);
}

static void pretty_json_is_reencoded_on_one_line(void **state)
{
    (void)state;
    json_t *res = response_with_body("application/problem+json", "{\n  \"a\": 1\n}\n", 13, 1024);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "body"), "a")), 1);
    json_decref(res);
}

static void invalid_or_truncated_json_becomes_text(void **state)
{
    (void)state;
    json_t *res = response_with_body("application/json", "{\"a\":", 5, 1024);
    assert_null(json_object_get(res, "body"));
    assert_string_equal(json_string_value(json_object_get(res, "body_text")), "{\"a\":");
    json_decref(res);
    res = response_with_body("application/json", "{\"a\":123}", 9, 6);
    assert_null(json_object_get(res, "body"));
    assert_string_equal(json_string_value(json_object_get(res, "body_text")), "{\"a\":1");
    assert_true(json_is_true(json_object_get(res, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(res, "body_size")), 9);
    json_decref(res);
}

static void text_without_json_type_stays_text(void **state)
{
    (void)state;
    json_t *res = response_with_body("text/plain", "{\"a\":1}", 7, 1024);
    assert_null(json_object_get(res, "body"));
    assert_string_equal(json_string_value(json_object_get(res, "body_text")), "{\"a\":1}");
    assert_true(json_is_false(json_object_get(res, "truncated")));
    json_decref(res);
}

static void utf8_cut_by_the_bound_keeps_whole_characters(void **state)
{
    (void)state;
    const char *s = "h\xc3\xa9llo \xe2\x82\xac!"; /* "héllo €!" */
    json_t *res = response_with_body("text/plain", s, strlen(s), 9);
    assert_string_equal(json_string_value(json_object_get(res, "body_text")), "h\xc3\xa9llo ");
    json_decref(res);
    res = response_with_body("text/plain", s, 9, 1024); /* complete body, broken sequence: binary */
    assert_null(json_object_get(res, "body_text"));
    assert_string_equal(json_string_value(json_object_get(res, "body_b64")), "aMOpbGxvIOKC");
    json_decref(res);
}

static void binary_is_base64_and_empty_has_only_a_size(void **state)
{
    (void)state;
    json_t *res = response_with_body("application/octet-stream", "\x00\xff\x10\x80", 4, 1024);
    assert_string_equal(json_string_value(json_object_get(res, "body_b64")), "AP8QgA==");
    json_decref(res);
    res = response_with_body(NULL, "", 0, 1024);
    assert_int_equal(json_integer_value(json_object_get(res, "body_size")), 0);
    assert_null(json_object_get(res, "truncated"));
    assert_null(json_object_get(res, "body_text"));
    json_decref(res);
}

static void repeated_headers_are_joined_and_secrets_redacted(void **state)
{
    (void)state;
    rcx_call_t *c = new_call(1024);
    rcx_msg_add_header(&c->req, "accept", 6, "a", 1);
    rcx_msg_add_header(&c->req, "Authorization", 13, "Bearer s3cret", 13);
    rcx_msg_add_header(&c->req, "accept", 6, "b", 1);
    rcx_msg_add_header(&c->req, "cookie", 6, "sid=s3cret", 10);
    rcx_msg_add_header(&c->req, "content-type", 12, "application/json", 16);
    rcx_buf_append(&c->req.body, "{\"user\":\"u\",\"password\":\"s3cret\"}", 32);
    free(c->query);
    c->query = strdup("password=s3cret&x=1");
    size_t k;
    json_t *rec = encode(c, &k);
    assert_int_equal(k, 4);
    json_t *req = json_object_get(rec, "request");
    json_t *h = json_object_get(req, "headers");
    assert_int_equal(json_object_size(h), 4);
    assert_string_equal(json_string_value(json_object_get(h, "accept")), "a, b");
    assert_string_equal(json_string_value(json_object_get(h, "Authorization")), "[REDACTED]");
    assert_string_equal(json_string_value(json_object_get(h, "cookie")), "[REDACTED]");
    assert_string_equal(json_string_value(json_object_get(json_object_get(req, "body"), "password")),
                        "[REDACTED]");
    assert_string_equal(json_string_value(json_object_get(req, "query")), "password=[REDACTED]&x=1");
    char *s = json_dumps(rec, 0);
    assert_null(strstr(s, "s3cret"));
    free(s);
    json_decref(rec);
    rcx_call_free(c);
}

static void dropped_headers_are_flagged(void **state)
{
    (void)state;
    rcx_call_t *c = new_call(16);
    char big[40000];
    memset(big, 'v', sizeof(big));
    rcx_msg_add_header(&c->res, "a", 1, big, sizeof(big));
    rcx_msg_add_header(&c->res, "b", 1, big, sizeof(big));
    json_t *rec = encode(c, NULL);
    json_t *res = json_object_get(rec, "response");
    assert_true(json_is_true(json_object_get(res, "headers_truncated")));
    assert_int_equal(json_string_length(json_object_get(json_object_get(res, "headers"), "a")), sizeof(big));
    assert_null(json_object_get(json_object_get(rec, "request"), "headers_truncated"));
    json_decref(rec);
    rcx_call_free(c);
}

static void form_bodies_are_redacted(void **state)
{
    (void)state;
    rcx_call_t *c = new_call(1024);
    rcx_msg_add_header(&c->req, "content-type", 12, "application/x-www-form-urlencoded", 33);
    rcx_buf_append(&c->req.body, "user=a&password=hunter2", 23);
    json_t *rec = encode(c, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "request"), "body_text")),
                        "user=a&password=[REDACTED]");
    json_decref(rec);
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
    c->path = strdup("/api/\xff"); /* not UTF-8: percent-encoded, not dropped */
    c->query = strdup("a=1");
    c->status = 201;
    c->aborted = true;
    c->error = strdup("I/O timeout");
    json_t *rec = encode(c, NULL);
    assert_string_equal(json_string_value(json_object_get(rec, "type")), "call");
    assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 12);
    assert_string_equal(json_string_value(json_object_get(rec, "id")), "req-1");
    assert_string_equal(json_string_value(json_object_get(rec, "test")), "tests/test_x.py::test_y");
    assert_string_equal(json_string_value(json_object_get(rec, "started_at")), "2023-11-14T22:13:20.123456Z");
    assert_int_equal(json_integer_value(json_object_get(rec, "duration_us")), 4100);
    assert_int_equal(json_integer_value(json_object_get(rec, "ttfb_us")), 3000);
    assert_string_equal(json_string_value(json_object_get(rec, "http")), "2");
    json_t *req = json_object_get(rec, "request");
    assert_string_equal(json_string_value(json_object_get(req, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(req, "path")), "/api/%FF");
    assert_string_equal(json_string_value(json_object_get(req, "query")), "a=1");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "response"), "status")), 201);
    assert_true(json_is_true(json_object_get(rec, "aborted")));
    assert_string_equal(json_string_value(json_object_get(rec, "error")), "I/O timeout");
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "db"), "status")), "disabled");
    json_decref(rec);
    const char db[] = "{\"status\":\"complete\",\"transactions\":[]}";
    c->db_json = rcx_xstrndup(db, sizeof(db) - 1);
    free(c->test);
    c->test = NULL;
    rec = encode(c, NULL);
    assert_true(json_is_null(json_object_get(rec, "test")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "db"), "status")), "complete");
    json_decref(rec);
    rcx_call_free(c);
}

static json_t *coded_response(const char *coding, const void *p, size_t n, size_t max_body)
{
    const char *h[] = {"content-type", "application/json", "content-encoding", coding, NULL};
    return encoded(false, h, p, n, max_body);
}

/* A compressed response is recorded decoded (JSON a spec can match, with its secrets redacted), its size on
 * the wire kept; gzip, deflate (zlib or raw) and br. */
static void compressed_bodies_are_recorded_decoded_and_redacted(void **state)
{
    (void)state;
    const char *body = "{\"user\":\"ann\",\"password\":\"hunter2\"}";
    unsigned char z[256];
    struct {
        const char *coding;
        int bits;
    } cases[] = {{"gzip", 16 + 15}, {"x-gzip", 16 + 15}, {"deflate", 15}, {"Deflate", -15}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        size_t n = test_squeeze(body, strlen(body), cases[i].bits, z, sizeof(z));
        json_t *res = coded_response(cases[i].coding, z, n, 1024);
        assert_string_equal(json_string_value(json_object_get(res, "decoded")), cases[i].coding);
        assert_int_equal(json_integer_value(json_object_get(res, "body_size")), n);
        assert_string_equal(json_string_value(json_object_get(json_object_get(res, "body"), "user")), "ann");
        assert_string_equal(json_string_value(json_object_get(json_object_get(res, "body"), "password")),
                            RECAP_REDACTED);
        json_decref(res);
    }
    size_t n = sizeof(z);
    assert_int_equal(
        BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, strlen(body), (const uint8_t *)body, &n, z),
        BROTLI_TRUE);
    json_t *res = coded_response("br", z, n, 1024);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "body"), "user")), "ann");
    json_decref(res);
    /* not valid in its coding, or a list of codings: kept as it came */
    res = coded_response("gzip", "not gzip", 8, 1024);
    assert_null(json_object_get(res, "decoded"));
    assert_string_equal(json_string_value(json_object_get(res, "body_text")), "not gzip");
    json_decref(res);
    n = test_squeeze(body, strlen(body), 16 + 15, z, sizeof(z));
    res = coded_response("gzip, identity", z, n, 1024);
    assert_null(json_object_get(res, "decoded"));
    assert_non_null(json_object_get(res, "body_b64"));
    json_decref(res);
}

/* A body that decodes to far more than --max-body (a "zip bomb") costs at most the bound: kept cut, flagged;
 * one cut short on the wire decodes as far as it goes. */
static void decoding_is_bounded_by_max_body(void **state)
{
    (void)state;
    size_t big = 4u << 20;
    char *zeros = malloc(big);
    memset(zeros, 'a', big);
    unsigned char *z = malloc(big);
    size_t n = test_squeeze(zeros, big, 16 + 15, z, big);
    assert_true(n < 8192);
    json_t *res = coded_response("gzip", z, n, 1000);
    assert_true(json_is_true(json_object_get(res, "truncated")));
    assert_string_equal(json_string_value(json_object_get(res, "decoded")), "gzip");
    assert_int_equal(strlen(json_string_value(json_object_get(res, "body_text"))), 1000);
    json_decref(res);
    res = coded_response("gzip", z, n, n / 2); /* the wire body itself cut at --max-body */
    assert_true(json_is_true(json_object_get(res, "truncated")));
    assert_string_equal(json_string_value(json_object_get(res, "decoded")), "gzip");
    json_decref(res);
    free(zeros);
    free(z);
}

static json_t *multipart_request(const char *body, size_t n, size_t max_body)
{
    const char *h[] = {"content-type", "multipart/form-data; boundary=\"XyZ\"", NULL};
    return encoded(true, h, body, n, max_body);
}

/* A form sent as multipart (a browser's FormData, multer, Django): the parts named as secrets are redacted,
 * text or file, and the rest is kept; with binary parts the whole is base64 of the redacted bytes. */
static void multipart_forms_are_redacted_by_part_name(void **state)
{
    (void)state;
    const char form[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nann\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"Password\"\r\n\r\nhunter2\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"password.png\"\r\n"
        "Content-Type: image/png\r\n\r\n\x89PNG\xff\r\n"
        "--XyZ--\r\n";
    json_t *req = multipart_request(form, sizeof(form) - 1, 4096);
    const char *b64 = json_string_value(json_object_get(req, "body_b64"));
    assert_non_null(b64);
    unsigned char raw[512];
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
    assert_true(n > 0);
    raw[n] = '\0';
    assert_null(memmem(raw, (size_t)n, "hunter2", 7));
    const char *kept = "name=\"Password\"\r\n\r\n" RECAP_REDACTED "\r\n--XyZ";
    assert_non_null(memmem(raw, (size_t)n, kept, strlen(kept)));
    assert_non_null(memmem(raw, (size_t)n, "ann\r\n", 5));
    assert_non_null(memmem(raw, (size_t)n, "\x89PNG", 4)); /* a file named password.png is no secret */
    json_decref(req);
    /* cut at --max-body inside the secret: redacted to the end */
    const char cut[] = "--XyZ\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\nk-0123456789abcdef";
    req = multipart_request(cut, sizeof(cut) - 1, 60);
    const char *text = json_string_value(json_object_get(req, "body_text"));
    assert_non_null(text);
    assert_null(strstr(text, "k-0123"));
    json_decref(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_body_is_embedded_as_sent),
        cmocka_unit_test(pretty_json_is_reencoded_on_one_line),
        cmocka_unit_test(invalid_or_truncated_json_becomes_text),
        cmocka_unit_test(text_without_json_type_stays_text),
        cmocka_unit_test(utf8_cut_by_the_bound_keeps_whole_characters),
        cmocka_unit_test(binary_is_base64_and_empty_has_only_a_size),
        cmocka_unit_test(repeated_headers_are_joined_and_secrets_redacted),
        cmocka_unit_test(dropped_headers_are_flagged),
        cmocka_unit_test(form_bodies_are_redacted),
        cmocka_unit_test(call_record_has_every_field),
        cmocka_unit_test(compressed_bodies_are_recorded_decoded_and_redacted),
        cmocka_unit_test(decoding_is_bounded_by_max_body),
        cmocka_unit_test(multipart_forms_are_redacted_by_part_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
