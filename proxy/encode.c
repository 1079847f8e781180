/* proxy/encode.c: see encode.h. */
#include "proxy/encode.h"

#include "proxy/coding.h"

#include "common/codec.h"
#include "common/jsonw.h"

#include <string.h>
#include <strings.h>

static bool is_json_type(const char *ct)
{
    if (ct == NULL)
        return false;
    /* application/json, application/problem+json, text/json; parameters ignored */
    const char *semi = strchr(ct, ';');
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
    while (n > 0 && ct[n - 1] == ' ')
        n--;
    return n >= 4 && strncasecmp(ct + n - 4, "json", 4) == 0;
}

static bool is_form_type(const char *ct)
{
    return ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* A JSON body: embedded as sent when it is one line and holds nothing to redact, else re-encoded. A number
 * past 64 bits is valid JSON: kept with every digit when nothing is redacted. */
static bool encode_json_body(rcx_buf_t *b, const char *p, size_t n, const recap_redact_t *r, size_t *redacted,
                             bool classes)
{
    json_error_t je;
    json_t *v = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (v == NULL && strstr(je.text, "too big") != NULL)
        v = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    if (v == NULL)
        return false;
    rcx_buf_t secrets;
    rcx_buf_init(&secrets, SIZE_MAX);
    size_t k = !recap_redact_may_hold_field(r, p, n) ? 0
               : classes                             ? recap_redact_json_classes(r, v, &secrets)
                                                     : recap_redact_json(r, v);
    rcx_jw_key(b, "body", false);
    if (k == 0 && memchr(p, '\n', n) == NULL && memchr(p, '\r', n) == NULL) {
        rcx_jw_raw(b, p, n); /* exactly as the API wrote it: numbers keep their digits */
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        rcx_jw_raw(b, s, strlen(s));
        free(s);
    }
    json_decref(v);
    if (secrets.len > 0) { /* which redacted values were equal: a replay needs no more (redact.h) */
        rcx_jw_key(b, "redacted", false);
        rcx_buf_puts(b, "{");
        rcx_buf_append(b, secrets.base, secrets.len);
        rcx_buf_puts(b, "}");
    }
    rcx_buf_free(&secrets);
    *redacted += k;
    return true;
}

/* Bytes as "body_text" when they are UTF-8 (a truncated body cut at a character's start), else "body_b64". */
static void write_bytes(rcx_buf_t *b, const rcx_buf_t *body)
{
    size_t n = body->truncated ? rcx_utf8_complete_prefix(body->base, body->len) : body->len;
    if (n > 0 && rcx_utf8_valid(body->base, n)) {
        rcx_jw_key(b, "body_text", false);
        rcx_jw_string(b, body->base, n);
        return;
    }
    rcx_jw_key(b, "body_b64", false);
    rcx_jw_base64(b, body->base, body->len);
}

/* The bytes of a body as "body" (JSON), "body_text" or "body_b64", redacted. */
static void encode_bytes(rcx_buf_t *b, const rcx_msg_t *msg, const rcx_buf_t *body, const recap_redact_t *r,
                         size_t *redacted, bool classes)
{
    if (body->len == 0)
        return;
    const char *ct = rcx_msg_find_header(msg, "content-type");
    if (recap_redact_is_multipart(ct) && recap_redact_may_hold_field(r, body->base, body->len)) {
        /* a form's parts (text or file) redacted by name first; then written as text or base64 as usual */
        rcx_buf_t parts;
        rcx_buf_init(&parts, SIZE_MAX);
        *redacted += recap_redact_multipart(r, ct, body->base, body->len, &parts);
        parts.truncated = body->truncated;
        write_bytes(b, &parts);
        rcx_buf_free(&parts);
        return;
    }
    if (!body->truncated && is_json_type(ct) &&
        encode_json_body(b, body->base, body->len, r, redacted, classes))
        return;
    if (is_json_type(ct) && recap_redact_may_hold_field(r, body->base, body->len)) {
        /* JSON that cannot be read whole (cut at --max-body, or malformed) and may name a secret: not
         * written, since what follows a secret's name cannot be told apart */
        rcx_jw_key(b, "body_text", false);
        rcx_jw_string(b, RECAP_REDACTED, strlen(RECAP_REDACTED));
        (*redacted)++;
        return;
    }
    size_t n = body->truncated ? rcx_utf8_complete_prefix(body->base, body->len) : body->len;
    if (n > 0 && rcx_utf8_valid(body->base, n) && is_form_type(ct) &&
        recap_redact_may_hold_field(r, body->base, n)) {
        rcx_buf_t tmp;
        rcx_buf_init(&tmp, SIZE_MAX);
        *redacted += recap_redact_params(r, body->base, n, &tmp);
        rcx_jw_key(b, "body_text", false);
        rcx_jw_string(b, tmp.base, tmp.len);
        rcx_buf_free(&tmp);
        return;
    }
    write_bytes(b, body);
}

/* A response body in a Content-Encoding recap decodes (proxy/coding.h), decoded into *decoded (bounded as
 * the body was) and said in the record ("decoded": "gzip"); the body as it came when there is none or it
 * does not decode. */
static const rcx_buf_t *decode_body(rcx_buf_t *b, const rcx_msg_t *msg, rcx_buf_t *decoded)
{
    const char *coding = rcx_msg_find_header(msg, "content-encoding");
    if (msg->body.len == 0 || !recap_coding_known(coding))
        return &msg->body;
    rcx_buf_init(decoded, msg->body.max);
    if (recap_coding_decode(coding, msg->body.base, msg->body.len, msg->body.truncated, decoded) != 0)
        return &msg->body;
    decoded->truncated |= msg->body.truncated;
    rcx_jw_key(b, "decoded", false);
    rcx_jw_string_lenient(b, coding, strlen(coding));
    return decoded;
}

/* A request's or response's body; a response's decoded first (decode_body). */
static void encode_body(rcx_buf_t *b, const rcx_msg_t *msg, const recap_redact_t *r, size_t *redacted,
                        bool request)
{
    rcx_jw_key(b, "body_size", false);
    rcx_jw_int(b, (int64_t)msg->body.seen);
    rcx_buf_t decoded = {0};
    const rcx_buf_t *body = request ? &msg->body : decode_body(b, msg, &decoded);
    if (msg->body.seen > 0) {
        rcx_jw_key(b, "truncated", false);
        rcx_jw_bool(b, body->truncated);
    }
    encode_bytes(b, msg, body, r, redacted, request);
    rcx_buf_free(&decoded);
}

typedef struct header_ref {
    const char *name, *value;
    size_t nlen, vlen;
} header_ref_t;

/* Headers as an object; a repeated name is joined with ", " (RFC 9110 5.3). */
static void encode_headers(rcx_buf_t *b, const rcx_msg_t *msg, const recap_redact_t *r, size_t *redacted)
{
    header_ref_t stack[64], *h = msg->nheaders <= 64 ? stack : rcx_xmalloc(sizeof(*h) * msg->nheaders);
    const char *p = msg->headers.base;
    for (size_t i = 0; i < msg->nheaders; i++) {
        h[i].name = p;
        h[i].nlen = strlen(p);
        h[i].value = p + h[i].nlen + 1;
        h[i].vlen = strlen(h[i].value);
        p = h[i].value + h[i].vlen + 1;
    }
    rcx_buf_puts(b, "\"headers\":{");
    bool first = true;
    for (size_t i = 0; i < msg->nheaders; i++) {
        bool repeat = false; /* headers are few: quadratic is fine */
        for (size_t j = 0; j < i && !repeat; j++)
            repeat = h[j].nlen == h[i].nlen && strncasecmp(h[j].name, h[i].name, h[i].nlen) == 0;
        if (repeat)
            continue;
        if (!first)
            rcx_buf_puts(b, ",");
        first = false;
        rcx_jw_string_lenient(b, h[i].name, h[i].nlen);
        rcx_buf_puts(b, ":");
        if (recap_redact_header(r, h[i].name, h[i].nlen)) {
            rcx_jw_string(b, RECAP_REDACTED, sizeof(RECAP_REDACTED) - 1);
            (*redacted)++;
            continue;
        }
        size_t later = i + 1;
        while (later < msg->nheaders &&
               !(h[later].nlen == h[i].nlen && strncasecmp(h[later].name, h[i].name, h[i].nlen) == 0))
            later++;
        if (later == msg->nheaders) {
            rcx_jw_string_lenient(b, h[i].value, h[i].vlen);
            continue;
        }
        rcx_buf_t joined; /* join this value with every later value of the same name */
        rcx_buf_init(&joined, SIZE_MAX);
        rcx_buf_append(&joined, h[i].value, h[i].vlen);
        for (size_t j = later; j < msg->nheaders; j++) {
            if (h[j].nlen == h[i].nlen && strncasecmp(h[j].name, h[i].name, h[i].nlen) == 0) {
                rcx_buf_puts(&joined, ", ");
                rcx_buf_append(&joined, h[j].value, h[j].vlen);
            }
        }
        rcx_jw_string_lenient(b, joined.base, joined.len);
        rcx_buf_free(&joined);
    }
    rcx_buf_puts(b, "}");
    if (msg->headers.truncated)
        rcx_buf_puts(b, ",\"headers_truncated\":true");
    if (h != stack)
        free(h);
}

static const char *http_version_name(int v)
{
    return v == 0x200 ? "2" : v == 0x100 ? "1.0" : "1.1";
}

static void key_str(rcx_buf_t *b, const char *key, const char *value)
{
    rcx_jw_key(b, key, false);
    rcx_jw_string_lenient(b, value ? value : "", value ? strlen(value) : 0);
}

size_t recap_encode_call(const rcx_call_t *c, const recap_redact_t *r, rcx_buf_t *b)
{
    size_t redacted = 0;
    char when[32];
    rcx_format_time(&c->started_at, when);
    rcx_codec_call_open(b);
    rcx_jw_key(b, "seq", false);
    rcx_jw_int(b, (int64_t)c->seq);
    if (c->arrival != 0) {
        rcx_jw_key(b, "arrival", false);
        rcx_jw_int(b, (int64_t)c->arrival);
    }
    key_str(b, "id", c->id);
    rcx_jw_key(b, "test", false);
    if (c->test != NULL)
        rcx_jw_string_lenient(b, c->test, strlen(c->test));
    else
        rcx_buf_puts(b, "null");
    if (c->phase != NULL)
        key_str(b, "phase", c->phase);
    key_str(b, "started_at", when);
    /* whole microseconds: exact, and printed without binary-fraction noise */
    rcx_jw_key(b, "duration_us", false);
    rcx_jw_int(b, (int64_t)(c->duration_ms * 1000.0 + 0.5));
    if (c->ttfb_ms >= 0) {
        rcx_jw_key(b, "ttfb_us", false);
        rcx_jw_int(b, (int64_t)(c->ttfb_ms * 1000.0 + 0.5));
    }
    key_str(b, "http", http_version_name(c->http_version));

    rcx_jw_key(b, "request", false);
    rcx_buf_puts(b, "{");
    rcx_jw_key(b, "method", true);
    rcx_jw_string_lenient(b, c->method, strlen(c->method));
    key_str(b, "path", c->path);
    rcx_jw_key(b, "query", false);
    size_t qlen = strlen(c->query);
    if (qlen > 0 && recap_redact_may_hold_field(r, c->query, qlen)) {
        rcx_buf_t tmp;
        rcx_buf_init(&tmp, SIZE_MAX);
        redacted += recap_redact_params(r, c->query, qlen, &tmp);
        rcx_jw_string_lenient(b, tmp.base ? tmp.base : "", tmp.len);
        rcx_buf_free(&tmp);
    } else {
        rcx_jw_string_lenient(b, c->query, qlen);
    }
    rcx_buf_puts(b, ",");
    encode_headers(b, &c->req, r, &redacted);
    encode_body(b, &c->req, r, &redacted, true);
    if (c->derived != NULL) {
        rcx_jw_key(b, "derived", false);
        rcx_jw_raw(b, c->derived, strlen(c->derived));
    }
    rcx_buf_puts(b, "}");

    rcx_jw_key(b, "response", false);
    rcx_buf_puts(b, "{");
    rcx_jw_key(b, "status", true);
    rcx_jw_int(b, c->status);
    rcx_buf_puts(b, ",");
    encode_headers(b, &c->res, r, &redacted);
    encode_body(b, &c->res, r, &redacted, false);
    rcx_buf_puts(b, "}");

    rcx_jw_key(b, "aborted", false);
    rcx_jw_bool(b, c->aborted);
    if (c->error != NULL)
        key_str(b, "error", c->error);
    rcx_jw_key(b, "db", false);
    if (c->db_json != NULL) {
        rcx_jw_raw(b, c->db_json, strlen(c->db_json));
    } else {
        rcx_buf_puts(b, "{\"status\":");
        rcx_jw_string(b, c->db_status, strlen(c->db_status));
        rcx_buf_puts(b, "}");
    }
    rcx_buf_puts(b, "}");
    return redacted;
}
