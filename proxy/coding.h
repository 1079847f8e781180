/*
 * proxy/coding.h: a response body as it was before its Content-Encoding
 * (gzip, deflate, br), for the record only: the client gets the bytes the
 * upstream sent.
 *
 * Clients ask for compression by default (httpx, requests, newman, browsers
 * send Accept-Encoding) and apps compress larger responses (Express's
 * compression(), FastAPI's and Django's GZipMiddleware), so a recorded body
 * would otherwise be opaque bytes no spec can match, no diff can compare
 * with a replay (which asks for none) and no redaction can see into.
 *
 * Contract: pure, no I/O, thread-safe. recap_coding_known says whether a
 * Content-Encoding value is one this module decodes (one coding; a list of
 * several is not). recap_coding_decode puts the decoded bytes in out
 * (caller-owned and empty; its bound applies: what goes past it is counted in seen
 * and sets truncated, so a small body that decodes to gigabytes costs at
 * most the bound) and returns 0, or -1 when the bytes are not valid in that
 * coding; a body cut short (recorded truncated) decodes as far as it goes.
 * out may hold part of the body after -1.
 */
#ifndef RECAP_CODING_H
#define RECAP_CODING_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>

bool recap_coding_known(const char *content_encoding);

int recap_coding_decode(const char *content_encoding, const char *in, size_t n, bool cut_short,
                        rcx_buf_t *out);

#endif
