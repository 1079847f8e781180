/*
 * proxy/encode.h: one call record as one line of the capture format
 * (docs/capture-format.md), redacted as it is written.
 *
 * Contract: appends the line (no newline) to a caller-owned buffer and
 * returns how many values were redacted. Bodies: JSON (content type says
 * JSON, complete, parses) is embedded as JSON ("body"); other valid UTF-8 is
 * "body_text"; anything else "body_b64". Pure: no I/O; runs on the writer
 * thread, never on the event loop.
 */
#ifndef RECAP_ENCODE_H
#define RECAP_ENCODE_H

#include "common/buf.h"
#include "common/capture.h"
#include "proxy/redact.h"

size_t recap_encode_call(const rcx_call_t *call, const recap_redact_t *redact, rcx_buf_t *out);

#endif
