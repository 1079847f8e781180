/*
 * libFuzzer target: arbitrary bytes as two runs of JSON lines (split at the
 * first empty line). Every call record goes through the value flow
 * (core/flow.h), recap diff (both ways, with learned noise, and against
 * itself: a run is always the same as itself), replay's rewriting of
 * requests (core/remap.h, learning from the second run's responses) and
 * recap specgen; the drafted specs must always load (whatever paths, keys and
 * values the traffic held) and pass on the calls they came from. Seeds: the
 * demo scenario's calls.
 */
#include "verifier/check.h"
#include "core/remap.h"
#include "tools/diff.h"
#include "tools/specgen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t parse(const char *p, size_t n, json_t **out, size_t max)
{
    size_t k = 0;
    while (n > 0 && k < max) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        json_t *v = json_loadb(p, len, 0, NULL);
        if (json_is_object(v) && json_is_object(json_object_get(v, "request")))
            out[k++] = v;
        else
            json_decref(v);
        if (!nl)
            break;
        n -= len + 1;
        p = nl + 1;
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *split = NULL;
    for (size_t i = 0; i + 1 < size && !split; i++)
        if (p[i] == '\n' && p[i + 1] == '\n')
            split = p + i;
    size_t alen = split ? (size_t)(split - p) : size;
    json_t *a[64], *b[64];
    size_t na = parse(p, alen, a, 64);
    size_t nb = split ? parse(split + 2, size - alen - 2, b, 64) : 0;

    rt_diff_t d;
    rt_diff_run(a, na, a, na, NULL, &d);
    if (d.differ != 0 || d.only_a != 0 || d.only_b != 0)
        abort(); /* a run is the same as itself */
    rt_diff_free(&d);
    rt_diff_run(a, na, b, nb, NULL, &d);
    if (d.n < (na > nb ? na : nb))
        abort(); /* every call is in the result, paired or alone */
    rt_diff_free(&d);
    rt_noise_t noise = {0};
    rt_diff_learn(b, nb, a, na, &noise);
    rt_diff_run(a, na, b, nb, &noise, &d);
    rt_diff_free(&d);
    rt_noise_free(&noise);

    core_flow_t *flow = core_flow_build(a, na);
    core_remap_t m;
    core_remap_init(&m, flow);
    for (size_t i = 0; i < na; i++) { /* a replay of a against b's answers */
        const json_t *req = json_object_get(a[i], "request");
        if (i < nb)
            core_remap_learn(&m, i, json_object_get(json_object_get(a[i], "response"), "body"),
                             json_object_get(json_object_get(b[i], "response"), "body"));
        const char *path = json_string_value(json_object_get(req, "path")),
                   *q = json_string_value(json_object_get(req, "query"));
        free(core_remap_path(&m, i, path));
        free(core_remap_query(&m, i, q));
        json_decref(core_remap_json(&m, i, json_object_get(req, "body")));
        if (path != NULL)
            free(core_remap_string(&m, i, path, strlen(path)));
    }
    core_remap_free(&m);
    core_flow_free(flow);

    rt_specgen_t g;
    rt_specgen_run(a, na, &g);
    rv_specs_t specs = {0};
    rcx_err_t err;
    for (size_t i = 0; i < g.n; i++)
        if (rv_specs_load_text(&specs, g.files[i].name, g.files[i].text, strlen(g.files[i].text), &err) !=
            0) {
            fprintf(stderr, "drafted spec does not load: %s\n%s\n", err.msg, g.files[i].text);
            abort();
        }
    if (rv_specs_finish(&specs, &err) != 0)
        abort();
    json_t *saved = json_object();
    for (size_t i = 0; i < na; i++) { /* and they pass on the calls they were drafted from */
        const rv_spec_t *s = rv_select(&specs, a[i]);
        if (s == NULL || !rt_specgen_drafts(a[i]))
            continue; /* a call specgen leaves out (no status, a path no template can hold) */
        rv_outcome_t o;
        rv_check_call(s, a[i], saved, &o);
        if (o.nf > 0) {
            fprintf(stderr, "drafted spec %s fails on its own call: %s\n", s->name, o.f[0].msg);
            abort();
        }
        rv_outcome_clear(&o);
    }
    json_decref(saved);
    rv_specs_free(&specs);
    rt_specgen_free(&g);
    for (size_t i = 0; i < na; i++)
        json_decref(a[i]);
    for (size_t i = 0; i < nb; i++)
        json_decref(b[i]);
    return 0;
}
