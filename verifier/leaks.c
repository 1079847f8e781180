/* verifier/leaks.c: see leaks.h. */
#include "verifier/leaks.h"

#include "common/buf.h"
#include "common/codec.h"

#include <string.h>

void rv_leaks_init(rv_leaks_t *l)
{
    *l = (rv_leaks_t){json_object(), json_object(), json_object(), json_array(), json_object()};
}

void rv_leaks_free(rv_leaks_t *l)
{
    json_decref(l->identity);
    json_decref(l->rows);
    json_decref(l->last);
    json_decref(l->depends);
    json_decref(l->deleted);
    *l = (rv_leaks_t){0};
}

/* "id=5" or "article_id=3,tag_id=7": the row's identity in its image; -1 when the image lacks a column. */
static int key_of(const json_t *identity, const json_t *row, rcx_buf_t *out)
{
    rcx_buf_reset(out);
    for (size_t i = 0; i < json_array_size(identity); i++) {
        const char *col = json_string_value(json_array_get(identity, i));
        const json_t *v = col ? json_object_get(row, col) : NULL;
        if (v == NULL)
            return -1;
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        rcx_buf_printf(out, "%s%s=%s", i ? "," : "", col, text);
        free(text);
    }
    return json_array_size(identity) > 0 ? 0 : -1;
}

static void change(rv_leaks_t *l, const rcx_change_t *c, const char *test, uint64_t arrival, json_int_t seq)
{
    char table[600];
    snprintf(table, sizeof(table), "%s.%s", c->schema, c->table);
    if (c->identity != NULL)
        json_object_set(l->identity, table, (json_t *)c->identity);
    rcx_buf_t key, full;
    rcx_buf_init(&key, SIZE_MAX);
    rcx_buf_init(&full, SIZE_MAX);
    if (c->row != NULL && key_of(json_object_get(l->identity, table), c->row, &key) == 0) {
        rcx_buf_printf(&full, "%s %s", table, rcx_buf_cstr(&key));
        const char *k = rcx_buf_cstr(&full);
        json_t *row = json_object_get(l->rows, k);
        if (c->op == RCX_OP_INSERT && test != NULL) {
            json_object_set_new(l->rows, k,
                                json_pack("{s:s, s:b, s:s, s:s}", "test", test, "alive", 1, "table", table,
                                          "key", rcx_buf_cstr(&key)));
        } else if ((c->op == RCX_OP_UPDATE || c->op == RCX_OP_DELETE) && row != NULL) {
            const char *owner = json_string_value(json_object_get(row, "test"));
            if (test != NULL && owner != NULL && strcmp(owner, test) != 0)
                json_array_append_new(l->depends,
                                      json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "test", test, "on", owner,
                                                "table", table, "key", rcx_buf_cstr(&key), "op", c->op_name,
                                                "seq", seq));
            if (c->op == RCX_OP_DELETE) {
                json_object_set_new(row, "alive", json_false());
                json_object_set_new(l->deleted, k, json_integer((json_int_t)arrival));
            }
        }
    }
    rcx_buf_free(&key);
    rcx_buf_free(&full);
}

void rv_leaks_add(rv_leaks_t *l, const json_t *call)
{
    const char *test = json_string_value(json_object_get(call, "test"));
    uint64_t arrival = rcx_rec_arrival(call);
    if (test != NULL)
        json_object_set_new(l->last, test, json_integer((json_int_t)arrival));
    size_t i, j;
    const json_t *tx, *ch;
    json_array_foreach(rcx_rec_transactions(call), i, tx)
        json_array_foreach(json_object_get(tx, "changes"), j, ch)
    {
        rcx_change_t c;
        if (rcx_rec_change(ch, &c) == 0)
            change(l, &c, test, arrival, json_integer_value(json_object_get(call, "seq")));
    }
}

json_t *rv_leaks_json(const rv_leaks_t *l)
{
    json_t *by_test = json_object(), *leaks = json_array();
    const char *k;
    json_t *row;
    json_object_foreach(l->rows, k, row)
    {
        const char *test = json_string_value(json_object_get(row, "test"));
        json_int_t end = json_integer_value(json_object_get(l->last, test));
        const json_t *gone = json_object_get(l->deleted, k);
        if (gone != NULL && json_integer_value(gone) <= end)
            continue; /* deleted by the end of the test */
        json_t *list = json_object_get(by_test, test);
        if (list == NULL)
            json_object_set_new(by_test, test, list = json_array());
        json_array_append_new(list, json_pack("{s:O, s:O}", "table", json_object_get(row, "table"), "key",
                                              json_object_get(row, "key")));
    }
    json_t *rows;
    json_object_foreach(by_test, k, rows)
        json_array_append_new(leaks, json_pack("{s:s, s:O}", "test", k, "rows", rows));
    json_t *out = json_pack("{s:I, s:o, s:O}", "tests_leaking", (json_int_t)json_array_size(leaks), "leaks",
                            leaks, "depends", l->depends);
    json_decref(by_test);
    return out;
}

void rv_leaks_lines(const json_t *leaks,
                    void (*emit)(void *arg, const char *kind, const char *test, const char *text), void *arg)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    size_t i, j;
    const json_t *t, *row;
    json_array_foreach(json_object_get(leaks, "leaks"), i, t)
    {
        size_t n = json_array_size(json_object_get(t, "rows"));
        rcx_buf_reset(&b);
        rcx_buf_printf(&b, "left %zu row%s:", n, n == 1 ? "" : "s");
        json_array_foreach(json_object_get(t, "rows"), j, row)
            rcx_buf_printf(&b, "%s %s %s", j ? ";" : "", json_string_value(json_object_get(row, "table")),
                           json_string_value(json_object_get(row, "key")));
        emit(arg, "LEAK", json_string_value(json_object_get(t, "test")), rcx_buf_cstr(&b));
    }
    json_array_foreach(json_object_get(leaks, "depends"), i, t)
    {
        rcx_buf_reset(&b);
        rcx_buf_printf(
            &b, "(call #%lld) %sd %s %s, a row %s made",
            (long long)json_integer_value(json_object_get(t, "seq")),
            json_string_value(json_object_get(t, "op")), json_string_value(json_object_get(t, "table")),
            json_string_value(json_object_get(t, "key")), json_string_value(json_object_get(t, "on")));
        emit(arg, "DEPENDS", json_string_value(json_object_get(t, "test")), rcx_buf_cstr(&b));
    }
    rcx_buf_free(&b);
}

size_t rv_leaks_count(const json_t *leaks)
{
    return json_array_size(json_object_get(leaks, "leaks")) +
           json_array_size(json_object_get(leaks, "depends"));
}
