/* verifier/report_html.c: one self-contained HTML page (no scripts, no external assets): a summary,
 * then every failing call with its request, response and row changes as tables, then the passing
 * ones (up to the number kept). See report.h. */
#include "verifier/report.h"

#include "verifier/leaks.h"

#include <stdlib.h>
#include <string.h>

static const char *sv(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static void e(FILE *out, const char *s)
{
    if (s)
        rv_escape_markup(out, s, strlen(s));
}

static void ejson(FILE *out, const json_t *v, size_t flags)
{
    if (json_is_string(v)) {
        rv_escape_markup(out, json_string_value(v), json_string_length(v));
        return;
    }
    char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
    if (s)
        e(out, s);
    free(s);
}

static const char style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}"
    "h1{font-size:20px}.sum{padding:10px 14px;border-radius:6px;margin:12px 0}"
    ".ok{background:#e6f4ea}.bad{background:#fde7e9}"
    "details{border:1px solid #ddd;border-radius:6px;margin:8px 0;padding:6px 10px}"
    "details.fail{border-color:#d93025}summary{cursor:pointer;font-family:monospace}"
    ".st{display:inline-block;min-width:3em;font-weight:bold}.fail .st{color:#d93025}.pass .st{color:#188038}"
    ".nospec .st{color:#b06000}ul.f{color:#a50e0e;font-family:monospace;margin:6px 0}"
    "table{border-collapse:collapse;margin:4px 0 10px}td,th{border:1px solid #ccc;padding:2px 6px;"
    "font-family:monospace;font-size:12px;vertical-align:top;text-align:left}th{background:#f3f3f3}"
    "pre{background:#f7f7f7;padding:6px;overflow:auto;max-height:300px;font-size:12px}"
    "h3{font-size:14px;margin:10px 0 4px}.op-insert{background:#eefbea}.op-update{background:#fff8e1}"
    ".op-delete{background:#fdecea}.muted{color:#777}";

static void headers_table(FILE *out, const json_t *h)
{
    if (!json_is_object(h) || json_object_size(h) == 0)
        return;
    fputs("<table>", out);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)h, k, v)
    {
        fputs("<tr><th>", out);
        e(out, k);
        fputs("</th><td>", out);
        ejson(out, v, JSON_COMPACT);
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
}

static void body_block(FILE *out, const json_t *msg)
{
    const json_t *b = json_object_get(msg, "body");
    if (b == NULL)
        b = json_object_get(msg, "body_text");
    if (b == NULL && json_object_get(msg, "body_b64"))
        fputs("<p class=muted>binary body (base64 in the capture)</p>", out);
    if (b == NULL)
        return;
    fputs("<pre>", out);
    ejson(out, b, JSON_INDENT(2));
    fputs("</pre>", out);
}

/* The row changes of a call: one table per database table and operation, columns from the rows. */
static void rows_tables(FILE *out, const json_t *db)
{
    const char *status = json_string_value(json_object_get(db, "status"));
    fputs("<h3>Row changes", out);
    if (status) {
        fputs(" <span class=muted>(db ", out);
        e(out, status);
        const char *how = json_string_value(json_object_get(db, "attribution"));
        if (how) {
            fputs(", attribution ", out);
            e(out, how);
        }
        fputs(")</span>", out);
    }
    fputs("</h3>", out);
    size_t i;
    const json_t *tx;
    size_t shown = 0;
    json_array_foreach(json_object_get(db, "transactions"), i, tx)
    {
        const json_t *changes = json_object_get(tx, "changes");
        size_t a = 0;
        while (a < json_array_size(changes)) {
            const json_t *first = json_array_get(changes, a);
            const char *op = json_string_value(json_object_get(first, "op"));
            const char *table = json_string_value(json_object_get(first, "table"));
            size_t b = a;
            while (b < json_array_size(changes)) {
                const json_t *c = json_array_get(changes, b);
                if (!op || !table || strcmp(op, sv(json_object_get(c, "op"))) != 0 ||
                    strcmp(table, sv(json_object_get(c, "table"))) != 0)
                    break;
                b++;
            }
            if (b == a)
                b = a + 1;
            const char *img = op && strcmp(op, "delete") == 0 ? "old" : "new";
            const json_t *cols = json_object_get(first, img);
            if (cols == NULL)
                cols = json_object_get(first, "key");
            fprintf(out, "<table class=\"op-%s\"><tr><th>", op ? op : "?");
            e(out, op);
            fputs(" ", out);
            e(out, table);
            if (json_is_string(json_object_get(tx, "attribution")) &&
                strcmp(json_string_value(json_object_get(tx, "attribution")), "ambiguous") == 0)
                fputs(" (ambiguous)", out);
            fputs("</th>", out);
            const char *k;
            const json_t *v;
            json_object_foreach((json_t *)cols, k, v)
            {
                (void)v;
                fputs("<th>", out);
                e(out, k);
                fputs("</th>", out);
            }
            fputs("</tr>", out);
            for (size_t r = a; r < b; r++) {
                const json_t *c = json_array_get(changes, r);
                const json_t *row = json_object_get(c, img);
                if (row == NULL)
                    row = json_object_get(c, "key");
                fputs("<tr><td></td>", out);
                json_object_foreach((json_t *)cols, k, v)
                {
                    fputs("<td>", out);
                    ejson(out, json_object_get(row, k), JSON_COMPACT);
                    fputs("</td>", out);
                }
                fputs("</tr>", out);
            }
            fputs("</table>", out);
            shown++;
            a = b;
        }
    }
    if (shown == 0)
        fputs("<p class=muted>none</p>", out);
}

static void call_block(FILE *out, const rv_report_t *r, const rv_item_t *it)
{
    bool fail = it->nf > 0 || (it->spec == NULL && r->require_spec);
    const char *cls = fail ? "fail" : it->spec ? "pass" : "nospec";
    fprintf(out, "<details class=\"%s\"%s><summary><span class=st>%d</span> #%llu ", cls, fail ? " open" : "",
            it->status, (unsigned long long)it->seq);
    e(out, it->method);
    fputs(" ", out);
    e(out, it->path);
    if (it->test) {
        fputs(" <span class=muted>[", out);
        e(out, it->test);
        fputs("]</span>", out);
    }
    fputs(fail ? " &mdash; FAIL" : it->spec ? "" : " &mdash; no spec", out);
    fputs("</summary>", out);
    if (it->spec) {
        fputs("<div class=muted>spec ", out);
        e(out, it->spec->name);
        fprintf(out, " (");
        e(out, it->spec->pos.file);
        fprintf(out, ":%d:%d) &middot; ", it->spec->pos.line, it->spec->pos.col);
        e(out, it->capture);
        fprintf(out, ":%lu</div>", it->line);
    }
    if (it->nf) {
        fputs("<ul class=f>", out);
        for (size_t k = 0; k < it->nf; k++) {
            fputs("<li>", out);
            e(out, it->f[k].pos.file);
            fprintf(out, ":%d:%d: ", it->f[k].pos.line, it->f[k].pos.col);
            e(out, it->f[k].msg);
            fputs("</li>", out);
        }
        fputs("</ul>", out);
    }
    if (it->call) {
        const json_t *req = json_object_get(it->call, "request"),
                     *res = json_object_get(it->call, "response");
        fputs("<h3>Request</h3>", out);
        const char *q = json_string_value(json_object_get(req, "query"));
        if (q && *q) {
            fputs("<div>?", out);
            e(out, q);
            fputs("</div>", out);
        }
        headers_table(out, json_object_get(req, "headers"));
        body_block(out, req);
        fputs("<h3>Response</h3>", out);
        headers_table(out, json_object_get(res, "headers"));
        body_block(out, res);
        rows_tables(out, json_object_get(it->call, "db"));
    }
    fputs("</details>\n", out);
}

/* The specs' own findings, and the specs no call matched. */
static void specs_section(FILE *out, const rv_report_t *r)
{
    if (r->nspec_findings > 0) {
        fputs("<h2>Specs that name what nothing captured has</h2><ul class=f>", out);
        for (size_t i = 0; i < r->nspec_findings; i++) {
            const rv_spec_finding_t *f = &r->spec_findings[i];
            fputs("<li>", out);
            e(out, f->pos.file);
            fprintf(out, ":%d:%d: ", f->pos.line, f->pos.col);
            e(out, f->msg);
            fputs("</li>", out);
        }
        fputs("</ul>\n", out);
    }
    if (r->nunused > 0) {
        fprintf(out, "<h2>Specs no call matched%s</h2><ul class=f>", r->require_used ? " (failing)" : "");
        for (size_t i = 0; i < r->nunused; i++) {
            fputs("<li>", out);
            e(out, r->unused[i]->name);
            fputs(" (", out);
            e(out, r->unused[i]->pos.file);
            fprintf(out, ":%d:%d)</li>", r->unused[i]->pos.line, r->unused[i]->pos.col);
        }
        fputs("</ul>\n", out);
    }
}

static void leak_item(void *arg, const char *kind, const char *test, const char *text)
{
    FILE *out = arg;
    fprintf(out, "<li><b>%s</b> ", kind);
    e(out, test);
    fputs(" ", out);
    e(out, text);
    fputs("</li>", out);
}

int rv_report_html(FILE *out, const rv_report_t *r)
{
    bool ok = rv_report_ok(r);
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>recap verify: %s</title>"
            "<style>%s</style></head><body>\n<h1>recap verify</h1>\n",
            ok ? "PASS" : "FAIL", style);
    fprintf(out,
            "<div class=\"sum %s\"><b>%s</b>: %zu calls &middot; %zu passed &middot; %zu failed &middot; %zu "
            "without a spec",
            ok ? "ok" : "bad", ok ? "PASS" : "FAIL", r->n, r->passed, r->failed, r->unmatched);
    if (r->norphans)
        fprintf(out, " &middot; %zu forbidden orphan transactions", r->norphans);
    if (r->nspec_findings)
        fprintf(out, " &middot; %zu spec findings", r->nspec_findings);
    if (r->nunused)
        fprintf(out, " &middot; %zu specs no call matched", r->nunused);
    fputs("</div>\n", out);
    specs_section(out, r);
    for (size_t i = 0; i < r->nnotes; i++) {
        fputs("<p class=muted>note: ", out);
        e(out, r->notes[i]);
        fputs("</p>\n", out);
    }
    if (r->leaks != NULL && rv_leaks_count(r->leaks) > 0) {
        fputs("<h2>Leaks and order dependences</h2><ul class=f>", out);
        rv_leaks_lines(r->leaks, leak_item, out);
        fputs("</ul>\n", out);
    }
    if (r->norphans) {
        fputs("<h2>Orphan transactions (forbidden)</h2><ul class=f>", out);
        for (size_t i = 0; i < r->norphans; i++) {
            fputs("<li>", out);
            e(out, r->orphans[i].capture);
            fprintf(out, ":%lu: ", r->orphans[i].line);
            e(out, r->orphans[i].summary);
            fputs("</li>", out);
        }
        fputs("</ul>\n", out);
    }
    for (int pass = 0; pass < 3; pass++) /* failures first, then calls without a spec, then passes */
        for (size_t i = 0; i < r->n; i++) {
            const rv_item_t *it = &r->items[i];
            bool fail = it->nf > 0 || (it->spec == NULL && r->require_spec);
            int group = fail ? 0 : it->spec == NULL ? 1 : 2;
            if (group == pass && (fail || it->call != NULL))
                call_block(out, r, it);
        }
    size_t hidden = 0;
    for (size_t i = 0; i < r->n; i++)
        hidden += r->items[i].call == NULL && r->items[i].nf == 0;
    if (hidden)
        fprintf(out, "<p class=muted>%zu more passing calls are not shown in full.</p>\n", hidden);
    fputs("</body></html>\n", out);
    return ferror(out) ? -1 : 0;
}
