/* proxy/running.c: see running.h. */
#include "proxy/running.h"

#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

/* names[0..n) are the begun tests; names[n] the label or NULL, names[n + 1] NULL: room for both. */
static void room(recap_running_t *r)
{
    if (r->n + 2 >= r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->names = rcx_xrealloc(r->names, sizeof(*r->names) * r->cap);
    }
}

bool recap_running_has(const recap_running_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0)
            return true;
    return false;
}

void recap_running_begin(recap_running_t *r, const char *name)
{
    if (recap_running_has(r, name))
        return;
    room(r);
    r->names[r->n++] = rcx_xstrdup(name);
}

void recap_running_end(recap_running_t *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->names[i], name) == 0) {
            free(r->names[i]);
            memmove(r->names + i, r->names + i + 1, sizeof(*r->names) * (r->n - i - 1));
            r->n--;
            return;
        }
}

const char *const *recap_running_list(recap_running_t *r)
{
    room(r);
    size_t k = r->n;
    if (r->label != NULL && !recap_running_has(r, r->label))
        r->names[k++] = (char *)r->label; /* borrowed: never freed here */
    r->names[k] = NULL;
    return (const char *const *)r->names;
}

void recap_running_free(recap_running_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->names[i]);
    free(r->names);
    *r = (recap_running_t){0};
}
