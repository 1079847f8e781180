/*
 * common/file.h: a report or draft file written whole or not at all, and a
 * spec file read whole.
 *
 * Contract: fn writes the content to a temporary file beside path (PATH.tmp.PID),
 * which is renamed over path only when fn returned 0 and the close
 * succeeded; otherwise it is removed and err says why (-1). Blocking.
 */
#ifndef RCX_FILE_H
#define RCX_FILE_H

#include "common/buf.h"
#include "common/err.h"

#include <stdio.h>

int rcx_write_file(const char *path, int (*fn)(FILE *out, const void *arg), const void *arg, rcx_err_t *err);

/**
 * Reads a whole file into out (initialised here; the caller frees it), at
 * most max bytes: 0, or -1 with err ("PATH: why", a file over max included)
 * and out empty.
 */
int rcx_read_file(const char *path, size_t max, rcx_buf_t *out, rcx_err_t *err);

#endif
