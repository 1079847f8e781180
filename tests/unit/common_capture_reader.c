/* Unit tests for common/capture_reader.c: reading captures back, and every way they can be bad. */
#include "test.h"

#include "common/capture_reader.h"

#define HEADER "{\"type\":\"header\",\"recap\":1,\"upstream\":\"http://x\"}\n"

static rcx_reader_t *open_text(const char *text, char *path, rcx_err_t *err)
{
    test_tmpfile(path);
    test_write_file(path, text);
    return rcx_reader_open(path, err);
}

static void reads_records_and_skips_later_headers(void **state)
{
    (void)state;
    char path[64];
    rcx_err_t err;
    rcx_reader_t *r = open_text(HEADER "{\"type\":\"call\",\"seq\":1,\"body_text\":\"a\\u0000b\"}\n\n" HEADER
                                       "{\"type\":\"call\",\"seq\":2}\n",
                                path, &err);
    assert_non_null(r);
    assert_string_equal(json_string_value(json_object_get(rcx_reader_header(r), "upstream")), "http://x");
    json_t *rec;
    assert_int_equal(rcx_reader_next(r, &rec, &err), 1);
    assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 1);
    assert_int_equal(json_string_length(json_object_get(rec, "body_text")), 3); /* a NUL inside is kept */
    json_decref(rec);
    assert_int_equal(rcx_reader_next(r, &rec, &err), 1);
    assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 2);
    assert_int_equal(rcx_reader_line(r), 5);
    json_decref(rec);
    assert_int_equal(rcx_reader_next(r, &rec, &err), 0);
    assert_false(rcx_reader_torn(r));
    rcx_reader_close(r);
    unlink(path);
}

static void expect_open_error(const char *text, const char *suffix)
{
    char path[64], want[600];
    rcx_err_t err;
    assert_null(open_text(text, path, &err));
    snprintf(want, sizeof(want), "%s%s", path, suffix);
    assert_string_equal(err.msg, want);
    unlink(path);
}

static void rejects_what_is_not_a_capture(void **state)
{
    (void)state;
    expect_open_error("", ":1:1: empty file, not a recap capture");
    expect_open_error("{\"type\":\"call\",\"seq\":1}\n",
                      ":1:1: not a recap capture: the first line is not a header");
    expect_open_error("hello\n", ":1:5: not a recap capture: '[' or '{' expected near 'hello'");
    expect_open_error("{\"type\":\"header\"}\n", ":1:1: header line has no \"recap\" format version");
    expect_open_error("{\"type\":\"header\",\"recap\":7}\n",
                      ":1:1: capture format version 7, this recap reads version 1");
    rcx_err_t err;
    assert_null(rcx_reader_open("/no/such/file.jsonl", &err));
    assert_string_equal(err.msg, "/no/such/file.jsonl: No such file or directory");
}

static void torn_last_line_is_reported_after_the_complete_ones(void **state)
{
    (void)state;
    char path[64], want[600];
    rcx_err_t err;
    rcx_reader_t *r = open_text(HEADER "{\"type\":\"call\",\"seq\":1}\n{\"type\":\"call\",\"se", path, &err);
    json_t *rec;
    assert_int_equal(rcx_reader_next(r, &rec, &err), 1);
    json_decref(rec);
    assert_int_equal(rcx_reader_next(r, &rec, &err), -1);
    assert_true(rcx_reader_torn(r));
    snprintf(want, sizeof(want), "%s:3:18: torn last line (18 bytes, no newline): ", path);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_int_equal(rcx_reader_next(r, &rec, &err), 0);
    rcx_reader_close(r);
    unlink(path);
}

static void bad_middle_line_names_its_position_and_reading_goes_on(void **state)
{
    (void)state;
    char path[64], want[600];
    rcx_err_t err;
    rcx_reader_t *r = open_text(HEADER "{\"type\":\"call\",\"seq\":1,}\n{\"seq\":2}\n"
                                       "{\"type\":\"header\",\"recap\":2}\n{\"type\":\"call\",\"seq\":3}\n",
                                path, &err);
    json_t *rec;
    assert_int_equal(rcx_reader_next(r, &rec, &err), -1);
    snprintf(want, sizeof(want), "%s:2:", path);
    assert_memory_equal(err.msg, want, strlen(want));
    assert_false(rcx_reader_torn(r));
    assert_int_equal(rcx_reader_next(r, &rec, &err), -1);
    snprintf(want, sizeof(want), "%s:3:1: record has no \"type\"", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(rcx_reader_next(r, &rec, &err), -1);
    snprintf(want, sizeof(want), "%s:4:1: capture format version 2, this recap reads version 1", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(rcx_reader_next(r, &rec, &err), 1);
    assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 3);
    json_decref(rec);
    rcx_reader_close(r);
    unlink(path);
}

/* Raw NUL bytes and records of the wrong shape are bad lines, said with their place, never read as something
 * else (a NUL once ended the line for the JSON parser: the rest was ignored, or the line vanished). */
static void nul_bytes_and_wrong_shapes_are_bad_lines(void **state)
{
    (void)state;
    char path[64], want[600];
    static const char text[] = HEADER "{\"type\":\"call\",\"seq\":1}\0 trailing\n"
                                      "\0{\"type\":\"call\",\"seq\":2}\n"
                                      "{\"type\":\"call\",\"seq\":3,\"request\":\"GET /\"}\n"
                                      "{\"type\":\"call\",\"seq\":4,\"response\":{\"status\":4294967497}}\n"
                                      "{\"type\":\"call\",\"seq\":5,\"response\":{\"status\":201}}\n";
    test_tmpfile(path);
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, sizeof(text) - 1, f);
    fclose(f);
    rcx_err_t err;
    rcx_reader_t *r = rcx_reader_open(path, &err);
    assert_non_null(r);
    json_t *rec;
    const char *wants[] = {"2:24: a NUL byte in a capture line", "3:1: a NUL byte in a capture line",
                           "4:1: a call's \"request\" is not an object with a method and a path",
                           "5:1: a call's \"response\" is not an object with a status from 0 to 999"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rcx_reader_next(r, &rec, &err), -1);
        snprintf(want, sizeof(want), "%s:%s", path, wants[i]);
        assert_string_equal(err.msg, want);
    }
    assert_int_equal(rcx_reader_next(r, &rec, &err), 1);
    assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 5);
    json_decref(rec);
    assert_int_equal(rcx_reader_next(r, &rec, &err), 0);
    rcx_reader_close(r);
    unlink(path);
}

static void long_lines_are_read_whole(void **state)
{
    (void)state;
    size_t n = 300000;
    char *text = malloc(n + 200);
    int k = sprintf(text, HEADER "{\"type\":\"call\",\"pad\":\"");
    memset(text + k, 'x', n);
    strcpy(text + k + n, "\"}\n");
    char path[64];
    rcx_err_t err;
    rcx_reader_t *r = open_text(text, path, &err);
    json_t *rec;
    assert_int_equal(rcx_reader_next(r, &rec, &err), 1);
    assert_int_equal(json_string_length(json_object_get(rec, "pad")), n);
    json_decref(rec);
    rcx_reader_close(r);
    free(text);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_records_and_skips_later_headers),
        cmocka_unit_test(rejects_what_is_not_a_capture),
        cmocka_unit_test(torn_last_line_is_reported_after_the_complete_ones),
        cmocka_unit_test(bad_middle_line_names_its_position_and_reading_goes_on),
        cmocka_unit_test(nul_bytes_and_wrong_shapes_are_bad_lines),
        cmocka_unit_test(long_lines_are_read_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
