/* tools/show.c: see show.h. */
#include "tools/show.h"

#include "common/buf.h"
#include "common/codec.h"

#include <string.h>

/* A value as the table shows it: a string as it is, anything else as JSON; at most n bytes ("..." when cut).
 */
static void shortened(rcx_buf_t *b, const json_t *v, size_t n)
{
    rcx_buf_t t;
    rcx_buf_init(&t, SIZE_MAX);
    if (json_is_string(v)) {
        rcx_buf_append(&t, json_string_value(v), json_string_length(v));
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        rcx_buf_puts(&t, s ? s : "null");
        free(s);
    }
    for (size_t i = 0; i < t.len; i++) /* one line per call */
        if (t.base[i] == '\n' || t.base[i] == '\r' || t.base[i] == '\t')
            t.base[i] = ' ';
    if (t.len <= n) {
        rcx_buf_append(b, t.base, t.len);
    } else {
        rcx_buf_append(b, t.base, n - 3);
        rcx_buf_puts(b, "...");
    }
    rcx_buf_free(&t);
}

static const char *status_colour(int status, bool color)
{
    if (!color)
        return "";
    return status >= 500 ? "\033[31m" : status >= 400 ? "\033[33m" : status >= 200 ? "\033[32m" : "";
}

static void row_line(FILE *out, const json_t *ch, const char *attribution, bool color)
{
    rcx_change_t c;
    if (rcx_rec_change(ch, &c) != 0)
        return;
    const char *dim = color ? "\033[2m" : "", *off = color ? "\033[0m" : "";
    if (c.op == RCX_OP_TRUNCATE) {
        fprintf(out, "%8struncate %s.%s  [%s]\n", "", c.schema, c.table, attribution);
        return;
    }
    const json_t *row = json_object_get(ch, "new");
    if (!json_is_object(row))
        row = json_object_get(ch, "old");
    if (!json_is_object(row))
        row = json_object_get(ch, "key");
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_buf_printf(&b, "%-6s %-14s", c.op_name, c.table);
    const char *k;
    const json_t *v;
    int cols = 0;
    json_object_foreach((json_t *)row, k, v)
    {
        if (cols++ == 3)
            break;
        rcx_buf_printf(&b, " %s=", k);
        shortened(&b, v, 24);
    }
    const json_t *changed = json_object_get(ch, "changed");
    for (size_t i = 0; i < json_array_size(changed); i++)
        rcx_buf_printf(&b, "%s%s", i == 0 ? "  changed: " : ",",
                       json_string_value(json_array_get(changed, i)));
    fprintf(out, "%8s%.*s  %s[%s]%s\n", "", (int)b.len, b.base, dim, attribution, off);
    rcx_buf_free(&b);
}

static void tx_lines(FILE *out, const json_t *tx, const char *attribution, bool color)
{
    size_t i;
    const json_t *ch;
    json_array_foreach(json_object_get(tx, "changes"), i, ch) row_line(out, ch, attribution, color);
}

void rt_show_header(FILE *out, bool color)
{
    fprintf(out, "%s%3s  %-28s %-6s %-52s %6s %7s  response body%s\n", color ? "\033[1m" : "", "seq", "test",
            "method", "path", "status", "ms", color ? "\033[0m" : "");
}

void rt_show_call(FILE *out, const json_t *call, bool color)
{
    const json_t *res = json_object_get(call, "response");
    const char *test = json_string_value(json_object_get(call, "test"));
    const char *path = rcx_rec_str(call, "request", "path");
    int status = rcx_rec_status(call);
    rcx_buf_t body;
    rcx_buf_init(&body, SIZE_MAX);
    const json_t *b = json_object_get(res, "body");
    if (b != NULL)
        shortened(&body, b, 44);
    else if (json_is_string(json_object_get(res, "body_text")))
        shortened(&body, json_object_get(res, "body_text"), 44);
    fprintf(out, "%3lld  %-28s %-6s %-52.52s %s%6d%s %7.1f  %.*s\n",
            (long long)json_integer_value(json_object_get(call, "seq")), test ? test : "-",
            rcx_rec_str(call, "request", "method") ? rcx_rec_str(call, "request", "method") : "?",
            path ? path : "?", status_colour(status, color), status, color ? "\033[0m" : "",
            (double)json_integer_value(json_object_get(call, "duration_us")) / 1000.0, (int)body.len,
            body.base ? body.base : "");
    rcx_buf_free(&body);
    size_t i;
    const json_t *tx;
    json_array_foreach(rcx_rec_transactions(call), i, tx)
    {
        const char *how = json_string_value(json_object_get(tx, "attribution"));
        tx_lines(out, tx, how ? how : "?", color);
    }
}

void rt_show_orphan(FILE *out, const json_t *orphan, bool color)
{
    fprintf(out, "%3s  %-28s %s(a transaction in no call's window: a fixture, a job, a migration)%s\n", "-",
            "orphan", color ? "\033[2m" : "", color ? "\033[0m" : "");
    tx_lines(out, orphan, "orphan", color);
}
