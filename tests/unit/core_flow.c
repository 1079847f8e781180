/*
 * Unit tests for core/flow.c: where each value of a hand-made run comes
 * from: slugs and ids from responses and rows, names the client made up, a
 * token inside a header or a message, cookies, Location; and the values
 * that must never be taken for references.
 */
#include "test.h"

#include "core/flow.h"

/* A call record: method, path, query, request body, rows (changes), response body, response headers. */
static json_t *call(const char *method, const char *path, const char *query, const char *req_body,
                    const char *changes, const char *res_body, const char *res_headers)
{
    json_t *c = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:i, s:o}}", "type", "call", "request", "method",
                          method, "path", path, "query", query, "response", "status", 200, "headers",
                          res_headers ? json_loads(res_headers, 0, NULL) : json_object());
    assert_non_null(c);
    if (req_body)
        json_object_set_new(json_object_get(c, "request"), "body",
                            json_loads(req_body, JSON_DECODE_ANY, NULL));
    if (res_body)
        json_object_set_new(json_object_get(c, "response"), "body",
                            json_loads(res_body, JSON_DECODE_ANY, NULL));
    if (changes) {
        json_t *ch = json_loads(changes, 0, NULL);
        assert_non_null(ch);
        json_object_set_new(
            c, "db", json_pack("{s:s, s:[{s:o}]}", "status", "complete", "transactions", "changes", ch));
    }
    return c;
}

typedef struct run {
    json_t *v[16];
    size_t n;
    core_flow_t *f;
} run_t;

static void done(run_t *r)
{
    core_flow_free(r->f);
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->v[i]);
}

/* The places of the origins of text seen by the end of a phase of a call, newest first, joined by ' '. */
static const char *origins(const run_t *r, const char *text, size_t at, core_flow_phase_t phase)
{
    static char out[1024];
    core_flow_origin_t o[8];
    size_t n = core_flow_origins(r->f, text, strlen(text), at, phase, o, 8);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%u:%s", i ? " " : "", o[i].call,
                 core_flow_place(r->f, o[i].place));
    return out;
}

static void slugs_and_ids_from_responses_and_rows(void **state)
{
    (void)state;
    run_t r = {0};
    r.v[r.n++] = call("POST", "/api/articles", "", "{\"title\":\"Dragons 1733\"}",
                      "[{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"articles\","
                      "\"new\":{\"id\":7,\"slug\":\"dragons-1733-mk3i5b\"}}]",
                      "{\"article\":{\"slug\":\"dragons-1733-mk3i5b\",\"id\":7}}", NULL);
    r.v[r.n++] = call("GET", "/api/articles/dragons-1733-mk3i5b", "", NULL, NULL,
                      "{\"error\":\"article 7 not found\"}", NULL);
    r.f = core_flow_build(r.v, r.n);
    /* the row image came before the response: the slug's oldest origin is the row */
    assert_string_equal(origins(&r, "dragons-1733-mk3i5b", 1, CORE_FLOW_REQUEST),
                        "0:response.body.article.slug 0:db.public.articles.insert[].slug");
    /* during call 0's rows, the response's place is not known yet */
    assert_string_equal(origins(&r, "dragons-1733-mk3i5b", 0, CORE_FLOW_ROWS),
                        "0:db.public.articles.insert[].slug");
    assert_string_equal(origins(&r, "dragons-1733-mk3i5b", 0, CORE_FLOW_REQUEST), "");
    assert_true(core_flow_path_param(r.f, "dragons-1733-mk3i5b", 19, 1));
    assert_false(core_flow_path_param(r.f, "articles", 8, 1)); /* in a path before anything made it */
    assert_false(core_flow_path_param(r.f, "api", 3, 1));
    /* the title the client made up is an origin of its own; the integer 7 is one value with "7" */
    assert_string_equal(origins(&r, "Dragons 1733", 1, CORE_FLOW_REQUEST), "0:request.body.title");
    assert_string_equal(origins(&r, "7", 1, CORE_FLOW_REQUEST),
                        "0:response.body.article.id 0:db.public.articles.insert[].id");
    done(&r);
}

static void names_the_client_made_up_become_parameters(void **state)
{
    (void)state;
    run_t r = {0};
    r.v[r.n++] = call("GET", "/tags", "", NULL, NULL, "[]", NULL);
    r.v[r.n++] =
        call("POST", "/tags", "", "{\"name\":\"urgent-1f3a\"}", NULL, "{\"name\":\"urgent-1f3a\"}", NULL);
    r.v[r.n++] = call("GET", "/tags/urgent-1f3a", "q=urgent-1f3a&page=1", NULL, NULL, "{}", NULL);
    r.f = core_flow_build(r.v, r.n);
    assert_true(core_flow_path_param(r.f, "urgent-1f3a", 11, 2));
    assert_false(core_flow_path_param(r.f, "tags", 4, 2));
    assert_string_equal(origins(&r, "urgent-1f3a", 2, CORE_FLOW_REQUEST),
                        "2:request.query.q 1:response.body.name 1:request.body.name");
    assert_string_equal(origins(&r, "page", 2, CORE_FLOW_RESPONSE), "");
    done(&r);
}

static void tokens_cookies_and_location(void **state)
{
    (void)state;
    run_t r = {0};
    const char *jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
    char body[256];
    snprintf(body, sizeof(body), "{\"user\":{\"token\":\"%s\",\"admin\":false,\"level\":1}}", jwt);
    r.v[r.n++] = call("POST", "/login", "", "{\"flag\":1,\"tries\":0}", NULL, body,
                      "{\"set-cookie\":[\"sid=s3ss10n-abcdef; Path=/; HttpOnly\",\"theme=dark\"],"
                      "\"location\":\"/api/users/u-42x9\"}");
    r.f = core_flow_build(r.v, r.n);
    assert_string_equal(origins(&r, jwt, 0, CORE_FLOW_RESPONSE), "0:response.body.user.token");
    assert_string_equal(origins(&r, "s3ss10n-abcdef", 0, CORE_FLOW_RESPONSE), "0:response.cookie.sid");
    assert_string_equal(origins(&r, "dark", 0, CORE_FLOW_RESPONSE), "0:response.cookie.theme");
    assert_string_equal(origins(&r, "u-42x9", 0, CORE_FLOW_RESPONSE), "0:response.headers.location");
    /* 1 in a response may be an id; 0 and 1 the client sent are flags, never origins; booleans never */
    assert_string_equal(origins(&r, "1", 0, CORE_FLOW_RESPONSE), "0:response.body.user.level");
    assert_string_equal(origins(&r, "0", 0, CORE_FLOW_RESPONSE), "");
    assert_string_equal(origins(&r, "false", 0, CORE_FLOW_RESPONSE), "");

    /* a token inside a header value or a message is found by its tokens */
    char hdr[300];
    snprintf(hdr, sizeof(hdr), "Token %s", jwt);
    size_t pos = 0, off, len;
    assert_true(core_flow_token(hdr, strlen(hdr), &pos, &off, &len));
    assert_int_equal(len, 5);
    assert_true(core_flow_token(hdr, strlen(hdr), &pos, &off, &len));
    assert_int_equal(off, 6);
    assert_int_equal(len, strlen(jwt));
    assert_false(core_flow_token(hdr, strlen(hdr), &pos, &off, &len));
    const char *msg = "project 64 not found.";
    pos = 0;
    int n = 0;
    while (core_flow_token(msg, strlen(msg), &pos, &off, &len))
        if (++n == 4)
            assert_memory_equal(msg + off, "found", 5); /* the sentence's full stop is not part of it */
    assert_int_equal(n, 4);
    done(&r);
}

static void short_and_common_values_have_no_origins(void **state)
{
    (void)state;
    run_t r = {0};
    r.v[r.n++] = call("PUT", "/x", "", "{\"status\":\"ok\",\"v\":1.5,\"n\":null,\"t\":true}", NULL,
                      "{\"status\":\"ok\",\"note\":\"[REDACTED]\"}", NULL);
    r.f = core_flow_build(r.v, r.n);
    assert_string_equal(origins(&r, "ok", 0, CORE_FLOW_RESPONSE), "");
    assert_string_equal(origins(&r, "[REDACTED]", 0, CORE_FLOW_RESPONSE), "");
    assert_string_equal(origins(&r, "1.5", 0, CORE_FLOW_RESPONSE), "");
    assert_string_equal(origins(&r, "true", 0, CORE_FLOW_RESPONSE), "");
    assert_false(core_flow_path_param(r.f, "x", 1, 0));
    /* a call past the run's end has no origins, and asking is not an error */
    assert_string_equal(origins(&r, "ok", 9, CORE_FLOW_RESPONSE), "");
    done(&r);
}

static void shapes_and_what_may_differ_between_runs(void **state)
{
    (void)state;
    char s[64];
    core_flow_shape("how-to-train-mk3i5b", 19, s, sizeof(s));
    assert_string_equal(s, "x-x-x-x");
    core_flow_shape("0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f", 36, s, sizeof(s));
    assert_string_equal(s, "uuid");
    core_flow_shape("2026-12-01T10:00:00Z", 20, s, sizeof(s));
    assert_string_equal(s, "ts");
    core_flow_shape("a_b", 3, s, sizeof(s));
    assert_string_equal(s, "x_x");
    assert_true(core_flow_volatile("how-to-train-mk3i5b", 19));
    assert_true(core_flow_volatile("abcdefghijklmnopqrstuvwxyz", 26)); /* long, no space: a hash */
    assert_true(core_flow_volatile("nobody-bfbbdcca", 15)); /* a random hex token without a decimal digit */
    assert_true(core_flow_volatile("DEADBEEF", 8));
    assert_false(core_flow_volatile("DeadBeef", 8)); /* of mixed case: a word */
    assert_false(core_flow_volatile("facade-decade", 13));
    assert_false(core_flow_volatile("open", 4));
    assert_false(core_flow_volatile("a high priority task", 20));
    assert_false(core_flow_volatile("v2", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slugs_and_ids_from_responses_and_rows),
        cmocka_unit_test(names_the_client_made_up_become_parameters),
        cmocka_unit_test(tokens_cookies_and_location),
        cmocka_unit_test(short_and_common_values_have_no_origins),
        cmocka_unit_test(shapes_and_what_may_differ_between_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
