/* Unit tests for core/pgoutput.c: real PostgreSQL 15 frames (tests/data/pgoutput/frames.txt,
 * made by make_frames.py), and every way a frame can be broken. */
#include "test.h"

#include "core/pgoutput.h"

#include "frames.h"

typedef test_frame_t frame_t;

static frame_t frames[256];
static size_t nframes;

static int load_frames(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/pgoutput/frames.txt", getenv("RECAP_TEST_DATA"));
    nframes = test_frames_load(path, frames, 256);
    assert_true(nframes > 40);
    return 0;
}

static int free_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < nframes; i++)
        free(frames[i].bytes);
    return 0;
}

static const frame_t *find(const char *label)
{
    for (size_t i = 0; i < nframes; i++)
        if (strcmp(frames[i].label, label) == 0)
            return &frames[i];
    fail_msg("no frame %s", label);
    return NULL;
}

static core_pgo_decoder_t dec;

static core_pgo_msg_t decode(const char *label)
{
    const frame_t *f = find(label);
    core_pgo_msg_t m;
    rcx_err_t err;
    if (core_pgo_decode(&dec, f->bytes, f->len, &m, &err) != 0)
        fail_msg("%s: %s", label, err.msg);
    return m;
}

static void assert_text(const core_pgo_col_t *c, const char *want)
{
    assert_int_equal(c->kind, 't');
    assert_int_equal(c->len, strlen(want));
    assert_memory_equal(c->data, want, c->len);
}

static void every_real_frame_decodes(void **state)
{
    (void)state;
    for (size_t i = 0; i < nframes; i++) {
        core_pgo_msg_t m;
        rcx_err_t err;
        if (core_pgo_decode(&dec, frames[i].bytes, frames[i].len, &m, &err) != 0)
            fail_msg("%s: %s", frames[i].label, err.msg);
        assert_int_equal(m.type, frames[i].label[strlen(frames[i].label) - 1]);
    }
}

static void begin_relation_insert_commit(void **state)
{
    (void)state;
    core_pgo_msg_t b = decode("insert_types:B");
    core_pgo_msg_t c = decode("insert_types:C");
    assert_true(b.u.begin.xid > 0);
    assert_int_equal(b.u.begin.final_lsn, c.u.commit.commit_lsn); /* both the start of the commit record */
    assert_true(c.u.commit.end_lsn > c.u.commit.commit_lsn);
    assert_int_equal(b.u.begin.commit_ts, c.u.commit.commit_ts);

    core_pgo_msg_t r = decode("insert_types:R");
    assert_string_equal(r.u.relation.nspname, "public");
    assert_string_equal(r.u.relation.relname, "t_types");
    assert_int_equal(r.u.relation.replident, 'd');
    assert_int_equal(r.u.relation.ncols, 13);
    assert_string_equal(r.u.relation.cols[0].name, "id");
    assert_int_equal(r.u.relation.cols[0].flags, 1);
    assert_int_equal(r.u.relation.cols[0].typoid, 23);
    assert_int_equal(r.u.relation.cols[4].typoid, 1700); /* numeric */
    assert_int_equal(r.u.relation.cols[7].typoid, 3802); /* jsonb */
    assert_int_equal(r.u.relation.cols[1].flags, 0);

    core_pgo_msg_t in = decode("insert_types:I");
    assert_int_equal(in.u.change.relid, r.u.relation.relid);
    assert_int_equal(in.u.change.old_kind, 0);
    const core_pgo_col_t *v = in.u.change.new_tuple.cols;
    assert_int_equal(in.u.change.new_tuple.ncols, 13);
    assert_text(&v[0], "1");
    assert_text(&v[1], "-32768");
    assert_text(&v[2], "9223372036854775807");
    assert_text(&v[3], "t");
    assert_text(&v[4], "12345678901234567890.123456789");
    assert_text(&v[5], "1.5e+300");
    assert_text(&v[6], "{\"a\": [1, 2]}");
    assert_text(&v[7], "{\"b\": {\"c\": null}}");
    assert_text(&v[8], "2026-11-24 12:00:00.123456+00");
    assert_text(&v[9], "8d1e2b4c-7a1f-4f7e-9a53-5c2a4e2d9b10");
    assert_text(&v[10], "h\xc3\xa9llo \"q\" \\n");
    assert_text(&v[11], "{1,2,3}");
    assert_text(&v[12], "\\x00ff");

    core_pgo_msg_t nulls = decode("insert_nulls:I");
    assert_text(&nulls.u.change.new_tuple.cols[0], "2");
    for (int i = 1; i < 13; i++)
        assert_int_equal(nulls.u.change.new_tuple.cols[i].kind, 'n');
}

static void updates_and_deletes_with_each_identity(void **state)
{
    (void)state;
    /* default identity, key unchanged: no old tuple, the TOASTed column is 'u' */
    core_pgo_msg_t u = decode("update_toast_default:U");
    assert_int_equal(u.u.change.old_kind, 0);
    assert_text(&u.u.change.new_tuple.cols[1], "b");
    assert_int_equal(u.u.change.new_tuple.cols[2].kind, 'u');
    /* default identity, key changed: 'K' with the old key only */
    u = decode("update_key_default:U");
    assert_int_equal(u.u.change.old_kind, 'K');
    assert_text(&u.u.change.old_tuple.cols[0], "1");
    assert_int_equal(u.u.change.old_tuple.cols[1].kind, 'n');
    assert_text(&u.u.change.new_tuple.cols[0], "2");
    core_pgo_msg_t d = decode("delete_default:D");
    assert_int_equal(d.u.change.old_kind, 'K');
    assert_text(&d.u.change.old_tuple.cols[0], "2");
    /* REPLICA IDENTITY FULL: the whole old row; the new row still says 'u' */
    core_pgo_msg_t r = decode("insert_full:R");
    assert_int_equal(r.u.relation.replident, 'f');
    assert_int_equal(r.u.relation.cols[1].flags, 1);
    u = decode("update_full:U");
    assert_int_equal(u.u.change.old_kind, 'O');
    assert_text(&u.u.change.old_tuple.cols[1], "a");
    assert_int_equal(u.u.change.old_tuple.cols[2].kind, 't');
    assert_true(u.u.change.old_tuple.cols[2].len > 40000);
    assert_text(&u.u.change.new_tuple.cols[1], "b");
    assert_int_equal(u.u.change.new_tuple.cols[2].kind, 'u');
    d = decode("delete_full:D");
    assert_int_equal(d.u.change.old_kind, 'O');
    assert_text(&d.u.change.old_tuple.cols[1], "b");
}

static void truncate_messages_and_schema_change(void **state)
{
    (void)state;
    core_pgo_msg_t a = decode("truncate:R");
    core_pgo_msg_t t = decode("truncate:T");
    assert_int_equal(t.u.truncate.nrels, 2);
    assert_int_equal(t.u.truncate.options, 3);                            /* CASCADE | RESTART IDENTITY */
    assert_int_equal(core_pgo_truncate_relid(&t, 0), a.u.relation.relid); /* the first R is t_trunc_a */
    assert_int_not_equal(core_pgo_truncate_relid(&t, 1), a.u.relation.relid);

    core_pgo_msg_t m = decode("message_tx:M");
    assert_int_equal(m.u.message.flags, 1);
    assert_string_equal(m.u.message.prefix, "recap.request");
    assert_int_equal(m.u.message.len, 5);
    assert_memory_equal(m.u.message.content, "req-1", 5);
    core_pgo_msg_t b = decode("message_tx:B");
    assert_int_equal(b.u.begin.final_lsn, decode("message_tx:C").u.commit.commit_lsn);
    m = decode("message_nontx:M");
    assert_int_equal(m.u.message.flags, 0);
    assert_string_equal(m.u.message.prefix, "recap.fence");
    assert_memory_equal(m.u.message.content, "F1", 2);

    core_pgo_msg_t r = decode("schema_change:R");
    assert_int_equal(r.u.relation.ncols, 14);
    assert_string_equal(r.u.relation.cols[13].name, "extra");
    core_pgo_msg_t in = decode("schema_change:I");
    assert_text(&in.u.change.new_tuple.cols[13], "x");
}

static void type_and_origin(void **state)
{
    (void)state;
    core_pgo_msg_t y = decode("custom_type:Y");
    assert_string_equal(y.u.type.nspname, "public");
    assert_string_equal(y.u.type.typname, "mood");
    core_pgo_msg_t r = decode("custom_type:R");
    assert_int_equal(r.u.relation.cols[1].typoid, y.u.type.typoid);
    core_pgo_msg_t o = decode("origin:O");
    assert_string_equal(o.u.origin.name, "upstream_a");
    assert_int_equal(o.u.origin.lsn, 0);
}

static void expect_error(const uint8_t *p, size_t n, const char *want)
{
    core_pgo_msg_t m;
    rcx_err_t err;
    assert_int_equal(core_pgo_decode(&dec, p, n, &m, &err), -1);
    assert_string_equal(err.msg, want);
}

static void every_truncation_of_every_frame_fails_cleanly(void **state)
{
    (void)state;
    for (size_t i = 0; i < nframes; i++) {
        for (size_t n = 0; n < frames[i].len; n++) {
            /* a copy exactly n bytes long, so ASan catches any read past it */
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, frames[i].bytes, n);
            core_pgo_msg_t m;
            rcx_err_t err;
            int rc = core_pgo_decode(&dec, copy, n, &m, &err);
            free(copy);
            if (rc == 0) /* every field is length-checked: no prefix of a frame is a whole frame */
                fail_msg("%s cut to %zu bytes decoded", frames[i].label, n);
        }
    }
}

static void corrupt_frames_say_what_is_wrong(void **state)
{
    (void)state;
    expect_error((const uint8_t *)"", 0, "pgoutput: empty message");
    expect_error((const uint8_t *)"Z", 1, "pgoutput: unknown message type 0x5a");
    expect_error((const uint8_t *)"B\0\0", 3,
                 "pgoutput: Begin message truncated (8 more bytes needed, 2 left)");
    /* Insert whose column kind is garbage */
    const uint8_t bad_kind[] = {'I', 0, 0, 0x40, 0x42, 'N', 0, 1, 'x'};
    expect_error(bad_kind, sizeof(bad_kind), "pgoutput: Insert message: column 1 has unknown kind 0x78");
    /* Insert with a text length past the end */
    const uint8_t long_len[] = {'I', 0, 0, 0x40, 0x42, 'N', 0, 1, 't', 0xff, 0xff, 0xff, 0xff, 'a'};
    expect_error(long_len, sizeof(long_len),
                 "pgoutput: Insert message truncated (4294967295 more bytes needed, 1 left)");
    /* too many columns */
    const uint8_t many[] = {'I', 0, 0, 0x40, 0x42, 'N', 0xff, 0xff};
    expect_error(many, sizeof(many),
                 "pgoutput: Insert message: a tuple has more columns than PostgreSQL allows");
    /* Relation whose name has no NUL */
    const uint8_t rel[] = {'R', 0, 0, 0x40, 0x42, 'p', 'u', 'b'};
    expect_error(rel, sizeof(rel), "pgoutput: Relation message: a string is not NUL-terminated");
    /* Delete without an old tuple */
    const uint8_t del[] = {'D', 0, 0, 0x40, 0x42, 'N', 0, 0};
    expect_error(del, sizeof(del), "pgoutput: Delete message: expected an old tuple ('K' or 'O')");
    /* Commit with trailing garbage */
    uint8_t commit[27] = {'C'};
    expect_error(commit, sizeof(commit), "pgoutput: Commit message: 1 unexpected bytes at the end");
    /* Truncate announcing more relations than it carries */
    const uint8_t trunc[] = {'T', 0, 0, 0, 9, 0, 0, 0, 0, 1};
    expect_error(trunc, sizeof(trunc),
                 "pgoutput: Truncate message truncated (fewer relation ids than announced)");
}

static void reserved_flag_bits_are_refused(void **state)
{
    (void)state;
    uint8_t commit[26] = {CORE_PGO_COMMIT, 0x01};
    expect_error(commit, sizeof(commit), "pgoutput: Commit message: unknown flags 0x01");
    const uint8_t msg[] = {CORE_PGO_MESSAGE, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 'p', 0, 0, 0, 0, 0};
    expect_error(msg, sizeof(msg), "pgoutput: Message message: unknown flags 0x02");
    const uint8_t trunc[] = {CORE_PGO_TRUNCATE, 0, 0, 0, 1, 0x04, 0, 0, 0x40, 0x42};
    expect_error(trunc, sizeof(trunc), "pgoutput: Truncate message: unknown flags 0x04");
    const uint8_t rel[] = {CORE_PGO_RELATION,
                           0,
                           0,
                           0x40,
                           0x42,
                           'p',
                           0,
                           't',
                           0,
                           'd',
                           0,
                           1,
                           0x80,
                           'c',
                           0,
                           0,
                           0,
                           0,
                           23,
                           0xff,
                           0xff,
                           0xff,
                           0xff};
    expect_error(rel, sizeof(rel), "pgoutput: Relation message: unknown flags 0x80");
    /* the defined bits still decode */
    const uint8_t ok[] = {CORE_PGO_TRUNCATE,
                          0,
                          0,
                          0,
                          1,
                          CORE_PGO_TRUNCATE_CASCADE | CORE_PGO_TRUNCATE_RESTART_IDENTITY,
                          0,
                          0,
                          0x40,
                          0x42};
    core_pgo_msg_t m;
    rcx_err_t err;
    assert_int_equal(core_pgo_decode(&dec, ok, sizeof(ok), &m, &err), 0);
    assert_int_equal(m.u.truncate.options, 3);
}

static void copydata_frames(void **state)
{
    (void)state;
    uint8_t k[18] = {'k', 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 5, 1};
    core_pgo_copydata_t cd;
    rcx_err_t err;
    assert_int_equal(core_pgo_parse_copydata(k, sizeof(k), &cd, &err), 0);
    assert_int_equal(cd.type, 'k');
    assert_int_equal(cd.wal_end, 0x100000010ull);
    assert_true(cd.reply_requested);
    assert_int_equal(core_pgo_parse_copydata(k, 17, &cd, &err), -1);
    assert_string_equal(err.msg, "replication: keepalive message truncated (1 more bytes needed, 0 left)");
    uint8_t w[26] = {'w', 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 'B'};
    assert_int_equal(core_pgo_parse_copydata(w, sizeof(w), &cd, &err), 0);
    assert_int_equal(cd.wal_start, 7);
    assert_int_equal(cd.len, 1);
    assert_int_equal(cd.payload[0], 'B');
    assert_int_equal(core_pgo_parse_copydata((const uint8_t *)"q", 1, &cd, &err), -1);
    assert_string_equal(err.msg, "replication: unknown CopyData message type 0x71");

    uint8_t r[34];
    assert_int_equal(core_pgo_standby_status(r, 0x1234, 0x1200, 0x1100, 42, true), 34);
    assert_int_equal(r[0], 'r');
    assert_int_equal(r[7], 0x12);
    assert_int_equal(r[8], 0x34);
    assert_int_equal(r[32], 42);
    assert_int_equal(r[33], 1);
}

int main(void)
{
    core_pgo_decoder_init(&dec);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_real_frame_decodes),
        cmocka_unit_test(begin_relation_insert_commit),
        cmocka_unit_test(updates_and_deletes_with_each_identity),
        cmocka_unit_test(truncate_messages_and_schema_change),
        cmocka_unit_test(type_and_origin),
        cmocka_unit_test(every_truncation_of_every_frame_fails_cleanly),
        cmocka_unit_test(corrupt_frames_say_what_is_wrong),
        cmocka_unit_test(reserved_flag_bits_are_refused),
        cmocka_unit_test(copydata_frames),
    };
    int rc = cmocka_run_group_tests(tests, load_frames, free_frames);
    core_pgo_decoder_dispose(&dec);
    return rc;
}
