/* common/capture.c: the call record and its JSON encoding. See capture.h. */
#include "common/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef RECAP_VERSION
#define RECAP_VERSION "0.0.0"
#endif

/* Inline storage per record: a typical call fits, so recording it costs one malloc. */
#define REQ_HEADERS_INLINE 1024
#define RES_HEADERS_INLINE 512
#define RES_BODY_INLINE 1024
#define STRINGS_INLINE 512
#define STORAGE (REQ_HEADERS_INLINE + RES_HEADERS_INLINE + RES_BODY_INLINE + STRINGS_INLINE)

rcx_call_t *rcx_call_new(size_t max_body)
{
    rcx_call_t *call = rcx_xmalloc(sizeof(*call) + STORAGE);
    *call = (rcx_call_t){.ttfb_ms = -1, .db_status = "disabled"};
    char *p = call->storage;
    rcx_buf_init_with(&call->req.headers, RCX_CAPTURE_MAX_HEADER_BYTES, p, REQ_HEADERS_INLINE);
    p += REQ_HEADERS_INLINE;
    rcx_buf_init_with(&call->res.headers, RCX_CAPTURE_MAX_HEADER_BYTES, p, RES_HEADERS_INLINE);
    p += RES_HEADERS_INLINE;
    rcx_buf_init_with(&call->res.body, max_body, p, RES_BODY_INLINE < max_body ? RES_BODY_INLINE : max_body);
    rcx_buf_init(&call->req.body, max_body);
    return call;
}

static bool owned_inline(const rcx_call_t *call, const char *p)
{
    return p >= call->storage && p < call->storage + STORAGE;
}

char *rcx_call_strdup(rcx_call_t *call, const char *p, size_t n)
{
    char *arena = call->storage + STORAGE - STRINGS_INLINE;
    char *s;
    if (call->strings_used + n + 1 <= STRINGS_INLINE) {
        s = arena + call->strings_used;
        call->strings_used += n + 1;
    } else {
        s = rcx_xmalloc(n + 1);
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void free_string(const rcx_call_t *call, char *s)
{
    if (s != NULL && !owned_inline(call, s))
        free(s);
}

void rcx_call_free(rcx_call_t *call)
{
    if (call == NULL)
        return;
    free_string(call, call->test);
    free_string(call, call->phase);
    free_string(call, call->method);
    free_string(call, call->path);
    free_string(call, call->query);
    free_string(call, call->error);
    free_string(call, call->derived);
    rcx_buf_free(&call->req.headers);
    rcx_buf_free(&call->res.headers);
    rcx_buf_free(&call->req.body);
    rcx_buf_free(&call->res.body);
    free(call->db_json);
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
    /* the date and time change once a second: format them once a second (per thread) */
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24];
    static _Thread_local size_t cached_len;
    if (ts->tv_sec != cached_sec) {
        struct tm tm;
        time_t secs = ts->tv_sec;
        gmtime_r(&secs, &tm);
        cached_len = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts->tv_sec;
    }
    memcpy(out, cached, cached_len);
    long us = ts->tv_nsec / 1000;
    char *p = out + cached_len;
    *p++ = '.';
    for (int i = 5; i >= 0; i--, us /= 10)
        p[i] = (char)('0' + us % 10);
    memcpy(p + 6, "Z", 2);
}

json_t *rcx_capture_header_json(const char *upstream, const char *database, const struct timespec *started)
{
    char when[32];
    rcx_format_time(started, when);
    return json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s}", "type", "header", "recap", RCX_CAPTURE_FORMAT,
                     "proxy_version", RECAP_VERSION, "upstream", upstream, "database", database, "started_at",
                     when);
}
