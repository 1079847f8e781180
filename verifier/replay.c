/* verifier/replay.c: see replay.h. */
#include "replay.h"

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/capture_reader.h"
#include "../common/net.h"
#include "diff.h"
#include "diff_main.h"
#include "match.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

/* ---- remapping (pure) ---- */

void rv_remap_init(rv_remap_t *m)
{
    m->map = json_object();
}

void rv_remap_free(rv_remap_t *m)
{
    json_decref(m->map);
    m->map = NULL;
}

static bool id_key(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    return n > 0 && (strcmp(k, "id") == 0 || (n > 3 && strcmp(k + n - 3, "_id") == 0));
}

/* The role of an integer id named name inside a container named role: "id" is the container's own
 * (an organization's id under "organizations"), "org_id" names "org". */
static void role_of(const char *role, const char *name, char *out, size_t n)
{
    size_t l = name ? strlen(name) : 0;
    if (name && l > 3 && strcmp(name + l - 3, "_id") == 0)
        snprintf(out, n, "%.*s", (int)(l - 3), name);
    else
        snprintf(out, n, "%s", role ? role : "");
    size_t k = strlen(out); /* one name for one thing: "jobs" and "job_id" are both "job" */
    if (k > 1 && out[k - 1] == 's')
        out[k - 1] = '\0';
}

static void set_key(json_t *map, const char *key, const json_t *to)
{
    const json_t *had = json_object_get(map, key);
    if (had == NULL)
        json_object_set(map, key, (json_t *)to);
    else if (!json_equal((json_t *)had, (json_t *)to))
        json_object_set_new(map, key, json_null()); /* two meanings: never used without a role */
}

static void learn(rv_remap_t *m, const char *role, const char *name, const json_t *a, const json_t *b,
                  int depth)
{
    if (a == NULL || b == NULL || depth > 8)
        return;
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v) learn(m, json_is_object(v) || json_is_array(v) ? k : role, k,
                                                     v, json_object_get(b, k), depth + 1);
    } else if (json_is_array(a) && json_is_array(b)) {
        for (size_t i = 0; i < json_array_size(a) && i < json_array_size(b); i++)
            learn(m, role, name, json_array_get(a, i), json_array_get(b, i), depth + 1);
    } else if (json_is_integer(a) && json_is_integer(b) && id_key(name) &&
               !json_equal((json_t *)a, (json_t *)b)) {
        char r[200], key[300];
        role_of(role, name, r, sizeof(r));
        snprintf(key, sizeof(key), "%s|i:%lld", r, (long long)json_integer_value(a));
        json_object_set(m->map, key, (json_t *)b);
        snprintf(key, sizeof(key), "*|i:%lld", (long long)json_integer_value(a));
        set_key(m->map, key, b);
    } else if (json_is_string(a) && json_is_string(b) &&
               rv_is_uuid(json_string_value(a), json_string_length(a)) &&
               rv_is_uuid(json_string_value(b), json_string_length(b)) &&
               !json_equal((json_t *)a, (json_t *)b)) {
        char key[300];
        snprintf(key, sizeof(key), "*|s:%s", json_string_value(a)); /* uuids are unique on their own */
        set_key(m->map, key, b);
    }
}

void rv_remap_learn(rv_remap_t *m, const char *resource, const json_t *old_body, const json_t *new_body)
{
    learn(m, resource, NULL, old_body, new_body, 0);
}

/* The new value of an old one in a role (NULL role: any, when unambiguous). */
static const json_t *lookup(const rv_remap_t *m, const char *role, const char *value, size_t n)
{
    bool digits = rv_is_digits(value, n);
    if (!digits && !rv_is_uuid(value, n))
        return NULL;
    char key[400];
    if (digits && role != NULL) {
        snprintf(key, sizeof(key), "%s|i:%.*s", role, (int)n, value);
        const json_t *to = json_object_get(m->map, key);
        if (to != NULL)
            return to;
    }
    snprintf(key, sizeof(key), "*|%s:%.*s", digits ? "i" : "s", (int)n, value);
    const json_t *to = json_object_get(m->map, key);
    return json_is_null(to) ? NULL : to;
}

static void append_value(rcx_buf_t *b, const json_t *to, const char *orig, size_t n)
{
    if (to != NULL && json_is_integer(to)) {
        char v[32];
        snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(to));
        rcx_buf_append(b, v, strlen(v));
    } else if (to != NULL && json_is_string(to)) {
        rcx_buf_append(b, json_string_value(to), json_string_length(to));
    } else {
        rcx_buf_append(b, orig, n);
    }
}

char *rv_remap_text(const rv_remap_t *m, const char *text, char sep)
{
    /* a path segment's role is the segment before it (/organizations/1: an organization); a query value's
     * is its parameter's name */
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    const char *p = text ? text : "";
    char role[200] = "";
    while (*p) {
        size_t n = strcspn(p, sep == '/' ? "/" : "&=");
        const json_t *to = lookup(m, role[0] ? role : NULL, p, n);
        append_value(&b, to, p, n);
        if (sep == '/' && !rv_is_id_segment(p, n)) {
            char seg[200];
            snprintf(seg, sizeof(seg), "%.*s", (int)n, p);
            role_of(seg, NULL, role, sizeof(role));
        } else if (sep != '/' && p[n] == '=') {
            char param[200];
            snprintf(param, sizeof(param), "%.*s", (int)n, p);
            role_of(NULL, param, role, sizeof(role));
        }
        p += n;
        if (*p) {
            rcx_buf_append(&b, p, 1);
            p++;
        }
    }
    rcx_buf_append(&b, "", 1);
    return b.base;
}

static json_t *remap_value(const rv_remap_t *m, const char *name, const json_t *v, int depth)
{
    if (json_is_object(v) && depth < 16) {
        json_t *o = json_object();
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) json_object_set_new(o, k, remap_value(m, k, x, depth + 1));
        return o;
    }
    if (json_is_array(v) && depth < 16) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, remap_value(m, name, json_array_get(v, i), depth + 1));
        return a;
    }
    const json_t *to = NULL;
    if (json_is_integer(v) && id_key(name)) {
        char r[200], num[32];
        role_of(NULL, name, r, sizeof(r));
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        to = lookup(m, r[0] ? r : NULL, num, strlen(num));
    } else if (json_is_string(v)) {
        to = lookup(m, NULL, json_string_value(v), json_string_length(v));
    }
    return json_deep_copy(to && (json_is_integer(v) ? json_is_integer(to) : json_is_string(to)) ? to : v);
}

json_t *rv_remap_json(const rv_remap_t *m, const json_t *body)
{
    return remap_value(m, NULL, body, 0);
}

/* ---- the run ---- */

typedef struct run {
    const char *target, *database_url, *capture, *self;
    const char **extra_headers;
    size_t nextra;
    char proxy[64], control[64];
    char tmp_capture[4096];
    pid_t child;
    CURL *curl;
} run_t;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* The target must answer a TCP connect: a replay against nothing would record only 502s. */
static int check_target(const char *url, char *why, size_t whysz)
{
    const char *h = strstr(url, "://");
    if (strncmp(url, "http://", 7) != 0 || h == NULL) {
        snprintf(why, whysz, "--target: '%s' is not an http:// URL", url);
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
        snprintf(why, whysz, "target %s is not reachable: %s", url, reason);
        return -1;
    }
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    rcx_buf_append(arg, p, size * n);
    return size * n;
}

/* One request to url; status (0 on failure) and the body into out. */
static long http(run_t *r, const char *method, const char *url, struct curl_slist *headers, const char *body,
                 size_t blen, rcx_buf_t *out)
{
    CURL *c = r->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

static int start_proxy(run_t *r, char *why, size_t whysz)
{
    int p = free_port(), cp = free_port();
    if (p < 0 || cp < 0) {
        snprintf(why, whysz, "no free port for the proxy");
        return -1;
    }
    snprintf(r->proxy, sizeof(r->proxy), "127.0.0.1:%d", p);
    snprintf(r->control, sizeof(r->control), "127.0.0.1:%d", cp);
    const char *argv[20];
    int n = 0;
    argv[n++] = "recap";
    argv[n++] = "proxy";
    argv[n++] = "--upstream";
    argv[n++] = r->target;
    argv[n++] = "--listen";
    argv[n++] = r->proxy;
    argv[n++] = "--control-listen";
    argv[n++] = r->control;
    argv[n++] = "--capture";
    argv[n++] = r->tmp_capture;
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    if (r->database_url) {
        argv[n++] = "--database-url";
        argv[n++] = r->database_url;
    }
    argv[n] = NULL;
    r->child = fork();
    if (r->child < 0) {
        snprintf(why, whysz, "cannot start the proxy: %s", strerror(errno));
        return -1;
    }
    if (r->child == 0) {
        execv(r->self, (char *const *)argv);
        _exit(127);
    }
    char url[128];
    snprintf(url, sizeof(url), "http://%s/readyz", r->control);
    for (int i = 0; i < 200; i++) { /* up to 20 s: the replication stream needs a moment */
        int st;
        if (waitpid(r->child, &st, WNOHANG) == r->child) {
            r->child = 0;
            snprintf(why, whysz, "the proxy exited at start (status %d): its message is above",
                     WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            return -1;
        }
        rcx_buf_t body;
        rcx_buf_init(&body, 4096);
        long s = http(r, "GET", url, NULL, NULL, 0, &body);
        rcx_buf_free(&body);
        if (s == 200)
            return 0;
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    snprintf(why, whysz, "the proxy did not become ready in 20 s (is the database set up? recap db setup)");
    return -1;
}

static int stop_proxy(run_t *r)
{
    if (r->child <= 0)
        return -1;
    kill(r->child, SIGTERM);
    int st = 0;
    waitpid(r->child, &st, 0);
    r->child = 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
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

/* Sends one baseline call (remapped) through the proxy; learns from its response. */
static long replay_call(run_t *r, rv_remap_t *m, const json_t *call, size_t *dropped_headers)
{
    const json_t *req = json_object_get(call, "request");
    const char *method = json_string_value(json_object_get(req, "method"));
    char *path = rv_remap_text(m, json_string_value(json_object_get(req, "path")), '/');
    char *query = rv_remap_text(m, json_string_value(json_object_get(req, "query")), '&');
    rcx_buf_t url;
    rcx_buf_init(&url, SIZE_MAX);
    char base[96];
    snprintf(base, sizeof(base), "http://%s", r->proxy);
    rcx_buf_append(&url, base, strlen(base));
    rcx_buf_append(&url, path, strlen(path));
    if (*query) {
        rcx_buf_append(&url, "?", 1);
        rcx_buf_append(&url, query, strlen(query));
    }
    rcx_buf_append(&url, "", 1);
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(req, "headers"), name, v)
    {
        const char *val = json_string_value(v);
        if (hop_by_hop(name) || val == NULL)
            continue;
        if (strcmp(val, "[REDACTED]") == 0) {
            (*dropped_headers)++;
            continue;
        }
        char *h = NULL;
        if (asprintf(&h, "%s: %s", name, val) < 0)
            abort();
        headers = curl_slist_append(headers, h);
        free(h);
    }
    for (size_t i = 0; i < r->nextra; i++)
        headers = curl_slist_append(headers, r->extra_headers[i]);
    const char *test = json_string_value(json_object_get(call, "test"));
    if (test) {
        char *h = NULL;
        if (asprintf(&h, "X-Recap-Test: %s", test) < 0)
            abort();
        headers = curl_slist_append(headers, h);
        free(h);
    }
    char *body = NULL;
    size_t blen = 0;
    const json_t *jb = json_object_get(req, "body");
    if (jb != NULL) {
        json_t *mapped = rv_remap_json(m, jb);
        body = json_dumps(mapped, JSON_COMPACT | JSON_ENCODE_ANY);
        blen = strlen(body);
        json_decref(mapped);
    } else if (json_object_get(req, "body_text")) {
        const json_t *t = json_object_get(req, "body_text");
        body = rcx_xstrndup(json_string_value(t), json_string_length(t));
        blen = json_string_length(t);
    } else if (json_object_get(req, "body_b64")) {
        const char *b64 = json_string_value(json_object_get(req, "body_b64"));
        size_t n = strlen(b64);
        body = rcx_xmalloc(n + 1);
        int got = EVP_DecodeBlock((unsigned char *)body, (const unsigned char *)b64, (int)n);
        blen = got > 0 ? (size_t)got - (n >= 1 && b64[n - 1] == '=') - (n >= 2 && b64[n - 2] == '=') : 0;
    }
    rcx_buf_t res;
    rcx_buf_init(&res, 64u * 1024 * 1024);
    long status = http(r, method ? method : "GET", url.base, headers, body, blen, &res);
    const json_t *old = json_object_get(json_object_get(call, "response"), "body");
    json_t *now = res.len ? json_loadb(res.base, res.len, JSON_DECODE_ANY, NULL) : NULL;
    if (old && now) {
        /* the call's resource: its path's last segment that is not an id (POST /orgs/1/campaigns: campaigns)
         */
        char resource[200] = "";
        const char *rp = json_string_value(json_object_get(req, "path"));
        for (const char *q = rp ? rp : ""; *q;) {
            size_t n = strcspn(q, "/");
            if (n > 0 && !rv_is_id_segment(q, n))
                snprintf(resource, sizeof(resource), "%.*s", (int)n, q);
            q += n + (q[n] == '/');
        }
        rv_remap_learn(m, resource, old, now);
    }
    json_decref(now);
    rcx_buf_free(&res);
    free(body);
    curl_slist_free_all(headers);
    rcx_buf_free(&url);
    free(path);
    free(query);
    return status;
}

static void usage(FILE *out)
{
    fputs(
        "usage: recap replay BASELINE.jsonl --target URL [options]\n"
        "\n"
        "Sends a recorded run again to the target through a recap proxy of its own, records it, and\n"
        "diffs the new run against the baseline (as recap diff does).\n"
        "\n"
        "  --target URL          the API to replay against, http://host:port\n"
        "  --database-url URL    its PostgreSQL, to record and compare row changes (env RECAP_DATABASE_URL;\n"
        "                        run recap db setup first)\n"
        "  --capture FILE        where the new run is recorded (default BASELINE.replay.jsonl)\n"
        "  --header 'Name: v'    add a header to every request (credentials the capture redacted); "
        "repeatable\n"
        "  --noise FILE          more noise paths for the diff (see recap diff --help)\n"
        "  --json FILE           also write the diff as JSON\n"
        "\n"
        "Exit status: 0 the new run is the same, 1 it differs, 2 usage or input error.\n",
        out);
}

enum { OPT_TARGET = 1000, OPT_DB, OPT_CAPTURE, OPT_HEADER, OPT_NOISE, OPT_JSON, OPT_HELP };

int rv_replay_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"database-url", required_argument, NULL, OPT_DB},
        {"capture", required_argument, NULL, OPT_CAPTURE},
        {"header", required_argument, NULL, OPT_HEADER},
        {"noise", required_argument, NULL, OPT_NOISE},
        {"json", required_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    run_t r = {.database_url = getenv("RECAP_DATABASE_URL"), .self = "/proc/self/exe"};
    const char *noise_file = NULL, *json_out = NULL;
    const char *headers[32];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        const char *name = argv[optind - 1];
        switch (c) {
        case OPT_TARGET:
            r.target = optarg;
            break;
        case OPT_DB:
            r.database_url = optarg;
            break;
        case OPT_CAPTURE:
            r.capture = optarg;
            break;
        case OPT_HEADER:
            if (r.nextra == 32 || strchr(optarg, ':') == NULL) {
                fprintf(stderr, "recap: replay: --header takes 'Name: value' (at most 32)\n");
                return 2;
            }
            headers[r.nextra++] = optarg;
            break;
        case OPT_NOISE:
            noise_file = optarg;
            break;
        case OPT_JSON:
            json_out = optarg;
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return rcx_flag_error("replay", c, name);
        }
    }
    r.extra_headers = headers;
    if (argc - optind != 1 || r.target == NULL) {
        fprintf(stderr,
                "recap: replay: give one baseline capture and --target URL (see recap replay --help)\n");
        return 2;
    }
    const char *baseline = argv[optind];
    char out_path[4096];
    if (r.capture == NULL) {
        snprintf(out_path, sizeof(out_path), "%.*s.replay.jsonl",
                 (int)(strlen(baseline) > 6 && strcmp(baseline + strlen(baseline) - 6, ".jsonl") == 0
                           ? strlen(baseline) - 6
                           : strlen(baseline)),
                 baseline);
        r.capture = out_path;
    }
    rv_calls_t base = {0}, now = {0};
    rv_noise_t noise = {0};
    int code = 2;
    char why[512];
    if (rv_load_calls(baseline, "replay", &base) != 0)
        goto out;
    if (noise_file && rv_load_noise(noise_file, "replay", &noise) != 0)
        goto out;
    if (check_target(r.target, why, sizeof(why)) != 0) {
        fprintf(stderr, "recap: replay: %s\n", why);
        goto out;
    }
    snprintf(r.tmp_capture, sizeof(r.tmp_capture), "%s.tmp.%d", r.capture, (int)getpid());
    unlink(r.tmp_capture);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    r.curl = curl_easy_init();
    if (start_proxy(&r, why, sizeof(why)) != 0) {
        fprintf(stderr, "recap: replay: %s\n", why);
        stop_proxy(&r);
        unlink(r.tmp_capture);
        goto out_curl;
    }
    rv_remap_t m;
    rv_remap_init(&m);
    size_t failed = 0, dropped = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < base.n; i++)
        failed += replay_call(&r, &m, base.v[i], &dropped) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rv_remap_free(&m);
    char url[128];
    snprintf(url, sizeof(url), "http://%s/barrier?timeout_ms=60000", r.control);
    rcx_buf_t ignore;
    rcx_buf_init(&ignore, 4096);
    long barrier = http(&r, "POST", url, NULL, "", 0, &ignore);
    rcx_buf_free(&ignore);
    int stopped = stop_proxy(&r);
    if (barrier != 200 || stopped != 0 || failed > 0) {
        fprintf(stderr,
                "recap: replay: the replay did not complete (%zu requests got no answer%s); nothing kept\n",
                failed, barrier != 200 ? ", the proxy's barrier failed" : "");
        unlink(r.tmp_capture);
        goto out_curl;
    }
    if (rename(r.tmp_capture, r.capture) != 0) {
        fprintf(stderr, "recap: replay: cannot write %s: %s\n", r.capture, strerror(errno));
        unlink(r.tmp_capture);
        goto out_curl;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t orphans = 0;
    {
        /* the baseline's orphan transactions: reported, not replayed */
        rcx_err_t err;
        rcx_reader_t *rd = rcx_reader_open(baseline, &err);
        json_t *rec;
        while (rd && rcx_reader_next(rd, &rec, &err) == 1) {
            orphans += strcmp(json_string_value(json_object_get(rec, "type")), "orphan") == 0;
            json_decref(rec);
        }
        rcx_reader_close(rd);
    }
    printf("replayed %zu calls in %.2f s (%.0f calls/s) into %s%s", base.n, secs,
           secs > 0 ? (double)base.n / secs : 0.0, r.capture, dropped ? "" : "\n");
    if (dropped)
        printf("; %zu redacted header values not sent (give them with --header)\n", dropped);
    if (orphans)
        printf("the baseline holds %zu orphan transactions (fixtures, background jobs): not replayed\n",
               orphans);
    if (rv_load_calls(r.capture, "replay", &now) != 0)
        goto out_curl;
    rv_diff_t d;
    rv_diff_run(base.v, base.n, now.v, now.n, &noise, &d);
    bool same = rv_diff_print(stdout, &d, base.n, now.n);
    code = same ? 0 : 1;
    if (json_out && rv_diff_write_json(json_out, "replay", &d) != 0)
        code = 2;
    rv_diff_free(&d);
out_curl:
    curl_easy_cleanup(r.curl);
    curl_global_cleanup();
out:
    rv_calls_free(&base);
    rv_calls_free(&now);
    rv_noise_free(&noise);
    return code;
}
