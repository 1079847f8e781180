/*
 * libFuzzer target: arbitrary bytes as JSON lines (capture records: calls and
 * orphans), planned for a rewind (core/rewind.h) and every step rendered as
 * SQL against a table made of the step's own columns, once with a primary
 * key and once without. A plan is made or refused with a reason, never a
 * crash; every statement names its table and uses exactly the parameters it
 * says. Seeds: the demo's and the blog's captures.
 */
#include "core/rewind.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render(const core_rw_step_t *st, bool with_pk)
{
    size_t n = st->nnow + st->nput;
    core_rw_column_t *cols = calloc(n + 1, sizeof(*cols));
    for (size_t i = 0; i < st->nnow; i++)
        cols[i] = (core_rw_column_t){.name = st->now[i].name, .type = "text", .pk = with_pk && i == 0};
    for (size_t i = 0; i < st->nput; i++)
        cols[st->nnow + i] = (core_rw_column_t){.name = st->put[i].name, .type = "text", .generated = i == 1};
    const char **params = calloc(2 * n + 1, sizeof(*params));
    size_t np = 0;
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    rcx_err_t err = {{0}};
    if (core_rewind_sql(st, &(core_rw_table_t){cols, n}, &sql, params, &np, &err) == 0 && np > 2 * n)
        abort();
    rcx_buf_free(&sql);
    free(params);
    free(cols);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *recs[64];
    size_t k = 0;
    const char *p = (const char *)data;
    while (size > 0 && k < 64) {
        const char *nl = memchr(p, '\n', size);
        size_t len = nl ? (size_t)(nl - p) : size;
        json_t *v = json_loadb(p, len, 0, NULL);
        if (json_is_object(v))
            recs[k++] = v;
        else
            json_decref(v);
        if (!nl)
            break;
        size -= len + 1;
        p = nl + 1;
    }
    core_rw_plan_t plan;
    rcx_err_t why = {{0}};
    if (core_rewind_plan(recs, k, &plan, &why) == 0) {
        for (size_t i = 0; i < plan.n; i++) {
            render(&plan.steps[i], true);
            render(&plan.steps[i], false);
        }
        core_rewind_plan_free(&plan);
    } else if (why.msg[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    for (size_t i = 0; i < k; i++)
        json_decref(recs[i]);
    return 0;
}
