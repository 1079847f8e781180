/*
 * common/jsonw.h: writing JSON text straight into a buffer.
 *
 * Why not jansson here: the proxy encodes one record per call on a hot path,
 * and building a jansson tree for it cost about a third of the proxy's CPU
 * (bench/proxy.sh, measured). jansson still parses everything recap reads.
 *
 * Contract: every function appends to a caller-owned rcx_buf_t (unbounded by
 * the caller's choice of max). rcx_jw_string() requires valid UTF-8 (check
 * with rcx_utf8_valid) and escapes what RFC 8259 requires plus U+2028/2029.
 * Pure: no I/O, no global state.
 */
#ifndef RCX_JSONW_H
#define RCX_JSONW_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/** True when p[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool rcx_utf8_valid(const char *p, size_t n);

/** Length of the longest prefix of p[0..n) that does not end inside a UTF-8 sequence. */
size_t rcx_utf8_complete_prefix(const char *p, size_t n);

/** "..." with escapes; p must be valid UTF-8. */
void rcx_jw_string(rcx_buf_t *b, const char *p, size_t n);

/** A string that may hold any bytes: bytes >= 0x80 that are not valid UTF-8 become %XX. */
void rcx_jw_string_lenient(rcx_buf_t *b, const char *p, size_t n);

/** "key": (a comma before it unless first). Inline, so a literal key's length is known when compiling. */
static inline void rcx_jw_key(rcx_buf_t *b, const char *key, bool first);

void rcx_jw_int(rcx_buf_t *b, int64_t v);
void rcx_jw_bool(rcx_buf_t *b, bool v);
void rcx_jw_raw(rcx_buf_t *b, const char *p, size_t n);

/** Base64 (RFC 4648, padded) of p[0..n) as a JSON string. */
void rcx_jw_base64(rcx_buf_t *b, const char *p, size_t n);

static inline void rcx_jw_key(rcx_buf_t *b, const char *key, bool first)
{
    if (!first)
        rcx_buf_append(b, ",", 1);
    rcx_jw_string(b, key, strlen(key));
    rcx_buf_append(b, ":", 1);
}

#endif
