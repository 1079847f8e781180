/*
 * libFuzzer target: arbitrary bytes as a spec file. Loading must succeed or
 * fail with one error that says where ("fuzz.yaml:..."); a spec that loads is
 * then checked against a fixed call with row changes, so the matchers,
 * references, row matching, quantifiers and the check of names against what
 * was captured run on whatever the fuzzer wrote. Seeds: specs/, tests/data/specs/.
 */
#include "verifier/check.h"
#include "verifier/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char call_json[] =
    "{\"type\":\"call\",\"seq\":1,\"id\":\"r\",\"test\":\"scenario::errors\",\"request\":{\"method\":"
    "\"POST\","
    "\"path\":\"/api/v1/organizations/1/"
    "campaigns\",\"query\":\"a=1&b=%41+c\",\"headers\":{\"x-tenant\":\"acme\"},"
    "\"body\":{\"name\":\"acme\",\"budget\":\"1.50\",\"tags\":[1,2]}},\"response\":{\"status\":201,"
    "\"headers\":"
    "{\"content-type\":\"application/json\"},\"body\":{\"id\":1,\"name\":\"acme\",\"items\":[{\"k\":null}]}},"
    "\"db\":{\"status\":\"complete\",\"transactions\":[{\"attribution\":\"window\",\"tables\":{\"public."
    "campaigns\":"
    "{\"insert\":2,\"update\":1,\"delete\":0,\"truncate\":0}},\"changes\":[{\"op\":\"insert\",\"schema\":"
    "\"public\","
    "\"table\":\"campaigns\",\"new\":{\"id\":1,\"org_id\":1}},{\"op\":\"insert\",\"schema\":\"public\","
    "\"table\":"
    "\"campaigns\",\"new\":{\"id\":2,\"org_id\":1}},{\"op\":\"update\",\"schema\":\"public\",\"table\":"
    "\"campaigns\","
    "\"new\":{\"id\":2,\"status\":\"x\"}}]},{\"attribution\":\"ambiguous\",\"tables\":{\"public.jobs\":{"
    "\"insert\":1,"
    "\"update\":0,\"delete\":0,\"truncate\":0}},\"changes\":[{\"op\":\"insert\",\"schema\":\"public\","
    "\"table\":"
    "\"jobs\",\"new\":{\"id\":9}}]}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rv_specs_t specs = {0};
    rcx_err_t err = {{0}};
    int rc = rv_specs_load_text(&specs, "fuzz.yaml", (const char *)data, size, &err);
    if (rc == 0)
        rc = rv_specs_finish(&specs, &err);
    if (rc != 0) {
        if (strncmp(err.msg, "fuzz.yaml:", 10) != 0)
            abort(); /* every error says where */
        rv_specs_free(&specs);
        return 0;
    }
    json_t *call = json_loads(call_json, 0, NULL);
    json_t *saved = json_object();
    for (size_t i = 0; i < specs.n; i++) { /* every spec, selected or not */
        rv_outcome_t o;
        rv_check_call(&specs.v[i], call, saved, &o);
        for (size_t k = 0; k < o.nf; k++)
            if (o.f[k].msg == NULL || o.f[k].pos.file == NULL)
                abort();
        rv_outcome_clear(&o);
    }
    (void)rv_select(&specs, call);
    rv_report_t report = {.require_used = true}; /* names against what was captured, coverage */
    json_t *saved2 = json_object();
    rv_report_record(&report, &specs, "fuzz.jsonl", 2, call, saved2, true);
    rv_coverage_finish(&report, &specs);
    for (size_t i = 0; i < report.nspec_findings; i++)
        if (report.spec_findings[i].msg == NULL || report.spec_findings[i].pos.file == NULL)
            abort();
    rv_report_free(&report);
    json_decref(saved2);
    json_decref(saved);
    json_decref(call);
    rv_specs_free(&specs);
    return 0;
}
