/*
 * tools/proxyproc.h: a `recap proxy` of a tool's own, in a child process:
 * started on loopback ports (given, or free ones the kernel picks), waited
 * for until ready (/readyz), asked for a barrier, stopped. `recap replay`
 * records the new run through one; `recap run` puts one in front of the API
 * for the suite it runs.
 *
 * Contract: blocking; one proxy per rt_proxyproc_t; errors in err (-1), the
 * child's own message already on stderr. rt_proxyproc_stop is safe to call
 * whatever happened before (it does nothing when no child runs). Not
 * thread-safe.
 */
#ifndef RT_PROXYPROC_H
#define RT_PROXYPROC_H

#include "common/buf.h"
#include "common/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rt_proxyproc {
    pid_t pid;                    /* the child, 0 when none runs */
    char listen[64], control[64]; /* "127.0.0.1:port" */
    void *curl;                   /* CURL handle for the control API */
} rt_proxyproc_t;

/**
 * Starts `self proxy ARGS... --listen L --control-listen C` (L, C: given, or loopback with a free port when
 * NULL) and waits up to wait_ms for /readyz to answer 200.
 */
int rt_proxyproc_start(rt_proxyproc_t *p, const char *self, const char *const *args, size_t nargs,
                       const char *listen, const char *control, uint64_t wait_ms, rcx_err_t *err);

/** One request to the child's control API (method, path such as "/barrier?timeout_ms=60000"); the status. */
long rt_proxyproc_control(rt_proxyproc_t *p, const char *method, const char *path);

/** SIGTERM, then waits: 0 when it stopped cleanly. */
int rt_proxyproc_stop(rt_proxyproc_t *p);

/** One HTTP request with the proxy's handle (url, headers a curl_slist or NULL, body or NULL); the status, 0
 * if none, the response body into out and, when head is not NULL, its header lines ("Name: value\r\n") into
 * head. */
long rt_proxyproc_http(rt_proxyproc_t *p, const char *method, const char *url, void *headers,
                       const char *body, size_t blen, rcx_buf_t *out, rcx_buf_t *head);

#endif
