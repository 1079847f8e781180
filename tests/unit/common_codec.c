/* Unit tests for common/codec.c: the lines the proxy writes read back as the records the tools read. */
#include "test.h"

#include "common/codec.h"
#include "common/lsn.h"

static json_t *parse(const rcx_buf_t *b)
{
    json_t *v = json_loadb(b->base, b->len, 0, NULL);
    assert_non_null(v);
    return v;
}

static void orphan_line_round_trip(void **state)
{
    (void)state;
    const char *tx = "{\"xid\":7,\"commit_lsn\":\"0/16B3B98\",\"changes\":[]}";
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_codec_orphan_line(&b, 0x16B3C10, NULL, 0, tx, strlen(tx));
    assert_int_equal(rcx_codec_peek(b.base, b.len), RCX_REC_ORPHAN);
    json_t *rec = parse(&b);
    assert_int_equal(rcx_rec_kind(rec), RCX_REC_ORPHAN);
    assert_int_equal(json_integer_value(json_object_get(rec, "xid")), 7);
    assert_int_equal(rcx_rec_resume_lsn(rec), 0x16B3C10);
    assert_null(json_object_get(rec, "test"));
    json_decref(rec);
    rcx_buf_free(&b);

    /* the tests running when it arrived: one is "test", several are "tests" */
    const char *one[] = {"t.py::a"}, *two[] = {"t.py::a", "t.py::b"};
    rcx_buf_init(&b, SIZE_MAX);
    rcx_codec_orphan_line(&b, 1, one, 1, tx, strlen(tx));
    rec = parse(&b);
    assert_string_equal(json_string_value(json_object_get(rec, "test")), "t.py::a");
    assert_null(json_object_get(rec, "tests"));
    json_decref(rec);
    rcx_buf_reset(&b);
    rcx_codec_orphan_line(&b, 1, two, 2, tx, strlen(tx));
    rec = parse(&b);
    assert_null(json_object_get(rec, "test"));
    assert_int_equal(json_array_size(json_object_get(rec, "tests")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "tests"), 1)), "t.py::b");
    json_decref(rec);
    rcx_buf_free(&b);
}

static void call_tx_and_accessors(void **state)
{
    (void)state;
    const char *tx = "{\"xid\":9}";
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_codec_call_open(&b);
    rcx_buf_puts(&b, ",\"request\":{\"method\":\"POST\"},\"response\":{\"status\":201},\"db\":{");
    rcx_codec_lsn_member(&b, "resume_lsn", 0x100000002ull, true);
    rcx_buf_puts(&b, ",\"transactions\":[");
    rcx_codec_call_tx(&b, "window", tx, strlen(tx));
    rcx_buf_puts(&b, "]}}");
    assert_int_equal(rcx_codec_peek(b.base, b.len), RCX_REC_CALL);
    json_t *rec = parse(&b);
    assert_int_equal(rcx_rec_kind(rec), RCX_REC_CALL);
    assert_string_equal(rcx_rec_str(rec, "request", "method"), "POST");
    assert_null(rcx_rec_str(rec, "request", "path"));
    assert_int_equal(rcx_rec_status(rec), 201);
    assert_int_equal(rcx_rec_resume_lsn(rec), 0x100000002ull);
    const json_t *t = json_array_get(rcx_rec_transactions(rec), 0);
    assert_string_equal(json_string_value(json_object_get(t, "attribution")), "window");
    assert_int_equal(json_integer_value(json_object_get(t, "xid")), 9);
    json_decref(rec);
    rcx_buf_free(&b);
}

static void an_empty_transaction_object_stays_valid(void **state)
{
    (void)state;
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_codec_call_tx(&b, "tag", "{}", 2);
    json_t *v = parse(&b);
    assert_int_equal(json_object_size(v), 1);
    json_decref(v);
    rcx_buf_free(&b);
}

static void peek_and_kinds_refuse_the_rest(void **state)
{
    (void)state;
    assert_int_equal(rcx_codec_peek("{\"type\":\"header\",\"recap\":1}", 27), RCX_REC_HEADER);
    assert_int_equal(rcx_codec_peek("{\"type\":\"cal", 12), RCX_REC_OTHER);
    assert_int_equal(rcx_codec_peek("{\"type\": \"call\"}", 16), RCX_REC_OTHER); /* not a line we wrote */
    json_t *v = json_pack("{s:i}", "type", 3);
    assert_int_equal(rcx_rec_kind(v), RCX_REC_OTHER);
    assert_int_equal(rcx_rec_status(v), 0);
    assert_int_equal(rcx_rec_resume_lsn(v), 0);
    json_decref(v);
    v = json_pack("{s:s, s:{s:I}}", "type", "call", "response", "status", (json_int_t)4294967497LL);
    assert_int_equal(rcx_rec_status(v), 0); /* out of range is no status, not 201 */
    json_decref(v);
}

static void changes_and_their_rows(void **state)
{
    (void)state;
    json_t *up = json_loads("{\"op\":\"update\",\"schema\":\"public\",\"table\":\"t\",\"old\":{\"id\":1},"
                            "\"new\":{\"id\":2}}",
                            0, NULL);
    json_t *del =
        json_loads("{\"op\":\"delete\",\"schema\":\"public\",\"table\":\"t\",\"key\":{\"id\":3}}", 0, NULL);
    json_t *tr = json_loads("{\"op\":\"truncate\",\"schema\":\"s\",\"table\":\"u\"}", 0, NULL);
    json_t *bad = json_loads("{\"op\":\"insert\",\"table\":\"t\"}", 0, NULL);
    rcx_change_t c;
    assert_int_equal(rcx_rec_change(up, &c), 0);
    assert_int_equal(c.op, RCX_OP_UPDATE);
    assert_int_equal(json_integer_value(json_object_get(c.row, "id")), 2); /* the row it leaves */
    assert_int_equal(rcx_rec_change(del, &c), 0);
    assert_int_equal(c.op, RCX_OP_DELETE);
    assert_int_equal(json_integer_value(json_object_get(c.row, "id")), 3); /* only the key was captured */
    assert_int_equal(rcx_rec_change(tr, &c), 0);
    assert_int_equal(c.op, RCX_OP_TRUNCATE);
    assert_null(c.row);
    assert_int_equal(rcx_rec_change(bad, &c), -1); /* no schema */
    json_decref(up);
    json_decref(del);
    json_decref(tr);
    json_decref(bad);
}

static void lsn_text(void **state)
{
    (void)state;
    char s[24];
    rcx_lsn_format(0x16B374D848ull, s);
    assert_string_equal(s, "16/B374D848");
    uint64_t v;
    assert_int_equal(rcx_lsn_parse("16/B374D848", &v), 0);
    assert_int_equal(v, 0x16B374D848ull);
    assert_int_equal(rcx_lsn_parse("16/B374D848 ", &v), -1);
    assert_int_equal(rcx_lsn_parse("16", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orphan_line_round_trip),
        cmocka_unit_test(call_tx_and_accessors),
        cmocka_unit_test(an_empty_transaction_object_stays_valid),
        cmocka_unit_test(peek_and_kinds_refuse_the_rest),
        cmocka_unit_test(changes_and_their_rows),
        cmocka_unit_test(lsn_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
