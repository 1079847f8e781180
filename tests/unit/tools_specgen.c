/*
 * Unit tests for tools/specgen.c: path template inference, references
 * only where they hold in every call (and not a number tied to any equal
 * number), literals where calls agree, and drafts the spec loader accepts
 * and that pass on the calls they came from.
 */
#include "test.h"

#include "verifier/check.h"
#include "tools/specgen.h"

static json_t *call(int seq, const char *method, const char *path, const char *req, int status,
                    const char *res)
{
    char buf[4096];
    snprintf(buf, sizeof(buf),
             "{\"type\":\"call\",\"seq\":%d,\"request\":{\"method\":\"%s\",\"path\":\"%s\",\"query\":\"\","
             "\"body\":%s},"
             "\"response\":{\"status\":%d,\"body\":%s},\"db\":{\"status\":\"complete\",\"transactions\":[]}}",
             seq, method, path, req, status, res);
    json_t *c = json_loads(buf, 0, NULL);
    assert_non_null(c);
    return c;
}

static void drafts_generalise_and_verify_their_own_calls(void **state)
{
    (void)state;
    json_t *calls[] = {
        call(1, "PUT", "/api/v2/shops/12/items/0f3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f",
             "{\"qty\":1,\"name\":\"ab\"}", 200,
             "{\"shop_id\":12,\"qty\":1,\"name\":\"ab\",\"state\":\"ok\",\"n\":12}"),
        call(2, "PUT", "/api/v2/shops/13/items/1a3c2b8e-1d2a-4c5b-9e8f-7a6b5c4d3e2f",
             "{\"qty\":5,\"name\":\"cd\"}", 200,
             "{\"shop_id\":13,\"qty\":5,\"name\":\"cd\",\"state\":\"ok\",\"n\":13}"),
    };
    rt_specgen_t g;
    rt_specgen_run(calls, 2, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.files[0].name, "shops.yaml");
    const char *t = g.files[0].text;
    assert_non_null(strstr(t, "path: \"/api/v2/shops/{shop}/items/{item}\""));
    assert_non_null(strstr(t, "shop_id: ${path.shop}"));    /* an id tied to the path */
    assert_non_null(strstr(t, "qty: ${request.body.qty}")); /* a number of the same name */
    assert_non_null(strstr(t, "name: ${request.body.name}"));
    assert_non_null(strstr(t, "state: \"ok\"")); /* two calls agreed */
    assert_non_null(strstr(t, "n: $int"));       /* equal to the shop id, but not an id: no reference */
    assert_non_null(strstr(t, "db: none"));
    rv_specs_t specs = {0};
    rcx_err_t err;
    assert_int_equal(rv_specs_load_text(&specs, "shops.yaml", t, strlen(t), &err), 0);
    assert_int_equal(rv_specs_finish(&specs, &err), 0);
    for (int i = 0; i < 2; i++) {
        json_t *saved = json_object();
        rv_outcome_t o;
        const rv_spec_t *s = rv_select(&specs, calls[i]);
        assert_non_null(s);
        rv_check_call(s, calls[i], saved, &o);
        assert_int_equal(o.nf, 0);
        rv_outcome_clear(&o);
        json_decref(saved);
    }
    rv_specs_free(&specs);
    rt_specgen_free(&g);
    json_decref(calls[0]);
    json_decref(calls[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drafts_generalise_and_verify_their_own_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
