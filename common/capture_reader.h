/*
 * common/capture_reader.h: a streaming reader of capture files (JSONL).
 *
 * Contract: reads one line at a time (bounded by RCX_READER_MAX_LINE), so a
 * capture of any size is read in constant memory. The first line must be a
 * header of format RCX_CAPTURE_FORMAT; a later header (the proxy restarted and
 * appended) must have the same version. Errors carry "file:line:col: ".
 * A torn last line (no newline, not valid JSON: the writer was killed mid-line)
 * is reported once with rcx_reader_next() returning -1 and `torn` set; the
 * records before it have already been returned. Not thread-safe.
 */
#ifndef RCX_CAPTURE_READER_H
#define RCX_CAPTURE_READER_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define RCX_READER_MAX_LINE (256u * 1024 * 1024)

typedef struct rcx_reader rcx_reader_t;

/** Opens a capture and checks its header line. NULL (and err) on failure. */
rcx_reader_t *rcx_reader_open(const char *path, rcx_err_t *err);

/** The first header line (borrowed; valid until close). */
const json_t *rcx_reader_header(const rcx_reader_t *r);

/**
 * Reads the next record ("call", "orphan", ...); later header lines are
 * checked and skipped. Returns 1 with *rec (a new reference the caller
 * owns), 0 at end of file, -1 on error (err says where; reading may continue
 * after a bad line, except when rcx_reader_torn() is true).
 */
int rcx_reader_next(rcx_reader_t *r, json_t **rec, rcx_err_t *err);

/**
 * The reader's two steps, pure and thread-safe, for callers that read lines
 * themselves (recap verify checks ranges of a capture on several threads):
 * one line parsed (1 with *rec, -1 a bad line, -2 a torn last line: no
 * newline and not JSON), and a header line checked (0, or -1 with err).
 */
int rcx_capture_parse_line(const char *name, unsigned long lineno, const char *line, size_t len, bool newline,
                           json_t **rec, rcx_err_t *err);
int rcx_capture_check_header(const char *name, unsigned long lineno, const json_t *header, rcx_err_t *err);

/** True once a torn last line was reported. */
bool rcx_reader_torn(const rcx_reader_t *r);

/** Line number of the record last returned. */
unsigned long rcx_reader_line(const rcx_reader_t *r);

/** Where the line of the record last returned is in the file: its first byte and its length (without the
 *  newline), for callers that read it again later (recap diff keeps only these of large runs). */
void rcx_reader_span(const rcx_reader_t *r, uint64_t *off, size_t *len);

/** Closes the file; NULL is allowed. */
void rcx_reader_close(rcx_reader_t *r);

/** The same reader over a stdio stream already open (name is for messages); borrows fp. */
rcx_reader_t *rcx_reader_from_stream(FILE *fp, const char *name, rcx_err_t *err);

#endif
