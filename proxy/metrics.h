/*
 * proxy/metrics.h: counters the proxy keeps and their Prometheus text form.
 *
 * Contract: plain counters updated on the loop thread, except those owned by
 * the writer (read through recap_writer_stats, atomics). Rendering appends to
 * a caller-owned buffer; no allocation survives the call.
 */
#ifndef RECAP_METRICS_H
#define RECAP_METRICS_H

#include "common/buf.h"
#include "proxy/cdc/stream.h"
#include "proxy/linker.h"
#include "proxy/writer.h"

#include <stdint.h>

typedef struct recap_metrics {
    uint64_t calls;             /* records closed */
    uint64_t calls_by_class[6]; /* index status/100; [0] = no status */
    uint64_t upstream_errors;   /* 502 answered by recap for the upstream */
    uint64_t upstream_timeouts; /* 504 */
    uint64_t aborted;
    uint64_t request_bytes, response_bytes; /* body bytes seen */
    uint64_t truncated_bodies;
    uint64_t control_unauthorized;
    uint64_t accept_paused;      /* times accepting stopped for a moment: no file descriptor left */
    uint64_t response_held;      /* (read from the relay at render) bytes held for clients not reading */
    uint64_t response_waits;     /* and times a response waited for its client */
    uint64_t response_unlimited; /* responses begun while the relay's 65,536 slots were all in use */
} recap_metrics_t;

/** Appends the exposition text (version 0.0.4). writer, cdc and attr may be NULL. */
void recap_metrics_render(const recap_metrics_t *m, recap_writer_t *writer, recap_cdc_stats_t *cdc,
                          const recap_linker_stats_t *attr, uint64_t inflight, rcx_buf_t *out);

#endif
