/* verifier/report_json.c: the JSON report. See report.h. */
#include "verifier/report.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int rv_report_json(FILE *out, const rv_report_t *r)
{
    json_t *root = json_object(), *calls = json_array();
    json_object_set_new(root, "ok", json_boolean(rv_report_ok(r)));
    json_object_set_new(root, "calls", json_integer((json_int_t)r->n));
    json_object_set_new(root, "passed", json_integer((json_int_t)r->passed));
    json_object_set_new(root, "failed", json_integer((json_int_t)r->failed));
    json_object_set_new(root, "without_spec", json_integer((json_int_t)r->unmatched));
    json_object_set_new(root, "unused_specs_count", json_integer((json_int_t)r->nunused));
    if (r->leaks != NULL)
        json_object_set(root, "leaks", r->leaks);
    for (size_t i = 0; i < r->n; i++) {
        const rv_item_t *it = &r->items[i];
        json_t *c =
            json_pack("{s:s, s:I, s:I, s:s?, s:s?, s:s?, s:s?, s:i, s:s}", "capture", it->capture, "line",
                      (json_int_t)it->line, "seq", (json_int_t)it->seq, "id", it->id, "method", it->method,
                      "path", it->path, "test", it->test, "status", it->status, "result",
                      it->spec == NULL ? "no_spec"
                      : it->nf         ? "fail"
                                       : "pass");
        if (it->spec != NULL) {
            char where[600];
            snprintf(where, sizeof(where), "%s:%d:%d", it->spec->pos.file, it->spec->pos.line,
                     it->spec->pos.col);
            json_object_set_new(c, "spec", json_pack("{s:s, s:s}", "name", it->spec->name, "at", where));
        }
        if (it->nf) {
            json_t *fs = json_array();
            for (size_t k = 0; k < it->nf; k++) {
                char where[600];
                snprintf(where, sizeof(where), "%s:%d:%d", it->f[k].pos.file, it->f[k].pos.line,
                         it->f[k].pos.col);
                char *line = rv_finding_line(it, &it->f[k]);
                json_array_append_new(
                    fs, json_pack("{s:s, s:s, s:s}", "at", where, "message", it->f[k].msg, "line", line));
                free(line);
            }
            json_object_set_new(c, "findings", fs);
        }
        json_array_append_new(calls, c);
    }
    json_object_set_new(root, "results", calls);
    json_t *orph = json_array();
    for (size_t i = 0; i < r->norphans; i++)
        json_array_append_new(orph, json_pack("{s:s, s:I, s:s, s:O}", "capture", r->orphans[i].capture,
                                              "line", (json_int_t)r->orphans[i].line, "summary",
                                              r->orphans[i].summary, "transaction", r->orphans[i].tx));
    json_object_set_new(root, "forbidden_orphans", orph);
    json_t *sf = json_array(), *unused = json_array();
    for (size_t i = 0; i < r->nspec_findings; i++) {
        const rv_spec_finding_t *f = &r->spec_findings[i];
        char where[600];
        snprintf(where, sizeof(where), "%s:%d:%d", f->pos.file, f->pos.line, f->pos.col);
        json_array_append_new(
            sf, json_pack("{s:s, s:s, s:s}", "spec", f->spec->name, "at", where, "message", f->msg));
    }
    for (size_t i = 0; i < r->nunused; i++) {
        char where[600];
        snprintf(where, sizeof(where), "%s:%d:%d", r->unused[i]->pos.file, r->unused[i]->pos.line,
                 r->unused[i]->pos.col);
        json_array_append_new(unused, json_pack("{s:s, s:s}", "spec", r->unused[i]->name, "at", where));
    }
    json_object_set_new(root, "spec_findings", sf);
    json_object_set_new(root, "unused_specs", unused);
    json_t *notes = json_array();
    for (size_t i = 0; i < r->nnotes; i++)
        json_array_append_new(notes, json_string(r->notes[i]));
    json_object_set_new(root, "notes", notes);
    int rc = json_dumpf(root, out, JSON_INDENT(1)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
    json_decref(root);
    return rc;
}
