/*
 * core/pathtpl.h: the one rule that turns a request path into a template,
 * shared by diff (to align calls), replay (the role of an id in a path) and
 * specgen (the parameters of a drafted spec).
 *
 * A segment is a parameter when it is a generated id (core_is_id_segment)
 * or the caller says so (core_pathtpl_make_with: the value flow's slugs);
 * the parameter is named after the literal segment before it, made singular
 * (core_pathtpl_singular: /organizations/7 -> /organizations/{organization}),
 * "p" when there is none, and made unique with a number when a name repeats.
 *
 * Contract: pure. core_pathtpl_make fills a caller-owned template whose
 * strings it owns until core_pathtpl_free.
 */
#ifndef CORE_PATHTPL_H
#define CORE_PATHTPL_H

#include <stdbool.h>
#include <stddef.h>

#define CORE_PATHTPL_MAX_SEGS 32

typedef struct core_pathtpl {
    char *tmpl;                          /* "/organizations/{organization}/campaigns" */
    char *params[CORE_PATHTPL_MAX_SEGS]; /* parameter name per segment, NULL for a literal */
    size_t nsegs;                        /* segments seen (at most CORE_PATHTPL_MAX_SEGS) */
} core_pathtpl_t;

/** Fills t from path (NULL is taken as ""). */
void core_pathtpl_make(core_pathtpl_t *t, const char *path);

/** Whether a segment s[0..n) is a parameter besides generated ids (the value flow's answer). */
typedef bool (*core_pathtpl_param_fn)(void *arg, const char *s, size_t n);

/** The same, with is_param(arg, ...) naming more parameters (slugs, names); is_param may be NULL. */
void core_pathtpl_make_with(core_pathtpl_t *t, const char *path, core_pathtpl_param_fn is_param, void *arg);

/** Frees what t owns; t is then empty. */
void core_pathtpl_free(core_pathtpl_t *t);

/**
 * The singular name of a segment or key s[0..n): lower case, anything but
 * letters and digits as '_', one trailing 's' dropped ("Organizations" ->
 * "organization", "org_id" stays "org_id"). Writes at most outsz bytes.
 */
void core_pathtpl_singular(const char *s, size_t n, char *out, size_t outsz);

#endif
