/* tools/replay.c: see replay.h. */
#include "tools/replay.h"

#include "common/buf.h"
#include "common/codec.h"
#include "common/net.h"
#include "core/remap.h"
#include "core/shape.h"
#include "tools/proxyproc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct run {
    const char *target, *database_url, *capture, *self;
    const char *const *extra_headers;
    size_t nextra;
    char tmp_capture[4096];
    rt_proxyproc_t proc; /* the proxy the calls go through */
} run_t;

/* The target must answer a TCP connect: a replay against nothing would record only 502s. */
static int check_target(const char *url, rcx_err_t *err)
{
    const char *h = strstr(url, "://");
    if (strncmp(url, "http://", 7) != 0 || h == NULL) {
        rcx_err_set(err, "--target: '%s' is not an http:// URL", url);
        return -1;
    }
    h += 3;
    char host[256], port[8] = "80";
    size_t hl = strcspn(h, ":/");
    snprintf(host, sizeof(host), "%.*s", (int)hl, h);
    if (h[hl] == ':')
        snprintf(port, sizeof(port), "%.*s", (int)strcspn(h + hl + 1, "/"), h + hl + 1);
    char reason[300];
    if (rcx_tcp_probe(host, port, 2000, reason, sizeof(reason)) != 0) {
        rcx_err_set(err, "target %s is not reachable: %s", url, reason);
        return -1;
    }
    return 0;
}

static bool hop_by_hop(const char *name)
{
    static const char *const skip[] = {
        "host", "content-length", "connection",   "transfer-encoding", "keep-alive",
        "te",   "upgrade",        "x-recap-test", "accept-encoding",   NULL};
    for (const char *const *s = skip; *s; s++)
        if (strcasecmp(name, *s) == 0)
            return true;
    return false;
}

/* The proxy's URL for the call's path and query, remapped. */
static char *call_url(const run_t *r, const core_remap_t *m, const json_t *req)
{
    char *path = core_remap_text(m, json_string_value(json_object_get(req, "path")), '/');
    char *query = core_remap_text(m, json_string_value(json_object_get(req, "query")), '&');
    rcx_buf_t url;
    rcx_buf_init(&url, SIZE_MAX);
    rcx_buf_printf(&url, "http://%s%s%s%s", r->proc.listen, path, *query ? "?" : "", query);
    free(path);
    free(query);
    return rcx_buf_take(&url);
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
    rcx_buf_t h;
    rcx_buf_init(&h, SIZE_MAX);
    rcx_buf_printf(&h, "%s: %s", name, value);
    list = curl_slist_append(list, rcx_buf_cstr(&h));
    rcx_buf_free(&h);
    return list;
}

/* The recorded headers (not hop-by-hop, not redacted: those are counted), the extra ones, the test name. */
static struct curl_slist *call_headers(const run_t *r, const json_t *call, size_t *dropped_headers)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(json_object_get(call, "request"), "headers"), name, v)
    {
        const char *val = json_string_value(v);
        if (hop_by_hop(name) || val == NULL)
            continue;
        if (strcmp(val, "[REDACTED]") == 0)
            (*dropped_headers)++;
        else
            headers = add_header(headers, name, val);
    }
    for (size_t i = 0; i < r->nextra; i++)
        headers = curl_slist_append(headers, r->extra_headers[i]);
    const char *test = json_string_value(json_object_get(call, "test"));
    if (test != NULL)
        headers = add_header(headers, "X-Recap-Test", test);
    return headers;
}

/* The request body as sent: JSON remapped, text as it was, binary decoded. NULL when there is none. */
static char *call_body(const core_remap_t *m, const json_t *req, size_t *blen)
{
    const json_t *jb = json_object_get(req, "body"), *t = json_object_get(req, "body_text");
    const char *b64 = json_string_value(json_object_get(req, "body_b64"));
    *blen = 0;
    if (jb != NULL) {
        json_t *mapped = core_remap_json(m, jb);
        char *body = json_dumps(mapped, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(mapped);
        *blen = strlen(body);
        return body;
    }
    if (t != NULL) {
        *blen = json_string_length(t);
        return rcx_xstrndup(json_string_value(t), json_string_length(t));
    }
    if (b64 == NULL)
        return NULL;
    size_t n = strlen(b64);
    char *body = rcx_xmalloc(n + 1);
    int got = EVP_DecodeBlock((unsigned char *)body, (const unsigned char *)b64, (int)n);
    *blen = got > 0 ? (size_t)got - (n >= 1 && b64[n - 1] == '=') - (n >= 2 && b64[n - 2] == '=') : 0;
    return body;
}

/* What the new run returned in place of the baseline's values, learned in the call's resource: its path's
 * last segment that is not an id (POST /orgs/1/campaigns: campaigns). */
static void learn_from(core_remap_t *m, const json_t *call, const rcx_buf_t *res)
{
    const json_t *old = json_object_get(json_object_get(call, "response"), "body");
    json_t *now = res->len ? json_loadb(res->base, res->len, JSON_DECODE_ANY, NULL) : NULL;
    if (old != NULL && now != NULL) {
        char resource[200] = "";
        const char *rp = rcx_rec_str(call, "request", "path");
        for (const char *q = rp ? rp : ""; *q;) {
            size_t n = strcspn(q, "/");
            if (n > 0 && !core_is_id_segment(q, n))
                snprintf(resource, sizeof(resource), "%.*s", (int)n, q);
            q += n + (q[n] == '/');
        }
        core_remap_learn(m, resource, old, now);
    }
    json_decref(now);
}

/* Sends one baseline call (remapped) through the proxy; learns from its response. The status, 0 if none. */
static long replay_call(run_t *r, core_remap_t *m, const json_t *call, size_t *dropped_headers)
{
    const json_t *req = json_object_get(call, "request");
    const char *method = json_string_value(json_object_get(req, "method"));
    char *url = call_url(r, m, req);
    struct curl_slist *headers = call_headers(r, call, dropped_headers);
    size_t blen;
    char *body = call_body(m, req, &blen);
    rcx_buf_t res;
    rcx_buf_init(&res, 64u * 1024 * 1024);
    long status = rt_proxyproc_http(&r->proc, method ? method : "GET", url, headers, body, blen, &res);
    learn_from(m, call, &res);
    rcx_buf_free(&res);
    free(body);
    curl_slist_free_all(headers);
    free(url);
    return status;
}

/* The baseline's calls sent in order, then a barrier: every record is written. -1 with err. */
static int send_all(run_t *r, const rt_calls_t *base, rt_replay_result_t *res, rcx_err_t *err)
{
    core_remap_t m;
    core_remap_init(&m);
    size_t failed = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < base->n; i++)
        failed += replay_call(r, &m, base->v[i], &res->dropped_headers) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    core_remap_free(&m);
    res->calls = base->n;
    res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long barrier = rt_proxyproc_control(&r->proc, "POST", "/barrier?timeout_ms=60000");
    int stopped = rt_proxyproc_stop(&r->proc);
    if (barrier != 200 || stopped != 0 || failed > 0) {
        rcx_err_set(err, "the replay did not complete (%zu requests got no answer%s); nothing kept", failed,
                    barrier != 200 ? ", the proxy's barrier failed" : "");
        return -1;
    }
    return 0;
}

/* Whether s holds a byte HTTP/1 would take for the end of a line or of the text. */
static bool breaks_lines(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return true;
    return false;
}

static const char *unsendable(const json_t *call)
{
    const json_t *req = json_object_get(call, "request");
    const char *method = json_string_value(json_object_get(req, "method"));
    if (method == NULL || *method == '\0' ||
        strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789!#$%&'*+-.^_`|~") != strlen(method))
        return "its method is not an HTTP token";
    static const char *const texts[] = {"path", "query"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *t = json_object_get(req, texts[i]);
        if (json_is_string(t) && breaks_lines(json_string_value(t), json_string_length(t)))
            return i == 0 ? "its path holds a line break" : "its query holds a line break";
    }
    const json_t *test = json_object_get(call, "test");
    if (json_is_string(test) && breaks_lines(json_string_value(test), json_string_length(test)))
        return "its test name holds a line break";
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(req, "headers"), name, v)
    {
        if (breaks_lines(name, strlen(name)) || strpbrk(name, " :") != NULL ||
            (json_is_string(v) && breaks_lines(json_string_value(v), json_string_length(v))))
            return "a header name or value holds a line break";
    }
    return NULL;
}

int rt_replay_check(const rt_calls_t *base, const char *path, rcx_err_t *err)
{
    for (size_t i = 0; i < base->n; i++) {
        const char *why = unsendable(base->v[i]);
        if (why != NULL) {
            rcx_err_set(err,
                        "%s:%lu:1: call #%lld cannot be sent again: %s (it would inject headers or smuggle "
                        "a request); nothing was sent",
                        path, base->lines ? base->lines[i] : 0,
                        (long long)json_integer_value(json_object_get(base->v[i], "seq")), why);
            return -1;
        }
    }
    return 0;
}

int rt_replay_run(const rt_replay_opts_t *o, const rt_calls_t *base, rt_replay_result_t *res, rcx_err_t *err)
{
    *res = (rt_replay_result_t){0};
    if (check_target(o->target, err) != 0)
        return -1;
    run_t r = {.target = o->target,
               .database_url = o->database_url,
               .capture = o->capture,
               .self = o->self,
               .extra_headers = o->extra_headers,
               .nextra = o->nextra};
    snprintf(r.tmp_capture, sizeof(r.tmp_capture), "%s.tmp.%d", r.capture, (int)getpid());
    unlink(r.tmp_capture);
    const char *args[] = {"--upstream",  r.target, "--capture",      r.tmp_capture,
                          "--log-level", "warn",   "--database-url", r.database_url};
    int rc = rt_proxyproc_start(&r.proc, r.self, args, r.database_url ? 8 : 6, NULL, NULL, 20000, err);
    if (rc == 0)
        rc = send_all(&r, base, res, err);
    if (rc == 0 && rename(r.tmp_capture, r.capture) != 0) {
        rcx_err_set(err, "cannot write %s: %s", r.capture, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(r.tmp_capture);
    rt_proxyproc_stop(&r.proc);
    return rc;
}
