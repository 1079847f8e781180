/*
 * proxy/config.h: the proxy's settings (cli/proxy.c fills them from flags
 * and the environment).
 *
 * Contract: strings are borrowed (argv, environ); the redaction lists are
 * owned by the config and freed by recap_proxy_config_free. Pure.
 */
#ifndef RECAP_PROXY_CONFIG_H
#define RECAP_PROXY_CONFIG_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct recap_proxy_config {
    const char *listen;         /* host:port for proxied traffic (RECAP_LISTEN) */
    const char *upstream;       /* http://host:port (RECAP_UPSTREAM) */
    const char *capture;        /* JSONL path (RECAP_CAPTURE) */
    const char *control_listen; /* host:port of the control API (RECAP_CONTROL_LISTEN) */
    const char *control_token;  /* bearer token or NULL (RECAP_CONTROL_TOKEN) */
    const char *tls_cert, *tls_key;
    size_t max_body;         /* bytes of each body kept in a record */
    size_t max_request_size; /* h2o rejects larger requests with 413 */
    uint64_t upstream_timeout_ms;
    uint64_t shutdown_timeout_ms;
    size_t ring_size;             /* records kept for GET /calls */
    size_t queue_bytes;           /* bound on records waiting for the writer */
    size_t response_buffer;       /* what h2o may hold of one response its client has not taken (credit.h) */
    size_t response_buffer_total; /* and of all of them together */
    const char **redact_headers;  /* extra header names, NULL-terminated */
    const char **redact_fields;   /* JSON field / query parameter names, NULL-terminated */
    size_t n_redact_headers, n_redact_fields;
    int keep_test_header;     /* forward X-Recap-Test instead of removing it */
    int no_default_redaction; /* redact only the names given, not every name that says secret */
    int serialize;            /* one call through to the upstream at a time (RECAP_SERIALIZE) */
    int trust_upstream;       /* no relay checking the upstream's responses (proxy/guard.h) */
    uint64_t settle_ms;       /* delay before the fence that closes a call's window (RECAP_SETTLE) */
    const char *database_url; /* PostgreSQL to stream changes from, or NULL (RECAP_DATABASE_URL) */
    const char *slot;         /* persistent replication slot, or NULL for a temporary one */
    const char *publication;
    uint64_t max_tx_rows; /* row images kept per transaction */
    size_t max_tx_bytes;  /* JSON bytes of row images kept per transaction */
    const char *log_level;
} recap_proxy_config_t;

/** The defaults, with the headers always redacted (Authorization, Cookie, Set-Cookie, Proxy-Authorization).
 */
void recap_proxy_config_defaults(recap_proxy_config_t *cfg);

/** Appends v to a NULL-terminated list of n names (growing it). */
void recap_proxy_config_push(const char ***list, size_t *n, const char *v);

/** Frees the lists (the strings are borrowed). */
void recap_proxy_config_free(recap_proxy_config_t *cfg);

/** Splits "host:port" / "[v6]:port" / ":port" / "port". 0 ok, -1 bad. host is "" for any. */
int recap_parse_hostport(const char *s, char *host, size_t hostsz, unsigned short *port);

#endif
