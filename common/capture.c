/* common/capture.c: the call record and its JSON encoding. See capture.h. */
#include "capture.h"

#include <openssl/evp.h>
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

/* Headers as an object; repeated names are joined with ", " (RFC 9110 5.3). */
static json_t *headers_to_json(const rcx_msg_t *msg)
{
    json_t *obj = json_object();
    const char *p = msg->headers.base;
    for (size_t i = 0; i < msg->nheaders; i++) {
        const char *value = p + strlen(p) + 1;
        json_t *v = json_string(value);
        if (v == NULL) /* not UTF-8: keep it readable, never drop the name */
            v = json_string("[binary]");
        json_t *old = json_object_get(obj, p);
        if (old != NULL && json_is_string(old) && json_is_string(v)) {
            size_t a = json_string_length(old), b = json_string_length(v);
            char *joined = rcx_xmalloc(a + b + 3);
            memcpy(joined, json_string_value(old), a);
            memcpy(joined + a, ", ", 2);
            memcpy(joined + a + 2, json_string_value(v), b + 1);
            json_decref(v);
            v = json_stringn(joined, a + b + 2);
            free(joined);
        }
        json_object_set_new(obj, p, v);
        p = value + strlen(value) + 1;
    }
    return obj;
}

static bool is_json_type(const char *ct)
{
    if (ct == NULL)
        return false;
    /* application/json, application/problem+json, text/json; parameters ignored */
    const char *semi = strchr(ct, ';');
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
    return (n >= 4 && strncasecmp(ct + n - 4, "json", 4) == 0);
}

/* Valid UTF-8 as a JSON string; for a truncated body, an incomplete last sequence is dropped. */
static json_t *utf8_string(const char *p, size_t n, bool truncated)
{
    json_t *s = json_stringn(p, n);
    for (size_t cut = 1; s == NULL && truncated && cut <= 3 && cut <= n; cut++)
        s = json_stringn(p, n - cut);
    return s;
}

void rcx_body_encode(json_t *obj, const char *content_type, const char *p, size_t n, uint64_t size,
                     bool truncated)
{
    json_object_set_new(obj, "body_size", json_integer((json_int_t)size));
    if (size > 0)
        json_object_set_new(obj, "truncated", json_boolean(truncated));
    if (n == 0)
        return;
    if (!truncated && is_json_type(content_type)) {
        json_t *v = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (v != NULL) {
            json_object_set_new(obj, "body", v);
            return;
        }
    }
    json_t *s = utf8_string(p, n, truncated);
    if (s != NULL) {
        json_object_set_new(obj, "body_text", s);
        return;
    }
    char *b64 = rcx_xmalloc(4 * ((n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)p, (int)n);
    json_object_set_new(obj, "body_b64", json_stringn(b64, (size_t)len));
    free(b64);
}

static json_t *msg_to_json(const rcx_msg_t *msg)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "headers", headers_to_json(msg));
    if (msg->headers.truncated)
        json_object_set_new(obj, "headers_truncated", json_true());
    rcx_body_encode(obj, rcx_msg_find_header(msg, "content-type"), msg->body.base, msg->body.len,
                    msg->body.seen, msg->body.truncated);
    return obj;
}

static const char *http_version_name(int v)
{
    switch (v) {
    case 0x200:
        return "2";
    case 0x100:
        return "1.0";
    default:
        return "1.1";
    }
}

/* A string that may not be valid UTF-8 (paths, queries): escape bytes jansson refuses. */
static json_t *lenient_string(const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (v != NULL)
        return v;
    size_t n = strlen(s);
    char *out = rcx_xmalloc(3 * n + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x80)
            *o++ = (char)*c;
        else
            o += sprintf(o, "%%%02X", *c);
    }
    v = json_stringn(out, (size_t)(o - out));
    free(out);
    return v;
}

json_t *rcx_call_to_json(const rcx_call_t *call)
{
    char when[32];
    rcx_format_time(&call->started_at, when);
    json_t *req = json_object();
    json_object_set_new(req, "method", lenient_string(call->method));
    json_object_set_new(req, "path", lenient_string(call->path));
    json_object_set_new(req, "query", lenient_string(call->query));
    json_object_update_new(req, msg_to_json(&call->req));

    json_t *res = json_object();
    json_object_set_new(res, "status", json_integer(call->status));
    json_object_update_new(res, msg_to_json(&call->res));

    json_t *db = call->db ? json_incref(call->db) : json_pack("{ss}", "status", call->db_status);

    json_t *obj = json_object();
    json_object_set_new(obj, "type", json_string("call"));
    json_object_set_new(obj, "seq", json_integer((json_int_t)call->seq));
    json_object_set_new(obj, "id", lenient_string(call->id));
    json_object_set_new(obj, "test", call->test ? lenient_string(call->test) : json_null());
    json_object_set_new(obj, "started_at", json_string(when));
    /* whole microseconds: exact, and printed without binary-fraction noise */
    json_object_set_new(obj, "duration_us", json_integer((json_int_t)(call->duration_ms * 1000.0 + 0.5)));
    if (call->ttfb_ms >= 0)
        json_object_set_new(obj, "ttfb_us", json_integer((json_int_t)(call->ttfb_ms * 1000.0 + 0.5)));
    json_object_set_new(obj, "http", json_string(http_version_name(call->http_version)));
    json_object_set_new(obj, "request", req);
    json_object_set_new(obj, "response", res);
    json_object_set_new(obj, "aborted", json_boolean(call->aborted));
    if (call->error != NULL)
        json_object_set_new(obj, "error", lenient_string(call->error));
    json_object_set_new(obj, "db", db);
    return obj;
}

json_t *rcx_capture_header_json(const char *upstream, const char *database, const struct timespec *started)
{
    char when[32];
    rcx_format_time(started, when);
    return json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s}", "type", "header", "recap", RCX_CAPTURE_FORMAT,
                     "proxy_version", RECAP_VERSION, "upstream", upstream, "database", database, "started_at",
                     when);
}
