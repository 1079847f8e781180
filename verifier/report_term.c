/* verifier/report_term.c: the terminal report (colour on a TTY). See report.h. */
#include "verifier/report.h"

#include <stdio.h>
#include <string.h>

int rv_report_term(FILE *out, const rv_report_t *r, bool color, bool quiet)
{
    const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "",
               *yellow = color ? "\033[33m" : "", *bold = color ? "\033[1m" : "",
               *off = color ? "\033[0m" : "";
    for (size_t i = 0; i < r->n; i++) {
        const rv_item_t *it = &r->items[i];
        if (it->nf == 0)
            continue;
        fprintf(out, "%sFAIL%s %s#%llu %s %s -> %d%s%s%s  spec \"%s\" (%s:%d:%d)  [%s:%lu]\n", red, off, bold,
                (unsigned long long)it->seq, it->method, it->path, it->status, off, it->test ? "  test " : "",
                it->test ? it->test : "", it->spec->name, it->spec->pos.file, it->spec->pos.line,
                it->spec->pos.col, it->capture, it->line);
        for (size_t k = 0; k < it->nf; k++)
            fprintf(out, "    %s:%d:%d: %s\n", it->f[k].pos.file, it->f[k].pos.line, it->f[k].pos.col,
                    it->f[k].msg);
    }
    for (size_t i = 0; i < r->norphans; i++)
        fprintf(out, "%sFAIL%s orphan transaction (no call's) at %s:%lu: %s  (%s:%d:%d: orphans: forbid)\n",
                red, off, r->orphans[i].capture, r->orphans[i].line, r->orphans[i].summary,
                r->orphans_pos.file, r->orphans_pos.line, r->orphans_pos.col);
    for (size_t i = 0; i < r->nspec_findings; i++) {
        const rv_spec_finding_t *f = &r->spec_findings[i];
        fprintf(out, "%sFAIL%s spec \"%s\": %s:%d:%d: %s\n", red, off, f->spec->name, f->pos.file,
                f->pos.line, f->pos.col, f->msg);
    }
    for (size_t i = 0; i < r->nunused && !(quiet && !r->require_used); i++)
        fprintf(out, "%s%s%s spec \"%s\" (%s:%d:%d): no call matched it\n", r->require_used ? red : yellow,
                r->require_used ? "FAIL" : "UNUSED", off, r->unused[i]->name, r->unused[i]->pos.file,
                r->unused[i]->pos.line, r->unused[i]->pos.col);
    size_t shown = 0;
    for (size_t i = 0; i < r->n && r->unmatched > 0 && !(quiet && !r->require_spec); i++) {
        const rv_item_t *it = &r->items[i];
        if (it->spec != NULL)
            continue;
        if (shown++ < 20)
            fprintf(out, "%s%s%s #%llu %s %s -> %d%s%s: no spec matches  [%s:%lu]\n",
                    r->require_spec ? red : yellow, r->require_spec ? "FAIL" : "NO SPEC", off,
                    (unsigned long long)it->seq, it->method, it->path, it->status, it->test ? " test " : "",
                    it->test ? it->test : "", it->capture, it->line);
    }
    if (shown > 20)
        fprintf(out, "... and %zu more calls no spec matches\n", shown - 20);
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(out, "%snote%s: %s\n", yellow, off, r->notes[i]);
    fprintf(out, "%s%s%s: %zu calls: %zu passed, %zu failed, %zu without a spec%s",
            rv_report_ok(r) ? green : red, rv_report_ok(r) ? "PASS" : "FAIL", off, r->n, r->passed, r->failed,
            r->unmatched, r->require_spec && r->unmatched ? " (--require-spec: failing)" : "");
    if (r->norphans)
        fprintf(out, ", %zu forbidden orphan transactions", r->norphans);
    if (r->nspec_findings)
        fprintf(out, ", %zu spec findings", r->nspec_findings);
    if (r->nnotes)
        fprintf(out, ", %zu bad input lines (not a whole run)", r->nnotes);
    if (r->nunused)
        fprintf(out, ", %zu specs no call matched%s", r->nunused,
                r->require_used ? " (--require-used: failing)" : "");
    fprintf(out, "\n");
    return ferror(out) ? -1 : 0;
}
