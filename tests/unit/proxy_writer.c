/* Unit tests for proxy/writer.c: the capture file, appending, drops and redaction. */
#include "test.h"

#include "proxy/writer.h"

#include <sys/stat.h>
#include <time.h>

static const char *const headers[] = {"authorization", NULL};
static const char *const fields[] = {"password", NULL};
static const recap_redact_t redact = {.headers = headers, .fields = fields};

static rcx_call_t *make_call(const char *path, const char *test)
{
    rcx_call_t *c = rcx_call_new(1024);
    c->method = strdup("POST");
    c->path = strdup(path);
    c->query = strdup("");
    c->test = test ? strdup(test) : NULL;
    c->status = 200;
    rcx_msg_add_header(&c->req, "authorization", 13, "Bearer secret", 13);
    rcx_msg_add_header(&c->req, "content-type", 12, "application/json", 16);
    rcx_buf_append(&c->req.body, "{\"password\":\"secret\"}", 21);
    return c;
}

static recap_writer_t *open_writer(const char *path, recap_ring_t *ring, size_t queue_bytes, rcx_err_t *err)
{
    struct timespec ts = {0, 0};
    json_t *h = rcx_capture_header_json("http://up", NULL, &ts);
    recap_writer_opts_t o = {
        .path = path, .header = h, .redact = &redact, .queue_bytes = queue_bytes, .ring = ring};
    recap_writer_t *w = recap_writer_open(&o, err);
    json_decref(h);
    return w;
}

static void wait_done(recap_writer_t *w, uint64_t ticket)
{
    for (int i = 0; i < 2000 && recap_writer_done(w) < ticket; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    assert_true(recap_writer_done(w) >= ticket);
}

static void writes_header_and_redacted_records_0600(void **state)
{
    (void)state;
    char path[64];
    test_tmpfile(path);
    unlink(path);
    rcx_err_t err;
    recap_ring_t *ring = recap_ring_new(10, 1 << 20);
    recap_writer_t *w = open_writer(path, ring, 1 << 20, &err);
    assert_non_null(w);
    assert_int_equal(recap_writer_push(w, make_call("/a", "t1"), 0, false), 1);
    assert_int_equal(recap_writer_push(w, make_call("/b", NULL), 0, false), 2);
    wait_done(w, 2);
    assert_int_equal(recap_writer_last_seq(w), 2);
    recap_writer_stats_t *st = recap_writer_stats(w);
    assert_int_equal(atomic_load(&st->written), 2);
    assert_int_equal(atomic_load(&st->redacted), 4);
    recap_writer_close(w);

    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *text = test_read_file(path);
    assert_null(strstr(text, "secret"));
    assert_non_null(strstr(text, "\"seq\":1"));
    assert_int_equal(strncmp(text, "{\"type\":\"header\",\"recap\":1,", 27), 0);
    free(text);

    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    uint64_t oldest;
    assert_int_equal(
        recap_ring_collect(ring, &(recap_ring_filter_t){.test = "t1", .limit = 10}, &out, &oldest, NULL), 1);
    assert_non_null(memmem(out.base, out.len, "\"path\":\"/a\"", 11));
    assert_null(memmem(out.base, out.len, "secret", 6));
    rcx_buf_free(&out);
    recap_ring_free(ring);
    unlink(path);
}

static void cuts_a_torn_last_line_and_continues_seq(void **state)
{
    (void)state;
    char path[64];
    test_tmpfile(path);
    test_write_file(path,
                    "{\"type\":\"header\",\"recap\":1}\n{\"type\":\"call\",\"seq\":41}\n{\"type\":\"ca");
    rcx_err_t err;
    recap_writer_t *w = open_writer(path, NULL, 1 << 20, &err);
    assert_non_null(w);
    assert_int_equal(recap_writer_push(w, make_call("/c", NULL), 0, false), 1);
    recap_writer_close(w);
    char *text = test_read_file(path);
    /* only whole lines: the torn one is gone, the new header follows the last whole line */
    assert_null(strstr(text, "{\"type\":\"ca\n"));
    assert_non_null(strstr(text, "\"seq\":41}\n{\"type\":\"header\""));
    assert_non_null(strstr(text, "\"seq\":42"));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(text);
    unlink(path);
}

static void one_writer_per_file_and_foreign_files_untouched(void **state)
{
    (void)state;
    char path[64];
    test_tmpfile(path);
    rcx_err_t err;
    recap_writer_t *w = open_writer(path, NULL, 1 << 20, &err);
    assert_non_null(w);
    recap_writer_t *second = open_writer(path, NULL, 1 << 20, &err);
    assert_null(second);
    assert_non_null(strstr(err.msg, "is in use by another recap"));
    recap_writer_close(w);
    unlink(path);
    test_write_file(path, "notes without a newline"); /* not a capture: refused and left as it was */
    chmod(path, 0644);
    assert_null(open_writer(path, NULL, 1 << 20, &err));
    char *text = test_read_file(path);
    assert_string_equal(text, "notes without a newline");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    free(text);
    unlink(path);
}

static void finds_the_last_seq_behind_a_long_last_line(void **state)
{
    (void)state;
    char path[64];
    test_tmpfile(path);
    FILE *f = fopen(path, "w");
    fputs("{\"type\":\"header\",\"recap\":1}\n", f);
    for (int i = 1; i <= 1000; i++)
        fprintf(f, "{\"type\":\"call\",\"seq\":%d}\n", i);
    fputs("{\"type\":\"call\",\"seq\":1001,\"pad\":\"", f);
    for (int i = 0; i < 3 * 1024 * 1024; i++)
        fputc('x', f);
    fputs("\"}\n", f);
    fclose(f);
    rcx_err_t err;
    recap_writer_t *w = open_writer(path, NULL, 1 << 20, &err);
    assert_non_null(w);
    assert_int_equal(recap_writer_last_seq(w), 1001);
    recap_writer_close(w);
    unlink(path);
}

static void refuses_a_foreign_file(void **state)
{
    (void)state;
    char path[64], want[600];
    test_tmpfile(path);
    test_write_file(path, "{\"type\":\"header\",\"recap\":99}\n");
    rcx_err_t err;
    assert_null(open_writer(path, NULL, 1 << 20, &err));
    snprintf(want, sizeof(want),
             "%s:1:1: capture format version 99, this recap reads version 1; refusing to append to it "
             "(choose another --capture)",
             path);
    assert_string_equal(err.msg, want);
    char *text = test_read_file(path);
    assert_string_equal(text, "{\"type\":\"header\",\"recap\":99}\n");
    free(text);
    unlink(path);
}

static void over_the_queue_bound_records_are_dropped_and_counted(void **state)
{
    (void)state;
    char path[64];
    test_tmpfile(path);
    unlink(path);
    rcx_err_t err;
    recap_writer_t *w = open_writer(path, NULL, 0, &err);
    assert_int_equal(recap_writer_push(w, make_call("/d", NULL), 0, false), 0);
    assert_int_equal(atomic_load(&recap_writer_stats(w)->dropped), 1);
    assert_int_equal(recap_writer_pushed(w), 0);
    recap_writer_close(w);
    unlink(path);
}

static void missing_directory_is_a_clear_error(void **state)
{
    (void)state;
    rcx_err_t err;
    assert_null(open_writer("/no/such/dir/c.jsonl", NULL, 1 << 20, &err));
    assert_string_equal(err.msg, "cannot open capture file /no/such/dir/c.jsonl: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_header_and_redacted_records_0600),
        cmocka_unit_test(cuts_a_torn_last_line_and_continues_seq),
        cmocka_unit_test(one_writer_per_file_and_foreign_files_untouched),
        cmocka_unit_test(finds_the_last_seq_behind_a_long_last_line),
        cmocka_unit_test(refuses_a_foreign_file),
        cmocka_unit_test(over_the_queue_bound_records_are_dropped_and_counted),
        cmocka_unit_test(missing_directory_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
