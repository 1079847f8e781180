/* verifier/serve.c: see serve.h. */
#include "verifier/serve.h"

#include "common/buf.h"
#include "verifier/order.h"
#include "verifier/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* One batch's answer, from the report of its records. */
static int answer(FILE *out, const rv_specs_t *specs, const rv_report_t *r, json_t *errors, json_t *saved)
{
    json_t *orphans = json_array();
    for (size_t i = 0; i < r->norphans; i++) {
        char s[800];
        snprintf(s, sizeof(s),
                 "orphan transaction %lld (no call's: %.400s) committed while the test ran  (%s:%d:%d: "
                 "orphans: forbid)",
                 (long long)json_integer_value(json_object_get(r->orphans[i].tx, "xid")),
                 r->orphans[i].summary, r->orphans_pos.file, r->orphans_pos.line, r->orphans_pos.col);
        json_array_append_new(orphans, json_string(s));
    }
    json_t *findings = json_array(), *no_spec = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const rv_item_t *it = &r->items[i];
        for (size_t k = 0; k < it->nf; k++) {
            char *line = rv_finding_line(it, &it->f[k]);
            json_array_append_new(findings, json_string(line));
            free(line);
        }
        if (it->spec == NULL) {
            char s[600];
            snprintf(s, sizeof(s), "#%llu %s %s -> %d", (unsigned long long)it->seq,
                     it->method ? it->method : "?", it->path ? it->path : "?", it->status);
            json_array_append_new(no_spec, json_string(s));
        }
    }
    json_t *a = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:O, s:O, s:b}", "calls", (json_int_t)r->n,
                          "matched", (json_int_t)(r->n - r->unmatched), "failed",
                          (json_int_t)(r->failed + r->norphans + (r->require_spec ? r->unmatched : 0)),
                          "findings", findings, "orphans", orphans, "no_spec", no_spec, "errors", errors,
                          "saved", saved, "orphans_forbidden", specs->forbid_orphans);
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    int rc = fprintf(out, "%s\n", text) < 0 || fflush(out) != 0 ? -1 : 0;
    free(text);
    return rc;
}

/* "#spec {"file":"tests/test_x.py:12","text":"..."}": this batch's calls go against that spec text alone. */
static void inline_spec(rv_specs_t *own, bool *have, const char *line, size_t len, json_t *errors)
{
    json_t *v = json_loadb(line, len, 0, NULL);
    const char *file = json_string_value(json_object_get(v, "file")),
               *text = json_string_value(json_object_get(v, "text"));
    rcx_err_t err = {{0}};
    if (*have)
        rv_specs_free(own);
    *own = (rv_specs_t){0};
    *have = file != NULL && text != NULL && rv_specs_load_text(own, file, text, strlen(text), &err) == 0 &&
            rv_specs_finish(own, &err) == 0;
    if (!*have) {
        json_array_append_new(
            errors, json_string(err.msg[0] ? err.msg : "#spec: {\"file\": ..., \"text\": ...} expected"));
        rv_specs_free(own);
    }
    json_decref(v);
}

/* The batch's next record in arrival order checked; false when none is held. */
static bool check_next(rv_order_t *q, rv_report_t *r, const rv_specs_t *specs, json_t *saved)
{
    json_t *rec;
    unsigned long n;
    if (!rv_order_pop(q, &rec, &n))
        return false;
    rv_report_record(r, specs, "(served)", n, rec, saved, false);
    json_decref(rec);
    return true;
}

int rv_serve(const rv_specs_t *specs, bool require_spec, FILE *in, FILE *out)
{
    rv_order_t *q = rv_order_new();
    json_t *saved = json_object();
    rv_specs_t own = {0};
    bool have_own = false;
    rv_report_t r = {.require_spec = require_spec, .orphans_pos = specs->orphans_pos};
    json_t *errors = json_array();
    char *line = NULL;
    size_t cap = 0;
    unsigned long n = 0;
    int rc = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &cap, in)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0) { /* the end of a batch */
            while (check_next(q, &r, have_own ? &own : specs, saved))
                ;
            rc = answer(out, specs, &r, errors, saved);
            rv_report_free(&r);
            r = (rv_report_t){.require_spec = require_spec, .orphans_pos = specs->orphans_pos};
            json_decref(errors);
            errors = json_array();
            if (have_own)
                rv_specs_free(&own);
            have_own = false;
            n = 0;
            continue;
        }
        n++;
        if (strncmp(line, "#spec ", 6) == 0) {
            inline_spec(&own, &have_own, line + 6, (size_t)len - 6, errors);
            continue;
        }
        if (strncmp(line, "#saved ", 7) == 0) {
            json_t *v = json_loadb(line + 7, (size_t)len - 7, 0, NULL);
            if (json_is_object(v))
                json_object_update_missing(saved, v); /* what this process saved itself wins */
            else
                json_array_append_new(errors, json_string("#saved: a JSON object of saved values expected"));
            json_decref(v);
            continue;
        }
        json_error_t je;
        json_t *rec = json_loadb(line, (size_t)len, 0, &je);
        if (!json_is_object(rec)) {
            char msg[300];
            snprintf(msg, sizeof(msg), "line %lu: not a record: %s", n,
                     rec == NULL ? je.text : "not an object");
            json_array_append_new(errors, json_string(msg));
            json_decref(rec);
            continue;
        }
        rv_order_push(q, rec, n);
        if (rv_order_full(q))
            check_next(q, &r, have_own ? &own : specs, saved);
    }
    rv_order_free(q);
    free(line);
    if (have_own)
        rv_specs_free(&own);
    rv_report_free(&r);
    json_decref(errors);
    json_decref(saved);
    return rc;
}
