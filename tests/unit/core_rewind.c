/*
 * Unit tests for core/rewind.c: a test's changes are undone newest first,
 * each by its opposite, with the values the capture holds; whatever cannot be
 * undone exactly is refused with a reason that names the call.
 */
#include "test.h"

#include "core/rewind.h"

static json_t *j(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (v == NULL)
        fail_msg("bad JSON in test: %s: %s", e.text, text);
    return v;
}

#define CALL(seq, txs)                                                                                       \
    "{\"type\":\"call\",\"seq\":" #seq ",\"request\":{\"method\":\"POST\",\"path\":\"/t\"},"                 \
    "\"db\":{\"status\":\"complete\",\"transactions\":[" txs "]}}"

static int plan(const char *const *texts, size_t n, core_rw_plan_t *p, rcx_err_t *why)
{
    json_t *recs[8];
    for (size_t i = 0; i < n; i++)
        recs[i] = j(texts[i]);
    int rc = core_rewind_plan(recs, n, p, why);
    for (size_t i = 0; i < n; i++)
        json_decref(recs[i]);
    return rc;
}

static void newest_first_each_undone_by_its_opposite(void **state)
{
    (void)state;
    const char *recs[] = {
        /* an orphan (a fixture's seed), committed last */
        "{\"type\":\"orphan\",\"test\":\"t\",\"xid\":9,\"commit_lsn\":\"0/"
        "300\",\"changes\":[{\"op\":\"delete\","
        "\"schema\":\"public\",\"table\":\"tags\",\"old\":{\"id\":4,\"name\":\"x\",\"meta\":{\"a\":[1,2]}}}]"
        "}",
        CALL(
            1,
            "{\"attribution\":\"window\",\"xid\":7,\"commit_lsn\":\"0/100\",\"changes\":["
            "{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"tasks\",\"new\":{\"id\":1,\"done\":false}},"
            "{\"op\":\"update\",\"schema\":\"public\",\"table\":\"tasks\",\"old\":{\"id\":1,\"done\":false},"
            "\"new\":{\"id\":1,\"done\":true},\"changed\":[\"done\"]}]}"),
    };
    core_rw_plan_t p;
    rcx_err_t why = {{0}};
    assert_int_equal(plan(recs, 2, &p, &why), 0);
    assert_int_equal(p.transactions, 2);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.steps[0].kind, CORE_RW_INSERT); /* the newest transaction first */
    assert_string_equal(p.steps[0].table, "tags");
    assert_int_equal(p.steps[1].kind, CORE_RW_UPDATE); /* then the last change of the older one */
    assert_int_equal(p.steps[1].nput, 1);
    assert_string_equal(p.steps[1].put[0].name, "done");
    assert_string_equal(p.steps[1].put[0].value, "false");
    assert_int_equal(p.steps[2].kind, CORE_RW_DELETE);

    /* SQL: by primary key, values cast to the column's type; a json value as its document */
    core_rw_column_t tasks[] = {{"id", "bigint", true, false}, {"done", "boolean", false, false}};
    core_rw_column_t tags[] = {{"id", "integer", true, false},
                               {"name", "text", false, false},
                               {"meta", "jsonb", false, false},
                               {"slug", "text", false, true}};
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    const char *params[16];
    size_t np;
    assert_int_equal(core_rewind_sql(&p.steps[1], &(core_rw_table_t){tasks, 2}, &sql, params, &np, &why), 0);
    rcx_buf_append(&sql, "", 1);
    assert_string_equal(sql.base,
                        "UPDATE \"public\".\"tasks\" SET \"done\" = $1::boolean WHERE \"id\" = $2::bigint");
    assert_int_equal(np, 2);
    assert_string_equal(params[0], "false");
    assert_string_equal(params[1], "1");
    rcx_buf_reset(&sql);
    assert_int_equal(core_rewind_sql(&p.steps[0], &(core_rw_table_t){tags, 4}, &sql, params, &np, &why), 0);
    rcx_buf_append(&sql, "", 1);
    assert_string_equal(sql.base,
                        "INSERT INTO \"public\".\"tags\" (\"id\", \"name\", \"meta\") OVERRIDING SYSTEM "
                        "VALUE VALUES ($1::integer, $2::text, $3::jsonb)");
    assert_string_equal(params[2], "{\"a\":[1,2]}");
    /* a table without a primary key: one row that has every value the image holds */
    core_rw_column_t nokey[] = {{"id", "bigint", false, false}, {"done", "boolean", false, false}};
    rcx_buf_reset(&sql);
    assert_int_equal(core_rewind_sql(&p.steps[2], &(core_rw_table_t){nokey, 2}, &sql, params, &np, &why), 0);
    rcx_buf_append(&sql, "", 1);
    assert_string_equal(
        sql.base, "DELETE FROM \"public\".\"tasks\" WHERE ctid = (SELECT ctid FROM \"public\".\"tasks\" "
                  "WHERE \"id\"::text IS NOT DISTINCT FROM ($1::bigint)::text AND \"done\"::text IS "
                  "NOT DISTINCT FROM ($2::boolean)::text LIMIT 1)");
    rcx_buf_free(&sql);
    core_rewind_plan_free(&p);
}

static void refuse(const char *rec, const char *expect)
{
    core_rw_plan_t p;
    rcx_err_t why = {{0}};
    assert_int_equal(plan(&rec, 1, &p, &why), -1);
    if (strstr(why.msg, expect) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", expect, why.msg);
}

static void refuses_what_it_cannot_undo_exactly(void **state)
{
    (void)state;
    refuse(CALL(3, "{\"attribution\":\"ambiguous\",\"xid\":7,\"commit_lsn\":\"0/100\",\"changes\":[]}"),
           "call #3 (POST /t): transaction 7 may be another call's");
    refuse(
        CALL(4,
             "{\"attribution\":\"window\",\"xid\":7,\"commit_lsn\":\"0/100\",\"changes\":[{\"op\":\"delete\","
             "\"schema\":\"public\",\"table\":\"tasks\",\"key\":{\"id\":1},\"old_image\":\"key\"}]}"),
        "--replica-identity-full");
    refuse(
        CALL(5,
             "{\"attribution\":\"window\",\"xid\":7,\"commit_lsn\":\"0/100\",\"changes\":[{\"op\":\"delete\","
             "\"schema\":\"public\",\"table\":\"users\",\"old\":{\"id\":1,\"password_hash\":\"[REDACTED]\"}}]"
             "}"),
        "public.users.password_hash must be put back, and the capture holds it redacted");
    refuse(
        CALL(6, "{\"attribution\":\"window\",\"xid\":7,\"commit_lsn\":\"0/100\",\"images_truncated\":true}"),
        "cut at --max-tx-rows");
    refuse(CALL(7, "{\"attribution\":\"window\",\"xid\":7,\"commit_lsn\":\"0/"
                   "100\",\"changes\":[{\"op\":\"truncate\","
                   "\"schema\":\"public\",\"table\":\"tasks\"}]}"),
           "TRUNCATE public.tasks");
    refuse("{\"type\":\"call\",\"seq\":8,\"db\":{\"status\":\"unavailable\",\"reason\":\"stream down\"}}",
           "not known (db unavailable: stream down)");
    refuse("{\"type\":\"orphan\",\"tests\":[\"a\",\"b\"],\"xid\":9,\"commit_lsn\":\"0/300\",\"changes\":[]}",
           "orphan transaction 9 was committed while 2 tests ran");
    /* a redacted column that need not be put back is no obstacle: an insert is undone by its key */
    const char *ok =
        CALL(9, "{\"attribution\":\"tag\",\"xid\":7,\"commit_lsn\":\"0/100\",\"changes\":[{\"op\":"
                "\"insert\",\"schema\":\"public\",\"table\":\"users\",\"new\":{\"id\":1,"
                "\"password_hash\":\"[REDACTED]\"}}]}");
    core_rw_plan_t p;
    rcx_err_t why = {{0}};
    assert_int_equal(plan(&ok, 1, &p, &why), 0);
    assert_int_equal(p.steps[0].nnow, 1);
    core_rewind_plan_free(&p);
}

/* One transaction on two calls of the test (windows of the same test) is undone once. */
static void one_transaction_on_two_calls_is_undone_once(void **state)
{
    (void)state;
    const char *tx =
        "{\"attribution\":\"window\",\"xid\":7,\"commit_lsn\":\"0/100\",\"changes\":[{\"op\":\"insert\","
        "\"schema\":\"public\",\"table\":\"tasks\",\"new\":{\"id\":1}}]}";
    char a[512], b[512];
    snprintf(a, sizeof(a),
             "{\"type\":\"call\",\"seq\":1,\"db\":{\"status\":\"complete\",\"transactions\":[%s]}}", tx);
    snprintf(b, sizeof(b),
             "{\"type\":\"call\",\"seq\":2,\"db\":{\"status\":\"complete\",\"transactions\":[%s]}}", tx);
    const char *recs[] = {a, b};
    core_rw_plan_t p;
    rcx_err_t why = {{0}};
    assert_int_equal(plan(recs, 2, &p, &why), 0);
    assert_int_equal(p.n, 1);
    core_rewind_plan_free(&p);
}

/* Nothing to undo (a test that changed no row): an empty plan, no work. */
static void nothing_to_undo(void **state)
{
    (void)state;
    core_rw_plan_t p;
    rcx_err_t why = {{0}};
    assert_int_equal(core_rewind_plan(NULL, 0, &p, &why), 0);
    assert_int_equal(p.n, 0);
    const char *none = CALL(1, "");
    assert_int_equal(plan(&none, 1, &p, &why), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.transactions, 0);
    core_rewind_plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(newest_first_each_undone_by_its_opposite),
        cmocka_unit_test(refuses_what_it_cannot_undo_exactly),
        cmocka_unit_test(one_transaction_on_two_calls_is_undone_once),
        cmocka_unit_test(nothing_to_undo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
