/*
 * Unit tests for tools/diff.c: path templates, alignment (insertions,
 * deletions, reordering), ids and uuids of the same role, timestamps,
 * row changes, explicit and learned noise.
 */
#include "test.h"

#include "common/buf.h"
#include "tools/diff.h"

static json_t *call(const char *method, const char *path, int status, const char *body, const char *db)
{
    char buf[4096];
    snprintf(buf, sizeof(buf),
             "{\"type\":\"call\",\"seq\":1,\"request\":{\"method\":\"%s\",\"path\":\"%s\"},\"response\":{"
             "\"status\":%d,"
             "\"headers\":{\"content-type\":\"application/json\"},\"body\":%s},\"db\":%s}",
             method, path, status, body, db ? db : "{\"status\":\"disabled\"}");
    json_error_t e;
    json_t *c = json_loads(buf, 0, &e);
    if (c == NULL)
        fail_msg("bad test JSON: %s: %s", e.text, buf);
    return c;
}

static void free_all(json_t **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(v[i]);
}

/* The report as text: "KEY|where: a -> b" lines and "KEY|only A" lines. */
static char *run(json_t **a, size_t na, json_t **b, size_t nb, const rt_noise_t *noise)
{
    rt_diff_t d;
    rt_diff_run(a, na, b, nb, noise, &d);
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    for (size_t i = 0; i < d.n; i++) {
        char line[1024];
        if (!d.pairs[i].has_a || !d.pairs[i].has_b) {
            snprintf(line, sizeof(line), "%s|only %s\n", d.pairs[i].key, d.pairs[i].has_a ? "A" : "B");
            rcx_buf_append(&out, line, strlen(line));
        }
        for (size_t k = 0; k < d.pairs[i].nd; k++) {
            snprintf(line, sizeof(line), "%s|%s: %s -> %s\n", d.pairs[i].key, d.pairs[i].d[k].where,
                     d.pairs[i].d[k].a, d.pairs[i].d[k].b);
            rcx_buf_append(&out, line, strlen(line));
        }
    }
    rcx_buf_append(&out, "", 1);
    rt_diff_free(&d);
    return out.base;
}

static void expect(json_t **a, size_t na, json_t **b, size_t nb, const rt_noise_t *noise, const char *want)
{
    char *got = run(a, na, b, nb, noise);
    if (strcmp(got, want) != 0)
        fail_msg("diff:\n%s\nwanted:\n%s", got, want);
    free(got);
}

static void keys_are_templates(void **state)
{
    (void)state;
    json_t *c = call("GET", "/orgs/42/campaigns/0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f/x1", 200, "{}", NULL);
    char *k = rt_call_key(c);
    assert_string_equal(k, "GET /orgs/{org}/campaigns/{campaign}/x1");
    free(k);
    json_decref(c);
}

static void ids_and_uuids_of_the_same_role_are_noise(void **state)
{
    (void)state;
    /* run A made org 1 and campaign U1; run B made org 7 and campaign U2: the same thing */
    json_t *a[] = {
        call("POST", "/orgs", 201, "{\"id\":1,\"at\":\"2026-11-24T10:00:00Z\"}",
             "{\"status\":\"complete\",\"transactions\":[{\"tables\":{\"public.orgs\":{\"insert\":1}},"
             "\"changes\":[{\"op\":"
             "\"insert\",\"schema\":\"public\",\"table\":\"orgs\",\"identity\":[\"id\"],\"new\":{\"id\":1,"
             "\"created\":\"2026-11-24 "
             "10:00:00+00\"}}]}]}"),
        call("POST", "/orgs/1/campaigns", 201,
             "{\"id\":\"0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f\",\"org_id\":1}", NULL),
        call("GET", "/campaigns/0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f", 200,
             "{\"id\":\"0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f\"}", NULL),
    };
    json_t *b[] = {
        call("POST", "/orgs", 201, "{\"id\":7,\"at\":\"2026-11-25T11:30:00Z\"}",
             "{\"status\":\"complete\",\"transactions\":[{\"tables\":{\"public.orgs\":{\"insert\":1}},"
             "\"changes\":[{\"op\":"
             "\"insert\",\"schema\":\"public\",\"table\":\"orgs\",\"identity\":[\"id\"],\"new\":{\"id\":7,"
             "\"created\":\"2026-11-25 "
             "11:30:00+00\"}}]}]}"),
        call("POST", "/orgs/7/campaigns", 201,
             "{\"id\":\"9a9a9a9a-1d2a-4c5b-9e8f-7a6b5c4d3e2f\",\"org_id\":7}", NULL),
        call("GET", "/campaigns/9a9a9a9a-1d2a-4c5b-9e8f-7a6b5c4d3e2f", 200,
             "{\"id\":\"9a9a9a9a-1d2a-4c5b-9e8f-7a6b5c4d3e2f\"}", NULL),
    };
    expect(a, 3, b, 3, NULL, "");
    free_all(a, 3);
    free_all(b, 3);
    /* values that came from nowhere in the run (seeded rows) are literals: run A reading organization 1
     * and run B reading 7 or 8 differ, every time */
    json_t *x[] = {call("GET", "/orgs/1", 200, "{\"id\":1}", NULL),
                   call("GET", "/orgs/1", 200, "{\"id\":1}", NULL)};
    json_t *y[] = {call("GET", "/orgs/7", 200, "{\"id\":7}", NULL),
                   call("GET", "/orgs/8", 200, "{\"id\":8}", NULL)};
    expect(x, 2, y, 2, NULL,
           "GET /orgs/{org}|request.path: \"/orgs/1\" -> \"/orgs/7\"\n"
           "GET /orgs/{org}|response.body.id: 1 -> 7\n"
           "GET /orgs/{org}|request.path: \"/orgs/1\" -> \"/orgs/8\"\n"
           "GET /orgs/{org}|response.body.id: 1 -> 8\n");
    free_all(x, 2);
    free_all(y, 2);
}

static void insertions_and_deletions_do_not_shift_the_rest(void **state)
{
    (void)state;
    json_t *a[] = {call("GET", "/a", 200, "1", NULL), call("GET", "/b", 200, "2", NULL),
                   call("GET", "/c", 200, "3", NULL), call("GET", "/d", 200, "4", NULL)};
    json_t *b[] = {call("GET", "/a", 200, "1", NULL), call("GET", "/x", 200, "9", NULL),
                   call("GET", "/b", 200, "2", NULL), call("GET", "/d", 200, "5", NULL)};
    expect(a, 4, b, 4, NULL, "GET /x|only B\nGET /c|only A\nGET /d|response.body: 4 -> 5\n");
    /* reordered calls: each is found again, the ones passed over are reported once */
    json_t *c[] = {call("GET", "/b", 200, "2", NULL), call("GET", "/a", 200, "1", NULL),
                   call("GET", "/c", 200, "3", NULL), call("GET", "/d", 200, "4", NULL)};
    expect(a, 4, c, 4, NULL, "GET /a|only A\nGET /a|only B\n");
    expect(a, 4, a, 0, NULL, "GET /a|only A\nGET /b|only A\nGET /c|only A\nGET /d|only A\n");
    free_all(a, 4);
    free_all(b, 4);
    free_all(c, 4);
}

static void statuses_bodies_and_rows_are_compared(void **state)
{
    (void)state;
    const char *db1 =
        "{\"status\":\"complete\",\"transactions\":[{\"tables\":{\"public.t\":{\"insert\":1,\"update\":1}},"
        "\"changes\":[{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":1,\"v\":\"x\"}"
        "},"
        "{\"op\":\"update\",\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":1,\"v\":\"y\"}}]}]}";
    const char *db2 = "{\"status\":\"complete\",\"transactions\":[{\"tables\":{\"public.t\":{\"insert\":1}},"
                      "\"changes\":[{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"t\",\"new\":{\"id\":"
                      "1,\"v\":\"z\"}}]}]}";
    json_t *a[] = {call("POST", "/t", 201, "{\"items\":[1,2],\"name\":\"n\"}", db1)};
    json_t *b[] = {call("POST", "/t", 200, "{\"items\":[1,3,4],\"extra\":true}", db2)};
    expect(a, 1, b, 1, NULL,
           "POST /t|status: 201 -> 200\n"
           "POST /t|response.body.items.$len: 2 -> 3\n"
           "POST /t|response.body.items[]: 2 -> (absent)\n" /* lists of other lengths: what is missing or
                                                               extra */
           "POST /t|response.body.items[]: (absent) -> 3\n"
           "POST /t|response.body.items[]: (absent) -> 4\n"
           "POST /t|response.body.name: \"n\" -> (absent)\n"
           "POST /t|response.body.extra: (absent) -> true\n"
           "POST /t|db.public.t.update: 1 -> (absent)\n"
           "POST /t|db.public.t.insert[].v: \"x\" -> \"z\"\n"
           "POST /t|db.public.t.update[]: {\"id\":1,\"v\":\"y\"} -> (absent)\n"); /* the missing row itself */
    rt_noise_t noise = {0};
    rt_noise_add(&noise, "response.body.items[]");
    rt_noise_add(&noise, "db.public.t.insert[].v");
    expect(a, 1, b, 1, &noise,
           "POST /t|status: 201 -> 200\n"
           "POST /t|response.body.items.$len: 2 -> 3\n"
           "POST /t|response.body.name: \"n\" -> (absent)\n"
           "POST /t|response.body.extra: (absent) -> true\n"
           "POST /t|db.public.t.update: 1 -> (absent)\n"
           "POST /t|db.public.t.update[]: {\"id\":1,\"v\":\"y\"} -> (absent)\n");
    rt_noise_free(&noise);
    free_all(a, 1);
    free_all(b, 1);
}

static void noise_is_learned_from_two_runs_of_the_same_build(void **state)
{
    (void)state;
    /* a token that changes every run, and a counter that does not */
    json_t *x[] = {call("GET", "/s", 200, "{\"token\":\"abc\",\"n\":1}", NULL)};
    json_t *y[] = {call("GET", "/s", 200, "{\"token\":\"def\",\"n\":1}", NULL)};
    json_t *z[] = {call("GET", "/s", 200, "{\"token\":\"ghi\",\"n\":2}", NULL)};
    rt_noise_t noise = {0};
    rt_diff_learn(x, 1, y, 1, &noise);
    assert_int_equal(noise.n, 1);
    assert_string_equal(noise.v[0], "GET /s\tresponse.body.token");
    expect(x, 1, z, 1, &noise, "GET /s|response.body.n: 1 -> 2\n");
    expect(x, 1, z, 1, NULL,
           "GET /s|response.body.token: \"abc\" -> \"ghi\"\nGET /s|response.body.n: 1 -> 2\n");
    rt_noise_free(&noise);
    free_all(x, 1);
    free_all(y, 1);
    free_all(z, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_are_templates),
        cmocka_unit_test(ids_and_uuids_of_the_same_role_are_noise),
        cmocka_unit_test(insertions_and_deletions_do_not_shift_the_rest),
        cmocka_unit_test(statuses_bodies_and_rows_are_compared),
        cmocka_unit_test(noise_is_learned_from_two_runs_of_the_same_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
