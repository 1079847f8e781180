/*
 * verifier/compile.h: the spec language's values compiled from YAML into
 * matchers (literals, $types, $regex, ranges, ${references}, objects and
 * lists as subsets), for verifier/spec.c, which loads the specs around them.
 *
 * Contract: pure. A compiled matcher owns everything it points to (its
 * regex included) and is freed with rv_compile_matcher_free (NULL allowed).
 * Errors carry the YAML node's "file:line:col: ". spec gives the path
 * template that ${path.x} references are checked against.
 */
#ifndef RV_COMPILE_H
#define RV_COMPILE_H

#include "common/err.h"
#include "verifier/spec.h"
#include "verifier/yaml.h"

/** Compiles the value at node n. 0 with *out, or -1 with err. */
int rv_compile_matcher(const rv_ynode_t *n, const rv_spec_t *spec, rv_matcher_t **out, rcx_err_t *err);
void rv_compile_matcher_free(rv_matcher_t *m);

/** Parses a reference "root.a.b" written at node at. 0 with *out, or -1 with err. */
int rv_compile_ref(const rv_ynode_t *at, const char *text, const rv_spec_t *spec, rv_ref_t *out,
                   rcx_err_t *err);
void rv_compile_ref_free(rv_ref_t *r);

#endif
