/* verifier/report_junit.c: JUnit XML, one testcase per call, one testsuite per test name. See report.h. */
#include "verifier/report.h"

#include "verifier/leaks.h"

#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

static void xml(FILE *out, const char *s)
{
    if (s != NULL)
        rv_escape_markup(out, s, strlen(s));
}

static const rv_report_t *sorting;

static const char *suite_of(const rv_item_t *it)
{
    return it->test ? it->test : it->capture;
}

static int by_suite(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(suite_of(&sorting->items[x]), suite_of(&sorting->items[y]));
    return c ? c : (x < y ? -1 : x > y);
}

static bool failing(const rv_report_t *r, const rv_item_t *it)
{
    return it->nf > 0 || (it->spec == NULL && r->require_spec);
}

/* The specs themselves: a name nothing captured has (failure), a spec no call matched (skipped, or a failure
 * with --require-used). */
static void specs_suite(FILE *out, const rv_report_t *r)
{
    if (r->nspec_findings + r->nunused == 0)
        return;
    fprintf(out, "  <testsuite name=\"specs\" tests=\"%zu\" failures=\"%zu\">\n",
            r->nspec_findings + r->nunused, r->nspec_findings + (r->require_used ? r->nunused : 0));
    for (size_t i = 0; i < r->nspec_findings; i++) {
        const rv_spec_finding_t *f = &r->spec_findings[i];
        fputs("    <testcase classname=\"specs\" name=\"", out);
        xml(out, f->spec->name);
        fputs("\">\n      <failure type=\"recap.spec\" message=\"", out);
        fprintf(out, "%s:%d:%d: ", f->pos.file, f->pos.line, f->pos.col);
        xml(out, f->msg);
        fputs("\"/>\n    </testcase>\n", out);
    }
    for (size_t i = 0; i < r->nunused; i++) {
        const rv_spec_t *s = r->unused[i];
        fputs("    <testcase classname=\"specs\" name=\"", out);
        xml(out, s->name);
        fprintf(out, "\">\n      <%s %s=\"%s:%d:%d: no call matched this spec\"/>\n    </testcase>\n",
                r->require_used ? "failure type=\"recap.unused\"" : "skipped", "message", s->pos.file,
                s->pos.line, s->pos.col);
    }
    fputs("  </testsuite>\n", out);
}

/* One call as a testcase of its suite. */
static void testcase(FILE *out, const rv_report_t *r, const char *suite, const rv_item_t *it)
{
    fputs("    <testcase classname=\"", out);
    xml(out, suite);
    fprintf(out, "\" name=\"#%llu ", (unsigned long long)it->seq);
    xml(out, it->method);
    fputc(' ', out);
    xml(out, it->path);
    fprintf(out, " -> %d\" time=\"%.6f\" file=\"", it->status, (double)it->duration_us / 1e6);
    xml(out, it->capture);
    fprintf(out, ":%lu\"", it->line);
    if (!failing(r, it)) {
        fputs(it->spec == NULL
                  ? ">\n      <skipped message=\"no spec matches this call\"/>\n    </testcase>\n"
                  : "/>\n",
              out);
        return;
    }
    fputs(">\n      <failure type=\"recap.verify\" message=\"", out);
    if (it->nf > 0) {
        char *first = rv_finding_line(it, &it->f[0]);
        xml(out, first);
        free(first);
        fputs("\">", out);
        for (size_t k = 0; k < it->nf; k++) {
            char *line = rv_finding_line(it, &it->f[k]);
            xml(out, line);
            fputc('\n', out);
            free(line);
        }
    } else {
        fputs("no spec matches this call (--require-spec)\">", out);
    }
    fputs("</failure>\n    </testcase>\n", out);
}

typedef struct junit_leaks {
    FILE *out;
    bool fail;
} junit_leaks_t;

static void leak_case(void *arg, const char *kind, const char *test, const char *text)
{
    junit_leaks_t *j = arg;
    fputs("    <testcase classname=\"recap leaks\" name=\"", j->out);
    xml(j->out, test);
    fprintf(j->out, "\">\n      <%s type=\"recap.%s\" message=\"", j->fail ? "failure" : "system-out",
            strcmp(kind, "LEAK") == 0 ? "leak" : "depends");
    xml(j->out, text);
    fprintf(j->out, "\"%s\n    </testcase>\n", j->fail ? "/>" : "></system-out>");
}

/* Rows left behind and order dependences (verify --leaks): one testcase each, failures with --fail-on-leaks.
 */
static void leaks_suite(FILE *out, const rv_report_t *r)
{
    if (r->leaks == NULL || rv_leaks_count(r->leaks) == 0)
        return;
    size_t n = rv_leaks_count(r->leaks);
    fprintf(out, "  <testsuite name=\"recap leaks\" tests=\"%zu\" failures=\"%zu\">\n", n,
            r->fail_on_leaks ? n : 0);
    junit_leaks_t j = {out, r->fail_on_leaks};
    rv_leaks_lines(r->leaks, leak_case, &j);
    fputs("  </testsuite>\n", out);
}

int rv_report_junit(FILE *out, const rv_report_t *r)
{
    size_t *idx = rcx_xmalloc(sizeof(*idx) * (r->n + 1));
    for (size_t i = 0; i < r->n; i++)
        idx[i] = i;
    sorting = r;
    qsort(idx, r->n, sizeof(*idx), by_suite);
    size_t leaks = r->leaks != NULL ? rv_leaks_count(r->leaks) : 0;
    size_t failures =
        r->norphans + r->nspec_findings + (r->require_used ? r->nunused : 0) + (r->fail_on_leaks ? leaks : 0);
    for (size_t i = 0; i < r->n; i++)
        failures += failing(r, &r->items[i]);
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"recap verify\" tests=\"%zu\" "
            "failures=\"%zu\">\n",
            r->n + r->norphans + r->nspec_findings + r->nunused + leaks, failures);
    for (size_t i = 0; i < r->n;) {
        const char *suite = suite_of(&r->items[idx[i]]);
        size_t j = i, fails = 0;
        double secs = 0;
        while (j < r->n && strcmp(suite_of(&r->items[idx[j]]), suite) == 0) {
            fails += failing(r, &r->items[idx[j]]);
            secs += (double)r->items[idx[j]].duration_us / 1e6;
            j++;
        }
        fputs("  <testsuite name=\"", out);
        xml(out, suite);
        fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" time=\"%.6f\">\n", j - i, fails, secs);
        for (; i < j; i++)
            testcase(out, r, suite, &r->items[idx[i]]);
        fputs("  </testsuite>\n", out);
    }
    if (r->norphans > 0) {
        fprintf(out, "  <testsuite name=\"orphan transactions\" tests=\"%zu\" failures=\"%zu\">\n",
                r->norphans, r->norphans);
        for (size_t i = 0; i < r->norphans; i++) {
            fputs("    <testcase classname=\"orphan transactions\" name=\"", out);
            xml(out, r->orphans[i].summary);
            fputs("\">\n      <failure type=\"recap.orphan\" message=\"", out);
            xml(out, r->orphans_pos.file);
            fprintf(out, ":%d:%d: orphans: forbid: ", r->orphans_pos.line, r->orphans_pos.col);
            xml(out, r->orphans[i].summary);
            fputs("\"/>\n    </testcase>\n", out);
        }
        fputs("  </testsuite>\n", out);
    }
    specs_suite(out, r);
    leaks_suite(out, r);
    fputs("</testsuites>\n", out);
    free(idx);
    return ferror(out) ? -1 : 0;
}
