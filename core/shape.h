/*
 * core/shape.h: what a value looks like (a uuid, an integer id, a date, a
 * timestamp). The verifier's type matchers and the tools' path templates
 * share these tests, so they agree on what a generated id is.
 *
 * Contract: pure; s[0..n) need not be NUL-terminated where n is given.
 */
#ifndef CORE_SHAPE_H
#define CORE_SHAPE_H

#include <stdbool.h>
#include <stddef.h>

/** Whether s[0..n) is a uuid: 8-4-4-4-12 hex digits. */
bool core_is_uuid(const char *s, size_t n);

/** Whether s[0..n) is 1 to 19 decimal digits (a generated integer id). */
bool core_is_digits(const char *s, size_t n);

/** Whether a path segment s[0..n) is a generated id: digits or a uuid. */
bool core_is_id_segment(const char *s, size_t n);

/** YYYY-MM-DD at the start of s (NUL-terminated). */
bool core_is_date(const char *s);

/** RFC 3339 or PostgreSQL's text form (2026-11-24T12:00:00.123Z, 2026-11-24 12:00:00.123456+00). */
bool core_is_timestamp(const char *s);

#endif
