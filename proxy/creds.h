/*
 * proxy/creds.h: where a redacted credential came from, so that a replay can
 * rebuild it without the capture ever holding it.
 *
 * As each response completes, the secrets it hands out are remembered: the
 * string values of JSON fields whose names are redacted ("token",
 * "accessToken"...; in a compressed body of up to 64 KiB, decoded), the values of redacted response headers,
 * and each Set-Cookie's value, each with the arrival number of its call and its place
 * ("response.body.user.token", "response.headers.x-auth-token",
 * "response.cookie.sid"). When a later request carries a redacted header
 * (Authorization, Cookie...) whose secret is one of them, the call is given a
 * derivation, written in the capture as request.derived:
 *   {"authorization":{"call":3,"from":"response.body.user.token","prefix":"Token "},
 *    "cookie.sid":{"call":3,"from":"response.cookie.sid"}}
 * A secret is matched after its scheme ("Token ", "Bearer ": everything up to
 * the last space) and, for Cookie, per cookie.
 *
 * Only keyed 64-bit hashes of secrets are kept, in memory, never written; the
 * table holds the last RECAP_CREDS_SLOTS secrets handed out.
 *
 * Contract: loop thread only; no allocation but the derivation text, which
 * the call owns (rcx_call_strdup).
 */
#ifndef RECAP_CREDS_H
#define RECAP_CREDS_H

#include "common/capture.h"
#include "proxy/redact.h"

#include <stdint.h>

#define RECAP_CREDS_SLOTS 512

typedef struct recap_creds {
    struct {
        uint64_t hash, arrival;
        char from[120]; /* "" when the slot is empty */
    } slot[RECAP_CREDS_SLOTS];
    size_t next;
    uint64_t key; /* mixed into every hash */
} recap_creds_t;

void recap_creds_init(recap_creds_t *c, uint64_t key);

/** Remembers the secrets the completed response of call hands out. */
void recap_creds_learn(recap_creds_t *c, const recap_redact_t *r, const rcx_call_t *call);

/** Sets call->derived when its redacted headers carry secrets an earlier response handed out. */
void recap_creds_derive(const recap_creds_t *c, const recap_redact_t *r, rcx_call_t *call);

#endif
