/*
 * common/capture.h: the capture record model, shared by the proxy (which fills
 * and encodes records) and the verifier (which reads them back through
 * capture_reader.h). This is where proxy/ and verifier/ meet.
 *
 * Contract: an rcx_call_t owns everything it points to; rcx_call_free() frees
 * it all. Headers are kept packed ("name\0value\0" pairs, names as received,
 * lower-cased by HTTP/2 and by h2o for HTTP/1) in bounded buffers; bodies keep
 * their first max_body bytes and count the rest. The proxy encodes records
 * (proxy/encode.h); readers parse them with jansson. Not thread-safe: a
 * record has one owner at a time (the loop while the call runs, then the
 * writer thread).
 */
#ifndef RCX_CAPTURE_H
#define RCX_CAPTURE_H

#include "common/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/** The version of the JSONL format written in every header line. */
#define RCX_CAPTURE_FORMAT 1

/** Bound on the packed headers of one request or response. */
#define RCX_CAPTURE_MAX_HEADER_BYTES (64 * 1024)

typedef struct rcx_msg {
    rcx_buf_t headers; /* packed "name\0value\0" pairs */
    size_t nheaders;
    rcx_buf_t body; /* body.seen is the full size, body.truncated past max_body */
} rcx_msg_t;

typedef struct rcx_call {
    uint64_t seq;                /* order in the capture file, assigned when finalised */
    uint64_t arrival;            /* order the requests arrived in (0: not known) */
    char id[96];                 /* X-Request-Id as forwarded */
    char *test;                  /* test label or NULL */
    char *phase;                 /* the test's phase (X-Recap-Phase: setup, call, teardown) or NULL */
    struct timespec started_at;  /* wall clock at arrival */
    double duration_ms;          /* arrival to response complete */
    double ttfb_ms;              /* arrival to response head, -1 if none */
    int http_version;            /* 0x100, 0x101, 0x200 */
    char *method, *path, *query; /* query without '?', "" if none */
    rcx_msg_t req, res;
    int status;    /* 0 if no response was started */
    bool aborted;  /* client went away before the response completed */
    char *error;   /* what went wrong upstream, or NULL */
    char *derived; /* where redacted credentials came from, a JSON object (proxy/creds.h), or NULL */
    char *db_json; /* database part as JSON text (owned), or NULL for {"status": db_status} */
    const char *db_status;
    /* private: one allocation holds the record and the first bytes of everything it keeps */
    size_t strings_used;
    char storage[];
} rcx_call_t;

/** A new empty record whose bodies keep at most max_body bytes each. */
rcx_call_t *rcx_call_new(size_t max_body);

/** A copy of p[0..n) (NUL-terminated) that the record owns and frees. */
char *rcx_call_strdup(rcx_call_t *call, const char *p, size_t n);

/** Frees the record and everything it owns; NULL is allowed. */
void rcx_call_free(rcx_call_t *call);

/** Appends one header (copied); past RCX_CAPTURE_MAX_HEADER_BYTES it is dropped. */
void rcx_msg_add_header(rcx_msg_t *msg, const char *name, size_t nlen, const char *value, size_t vlen);

/** Finds the first header named `name` (case-insensitive); NULL if absent. */
const char *rcx_msg_find_header(const rcx_msg_t *msg, const char *name);

/** The header line that starts every capture session. */
json_t *rcx_capture_header_json(const char *upstream, const char *database, const struct timespec *started);

/** Formats a wall-clock time as RFC 3339 UTC with microseconds into out[32]. */
void rcx_format_time(const struct timespec *ts, char out[32]);

#endif
