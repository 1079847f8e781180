/*
 * Unit tests for core/remap.c: a replay's requests carry the new run's values
 * where the baseline's flow shows a reference (paths, queries, bodies, tokens
 * inside strings), and nothing else is touched: values the client made up,
 * flags, values no earlier call had.
 */
#include "test.h"

#include "core/remap.h"

static json_t *j(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return v;
}

static json_t *call(const char *path, const char *req_body, const char *res_body)
{
    json_t *c = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:i, s:o}}", "type", "call", "request", "method",
                          "POST", "path", path, "query", "", "response", "status", 200, "body", j(res_body));
    if (req_body)
        json_object_set_new(json_object_get(c, "request"), "body", j(req_body));
    return c;
}

static void references_get_the_new_runs_values(void **state)
{
    (void)state;
    json_t *run[] = {
        call("/api/articles", "{\"title\":\"Dragons 9f3a\",\"page\":1}",
             "{\"article\":{\"slug\":\"dragons-9f3a-mk3i5b\",\"id\":7,\"token\":\"eyJ0eXAi.old.sig\"}}"),
        call("/api/articles/dragons-9f3a-mk3i5b/comments",
             "{\"about\":\"dragons-9f3a-mk3i5b\",\"n\":7,\"page\":1}", "{}"),
    };
    core_flow_t *f = core_flow_build(run, 2);
    core_remap_t m;
    core_remap_init(&m, f);
    json_t *now =
        j("{\"article\":{\"slug\":\"dragons-9f3a-zz99qq\",\"id\":40,\"token\":\"eyJ0eXAi.new.sig\"}}");
    core_remap_learn(&m, 0, json_object_get(json_object_get(run[0], "response"), "body"), now);

    char *p = core_remap_path(&m, 1, "/api/articles/dragons-9f3a-mk3i5b/comments");
    assert_string_equal(p, "/api/articles/dragons-9f3a-zz99qq/comments");
    free(p);
    p = core_remap_path(&m, 0, "/api/articles/dragons-9f3a-mk3i5b"); /* call 0 is before any origin */
    assert_string_equal(p, "/api/articles/dragons-9f3a-mk3i5b");
    free(p);
    p = core_remap_query(&m, 1, "slug=dragons-9f3a-mk3i5b&id=7&page=1&x=1");
    assert_string_equal(p, "slug=dragons-9f3a-zz99qq&id=40&page=1&x=1");
    free(p);
    p = core_remap_string(&m, 1, "Token eyJ0eXAi.old.sig", 22); /* a token inside a header */
    assert_string_equal(p, "Token eyJ0eXAi.new.sig");
    free(p);

    json_t *body = core_remap_json(&m, 1, json_object_get(json_object_get(run[1], "request"), "body"));
    char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"about\":\"dragons-9f3a-zz99qq\",\"n\":40,\"page\":1}");
    free(s);
    json_decref(body);
    /* what the client made up is sent as it was: the new run has the same title */
    json_t *made = j("{\"title\":\"Dragons 9f3a\",\"note\":\"see article 7.\"}");
    body = core_remap_json(&m, 1, made);
    json_decref(made);
    s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"note\":\"see article 40.\",\"title\":\"Dragons 9f3a\"}");
    free(s);
    json_decref(body);
    core_remap_free(&m);
    core_flow_free(f);
    json_decref(now);
    json_decref(run[0]);
    json_decref(run[1]);
}

/* A call that inserted one row (with its identity) and answered its id. */
static json_t *insert(const char *path, const char *table, int id)
{
    char res[64];
    snprintf(res, sizeof(res), "{\"id\":%d}", id);
    json_t *c = call(path, NULL, res);
    json_object_set_new(c, "db",
                        json_pack("{s:s, s:[{s:[{s:s, s:s, s:s, s:[s], s:{s:i}}]}]}", "status", "complete",
                                  "transactions", "changes", "op", "insert", "schema", "public", "table",
                                  table, "identity", "id", "new", "id", id));
    return c;
}

static void one_value_of_two_things_goes_by_its_role(void **state)
{
    (void)state;
    /* a database that was not emptied: organization 1 became 7, job 1 became 40 */
    json_t *run[] = {insert("/orgs", "orgs", 1), insert("/orgs/1/jobs", "jobs", 1), call("/x", NULL, "{}")};
    core_flow_t *f = core_flow_build(run, 3);
    core_remap_t m;
    core_remap_init(&m, f);
    json_t *org = j("{\"id\":7}"), *job = j("{\"id\":40}");
    core_remap_learn(&m, 0, json_object_get(json_object_get(run[0], "response"), "body"), org);
    core_remap_learn(&m, 1, json_object_get(json_object_get(run[1], "response"), "body"), job);
    char *p = core_remap_path(&m, 2, "/orgs/1/jobs/1");
    assert_string_equal(p, "/orgs/7/jobs/40");
    free(p);
    p = core_remap_query(&m, 2, "org_id=1&job=1");
    assert_string_equal(p, "org_id=7&job=40");
    free(p);
    json_t *body = j("{\"org_id\":1,\"job_id\":1}"), *out = core_remap_json(&m, 2, body);
    char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"job_id\":40,\"org_id\":7}");
    free(s);
    json_decref(out);
    json_decref(body);
    json_decref(org);
    json_decref(job);
    core_remap_free(&m);
    core_flow_free(f);
    for (size_t i = 0; i < 3; i++)
        json_decref(run[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(references_get_the_new_runs_values),
        cmocka_unit_test(one_value_of_two_things_goes_by_its_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
