/* common/capture.c: the call record and its JSON encoding. See capture.h. */
#include "capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef RECAP_VERSION
#define RECAP_VERSION "0.0.0"
#endif

rcx_call_t *rcx_call_new(size_t max_body)
{
    rcx_call_t *call = rcx_xmalloc(sizeof(*call));
    *call = (rcx_call_t){.ttfb_ms = -1, .db_status = "disabled"};
    rcx_buf_init(&call->req.headers, RCX_CAPTURE_MAX_HEADER_BYTES);
    rcx_buf_init(&call->res.headers, RCX_CAPTURE_MAX_HEADER_BYTES);
    rcx_buf_init(&call->req.body, max_body);
    rcx_buf_init(&call->res.body, max_body);
    return call;
}

void rcx_call_free(rcx_call_t *call)
{
    if (call == NULL)
        return;
    free(call->test);
    free(call->method);
    free(call->path);
    free(call->query);
    free(call->error);
    rcx_buf_free(&call->req.headers);
    rcx_buf_free(&call->res.headers);
    rcx_buf_free(&call->req.body);
    rcx_buf_free(&call->res.body);
    json_decref(call->db);
    free(call);
}

void rcx_msg_add_header(rcx_msg_t *msg, const char *name, size_t nlen, const char *value, size_t vlen)
{
    rcx_buf_t *h = &msg->headers;
    if (h->len + nlen + vlen + 2 > h->max) {
        h->truncated = true;
        return;
    }
    rcx_buf_append_cstr(h, name, nlen);
    rcx_buf_append_cstr(h, value, vlen);
    msg->nheaders++;
}

const char *rcx_msg_find_header(const rcx_msg_t *msg, const char *name)
{
    const char *p = msg->headers.base;
    for (size_t i = 0; i < msg->nheaders; i++) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

void rcx_format_time(const struct timespec *ts, char out[32])
{
    struct tm tm;
    time_t secs = ts->tv_sec;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06ldZ", ts->tv_nsec / 1000);
}

json_t *rcx_capture_header_json(const char *upstream, const char *database, const struct timespec *started)
{
    char when[32];
    rcx_format_time(started, when);
    return json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s}", "type", "header", "recap", RCX_CAPTURE_FORMAT,
                     "proxy_version", RECAP_VERSION, "upstream", upstream, "database", database, "started_at",
                     when);
}
