/* verifier/report.c: the report model (items, findings, orphans, notes). See report.h. */
#include "verifier/report.h"

#include "common/buf.h"
#include "common/codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_or_null(const char *s)
{
    return s ? rcx_xstrdup(s) : NULL;
}

void rv_report_add(rv_report_t *r, const char *capture, unsigned long line, const json_t *call,
                   rv_outcome_t *o, bool keep)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->items = rcx_xrealloc(r->items, sizeof(*r->items) * r->cap);
    }
    rv_item_t *it = &r->items[r->n++];
    *it = (rv_item_t){
        .capture = capture,
        .line = line,
        .seq = (uint64_t)json_integer_value(json_object_get(call, "seq")),
        .id = dup_or_null(json_string_value(json_object_get(call, "id"))),
        .method = dup_or_null(rcx_rec_str(call, "request", "method")),
        .path = dup_or_null(rcx_rec_str(call, "request", "path")),
        .test = dup_or_null(json_string_value(json_object_get(call, "test"))),
        .status = (int)json_integer_value(json_object_get(json_object_get(call, "response"), "status")),
        .duration_us = (uint64_t)json_integer_value(json_object_get(call, "duration_us")),
        .spec = o->spec,
        .f = o->f,
        .nf = o->nf};
    o->f = NULL;
    o->nf = 0;
    if (it->spec == NULL)
        r->unmatched++;
    else if (it->nf > 0)
        r->failed++;
    else
        r->passed++;
    bool failing = it->nf > 0 || (it->spec == NULL && r->require_spec);
    if (keep && (failing || r->kept_passes < 2000)) {
        it->call = json_incref((json_t *)call);
        r->kept_passes += !failing;
    }
}

void rv_report_record(rv_report_t *r, const rv_specs_t *specs, const char *capture, unsigned long line,
                      const json_t *rec, json_t *saved, bool keep)
{
    rcx_rec_kind_t kind = rcx_rec_kind(rec);
    if (kind == RCX_REC_CALL || kind == RCX_REC_ORPHAN)
        rv_coverage_note(&r->coverage, rec);
    if (kind == RCX_REC_CALL) {
        rv_outcome_t o = {0};
        const rv_spec_t *s = rv_select(specs, rec);
        if (s != NULL) {
            rv_check_call(s, rec, saved, &o);
            rv_coverage_hit(&r->coverage, s);
        }
        rv_report_add(r, capture, line, rec, &o, keep);
        rv_outcome_clear(&o);
    } else if (kind == RCX_REC_ORPHAN && specs->forbid_orphans) {
        rv_report_add_orphan(r, capture, line, rec);
    }
}

void rv_report_add_orphan(rv_report_t *r, const char *capture, unsigned long line, const json_t *orphan)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    const char *name;
    const json_t *c;
    json_object_foreach((json_t *)json_object_get(orphan, "tables"), name, c)
    {
        static const char *const ops[] = {"insert", "update", "delete", "truncate"};
        static const char *const done[] = {"inserted", "updated", "deleted", "truncated"};
        for (int o = 0; o < 4; o++) {
            json_int_t n = json_integer_value(json_object_get(c, ops[o]));
            if (n > 0) {
                char s[300];
                int k =
                    snprintf(s, sizeof(s), "%s%s: %lld %s", b.len ? ", " : "", name, (long long)n, done[o]);
                rcx_buf_append(&b, s, (size_t)k);
            }
        }
    }
    r->orphans = rcx_xrealloc(r->orphans, sizeof(*r->orphans) * (r->norphans + 1));
    r->orphans[r->norphans++] = (rv_orphan_t){
        .capture = capture, .line = line, .summary = rcx_buf_take(&b), .tx = json_incref((json_t *)orphan)};
}

void rv_report_note(rv_report_t *r, const char *msg)
{
    r->notes = rcx_xrealloc(r->notes, sizeof(*r->notes) * (r->nnotes + 1));
    r->notes[r->nnotes++] = rcx_xstrdup(msg);
}

bool rv_report_ok(const rv_report_t *r)
{
    return r->failed == 0 && r->norphans == 0 && r->nspec_findings == 0 && r->nnotes == 0 &&
           !(r->require_spec && r->unmatched > 0) && !(r->require_used && r->nunused > 0);
}

char *rv_finding_line(const rv_item_t *it, const rv_finding_t *f)
{
    char *s = NULL;
    if (asprintf(&s, "%s:%d:%d: call #%llu %s %s%s%s%s: %s", f->pos.file, f->pos.line, f->pos.col,
                 (unsigned long long)it->seq, it->method ? it->method : "?", it->path ? it->path : "?",
                 it->test ? " (test " : "", it->test ? it->test : "", it->test ? ")" : "", f->msg) < 0)
        abort();
    return s;
}

void rv_report_free(rv_report_t *r)
{
    json_decref(r->leaks);
    r->leaks = NULL;
    for (size_t i = 0; i < r->n; i++) {
        rv_item_t *it = &r->items[i];
        free(it->id);
        free(it->method);
        free(it->path);
        free(it->test);
        rv_outcome_t o = {.f = it->f, .nf = it->nf};
        rv_outcome_clear(&o);
        json_decref(it->call);
    }
    free(r->items);
    for (size_t i = 0; i < r->norphans; i++) {
        free(r->orphans[i].summary);
        json_decref(r->orphans[i].tx);
    }
    free(r->orphans);
    for (size_t i = 0; i < r->nnotes; i++)
        free(r->notes[i]);
    free(r->notes);
    for (size_t i = 0; i < r->nspec_findings; i++)
        free(r->spec_findings[i].msg);
    free(r->spec_findings);
    free(r->unused);
    rv_coverage_free(&r->coverage);
    *r = (rv_report_t){0};
}

void rv_escape_markup(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                fputs("&#xFFFD;", out);
            else
                fputc(c, out);
        }
    }
}
