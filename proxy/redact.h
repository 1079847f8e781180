/*
 * proxy/redact.h: removes secrets from an encoded record before anything is
 * written or kept in memory.
 *
 * Contract: recap_redact_record() edits the record in place: the values of
 * the configured headers (request and response, case-insensitive), of JSON
 * fields with a configured name at any depth of request and response bodies,
 * and of query parameters with a configured name become "[REDACTED]". Pure:
 * no I/O, no global state; the lists are borrowed and must outlive the call.
 */
#ifndef RECAP_REDACT_H
#define RECAP_REDACT_H

#include <jansson.h>
#include <stddef.h>

#define RECAP_REDACTED "[REDACTED]"

typedef struct recap_redact {
    const char *const *headers; /* NULL-terminated */
    const char *const *fields;  /* NULL-terminated */
} recap_redact_t;

/** Redacts a "call" record in place; returns how many values were replaced. */
size_t recap_redact_record(const recap_redact_t *r, json_t *record);

#endif
