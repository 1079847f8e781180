/* Unit tests for proxy/cdc/{relcache,values,txbuild}.c: real PostgreSQL 15 frames in,
 * "tx" capture lines out, parsed back with jansson. */
#include "test.h"

#include "core/txbuild.h"
#include "core/values.h"
#include "frames.h"

#include <jansson.h>

static json_t *txs[64];
static size_t ntx;

/* Streams frames.txt through decoder, relation cache and builder, as the CDC stream will. */
static void run_frames(const core_txbuild_opts_t *opts)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/pgoutput/frames.txt", getenv("RECAP_TEST_DATA"));
    static test_frame_t frames[256];
    size_t nframes = test_frames_load(path, frames, 256);
    assert_true(nframes > 40);
    core_pgo_decoder_t dec;
    core_relcache_t rc;
    core_txbuild_t tb;
    core_pgo_decoder_init(&dec);
    core_relcache_init(&rc);
    core_txbuild_init(&tb, opts);
    ntx = 0;
    for (size_t fi = 0; fi < nframes; fi++) {
        const uint8_t *bytes = frames[fi].bytes;
        size_t n = frames[fi].len;
        core_pgo_msg_t m;
        rcx_err_t err;
        assert_int_equal(core_pgo_decode(&dec, bytes, n, &m, &err), 0);
        rcx_buf_t out;
        rcx_buf_init(&out, SIZE_MAX);
        int rc2 = core_txbuild_apply(&tb, &rc, &m, &out, &err);
        if (rc2 == 1) {
            json_error_t je;
            txs[ntx] = json_loadb(out.base, out.len, 0, &je);
            if (txs[ntx] == NULL)
                fail_msg("tx line is not JSON (%s): %.*s", je.text, (int)out.len, out.base);
            assert_null(memchr(out.base, '\n', out.len));
            ntx++;
            rc2 = 0;
        }
        rcx_buf_free(&out);
        if (rc2 != 0)
            fail_msg("%s", err.msg);
    }
    for (size_t fi = 0; fi < nframes; fi++)
        free(frames[fi].bytes);
    core_txbuild_dispose(&tb);
    core_relcache_dispose(&rc);
    core_pgo_decoder_dispose(&dec);
}

static void free_txs(void)
{
    for (size_t i = 0; i < ntx; i++)
        json_decref(txs[i]);
    ntx = 0;
}

static json_t *change(size_t tx, size_t i)
{
    return json_array_get(json_object_get(txs[tx], "changes"), i);
}

#define S(v) json_string_value(v)
#define G(o, k) json_object_get(o, k)

static void values_keep_postgres_semantics(void **state)
{
    (void)state;
    const core_txbuild_opts_t opts = {.max_rows = 1000, .max_bytes = 1 << 20};
    run_frames(&opts);
    assert_int_equal(ntx, 14);
    json_t *tx = txs[0];
    assert_null(G(tx, "type")); /* a transaction object: the codec gives it a place (call or orphan) */
    assert_true(json_integer_value(G(tx, "xid")) > 0);
    assert_non_null(S(G(tx, "commit_lsn")));
    assert_true(json_is_null(G(tx, "tag")));
    assert_int_equal(json_integer_value(G(G(G(tx, "tables"), "public.t_types"), "insert")), 1);
    json_t *c = change(0, 0);
    assert_string_equal(S(G(c, "op")), "insert");
    assert_string_equal(S(G(c, "schema")), "public");
    assert_string_equal(S(G(c, "table")), "t_types");
    assert_null(G(c, "old_image"));
    json_t *row = G(c, "new");
    assert_int_equal(json_integer_value(G(row, "id")), 1);
    assert_int_equal(json_integer_value(G(row, "i2")), -32768);
    assert_int_equal(json_integer_value(G(row, "i8")), 9223372036854775807LL);
    assert_true(json_is_true(G(row, "b")));
    assert_string_equal(S(G(row, "n")), "12345678901234567890.123456789"); /* exact, as a string */
    assert_true(json_is_real(G(row, "f8")));
    assert_true(json_real_value(G(row, "f8")) == 1.5e300);
    assert_int_equal(json_integer_value(json_array_get(G(G(row, "j"), "a"), 1)), 2);
    assert_true(json_is_null(G(G(G(row, "jb"), "b"), "c")));
    assert_string_equal(S(G(row, "ts")), "2026-11-24 12:00:00.123456+00");
    assert_string_equal(S(G(row, "u")), "8d1e2b4c-7a1f-4f7e-9a53-5c2a4e2d9b10");
    assert_string_equal(S(G(row, "t")), "h\xc3\xa9llo \"q\" \\n");
    assert_string_equal(S(G(row, "arr")), "{1,2,3}");
    assert_string_equal(S(G(row, "by")), "\\x00ff");
    json_t *nulls = G(change(1, 0), "new");
    assert_int_equal(json_object_size(nulls), 13);
    assert_true(json_is_null(G(nulls, "n")));
    free_txs();
}

static void updates_deletes_toast_and_identities(void **state)
{
    (void)state;
    const core_txbuild_opts_t opts = {.max_rows = 1000, .max_bytes = 1 << 20};
    run_frames(&opts);
    /* 2 insert_toast, 3 update (default identity, key unchanged) */
    json_t *u = change(3, 0);
    assert_string_equal(S(G(u, "op")), "update");
    assert_string_equal(S(G(u, "old_image")), "none");
    assert_null(G(u, "old"));
    assert_null(G(u, "changed"));
    assert_string_equal(S(G(G(u, "new"), "note")), "b");
    assert_null(G(G(u, "new"), "big")); /* not invented */
    assert_string_equal(S(json_array_get(G(u, "toast_unchanged"), 0)), "big");
    /* 4 update of the key: the old key only */
    u = change(4, 0);
    assert_string_equal(S(G(u, "old_image")), "key");
    assert_int_equal(json_object_size(G(u, "key")), 1);
    assert_int_equal(json_integer_value(G(G(u, "key"), "id")), 1);
    assert_int_equal(json_integer_value(G(G(u, "new"), "id")), 2);
    /* 5 delete, default identity */
    json_t *d = change(5, 0);
    assert_string_equal(S(G(d, "op")), "delete");
    assert_int_equal(json_integer_value(G(G(d, "key"), "id")), 2);
    assert_null(G(d, "new"));
    /* 7 update under REPLICA IDENTITY FULL: TOAST carried from the old row, changed computed */
    u = change(7, 0);
    assert_string_equal(S(G(u, "old_image")), "full");
    assert_string_equal(S(G(G(u, "old"), "note")), "a");
    assert_true(strlen(S(G(G(u, "new"), "big"))) > 40000);
    assert_string_equal(S(G(G(u, "new"), "big")), S(G(G(u, "old"), "big")));
    assert_null(G(u, "toast_unchanged"));
    assert_int_equal(json_array_size(G(u, "changed")), 1);
    assert_string_equal(S(json_array_get(G(u, "changed"), 0)), "note");
    d = change(8, 0);
    assert_string_equal(S(G(d, "old_image")), "full");
    assert_int_equal(json_object_size(G(d, "old")), 3);
    free_txs();
}

static void truncate_tag_and_schema_change(void **state)
{
    (void)state;
    const core_txbuild_opts_t opts = {.max_rows = 1000, .max_bytes = 1 << 20};
    run_frames(&opts);
    json_t *t = txs[9];
    assert_int_equal(json_array_size(G(t, "changes")), 2);
    assert_string_equal(S(G(change(9, 0), "op")), "truncate");
    assert_true(json_is_true(G(change(9, 0), "cascade")));
    assert_true(json_is_true(G(change(9, 1), "restart_identity")));
    assert_int_equal(json_integer_value(G(G(G(t, "tables"), "public.t_trunc_b"), "truncate")), 1);
    /* the transactional message's transaction carries the tag and no changes */
    json_t *tagged = NULL;
    for (size_t i = 0; i < ntx; i++)
        if (json_is_string(G(txs[i], "tag")))
            tagged = txs[i];
    assert_non_null(tagged);
    assert_string_equal(S(G(tagged, "tag")), "req-1");
    assert_int_equal(json_array_size(G(tagged, "changes")), 0);
    assert_int_equal(json_object_size(G(tagged, "tables")), 0);
    /* an enum (described by a Type message) is its label; a transaction with an origin is normal */
    assert_string_equal(S(G(G(change(11, 0), "new"), "m")), "happy");
    assert_string_equal(S(G(G(change(12, 0), "new"), "m")), "sad");
    /* after ALTER TABLE ... ADD COLUMN the new Relation message is used */
    assert_string_equal(S(G(G(change(ntx - 1, 0), "new"), "extra")), "x");
    free_txs();
}

/* recap's own messages: recap.test names the test whose direct write it is, recap.rewind marks a rewind;
 * both last until the commit, which hands the transaction on and forgets them. */
static void recap_messages_mark_the_transaction(void **state)
{
    (void)state;
    core_txbuild_t tb;
    core_txbuild_init(&tb, &(core_txbuild_opts_t){.max_rows = 10, .max_bytes = 1 << 20});
    rcx_err_t err = {{0}};
    core_pgo_msg_t begin = {.type = CORE_PGO_BEGIN, .u.begin = {.final_lsn = 100, .xid = 7}};
    assert_int_equal(core_txbuild_begin(&tb, &begin, &err), 0);
    core_pgo_msg_t m = {.type = CORE_PGO_MESSAGE,
                        .u.message = {.flags = CORE_PGO_MESSAGE_TRANSACTIONAL,
                                      .prefix = "recap.test",
                                      .content = (const uint8_t *)"t.py::a",
                                      .len = 7}};
    assert_int_equal(core_txbuild_message(&tb, &m, &err), 0);
    m.u.message.content = (const uint8_t *)"t.py::b"; /* the first one counts */
    assert_int_equal(core_txbuild_message(&tb, &m, &err), 0);
    assert_string_equal(tb.test, "t.py::a");
    assert_false(tb.rewind);
    m.u.message.prefix = "recap.rewind";
    assert_int_equal(core_txbuild_message(&tb, &m, &err), 0);
    assert_true(tb.rewind);
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    core_pgo_msg_t commit = {.type = CORE_PGO_COMMIT, .u.commit = {.commit_lsn = 100, .end_lsn = 120}};
    assert_int_equal(core_txbuild_commit(&tb, &commit, &out, &err), 0);
    assert_null(tb.test);
    assert_false(tb.rewind);
    rcx_buf_free(&out);
    core_txbuild_dispose(&tb);
}

static void row_images_are_capped_counts_stay_exact(void **state)
{
    (void)state;
    const core_txbuild_opts_t opts = {.max_rows = 1, .max_bytes = 1 << 20};
    run_frames(&opts);
    json_t *t = txs[9]; /* the truncate of two tables */
    assert_true(json_is_true(G(t, "images_truncated")));
    assert_int_equal(json_array_size(G(t, "changes")), 1);
    assert_int_equal(json_integer_value(G(t, "changes_total")), 2);
    assert_int_equal(json_integer_value(G(G(G(t, "tables"), "public.t_trunc_b"), "truncate")), 1);
    assert_true(json_is_false(G(txs[0], "images_truncated")));
    free_txs();
}

static void out_of_order_input_is_an_error(void **state)
{
    (void)state;
    core_txbuild_opts_t opts = {.max_rows = 10, .max_bytes = 1024};
    core_txbuild_t tb;
    core_txbuild_init(&tb, &opts);
    rcx_err_t err;
    core_pgo_msg_t ins = {.type = 'I'};
    assert_int_equal(core_txbuild_change(&tb, NULL, &ins, &err), -1);
    assert_string_equal(err.msg, "replication: I change outside a transaction");
    core_pgo_msg_t b = {.type = 'B', .u.begin = {.final_lsn = 100, .xid = 7}};
    assert_int_equal(core_txbuild_begin(&tb, &b, &err), 0);
    ins.u.change.relid = 99;
    assert_int_equal(core_txbuild_change(&tb, NULL, &ins, &err), -1);
    assert_string_equal(err.msg, "replication: change to relation 99 before its Relation message");
    core_pgo_msg_t c = {.type = 'C', .u.commit = {.commit_lsn = 200}};
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    assert_int_equal(core_txbuild_commit(&tb, &c, &out, &err), -1);
    assert_string_equal(err.msg, "replication: Commit at 0/C8 does not match its Begin (0/64)");
    assert_false(core_txbuild_in_tx(&tb));
    assert_int_equal(core_txbuild_begin(&tb, &b, &err), 0);
    assert_int_equal(core_txbuild_begin(&tb, &b, &err), -1);
    rcx_buf_free(&out);
    core_txbuild_dispose(&tb);
}

static void names_that_are_not_utf8_still_make_json(void **state)
{
    (void)state;
    core_relcache_t rc;
    core_relcache_init(&rc);
    core_pgo_relcol_t cols[2] = {{1, "id", CORE_OID_INT4, -1}, {0, "big\x80", 25, -1}};
    core_pgo_msg_t r = {
        .type = 'R',
        .u.relation = {
            .relid = 7, .nspname = "s\xff", .relname = "t\xfe", .replident = 'd', .ncols = 2, .cols = cols}};
    const core_rel_t *rel = core_relcache_put(&rc, &r);
    core_txbuild_opts_t opts = {.max_rows = 10, .max_bytes = 4096};
    core_txbuild_t tb;
    core_txbuild_init(&tb, &opts);
    rcx_err_t err;
    core_pgo_msg_t b = {.type = 'B', .u.begin = {.final_lsn = 5, .xid = 1}};
    assert_int_equal(core_txbuild_begin(&tb, &b, &err), 0);
    core_pgo_col_t nc[2] = {{'t', (const uint8_t *)"1", 1}, {'u', NULL, 0}};
    core_pgo_msg_t u = {.type = 'U', .u.change = {.relid = 7, .new_tuple = {2, nc}}};
    assert_int_equal(core_txbuild_change(&tb, rel, &u, &err), 0);
    core_pgo_msg_t c = {.type = 'C', .u.commit = {.commit_lsn = 5, .end_lsn = 6}};
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    assert_int_equal(core_txbuild_commit(&tb, &c, &out, &err), 0);
    json_t *v = json_loadb(out.base, out.len, 0, NULL);
    assert_non_null(v); /* bad bytes become %XX, never invalid JSON */
    assert_non_null(json_object_get(json_object_get(v, "tables"), "s%FF.t%FE"));
    assert_string_equal(S(json_array_get(G(json_array_get(G(v, "changes"), 0), "toast_unchanged"), 0)),
                        "big%80");
    json_decref(v);
    rcx_buf_free(&out);
    core_txbuild_dispose(&tb);
    core_relcache_dispose(&rc);
}

static void value_edge_cases(void **state)
{
    (void)state;
    struct {
        uint32_t oid;
        const char *in, *out;
    } cases[] = {
        {CORE_OID_FLOAT8, "NaN", "\"NaN\""},
        {CORE_OID_FLOAT8, "-Infinity", "\"-Infinity\""},
        {CORE_OID_FLOAT4, "1e-05", "1e-05"},
        {CORE_OID_NUMERIC, "NaN", "\"NaN\""},
        {CORE_OID_BOOL, "maybe", "\"maybe\""},
        {CORE_OID_INT4, "12a", "\"12a\""},
        {CORE_OID_INT8, "-9223372036854775808", "-9223372036854775808"},
        {CORE_OID_INT8, "9223372036855775807", "\"9223372036855775807\""}, /* past 64 bits: a string */
        {CORE_OID_FLOAT8, "1e400", "\"1e400\""},
        {CORE_OID_INT4, "007", "\"007\""},
        {CORE_OID_INT4, "0", "0"},
        {CORE_OID_JSON, "{\n \"a\": 1\n}", "{\"a\":1}"},
        {CORE_OID_JSONB, "[1, \"x\"]", "[1, \"x\"]"},
        {CORE_OID_JSON, "{broken", "\"{broken\""},
        {25, "bad \xff utf8", "\"bad %FF utf8\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rcx_buf_t b;
        rcx_buf_init(&b, SIZE_MAX);
        core_value_json(&b, cases[i].oid, cases[i].in, strlen(cases[i].in));
        rcx_buf_append(&b, "", 1);
        assert_string_equal(b.base, cases[i].out);
        rcx_buf_free(&b);
    }
    char when[32];
    core_pg_time(0, when);
    assert_string_equal(when, "2000-01-01T00:00:00.000000Z");
    core_pg_time(-1, when);
    assert_string_equal(when, "1999-12-31T23:59:59.999999Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_keep_postgres_semantics),
        cmocka_unit_test(updates_deletes_toast_and_identities),
        cmocka_unit_test(truncate_tag_and_schema_change),
        cmocka_unit_test(row_images_are_capped_counts_stay_exact),
        cmocka_unit_test(recap_messages_mark_the_transaction),
        cmocka_unit_test(out_of_order_input_is_an_error),
        cmocka_unit_test(names_that_are_not_utf8_still_make_json),
        cmocka_unit_test(value_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
