/* tools/diff_report.c: the readable and JSON reports of a diff. See runs.h. */
#include "tools/runs.h"

#include "common/file.h"
#include "common/codec.h"

#include <stdio.h>

static void call_label(char *out, size_t n, bool has, long long seq)
{
    if (has)
        snprintf(out, n, "#%lld", seq);
    else
        snprintf(out, n, "-");
}

static json_t *side(bool has, long long seq, const char *path)
{
    return has ? json_pack("{s:I, s:s?}", "seq", (json_int_t)seq, "path", path) : json_null();
}

static int dump_json(FILE *out, const void *doc)
{
    return json_dumpf(doc, out, JSON_INDENT(1)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
}

int rt_diff_write_json(const char *path, const rt_diff_t *d, rcx_err_t *err)
{
    json_t *root = json_pack("{s:b, s:I, s:I, s:I, s:I}", "same", d->differ + d->only_a + d->only_b == 0,
                             "calls", (json_int_t)d->n, "differ", (json_int_t)d->differ, "only_a",
                             (json_int_t)d->only_a, "only_b", (json_int_t)d->only_b);
    json_t *calls = json_array();
    for (size_t i = 0; i < d->n; i++) {
        const rt_diff_pair_t *p = &d->pairs[i];
        if (p->has_a && p->has_b && p->nd == 0)
            continue;
        json_t *c = json_pack("{s:s, s:o, s:o}", "key", p->key, "a", side(p->has_a, p->seq_a, p->path_a), "b",
                              side(p->has_b, p->seq_b, p->path_b));
        json_t *ds = json_array();
        for (size_t k = 0; k < p->nd; k++)
            json_array_append_new(
                ds, json_pack("{s:s, s:s, s:s}", "where", p->d[k].where, "a", p->d[k].a, "b", p->d[k].b));
        json_object_set_new(c, "differences", ds);
        json_array_append_new(calls, c);
    }
    json_object_set_new(root, "calls_that_differ", calls);
    int rc = rcx_write_file(path, dump_json, root, err);
    json_decref(root);
    return rc;
}

bool rt_diff_print(FILE *out, const rt_diff_t *d, size_t na, size_t nb)
{
    for (size_t i = 0; i < d->n; i++) {
        const rt_diff_pair_t *p = &d->pairs[i];
        char la[32], lb[32];
        call_label(la, sizeof(la), p->has_a, p->seq_a);
        call_label(lb, sizeof(lb), p->has_b, p->seq_b);
        if (!p->has_a || !p->has_b) {
            const char *path = p->has_a ? p->path_a : p->path_b;
            fprintf(out, "%s/%s %s: only in %s (%s)\n", la, lb, p->key, p->has_a ? "A" : "B",
                    path != NULL ? path : "(null)");
        } else if (p->nd > 0) {
            fprintf(out, "%s/%s %s (%s)\n", la, lb, p->key, p->path_a != NULL ? p->path_a : "(null)");
            for (size_t k = 0; k < p->nd; k++)
                fprintf(out, "    %s: %s -> %s\n", p->d[k].where, p->d[k].a, p->d[k].b);
        }
    }
    bool same = d->differ + d->only_a + d->only_b == 0;
    fprintf(out, "%s: %zu calls in A, %zu in B: %zu aligned differ, %zu only in A, %zu only in B\n",
            same ? "SAME" : "DIFFERENT", na, nb, d->differ, d->only_a, d->only_b);
    return same;
}
