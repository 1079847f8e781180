/*
 * Unit tests for verifier/match.c, verifier/check.c and the finding lines of
 * verifier/report.c: every matcher, every reference, saved values, rows
 * matched as sets, strictness, ambiguity, spec selection, and the exact
 * failure messages (spec file:line:col, the call, expected and actual).
 */
#include "test.h"

#include "verifier/check.h"
#include "verifier/match.h"
#include "verifier/report.h"

static rv_specs_t specs;

static void load(const char *text)
{
    rv_specs_free(&specs);
    rcx_err_t err = {{0}};
    if (rv_specs_load_text(&specs, "s.yaml", text, strlen(text), &err) != 0 ||
        rv_specs_finish(&specs, &err) != 0)
        fail_msg("spec did not load: %s", err.msg);
}

static json_t *call(const char *json)
{
    json_error_t e;
    json_t *c = json_loads(json, 0, &e);
    if (c == NULL)
        fail_msg("bad test call JSON: %s", e.text);
    return c;
}

/* Checks c against the spec selected for it; returns the findings joined by "\n" (caller frees). */
static char *check(const char *json, json_t *saved)
{
    json_t *c = call(json);
    const rv_spec_t *s = rv_select(&specs, c);
    assert_non_null(s);
    rv_outcome_t o;
    json_t *own = saved ? NULL : json_object();
    rv_check_call(s, c, saved ? saved : own, &o);
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < o.nf; i++) {
        char where[64];
        snprintf(where, sizeof(where), "%d:%d: ", o.f[i].pos.line, o.f[i].pos.col);
        if (i)
            rcx_buf_append(&b, "\n", 1);
        rcx_buf_append(&b, where, strlen(where));
        rcx_buf_append(&b, o.f[i].msg, strlen(o.f[i].msg));
    }
    rcx_buf_append(&b, "", 1);
    rv_outcome_clear(&o);
    json_decref(c);
    json_decref(own);
    return b.base;
}

static void passes(const char *json)
{
    char *f = check(json, NULL);
    if (f[0] != '\0')
        fail_msg("expected no findings, got:\n%s", f);
    free(f);
}

static void finds(const char *json, const char *want)
{
    char *f = check(json, NULL);
    if (strcmp(f, want) != 0)
        fail_msg("findings:\n%s\nwanted:\n%s", f, want);
    free(f);
}

#define CALL(method, path, query, reqbody, status, resbody, db)                                              \
    "{\"type\":\"call\",\"seq\":7,\"id\":\"r1\",\"test\":\"t::a\",\"request\":{\"method\":\"" method         \
    "\",\"path\":\"" path "\",\"query\":\"" query "\",\"headers\":{\"x-tenant\":\"acme\"}" reqbody           \
    "},\"response\":{\"status\":" #status ",\"headers\":{\"content-type\":\"application/json\"}" resbody     \
    "},\"db\":" db "}"

static void every_matcher_passes_and_fails_as_it_should(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /m}\n"
         "    expect:\n"
         "      status: {$min: 200, $max: 299}\n"
         "      headers:\n"
         "        content-type: {$regex: \"^application/json$\"}\n"
         "      body:\n"
         "        i: $int\n"
         "        n: $number\n"
         "        ns: $number\n"
         "        s: $string\n"
         "        b: $bool\n"
         "        u: $uuid\n"
         "        t: $timestamp\n"
         "        t2: $timestamp\n"
         "        d: $date\n"
         "        z: $null\n"
         "        o: $object\n"
         "        a: $array\n"
         "        any: $any\n"
         "        gone: $absent\n"
         "        len: {$len: 3}\n"
         "        lit: 1.5\n"
         "        nested: {deep: [1, {x: y}]}\n");
    const char *good =
        ",\"body\":{\"i\":1,\"n\":2.5,\"ns\":\"12.50\",\"s\":\"x\",\"b\":false,"
        "\"u\":\"9b2e4a52-1f1c-4d55-8a50-0a0e6f1c2d3e\",\"t\":\"2026-11-24T12:00:00.123Z\","
        "\"t2\":\"2026-11-24 12:00:00.123456+00\",\"d\":\"2026-11-24\",\"z\":null,\"o\":{},\"a\":[],"
        "\"any\":0,\"len\":\"abc\",\"lit\":\"1.50\",\"nested\":{\"deep\":[1,{\"x\":\"y\",\"extra\":1}]},"
        "\"more\":true}";
    char buf[4096];
    snprintf(buf, sizeof(buf), CALL("GET", "/m", "", "", 204, "%s", "{}"), good);
    passes(buf);
    struct {
        const char *from, *to, *want;
    } cases[] = {
        {"\"i\":1", "\"i\":1.5", "8:12: response.body.i: expected an int, got 1.5"},
        {"\"i\":1", "\"i\":\"1\"", "8:12: response.body.i: expected an int, got \"1\""},
        {"\"n\":2.5", "\"n\":\"x\"", "9:12: response.body.n: expected a number, got \"x\""},
        {"\"s\":\"x\"", "\"s\":1", "11:12: response.body.s: expected a string, got 1"},
        {"\"b\":false", "\"b\":0", "12:12: response.body.b: expected a bool, got 0"},
        {"\"u\":\"9b2e", "\"u\":\"zb2e",
         "13:12: response.body.u: expected an uuid, got \"zb2e4a52-1f1c-4d55-8a50-0a0e6f1c2d3e\""},
        {"\"t\":\"2026-11-24T", "\"t\":\"2026-11-24X",
         "14:12: response.body.t: expected a timestamp, got \"2026-11-24X12:00:00.123Z\""},
        {"\"d\":\"2026-11-24\"", "\"d\":\"24/11/2026\"",
         "16:12: response.body.d: expected a date, got \"24/11/2026\""},
        {"\"z\":null", "\"z\":0", "17:12: response.body.z: expected a null, got 0"},
        {"\"o\":{}", "\"o\":[]", "18:12: response.body.o: expected an object, got []"},
        {"\"a\":[]", "\"a\":{}", "19:12: response.body.a: expected an array, got {}"},
        {"\"any\":0,", "", "20:14: response.body.any: expected a value, got nothing (absent)"},
        {"\"more\":true", "\"more\":true,\"gone\":1",
         "21:15: response.body.gone: expected it to be absent, got 1"},
        {"\"len\":\"abc\"", "\"len\":\"ab\"", "22:21: response.body.len.$len: expected 3, got 2"},
        {"\"lit\":\"1.50\"", "\"lit\":\"1.6\"", "23:14: response.body.lit: expected 1.5, got \"1.6\""},
        {"[1,{\"x\":\"y\"", "[1,{\"x\":\"z\"",
         "24:32: response.body.nested.deep[1].x: expected \"y\", got \"z\""},
        {"[1,{\"x\":\"y\",\"extra\":1}]", "[1]",
         "24:24: response.body.nested.deep: expected a list of 2, got [1]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[2048];
        const char *p = strstr(good, cases[i].from);
        assert_non_null(p);
        snprintf(body, sizeof(body), "%.*s%s%s", (int)(p - good), good, cases[i].to,
                 p + strlen(cases[i].from));
        snprintf(buf, sizeof(buf), CALL("GET", "/m", "", "", 204, "%s", "{}"), body);
        finds(buf, cases[i].want);
    }
    snprintf(buf, sizeof(buf), CALL("GET", "/m", "", "", 302, "%s", "{}"), good);
    finds(buf, "4:16: status: expected a number from 200 to 299, got 302");
    snprintf(buf, sizeof(buf), CALL("GET", "/m", "", "", 204, "%s", "{}"), good);
    char *textual = strstr(buf, "application/json");
    memcpy(textual, "application/jsox", 16);
    finds(buf, "6:24: response.headers.content-type: expected a string matching /^application/json$/, got "
               "\"application/jsox\"");
}

static void references_read_the_call_itself(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: \"/orgs/{org}/items\"}\n"
         "    expect:\n"
         "      body:\n"
         "        org: ${path.org}\n"
         "        name: ${request.body.name}\n"
         "        first: ${request.body.tags.0}\n"
         "        page: ${request.query.page}\n"
         "        q: ${request.query.q}\n"
         "        tenant: ${request.headers.X-Tenant}\n"
         "        type: ${response.headers.content-type}\n"
         "        echo: {$ref: response.body.name}\n");
    const char *c =
        CALL("POST", "/orgs/42/items", "page=2&q=a+b%21", ",\"body\":{\"name\":\"n\",\"tags\":[\"t1\"]}", 200,
             ",\"body\":{\"org\":42,\"name\":\"n\",\"first\":\"t1\",\"page\":2,\"q\":\"a b!\",\"tenant\":"
             "\"acme\",\"type\":\"application/json\",\"echo\":\"n\"}",
             "{}");
    passes(c);
    const char *bad =
        CALL("POST", "/orgs/42/items", "page=3", ",\"body\":{\"name\":\"m\",\"tags\":[]}", 200,
             ",\"body\":{\"org\":41,\"name\":\"n\",\"first\":\"t1\",\"page\":2,\"q\":\"x\",\"tenant\":"
             "\"acme\",\"type\":\"application/json\",\"echo\":\"n\"}",
             "{}");
    finds(bad, "5:14: response.body.org: expected \"42\" (${path.org}), got 41");
}

static void a_missing_reference_says_so(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /r}\n"
         "    expect:\n"
         "      body:\n"
         "        x: ${request.body.nope}\n");
    finds(CALL("GET", "/r", "", "", 200, ",\"body\":{\"x\":1}", "{}"),
          "5:12: response.body.x: ${request.body.nope} has no value in this call");
}

static void saved_values_flow_to_later_calls(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {method: POST, path: /orgs}\n"
         "    save: {org_id: response.body.id}\n"
         "  - match: {method: POST, path: /campaigns}\n"
         "    expect:\n"
         "      db:\n"
         "        tables:\n"
         "          campaigns:\n"
         "            inserted:\n"
         "              - org_id: ${saved.org_id}\n");
    json_t *saved = json_object();
    char *f = check(
        CALL("POST", "/campaigns", "", "", 201, "", "{\"status\":\"complete\",\"transactions\":[]}"), saved);
    assert_string_equal(f, "10:17: db.campaigns.inserted[0]: expected a row like this, got no inserted rows");
    free(f);
    f = check(CALL("POST", "/orgs", "", "", 201, ",\"body\":{\"id\":5}", "{}"), saved);
    assert_string_equal(f, "");
    free(f);
    assert_int_equal(json_integer_value(json_object_get(saved, "org_id")), 5);
#define TX(table, rows)                                                                                      \
    "{\"status\":\"complete\",\"transactions\":[{\"attribution\":\"window\",\"tables\":{\"public." table     \
    "\":{\"insert\":1,\"update\":0,\"delete\":0,\"truncate\":0}},\"changes\":[" rows "]}]}"
    f = check(
        CALL("POST", "/campaigns", "", "", 201, "",
             TX("campaigns",
                "{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"campaigns\",\"new\":{\"org_id\":5}}")),
        saved);
    assert_string_equal(f, "");
    free(f);
    f = check(
        CALL("POST", "/campaigns", "", "", 201, "",
             TX("campaigns",
                "{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"campaigns\",\"new\":{\"org_id\":6}}")),
        saved);
    assert_string_equal(
        f, "10:25: db.campaigns.inserted[0].org_id: no inserted row matches (closest {\"org_id\":6}: "
           "expected 5 (${saved.org_id}), got 6)");
    free(f);
    json_decref(saved);
}

#define INS(table, row) "{\"op\":\"insert\",\"schema\":\"public\",\"table\":\"" table "\",\"new\":" row "}"
#define UPD(table, row) "{\"op\":\"update\",\"schema\":\"public\",\"table\":\"" table "\",\"new\":" row "}"
#define DB(counts, changes)                                                                                  \
    "{\"status\":\"complete\",\"transactions\":[{\"attribution\":\"window\",\"tables\":{" counts             \
    "},\"changes\":[" changes "]}]}"
#define COUNTS(table, i, u, d)                                                                               \
    "\"public." table "\":{\"insert\":" #i ",\"update\":" #u ",\"delete\":" #d ",\"truncate\":0}"

static void rows_are_matched_as_sets(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /jobs}\n"
         "    expect:\n"
         "      db:\n"
         "        tables:\n"
         "          jobs:\n"
         "            inserted:\n"
         "              - {kind: a}\n"
         "              - {kind: b, state: queued}\n"
         "              - {kind: $string}\n");
    /* any order; the $string row takes whichever is left */
    passes(CALL(
        "POST", "/jobs", "", "", 201, "",
        DB(COUNTS("jobs", 3, 0, 0), INS("jobs", "{\"kind\":\"b\",\"state\":\"queued\"}") "," INS(
                                        "jobs", "{\"kind\":\"c\"}") "," INS("jobs", "{\"kind\":\"a\"}"))));
    /* a greedy first choice would give {kind: a} to the $string row: the matching backtracks */
    passes(CALL("POST", "/jobs", "", "", 201, "",
                DB(COUNTS("jobs", 3, 0, 0),
                   INS("jobs", "{\"kind\":\"a\"}") "," INS("jobs", "{\"kind\":\"z\"}") "," INS(
                       "jobs", "{\"kind\":\"b\",\"state\":\"queued\"}"))));
    finds(CALL("POST", "/jobs", "", "", 201, "",
               DB(COUNTS("jobs", 4, 0, 0),
                  INS("jobs", "{\"kind\":\"a\"}") "," INS("jobs", "{\"kind\":\"z\"}") "," INS(
                      "jobs", "{\"kind\":\"b\",\"state\":\"queued\"}") "," INS("jobs",
                                                                               "{\"kind\":\"extra\"}"))),
          "8:15: db.jobs.inserted: unexpected inserted row {\"kind\":\"extra\"}");
    finds(CALL("POST", "/jobs", "", "", 201, "",
               DB(COUNTS("jobs", 3, 0, 0),
                  INS("jobs", "{\"kind\":\"a\"}") "," INS("jobs", "{\"kind\":\"z\"}") "," INS(
                      "jobs", "{\"kind\":\"b\",\"state\":\"done\"}"))),
          "9:34: db.jobs.inserted[1].state: no inserted row matches (closest "
          "{\"kind\":\"b\",\"state\":\"done\"}: "
          "expected \"queued\", got \"done\")");
}

static void strict_by_default(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /s}\n"
         "    expect:\n"
         "      db:\n"
         "        tables:\n"
         "          orgs:\n"
         "            inserted: 1\n"
         "  - match: {path: /loose}\n"
         "    expect:\n"
         "      db:\n"
         "        strict: false\n"
         "        tables:\n"
         "          orgs: {inserted: 1}\n"
         "  - match: {path: /none}\n"
         "    expect: {db: none}\n");
    const char *db = DB(COUNTS("orgs", 1, 1, 0) "," COUNTS("audit", 2, 0, 0),
                        INS("orgs", "{\"id\":1}") "," UPD("orgs", "{\"id\":1}") "," INS(
                            "audit", "{\"id\":1}") "," INS("audit", "{\"id\":2}"));
    char buf[4096];
    snprintf(buf, sizeof(buf), CALL("POST", "/s", "", "", 201, "", "%s"), db);
    finds(buf, "6:11: db.orgs.updated: 1 rows updated, and the spec names no updated for orgs (strict)\n"
               "5:9: db: unexpected changes to public.audit: 2 inserted (the spec does not name it; strict)");
    snprintf(buf, sizeof(buf), CALL("POST", "/loose", "", "", 201, "", "%s"), db);
    passes(buf);
    snprintf(buf, sizeof(buf), CALL("POST", "/none", "", "", 201, "", "%s"), db);
    finds(buf, "15:18: db: expected no row changes, got 1 inserted in public.orgs\n"
               "15:18: db: expected no row changes, got 1 updated in public.orgs\n"
               "15:18: db: expected no row changes, got 2 inserted in public.audit");
    snprintf(buf, sizeof(buf), CALL("POST", "/none", "", "", 201, "", "%s"),
             "{\"status\":\"unavailable\",\"reason\":\"the stream was down\"}");
    finds(buf, "15:18: db: the capture has no row changes for this call (db status unavailable: the stream "
               "was down)");
    snprintf(buf, sizeof(buf), CALL("POST", "/s", "", "", 201, "", "%s"),
             DB(COUNTS("orgs", 2, 0, 0), INS("orgs", "{\"id\":1}") "," INS("orgs", "{\"id\":2}")));
    finds(buf, "7:23: db.orgs.inserted: expected 1 rows, got 2");
}

static void ambiguous_rows_may_match_but_never_count_against(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /a}\n"
         "    expect:\n"
         "      db:\n"
         "        tables:\n"
         "          orgs:\n"
         "            inserted:\n"
         "              - {id: 1}\n");
    const char *db =
        "{\"status\":\"complete\",\"transactions\":["
        "{\"attribution\":\"ambiguous\",\"tables\":{" COUNTS("orgs", 1, 0, 0) "},\"changes\":[" INS(
            "orgs", "{\"id\":1}") "]},"
                                  "{\"attribution\":\"ambiguous\",\"tables\":{" COUNTS(
                                      "orgs", 1, 0,
                                      0) "},\"changes\":[" INS("orgs",
                                                               "{\"id\":2}") "]},"
                                                                             "{\"attribution\":\"ambiguous\","
                                                                             "\"tables\":{" COUNTS(
                                                                                 "jobs", 5, 0,
                                                                                 0) "},\"changes\":[]}]}";
    char buf[4096];
    snprintf(buf, sizeof(buf), CALL("POST", "/a", "", "", 201, "", "%s"), db);
    passes(buf); /* id 1 may be this call's; id 2 and the jobs may be another's */
}

static void the_most_specific_spec_wins(void **state)
{
    (void)state;
    load("specs:\n"
         "  - {name: any, match: {path: \"/orgs/{id}\"}}\n"
         "  - {name: get, match: {method: GET, path: \"/orgs/{id}\"}}\n"
         "  - {name: literal, match: {path: /orgs/me}}\n"
         "  - {name: errors, match: {method: GET, path: \"/orgs/{id}\", test: \"t::*\"}}\n"
         "  - {name: errors too, match: {method: GET, path: \"/orgs/{id}\", test: \"t::a\"}}\n"
         "  - {name: tenant, match: {path: /h, headers: {x-tenant: {$regex: ^ac}}}}\n");
    struct {
        const char *json, *want;
    } cases[] = {
        {CALL("GET", "/orgs/1", "", "", 200, "", "{}"), "errors"}, /* ties: the first loaded */
        {CALL("DELETE", "/orgs/1", "", "", 200, "", "{}"), "any"},
        {CALL("DELETE", "/orgs/me", "", "", 200, "", "{}"), "literal"},
        {CALL("GET", "/h", "", "", 200, "", "{}"), "tenant"},
        {CALL("GET", "/orgs/1/x", "", "", 200, "", "{}"), NULL},
        {CALL("GET", "/orgs/", "", "", 200, "", "{}"), NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = call(cases[i].json);
        const rv_spec_t *s = rv_select(&specs, c);
        if (cases[i].want == NULL)
            assert_null(s);
        else
            assert_string_equal(s->name, cases[i].want);
        json_decref(c);
    }
}

#define UPD_FULL(table, old, new, changed)                                                                   \
    "{\"op\":\"update\",\"schema\":\"public\",\"table\":\"" table "\",\"old\":" old                          \
    ",\"new\":" new ",\"changed\":" changed ",\"old_image\":\"full\"}"
#define DEL_KEY(table, key)                                                                                  \
    "{\"op\":\"delete\",\"schema\":\"public\",\"table\":\"" table "\",\"key\":" key ",\"old_image\":"        \
    "\"key\"}"

static void a_route_s_outcomes_each_have_a_spec(void **state)
{
    (void)state;
    load("specs:\n"
         "  - name: created\n"
         "    match: {method: POST, path: /users, status: 201}\n"
         "    expect: {body: {id: $int}, db: {tables: {users: {inserted: 1}}}}\n"
         "  - name: duplicate\n"
         "    match: {method: POST, path: /users, status: 409}\n"
         "    expect: {body: {detail: {$regex: exists}}, db: none}\n"
         "  - name: client errors\n"
         "    match: {method: POST, path: /users, status: 4xx}\n"
         "    expect: {db: none}\n"
         "  - name: any outcome\n"
         "    match: {method: POST, path: /users}\n");
    const struct {
        int status;
        const char *want;
    } cases[] = {{201, "created"}, {409, "duplicate"}, {422, "client errors"}, {500, "any outcome"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char json[400];
        snprintf(json, sizeof(json),
                 "{\"type\":\"call\",\"request\":{\"method\":\"POST\",\"path\":\"/users\"},"
                 "\"response\":{\"status\":%d}}",
                 cases[i].status);
        json_t *c = call(json);
        const rv_spec_t *sel = rv_select(&specs, c);
        assert_non_null(sel);
        assert_string_equal(sel->name, cases[i].want);
        json_decref(c);
    }
    /* one test: the fixture's 201 and the test's 409, each checked by its own outcome */
    passes(CALL("POST", "/users", "", "", 201, ",\"body\":{\"id\":5}",
                DB(COUNTS("users", 1, 0, 0), INS("users", "{\"id\":5}"))));
    passes(CALL("POST", "/users", "", "", 409, ",\"body\":{\"detail\":\"user exists\"}", DB("", "")));
    /* the 409 broken alone (it wrote a row) fails only the 409's spec */
    finds(CALL("POST", "/users", "", "", 409, ",\"body\":{\"detail\":\"user exists\"}",
               DB(COUNTS("users", 1, 0, 0), INS("users", "{\"id\":6}"))),
          "7:52: db: expected no row changes, got 1 inserted in public.users");
}

static void quantifiers_say_every_row_or_none(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {method: DELETE, path: \"/projects/{id}\"}\n"
         "    expect:\n"
         "      db:\n"
         "        tables:\n"
         "          projects: {updated: 1}\n"
         "          tasks:\n"
         "            updated: {$every: {project_id: \"${path.id}\", deleted: true}, $count: {$min: 1}}\n"
         "          audit: {inserted: {$none: {action: purge}}}\n");
#define project UPD("projects", "{\"id\":3,\"deleted\":true}")
    passes(CALL("DELETE", "/projects/3", "", "", 204, "",
                DB(COUNTS("projects", 0, 1, 0) "," COUNTS("tasks", 0, 2, 0),
                   UPD("tasks", "{\"id\":7,\"project_id\":3,\"deleted\":true}") "," UPD(
                       "tasks", "{\"id\":8,\"project_id\":3,\"deleted\":true}") "," project)));
    /* a cascade that updates only some children: the row that is wrong is named */
    finds(
        CALL(
            "DELETE", "/projects/3", "", "", 204, "",
            DB(COUNTS("tasks", 0, 2, 0), UPD("tasks", "{\"id\":7,\"project_id\":3,\"deleted\":true}") "," UPD(
                                             "tasks", "{\"id\":8,\"project_id\":3,\"deleted\":false}"))),
        "6:31: db.projects.updated: expected 1 rows, got 0\n"
        "8:67: db.tasks.updated[1].deleted: row {\"id\":8,\"project_id\":3,\"deleted\":false} does not match "
        "$every: expected true, got false");
    /* no child updated at all: the count says so */
    finds(CALL("DELETE", "/projects/3", "", "", 204, "",
               DB(COUNTS("projects", 0, 1, 0), UPD("projects", "{\"id\":3}"))),
          "8:83: db.tasks.updated (row count): expected a number >= 1, got 0");
    finds(CALL("DELETE", "/projects/3", "", "", 204, "",
               DB(COUNTS("projects", 0, 1, 0) "," COUNTS("audit", 1, 0, 0),
                  UPD("projects", "{\"id\":3}") "," INS("audit", "{\"action\":\"purge\"}"))),
          "8:83: db.tasks.updated (row count): expected a number >= 1, got 0\n"
          "9:30: db.audit.inserted[0]: row {\"action\":\"purge\"} matches $none");
}

static void quantifiers_in_bodies(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /tasks}\n"
         "    expect: {body: {items: {$every: {status: open}, $count: 2}, tags: {$none: urgent}}}\n");
    passes(CALL("GET", "/tasks", "", "", 200,
                ",\"body\":{\"items\":[{\"status\":\"open\"},{\"status\":\"open\"}],\"tags\":[\"a\"]}",
                "{}"));
    finds(CALL("GET", "/tasks", "", "", 200,
               ",\"body\":{\"items\":[{\"status\":\"open\"},{\"id\":2,\"status\":\"done\"}],\"tags\":[]}",
               "{}"),
          "3:46: response.body.items[1].status: expected \"open\", got \"done\" (in "
          "{\"id\":2,\"status\":\"done\"})");
    finds(CALL("GET", "/tasks", "", "", 200, ",\"body\":{\"items\":[],\"tags\":[\"x\",\"urgent\"]}", "{}"),
          "3:61: response.body.items.$count: expected 2, got 0");
    finds(
        CALL(
            "GET", "/tasks", "", "", 200,
            ",\"body\":{\"items\":[{\"status\":\"open\"},{\"status\":\"open\"}],\"tags\":[\"x\",\"urgent\"]}",
            "{}"),
        "3:72: response.body.tags[1]: expected no element to match, got \"urgent\"");
}

static void updated_rows_show_what_changed_and_deletes_say_how_to_see_more(void **state)
{
    (void)state;
    load("specs:\n"
         "  - match: {path: /t}\n"
         "    expect:\n"
         "      db:\n"
         "        tables:\n"
         "          tasks: {updated: [{status: done}]}\n"
         "          notes: {deleted: [{body: x}]}\n");
    finds(
        CALL("POST", "/t", "", "", 200, "",
             DB(COUNTS("tasks", 0, 1, 0) "," COUNTS("notes", 0, 0, 1),
                UPD_FULL("tasks", "{\"id\":148,\"status\":\"open\",\"title\":\"a\",\"n\":1}",
                         "{\"id\":148,\"status\":\"archived\",\"title\":\"a\",\"n\":2}",
                         "[\"status\",\"n\"]") "," DEL_KEY("notes", "{\"id\":9}"))),
        "6:38: db.tasks.updated[0].status: no updated row matches (closest {\"id\":148} status: \"open\" -> "
        "\"archived\", n: 1 -> 2: expected \"done\", got \"archived\")\n"
        "7:36: db.notes.deleted[0].body: no deleted row matches (closest {\"id\":9}: expected \"x\", got "
        "nothing "
        "(absent)) (only the key of deleted rows was captured: `recap db setup --replica-identity-full` "
        "records "
        "whole old rows)");
}

static void a_finding_line_names_spec_position_call_expected_and_actual(void **state)
{
    (void)state;
    load("specs:\n  - match: {path: /x}\n    expect: {status: 201}\n");
    json_t *c = call(CALL("POST", "/x", "", "", 500, "", "{}"));
    rv_outcome_t o;
    json_t *saved = json_object();
    rv_check_call(rv_select(&specs, c), c, saved, &o);
    rv_report_t r = {0};
    rv_report_add(&r, "cap.jsonl", 3, c, &o, false);
    char *line = rv_finding_line(&r.items[0], &r.items[0].f[0]);
    assert_string_equal(line, "s.yaml:3:22: call #7 POST /x (test t::a): status: expected 201, got 500");
    free(line);
    assert_false(rv_report_ok(&r));
    assert_int_equal(r.failed, 1);
    rv_report_free(&r);
    rv_outcome_clear(&o);
    json_decref(saved);
    json_decref(c);
}

static int teardown(void **state)
{
    (void)state;
    rv_specs_free(&specs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_matcher_passes_and_fails_as_it_should),
        cmocka_unit_test(references_read_the_call_itself),
        cmocka_unit_test(a_missing_reference_says_so),
        cmocka_unit_test(saved_values_flow_to_later_calls),
        cmocka_unit_test(rows_are_matched_as_sets),
        cmocka_unit_test(strict_by_default),
        cmocka_unit_test(ambiguous_rows_may_match_but_never_count_against),
        cmocka_unit_test(the_most_specific_spec_wins),
        cmocka_unit_test(a_route_s_outcomes_each_have_a_spec),
        cmocka_unit_test(quantifiers_say_every_row_or_none),
        cmocka_unit_test(quantifiers_in_bodies),
        cmocka_unit_test(updated_rows_show_what_changed_and_deletes_say_how_to_see_more),
        cmocka_unit_test(a_finding_line_names_spec_position_call_expected_and_actual),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
