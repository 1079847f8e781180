/*
 * proxy/redact.h: which values are secrets, so the encoder never writes them.
 *
 * Contract: the values of the configured headers (case-insensitive), and of
 * JSON fields at any depth, query and form parameters (urlencoded and
 * multipart) whose name is
 * configured or, with `defaults`, says secret (core/secret.h) become
 * "[REDACTED]" in the record, whatever the name's case or encoding (JSON
 * escapes are decoded by the parser, parameter names are percent-decoded);
 * what is forwarded is never touched. Pure: no I/O, no global state; the name
 * lists are borrowed and must outlive every call.
 */
#ifndef RECAP_REDACT_H
#define RECAP_REDACT_H

#include "common/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECAP_REDACTED "[REDACTED]"

typedef struct recap_redact {
    const char *const *headers; /* NULL-terminated */
    const char *const *fields;  /* NULL-terminated; may be empty */
    bool defaults;              /* also every name the default rule takes for a secret */
    uint64_t class_key;         /* keys the classes of recap_redact_json_classes (random per process) */
} recap_redact_t;

/** True when a field, parameter or column named name[0..len) must not be recorded. */
bool recap_redact_field(const recap_redact_t *r, const char *name, size_t len);

/** True when the header's value must not be recorded. */
bool recap_redact_header(const recap_redact_t *r, const char *name, size_t len);

/** False only when no name to redact can occur in p[0..n), written plainly or escaped (a cheap pre-check). */
bool recap_redact_may_hold_field(const recap_redact_t *r, const char *p, size_t n);

/** Replaces configured fields at any depth of a JSON value; returns how many. */
size_t recap_redact_json(const recap_redact_t *r, json_t *v);

/**
 * The same, and for each string replaced appends to classes a JSON member "place":"class" (place as
 * "body.user.password", "[0]" for array elements; members comma-separated): the class is 8 hex digits of a
 * hash keyed with r->class_key, so equal secrets of one proxy's run have equal classes (a replay sends the
 * same made-up value for the password a user signed up with and then logged in with, and a different one for
 * a wrong password) while the key, never written, keeps the class from telling anything of the value.
 */
size_t recap_redact_json_classes(const recap_redact_t *r, json_t *v, rcx_buf_t *classes);

/**
 * Appends "a=1&b=2" with the values of configured parameters replaced; returns
 * how many were replaced.
 */
size_t recap_redact_params(const recap_redact_t *r, const char *q, size_t n, rcx_buf_t *out);

/** Whether ct is multipart/form-data with a boundary (what recap_redact_multipart reads). */
bool recap_redact_is_multipart(const char *ct);

/**
 * Appends a multipart/form-data body (its boundary from the Content-Type ct) with the content of every part
 * whose name="..." is configured replaced (a file part's bytes too); returns how many were. A part cut short
 * (a body cut at --max-body) is replaced to its end; bytes that are not parts are copied as they are.
 */
size_t recap_redact_multipart(const recap_redact_t *r, const char *ct, const char *p, size_t n,
                              rcx_buf_t *out);

#endif
