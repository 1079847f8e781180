/* tools/replay.c: see replay.h. */
#include "tools/replay.h"

#include "common/buf.h"
#include "common/capture.h"
#include "common/codec.h"
#include "common/net.h"
#include "core/remap.h"
#include "core/flow.h"
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

/* The calls (of those the baseline had succeed) after which a target that knew none of them is another app.
 */
#define ANOTHER_APP_CALLS 5

typedef struct run {
    const rt_replay_opts_t *o;
    char tmp_capture[4096];
    rt_proxyproc_t proc; /* the proxy the calls go through */
    core_flow_t *flow;   /* the baseline's */
    core_remap_t remap;  /* the baseline's values -> the new run's */
    json_t *now;         /* per baseline arrival: {"body", "cookies", "headers"} of the new run's response */
    rt_replay_result_t *res;
    char via_prefix[48];          /* --via: the X-Request-Id prefix of this replay's calls */
    unsigned long long via_after; /* --via: the proxy's last seq before the replay */
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

/* A listen address asked for must be free: a proxy that cannot bind would only say so on its own stderr. */
static int check_free(const char *addr, const char *flag, rcx_err_t *err)
{
    if (addr == NULL)
        return 0;
    const char *colon = strrchr(addr, ':');
    struct sockaddr_in a = {.sin_family = AF_INET};
    char host[64];
    snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - addr) : 0, addr);
    if (colon == NULL || inet_pton(AF_INET, host, &a.sin_addr) != 1 || atoi(colon + 1) <= 0 ||
        atoi(colon + 1) > 65535) {
        rcx_err_set(err, "%s: '%s' is not HOST:PORT (an IPv4 address and a port)", flag, addr);
        return -1;
    }
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc = fd >= 0 ? bind(fd, (struct sockaddr *)&a, sizeof(a)) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        rcx_err_set(err, "%s %s: %s; nothing was sent", flag, addr, strerror(e));
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

/* The proxy's URL for call i's path and query, its references rewritten. */
static char *call_url(const run_t *r, size_t i, const json_t *req)
{
    char *path = core_remap_path(&r->remap, i, json_string_value(json_object_get(req, "path")));
    char *query = core_remap_query(&r->remap, i, json_string_value(json_object_get(req, "query")));
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

/* The value at place under root, a path of ".key" and "[i]" steps ("user.token", "list[0].key"; "" is root
 * itself); NULL when it is not there. Where it hangs goes to *parent, key and *index (key "" for an array
 * element), for a caller that replaces it. */
static json_t *at_place(json_t *root, const char *p, json_t **parent, char *key, size_t keysz, size_t *index)
{
    json_t *at = root;
    *parent = NULL;
    key[0] = '\0';
    *index = 0;
    while (*p && at != NULL) {
        *parent = at;
        if (*p == '.') {
            size_t n = strcspn(p + 1, ".[");
            snprintf(key, keysz, "%.*s", (int)n, p + 1);
            at = json_object_get(at, key);
            p += 1 + n;
        } else if (*p == '[') {
            key[0] = '\0';
            *index = strtoul(p + 1, NULL, 10);
            at = json_array_get(at, *index);
            p += strcspn(p, "]") + (p[strcspn(p, "]")] == ']');
        } else {
            return NULL;
        }
    }
    return at;
}

/* name[0..n) in lower case into out (cut to fit). */
static void lower_into(char *out, size_t outsz, const char *name, size_t n)
{
    size_t k = 0;
    for (; k < n && k + 1 < outsz; k++)
        out[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
    out[k] = '\0';
}

/* What the new run's response to the baseline call `arrival` held at `from` ("response.body.user.token",
 * "response.cookie.sid", "response.headers.x-auth"); NULL when it is not there. */
static const char *value_from(const run_t *r, const json_t *arrival, const char *from)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(arrival));
    json_t *now = json_object_get(r->now, key), *parent;
    if (strncmp(from, "response.cookie.", 16) == 0)
        return json_string_value(json_object_get(json_object_get(now, "cookies"), from + 16));
    if (strncmp(from, "response.headers.", 17) == 0)
        return json_string_value(json_object_get(json_object_get(now, "headers"), from + 17));
    if (strncmp(from, "response.body", 13) != 0)
        return NULL;
    char k[256];
    size_t index;
    return json_string_value(
        at_place(json_object_get(now, "body"), from + 13, &parent, k, sizeof(k), &index));
}

/* A redacted header rebuilt from the new run (request.derived); NULL when the baseline does not say where it
 * came from or the new run did not hand it out. Caller frees. */
static char *rebuilt(const run_t *r, const json_t *derived, const char *name)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    if (strcasecmp(name, "cookie") == 0) {
        const char *k;
        const json_t *d;
        json_object_foreach((json_t *)derived, k, d)
        {
            const char *v = strncmp(k, "cookie.", 7) == 0
                                ? value_from(r, json_object_get(d, "call"),
                                             json_string_value(json_object_get(d, "from")) ?: "")
                                : NULL;
            if (v != NULL)
                rcx_buf_printf(&b, "%s%s=%s", b.len ? "; " : "", k + 7, v);
        }
    } else {
        char lower[128];
        lower_into(lower, sizeof(lower), name, strlen(name));
        const json_t *d = json_object_get(derived, lower);
        const char *v =
            d ? value_from(r, json_object_get(d, "call"), json_string_value(json_object_get(d, "from")) ?: "")
              : NULL;
        if (v != NULL)
            rcx_buf_printf(&b, "%s%s", json_string_value(json_object_get(d, "prefix")) ?: "", v);
    }
    if (b.len == 0) {
        rcx_buf_free(&b);
        return NULL;
    }
    return rcx_buf_take(&b);
}

/* A credential given from outside the run for header `name`: --header 'Name: value', else the environment's
 * RECAP_REPLAY_HEADER_NAME (upper case, '-' as '_'). NULL when none. */
static const char *given(const run_t *r, const char *name, char *buf, size_t bufsz)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->o->nextra; i++) {
        const char *h = r->o->extra_headers[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':')
            return h + n + 1 + strspn(h + n + 1, " \t");
    }
    int k = snprintf(buf, bufsz, "RECAP_REPLAY_HEADER_");
    for (size_t i = 0; i < n && (size_t)k + 1 < bufsz; i++)
        buf[k++] = name[i] == '-' ? '_' : (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    buf[k] = '\0';
    return getenv(buf);
}

static void unauthenticated(run_t *r, const json_t *call, const char *name)
{
    rt_replay_result_t *res = r->res;
    if (res->unauthenticated++ < 10)
        rcx_buf_printf(&res->unauth_list, "%s#%lld %s", res->unauth_list.len ? ", " : "",
                       (long long)json_integer_value(json_object_get(call, "seq")), name);
}

/* The recorded headers (not hop-by-hop): references rewritten; a redacted one rebuilt from the new run, or
 * given from outside, or (said in the result) not sent. Then the test name. */
static struct curl_slist *call_headers(run_t *r, const json_t *call, size_t i)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    const json_t *req = json_object_get(call, "request"), *derived = json_object_get(req, "derived");
    const char *name;
    const json_t *v;
    if (r->o->via != NULL) { /* how this replay's records are told apart in the proxy's ring */
        char id[96];
        snprintf(id, sizeof(id), "%s%zu", r->via_prefix, i);
        headers = add_header(headers, "X-Request-Id", id);
    }
    json_object_foreach((json_t *)json_object_get(req, "headers"), name, v)
    {
        const char *val = json_string_value(v);
        if (hop_by_hop(name) || val == NULL || (r->o->via != NULL && strcasecmp(name, "x-request-id") == 0))
            continue;
        if (strcmp(val, "[REDACTED]") != 0) {
            char *mapped = core_remap_string(&r->remap, i, val, strlen(val));
            headers = add_header(headers, name, mapped);
            free(mapped);
            continue;
        }
        char env[160];
        char *again = rebuilt(r, derived, name);
        const char *outside = again == NULL ? given(r, name, env, sizeof(env)) : NULL;
        if (again != NULL || outside != NULL)
            headers = add_header(headers, name, again != NULL ? again : outside);
        else
            unauthenticated(r, call, name);
        r->res->rebuilt += again != NULL;
        r->res->given += outside != NULL;
        free(again);
    }
    const char *test = json_string_value(json_object_get(call, "test"));
    if (test != NULL)
        headers = add_header(headers, "X-Recap-Test", test);
    return headers;
}

/* Puts v at place ("body.user.password", "body.list[0].key") under root (the body); false when the place is
 * not there. Steals v. */
static bool set_at(json_t *root, const char *place, json_t *v)
{
    json_t *parent;
    char key[256];
    size_t index;
    bool ok = at_place(root, place + 4, &parent, key, sizeof(key), &index) != NULL &&
              parent != NULL && /* past "body" */
              (key[0] ? json_object_set(parent, key, v) == 0 : json_array_set(parent, index, v) == 0);
    json_decref(v);
    return ok;
}

/* The values the capture redacted (request.redacted: place -> class), made up again: one value per class, so
 * a password signed up with and logged in with stays one, and a wrong one stays wrong. */
static void made_up_secrets(json_t *body, const json_t *redacted)
{
    const char *place;
    const json_t *cls;
    json_object_foreach((json_t *)redacted, place, cls)
    {
        char v[64];
        snprintf(v, sizeof(v), "recap-replay-%s", json_string_value(cls) ? json_string_value(cls) : "x");
        if (strncmp(place, "body", 4) == 0)
            set_at(body, place, json_string(v));
    }
}

/* The request body as sent: JSON remapped, text as it was, binary decoded. NULL when there is none. */
static char *call_body(const core_remap_t *m, size_t i, const json_t *req, size_t *blen)
{
    const json_t *jb = json_object_get(req, "body"), *t = json_object_get(req, "body_text");
    const char *b64 = json_string_value(json_object_get(req, "body_b64"));
    *blen = 0;
    if (jb != NULL) {
        json_t *mapped = core_remap_json(m, i, jb);
        made_up_secrets(mapped, json_object_get(req, "redacted"));
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

/* The new run's response to the baseline call: learned against the baseline's (values that replaced
 * theirs), and kept by the call's arrival for the credentials later calls derive from it. */
static void learn_from(run_t *r, const json_t *call, size_t i, const rcx_buf_t *res, const rcx_buf_t *head)
{
    const json_t *old = json_object_get(json_object_get(call, "response"), "body");
    json_t *body = res->len ? json_loadb(res->base, res->len, JSON_DECODE_ANY, NULL) : NULL;
    if (old != NULL && body != NULL)
        core_remap_learn(&r->remap, i, old, body);
    json_t *cookies = json_object(), *headers = json_object();
    for (const char *p = head->base ? rcx_buf_cstr((rcx_buf_t *)head) : ""; *p;) {
        size_t n = strcspn(p, "\r\n"), colon = strcspn(p, ":");
        if (colon < n) {
            char name[128];
            lower_into(name, sizeof(name), p, colon);
            const char *v = p + colon + 1 + strspn(p + colon + 1, " \t");
            size_t vn = (size_t)(p + n - v);
            if (strcmp(name, "set-cookie") == 0) {
                size_t eq = strcspn(v, "="), end = strcspn(v, ";\r\n");
                if (eq < end) {
                    char cn[128];
                    snprintf(cn, sizeof(cn), "%.*s", (int)(eq < 127 ? eq : 127), v);
                    json_object_set_new(cookies, cn, json_stringn(v + eq + 1, end - eq - 1));
                }
            } else {
                json_object_set_new(headers, name, json_stringn(v, vn));
            }
        }
        p += n + strspn(p + n, "\r\n");
    }
    char key[32];
    snprintf(key, sizeof(key), "%llu", (unsigned long long)rcx_rec_arrival(call));
    json_object_set_new(r->now, key,
                        json_pack("{s:o, s:o, s:o}", "body", body ? body : json_null(), "cookies", cookies,
                                  "headers", headers));
}

/* Sends baseline call i (its references rewritten) through the proxy; learns from its response. The status,
 * 0 if none. */
static long replay_call(run_t *r, const json_t *call, size_t i)
{
    const json_t *req = json_object_get(call, "request");
    const char *method = json_string_value(json_object_get(req, "method"));
    char *url = call_url(r, i, req);
    struct curl_slist *headers = call_headers(r, call, i);
    size_t blen;
    char *body = call_body(&r->remap, i, req, &blen);
    rcx_buf_t res, head;
    rcx_buf_init(&res, 64u * 1024 * 1024);
    rcx_buf_init(&head, 1024 * 1024);
    long status = rt_proxyproc_http(&r->proc, method ? method : "GET", url, headers, body, blen, &res, &head);
    learn_from(r, call, i, &res, &head);
    rcx_buf_free(&res);
    rcx_buf_free(&head);
    free(body);
    curl_slist_free_all(headers);
    free(url);
    return status;
}

/* The baseline's calls sent in order, then a barrier: every record is written. -1 with err. */
static int send_all(run_t *r, const rt_calls_t *base, rcx_err_t *err)
{
    r->flow = core_flow_build(base->v, base->n);
    core_remap_init(&r->remap, r->flow);
    r->now = json_object();
    size_t failed = 0, succeeded = 0, unknown = 0; /* of the calls the baseline had succeed */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < base->n; i++) {
        long was = rcx_rec_status(base->v[i]), now = replay_call(r, base->v[i], i);
        failed += now == 0;
        if (was >= 200 && was < 300) {
            succeeded++;
            unknown += now == 404 || now == 405 || now == 501;
        }
        if (succeeded == ANOTHER_APP_CALLS && unknown == succeeded)
            break; /* every route the baseline used is unknown here: another app; stop before doing harm */
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    core_remap_free(&r->remap);
    core_flow_free(r->flow);
    json_decref(r->now);
    r->res->calls = base->n;
    r->res->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long barrier = rt_proxyproc_control(&r->proc, "POST", "/barrier?timeout_ms=60000");
    int stopped = r->o->via != NULL ? 0 : rt_proxyproc_stop(&r->proc);
    if (succeeded > 0 && unknown == succeeded) {
        rcx_err_set(
            err,
            "the target %s answered 404, 405 or 501 to the first %zu calls the baseline had succeed: it "
            "is not the app that was recorded; nothing kept",
            r->o->target, succeeded);
        return -1;
    }
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

/* What is wrong with a call's request.derived (each must name an earlier call of the run and a response
 * place), or NULL. */
static const char *bad_derivation(const rt_calls_t *base, size_t i, char *why, size_t whysz)
{
    const json_t *derived = json_object_get(json_object_get(base->v[i], "request"), "derived");
    if (derived == NULL)
        return NULL;
    if (!json_is_object(derived))
        return "its request.derived is not an object";
    const char *k;
    const json_t *d;
    uint64_t me = rcx_rec_arrival(base->v[i]);
    json_object_foreach((json_t *)derived, k, d)
    {
        const json_t *c = json_object_get(d, "call");
        const char *from = json_string_value(json_object_get(d, "from"));
        bool earlier = false;
        for (size_t j = 0; j < i && json_is_integer(c) && !earlier; j++)
            earlier = rcx_rec_arrival(base->v[j]) == (uint64_t)json_integer_value(c);
        if (!json_is_integer(c) || (uint64_t)json_integer_value(c) >= me || !earlier) {
            snprintf(why, whysz,
                     "its request.derived.%s points at call %lld, which is not an earlier call of "
                     "this run",
                     k, (long long)json_integer_value(c));
            return why;
        }
        if (from == NULL || strncmp(from, "response.", 9) != 0) {
            snprintf(why, whysz, "its request.derived.%s does not name a place of a response", k);
            return why;
        }
    }
    return NULL;
}

int rt_replay_check(const rt_calls_t *base, const char *path, rcx_err_t *err)
{
    for (size_t i = 0; i < base->n; i++) {
        char buf[300];
        const char *bad = bad_derivation(base, i, buf, sizeof(buf));
        if (bad != NULL) {
            rcx_err_set(err, "%s:%lu:1: call #%lld: %s; nothing was sent", path,
                        base->lines ? base->lines[i] : 0,
                        (long long)json_integer_value(json_object_get(base->v[i], "seq")), bad);
            return -1;
        }
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

void rt_replay_result_free(rt_replay_result_t *res)
{
    rcx_buf_free(&res->unauth_list);
}

/* ---- --via: through a recap proxy that is already running (the compose setup) ---- */

/* "host:port" of an http:// URL into out; -1 when it is not one. */
static int host_port(const char *url, char *out, size_t n)
{
    if (url == NULL || strncmp(url, "http://", 7) != 0 || url[7] == '\0' || url[7] == '/')
        return -1;
    snprintf(out, n, "%.*s", (int)strcspn(url + 7, "/"), url + 7);
    return 0;
}

/* A GET or POST to the proxy's control API; the status, the body into out. */
static long via_request(run_t *r, const char *method, const char *path, rcx_buf_t *out, rcx_buf_t *head)
{
    char url[512];
    snprintf(url, sizeof(url), "http://%s%s", r->proc.control, path);
    return rt_proxyproc_http(&r->proc, method, url, NULL, strcmp(method, "POST") == 0 ? "" : NULL, 0, out,
                             head);
}

/* The proxy is ready, and every call before the replay is written: its last seq is where ours start. */
static int via_start(run_t *r, rcx_err_t *err)
{
    if (host_port(r->o->target, r->proc.listen, sizeof(r->proc.listen)) != 0 ||
        host_port(r->o->via, r->proc.control, sizeof(r->proc.control)) != 0) {
        rcx_err_set(
            err, "--via and --target take http://host:port URLs (the proxy's control API and its listener)");
        return -1;
    }
    rcx_buf_t body;
    rcx_buf_init(&body, 1 << 20);
    long ready = via_request(r, "GET", "/readyz", &body, NULL);
    rcx_buf_reset(&body);
    long st = ready == 200 ? via_request(r, "POST", "/barrier?timeout_ms=60000", &body, NULL) : 0;
    json_t *b = st == 200 ? json_loadb(body.base, body.len, 0, NULL) : NULL;
    r->via_after = (unsigned long long)json_integer_value(json_object_get(b, "last_seq"));
    bool ok = json_is_integer(json_object_get(b, "last_seq"));
    json_decref(b);
    rcx_buf_free(&body);
    if (!ok) {
        rcx_err_set(err, "--via %s: %s; nothing was sent", r->o->via,
                    ready == 0     ? "no answer"
                    : ready != 200 ? "the proxy is not ready (GET /readyz)"
                                   : "not a recap control API (POST /barrier)");
        return -1;
    }
    snprintf(r->via_prefix, sizeof(r->via_prefix), "recap-replay-%d-%llu-", (int)getpid(), r->via_after);
    return 0;
}

/* This replay's records, read from the proxy's ring, written as a capture of their own at path. */
static int via_collect(run_t *r, size_t sent, const char *path, rcx_err_t *err)
{
    char q[96];
    snprintf(q, sizeof(q), "/calls?after=%llu", r->via_after);
    rcx_buf_t body, head;
    rcx_buf_init(&body, SIZE_MAX);
    rcx_buf_init(&head, 1 << 20);
    long st = via_request(r, "GET", q, &body, &head);
    const char *oldest = strcasestr(rcx_buf_cstr(&head), "x-recap-oldest-seq:");
    unsigned long long first = oldest ? strtoull(oldest + 19, NULL, 10) : 0;
    int rc = -1;
    FILE *f = st == 200 && (first == 0 || first <= r->via_after + 1) ? fopen(path, "w") : NULL;
    if (f != NULL) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        json_t *h = rcx_capture_header_json(r->o->target, NULL, &now);
        char *line = json_dumps(h, JSON_COMPACT);
        fprintf(f, "%s\n", line);
        free(line);
        json_decref(h);
        size_t kept = 0;
        for (const char *p = rcx_buf_cstr(&body); *p;) {
            size_t n = strcspn(p, "\n");
            json_t *rec = json_loadb(p, n, 0, NULL);
            const char *id = json_string_value(json_object_get(rec, "id"));
            if (id != NULL && strncmp(id, r->via_prefix, strlen(r->via_prefix)) == 0) {
                fprintf(f, "%.*s\n", (int)n, p);
                kept++;
            }
            json_decref(rec);
            p += n + (p[n] == '\n');
        }
        rc = fclose(f) == 0 && kept == sent ? 0 : -1;
        if (rc != 0)
            rcx_err_set(err, "--via %s: the proxy holds %zu of the %zu calls sent; nothing kept", r->o->via,
                        kept, sent);
    } else {
        rcx_err_set(err, "--via %s: %s; nothing kept", r->o->via,
                    st != 200 ? "GET /calls failed"
                              : "its ring no longer holds every call of the replay (raise --ring-size)");
    }
    rcx_buf_free(&body);
    rcx_buf_free(&head);
    return rc;
}

int rt_replay_run(const rt_replay_opts_t *o, const rt_calls_t *base, rt_replay_result_t *res, rcx_err_t *err)
{
    *res = (rt_replay_result_t){0};
    rcx_buf_init(&res->unauth_list, SIZE_MAX);
    if (check_target(o->target, err) != 0 || check_free(o->listen, "--listen", err) != 0 ||
        check_free(o->control_listen, "--control-listen", err) != 0)
        return -1;
    run_t r = {.o = o, .res = res};
    snprintf(r.tmp_capture, sizeof(r.tmp_capture), "%s.tmp.%d", o->capture, (int)getpid());
    unlink(r.tmp_capture);
    int rc;
    if (o->via != NULL) {
        rc = via_start(&r, err);
        if (rc == 0)
            rc = send_all(&r, base, err);
        if (rc == 0)
            rc = via_collect(&r, base->n, r.tmp_capture, err);
    } else {
        const char *args[] = {"--upstream",  o->target, "--capture",      r.tmp_capture,
                              "--log-level", "warn",    "--database-url", o->database_url};
        rc = rt_proxyproc_start(&r.proc, o->self, args, o->database_url ? 8 : 6, o->listen, o->control_listen,
                                20000, err);
        if (rc == 0)
            rc = send_all(&r, base, err);
    }
    if (rc == 0 && rename(r.tmp_capture, o->capture) != 0) {
        rcx_err_set(err, "cannot write %s: %s", o->capture, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(r.tmp_capture);
    rt_proxyproc_stop(&r.proc);
    return rc;
}
