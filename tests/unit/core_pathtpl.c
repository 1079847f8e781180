/* Unit tests for core/pathtpl.c: the one rule diff, replay and specgen share. */
#include "test.h"

#include "core/pathtpl.h"

static void template_of(const char *path, const char *want)
{
    core_pathtpl_t t;
    core_pathtpl_make(&t, path);
    assert_string_equal(t.tmpl, want);
    core_pathtpl_free(&t);
}

static void ids_become_named_parameters(void **state)
{
    (void)state;
    template_of("/api/v1/organizations/12/campaigns", "/api/v1/organizations/{organization}/campaigns");
    template_of("/orgs/1/campaigns/6f1c0b0e-9a5e-4d3f-8a44-6d1f4a2b9c10/x1",
                "/orgs/{org}/campaigns/{campaign}/x1");
    template_of("/7", "/{p}");
    template_of("/", "/");
    template_of("", "/");
    template_of(NULL, "/");
    template_of("/a//b/", "/a/b");
}

static void repeated_names_are_made_unique(void **state)
{
    (void)state;
    core_pathtpl_t t;
    core_pathtpl_make(&t, "/users/1/2");
    assert_string_equal(t.tmpl, "/users/{user}/{user2}");
    assert_int_equal(t.nsegs, 3);
    assert_null(t.params[0]);
    assert_string_equal(t.params[1], "user");
    assert_string_equal(t.params[2], "user2");
    core_pathtpl_free(&t);
}

static void not_ids(void **state)
{
    (void)state;
    template_of("/v2/items/abc", "/v2/items/abc");
    template_of("/items/12345678901234567890", "/items/12345678901234567890"); /* 20 digits: not an id */
    template_of("/items/6f1c0b0e-9a5e-4d3f-8a44-6d1f4a2b9c1", "/items/6f1c0b0e-9a5e-4d3f-8a44-6d1f4a2b9c1");
}

static void singular(void **state)
{
    (void)state;
    char out[16];
    core_pathtpl_singular("Organizations", 13, out, sizeof(out));
    assert_string_equal(out, "organization");
    core_pathtpl_singular("line-items", 10, out, sizeof(out));
    assert_string_equal(out, "line_item");
    core_pathtpl_singular("s", 1, out, sizeof(out));
    assert_string_equal(out, "s");
    core_pathtpl_singular("averyveryverylongname", 21, out, 8);
    assert_string_equal(out, "averyve");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ids_become_named_parameters),
        cmocka_unit_test(repeated_names_are_made_unique),
        cmocka_unit_test(not_ids),
        cmocka_unit_test(singular),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
