/*
 * Unit tests for core/remap.c: generated ids and uuids
 * a baseline response returned are swapped for the new run's in later paths,
 * queries and bodies, each in its role (an organization 1 is not a job 1).
 */
#include "test.h"

#include "core/remap.h"

static json_t *j(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return v;
}

static void learn(core_remap_t *m, const char *resource, const char *old, const char *now)
{
    json_t *a = j(old), *b = j(now);
    core_remap_learn(m, resource, a, b);
    json_decref(a);
    json_decref(b);
}

static void ids_are_remapped_in_their_role(void **state)
{
    (void)state;
    core_remap_t m;
    core_remap_init(&m);
    learn(&m, "organizations", "{\"id\":1,\"name\":\"a\"}", "{\"id\":7,\"name\":\"a\"}");
    learn(&m, "campaigns", "{\"id\":\"0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f\",\"org_id\":1}",
          "{\"id\":\"9a9a9a9a-1d2a-4c5b-9e8f-7a6b5c4d3e2f\",\"org_id\":7}");
    learn(&m, "jobs", "{\"jobs\":[{\"id\":1},{\"id\":2}]}", "{\"jobs\":[{\"id\":40},{\"id\":41}]}");
    char *p = core_remap_text(&m, "/api/v1/organizations/1/campaigns", '/');
    assert_string_equal(p, "/api/v1/organizations/7/campaigns");
    free(p);
    p = core_remap_text(&m, "/api/v1/campaigns/0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f/jobs/2", '/');
    assert_string_equal(p, "/api/v1/campaigns/9a9a9a9a-1d2a-4c5b-9e8f-7a6b5c4d3e2f/jobs/41");
    free(p);
    p = core_remap_text(&m, "/api/v1/things/1", '/'); /* 1 is an organization and a job: no role, no guess */
    assert_string_equal(p, "/api/v1/things/1");
    free(p);
    p = core_remap_text(&m, "job_id=2&org_id=1&page=1", '&');
    assert_string_equal(p, "job_id=41&org_id=7&page=1"); /* org_id: learned from the campaign's org_id */
    free(p);
    json_t *body =
        j("{\"campaign\":\"0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f\",\"job_id\":1,\"count\":1,\"tags\":[2]}");
    json_t *out = core_remap_json(&m, body);
    char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        s, "{\"campaign\":\"9a9a9a9a-1d2a-4c5b-9e8f-7a6b5c4d3e2f\",\"count\":1,\"job_id\":40,\"tags\":[2]}");
    free(s);
    json_decref(out);
    json_decref(body);
    core_remap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_are_remapped_in_their_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
