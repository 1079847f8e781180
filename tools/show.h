/*
 * tools/show.h: a capture as a person reads it (`recap show`, and the demo):
 * one line per call (seq, test, method, path, status, milliseconds, the
 * start of the response body) and under it one line per row change, as
 * recap attributed it; orphan transactions likewise.
 *
 * Contract: writes to out, never reads or prints elsewhere; records are
 * borrowed. Colour (ANSI) only when asked. Not thread-safe (one out).
 */
#ifndef RT_SHOW_H
#define RT_SHOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/** The column titles. */
void rt_show_header(FILE *out, bool color);

/** A call and its row changes. */
void rt_show_call(FILE *out, const json_t *call, bool color);

/** An orphan transaction (no call's) and its row changes. */
void rt_show_orphan(FILE *out, const json_t *orphan, bool color);

#endif
