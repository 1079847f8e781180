/* core/pathtpl.c: see pathtpl.h. */
#include "core/pathtpl.h"

#include "common/buf.h"
#include "core/shape.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void core_pathtpl_singular(const char *s, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outsz; i++)
        out[k++] = isalnum((unsigned char)s[i]) ? (char)tolower((unsigned char)s[i]) : '_';
    if (k > 1 && out[k - 1] == 's')
        k--;
    if (outsz > 0)
        out[k] = '\0';
}

/* A name no earlier parameter of t has: name, else name2, name3... (by segment number). */
static void unique_name(const core_pathtpl_t *t, char *name, size_t namesz)
{
    for (size_t i = 0; i < t->nsegs; i++)
        if (t->params[i] && strcmp(t->params[i], name) == 0) {
            size_t l = strlen(name);
            snprintf(name + l, namesz - l, "%zu", t->nsegs);
            return;
        }
}

void core_pathtpl_make(core_pathtpl_t *t, const char *path)
{
    core_pathtpl_make_with(t, path, NULL, NULL);
}

void core_pathtpl_make_with(core_pathtpl_t *t, const char *path, core_pathtpl_param_fn is_param, void *arg)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    const char *prev = "p";
    size_t prevn = 1;
    *t = (core_pathtpl_t){0};
    for (const char *p = path ? path : ""; *p && t->nsegs < CORE_PATHTPL_MAX_SEGS;) {
        if (*p == '/') {
            p++;
            continue;
        }
        size_t n = strcspn(p, "/");
        rcx_buf_puts(&b, "/");
        if (core_is_id_segment(p, n) || (is_param != NULL && is_param(arg, p, n))) {
            char name[64];
            core_pathtpl_singular(prev, prevn, name, sizeof(name));
            unique_name(t, name, sizeof(name));
            t->params[t->nsegs] = rcx_xstrdup(name);
            rcx_buf_printf(&b, "{%s}", name);
        } else {
            rcx_buf_append(&b, p, n);
            prev = p;
            prevn = n;
        }
        t->nsegs++;
        p += n;
    }
    if (b.len == 0)
        rcx_buf_puts(&b, "/");
    t->tmpl = rcx_buf_take(&b);
}

void core_pathtpl_free(core_pathtpl_t *t)
{
    free(t->tmpl);
    for (size_t i = 0; i < t->nsegs; i++)
        free(t->params[i]);
    *t = (core_pathtpl_t){0};
}
