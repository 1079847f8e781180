/* proxy/metrics.c: see metrics.h. */
#include "proxy/metrics.h"

#include <stdio.h>
#include <string.h>

static void metric(rcx_buf_t *out, const char *name, const char *type, const char *help, const char *labels,
                   uint64_t value)
{
    char line[512];
    int n;
    if (help != NULL) {
        n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        rcx_buf_append(out, line, (size_t)n);
    }
    n = snprintf(line, sizeof(line), "%s%s %llu\n", name, labels ? labels : "", (unsigned long long)value);
    rcx_buf_append(out, line, (size_t)n);
}

static void render_writer(recap_writer_stats_t *s, rcx_buf_t *out)
{
    metric(out, "recap_records_written_total", "counter", "Records appended to the capture file.", NULL,
           atomic_load(&s->written));
    metric(out, "recap_capture_bytes_total", "counter", "Bytes appended to the capture file.", NULL,
           atomic_load(&s->bytes));
    metric(out, "recap_records_dropped_total", "counter", "Records dropped because the writer was behind.",
           "{reason=\"queue_full\"}", atomic_load(&s->dropped));
    metric(out, "recap_records_dropped_total", NULL, NULL, "{reason=\"write_error\"}",
           atomic_load(&s->write_errors));
    metric(out, "recap_redacted_values_total", "counter", "Header, field and parameter values redacted.",
           NULL, atomic_load(&s->redacted));
    metric(out, "recap_writer_queue_bytes", "gauge", "Bytes of records waiting for the writer.", NULL,
           atomic_load(&s->queued_bytes));
}

static void render_linker(const recap_linker_stats_t *attr, rcx_buf_t *out)
{
    metric(out, "recap_attributed_transactions_total", "counter",
           "Committed transactions, by how they were attributed.", "{attribution=\"tag\"}", attr->tx_tag);
    metric(out, "recap_attributed_transactions_total", NULL, NULL, "{attribution=\"window\"}",
           attr->tx_window);
    metric(out, "recap_attributed_transactions_total", NULL, NULL, "{attribution=\"ambiguous\"}",
           attr->tx_ambiguous);
    metric(out, "recap_attributed_transactions_total", NULL, NULL, "{attribution=\"orphan\"}",
           attr->tx_orphan);
    metric(out, "recap_rewind_transactions_total", "counter",
           "recap's own rewinds of a test's rows (POST /rewind) seen on the stream, not recorded.", "",
           attr->tx_rewind);
    metric(out, "recap_attributed_records_total", "counter",
           "Call records written after attribution, by db status.", "{status=\"complete\"}",
           attr->records_complete);
    metric(out, "recap_attributed_records_total", NULL, NULL, "{status=\"unavailable\"}",
           attr->records_unavailable);
    metric(out, "recap_records_held", "gauge", "Finished calls waiting for their window to close.", NULL,
           attr->records_held);
    metric(out, "recap_window_start_queries_total", "counter", "Window-start queries asked for (batched).",
           NULL, attr->window_starts);
    metric(out, "recap_fences_total", "counter", "Fences emitted (each closes every window ended before it).",
           NULL, attr->fences);
    metric(out, "recap_attribution_resets_total", "counter",
           "Times the stream or a query failed and held records were written as unavailable.", NULL,
           attr->resets);
}

static void render_cdc(recap_cdc_stats_t *cdc, rcx_buf_t *out)
{
    metric(out, "recap_cdc_streaming", "gauge", "1 while streaming changes from PostgreSQL.", NULL,
           (uint64_t)atomic_load(&cdc->streaming));
    metric(out, "recap_cdc_transactions_total", "counter", "Committed transactions received.", NULL,
           atomic_load(&cdc->transactions));
    metric(out, "recap_cdc_changes_total", "counter", "Row changes received.", NULL,
           atomic_load(&cdc->changes));
    metric(out, "recap_cdc_reconnects_total", "counter", "Replication reconnects.", NULL,
           atomic_load(&cdc->reconnects));
    int64_t lag = atomic_load(&cdc->lag_us);
    metric(out, "recap_cdc_lag_microseconds", "gauge", "Commit to receipt, for the last transaction.", NULL,
           lag > 0 ? (uint64_t)lag : 0);
    metric(out, "recap_cdc_backpressure_waits_total", "counter",
           "Times the stream paused because records waiting for the disk were over --queue-bytes.", NULL,
           atomic_load(&cdc->backpressure_waits));
    metric(out, "recap_cdc_unwatched_tables", "gauge",
           "User tables the publication does not list (their changes are not recorded), looked at every 2 s.",
           NULL, atomic_load(&cdc->unwatched_tables));
    metric(out, "recap_cdc_flushed_lsn", "gauge", "WAL position confirmed to PostgreSQL as durable.", NULL,
           atomic_load(&cdc->flushed_lsn));
}

void recap_metrics_render(const recap_metrics_t *m, recap_writer_t *writer, recap_cdc_stats_t *cdc,
                          const recap_linker_stats_t *attr, uint64_t inflight, rcx_buf_t *out)
{
    static const char *const classes[] = {"{code=\"none\"}", "{code=\"1xx\"}", "{code=\"2xx\"}",
                                          "{code=\"3xx\"}",  "{code=\"4xx\"}", "{code=\"5xx\"}"};
    metric(out, "recap_calls_total", "counter", "Calls proxied and closed, by status class.", classes[0],
           m->calls_by_class[0]);
    for (int i = 1; i < 6; i++)
        metric(out, "recap_calls_total", NULL, NULL, classes[i], m->calls_by_class[i]);
    metric(out, "recap_calls_in_flight", "gauge", "Calls received and not yet handed to the writer.", NULL,
           inflight);
    metric(out, "recap_upstream_errors_total", "counter", "Calls answered 502 because the upstream failed.",
           NULL, m->upstream_errors);
    metric(out, "recap_upstream_timeouts_total", "counter", "Calls answered 504 after the upstream timeout.",
           NULL, m->upstream_timeouts);
    metric(out, "recap_calls_aborted_total", "counter",
           "Calls whose client went away before the response ended.", NULL, m->aborted);
    metric(out, "recap_request_body_bytes_total", "counter", "Request body bytes seen.", NULL,
           m->request_bytes);
    metric(out, "recap_response_body_bytes_total", "counter", "Response body bytes seen.", NULL,
           m->response_bytes);
    metric(out, "recap_bodies_truncated_total", "counter", "Bodies recorded truncated at --max-body.", NULL,
           m->truncated_bodies);
    metric(out, "recap_control_unauthorized_total", "counter", "Control API requests refused with 401.", NULL,
           m->control_unauthorized);
    metric(out, "recap_accept_paused_total", "counter",
           "Times accepting connections paused for 100 ms: no file descriptor was left.", NULL,
           m->accept_paused);
    metric(out, "recap_response_buffered_bytes", "gauge",
           "Response bytes held for clients that have not read them yet (--response-buffer).", NULL,
           m->response_held);
    metric(out, "recap_response_waits_total", "counter",
           "Times the upstream was read no further until a client took what was held for it.", NULL,
           m->response_waits);
    metric(out, "recap_response_unlimited_total", "counter",
           "Responses begun while 65,536 others were in flight: not held back for their clients.", NULL,
           m->response_unlimited);
    if (writer != NULL)
        render_writer(recap_writer_stats(writer), out);
    if (attr != NULL)
        render_linker(attr, out);
    if (cdc != NULL)
        render_cdc(cdc, out);
}
