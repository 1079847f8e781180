/* proxy/control.c: the control API. See control.h. */
#include "proxy/control.h"

#include "common/log.h"
#include "common/jsonw.h"
#include "common/num.h"
#include "proxy/metrics.h"
#include "proxy/rewind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BARRIER_TIMEOUT_MS 30000
#define MAX_BARRIER_TIMEOUT_MS 600000
#define BARRIER_TICK_MS 50

typedef struct control_handler {
    h2o_handler_t super;
    recap_control_t *ctl;
} control_handler_t;

typedef struct pending_barrier {
    recap_barrier_t super; /* first: the callbacks get this pointer */
    recap_control_t *ctl;
    h2o_req_t *req;
    int done;
} pending_barrier_t;

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t recap_control_urldecode(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            s[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    return o;
}

int recap_control_query_param(const char *query, size_t qlen, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = query, *end = query + qlen;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = (size_t)(stop - p) - nlen - 1;
            if (vlen >= outsz)
                return -2;
            memcpy(out, p + nlen + 1, vlen);
            out[recap_control_urldecode(out, vlen)] = '\0';
            return 0;
        }
        p = stop + 1;
    }
    return -1;
}

static void respond(h2o_req_t *req, int status, const char *reason, const char *ctype, const char *body,
                    size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, len);
}

static void respond_text(h2o_req_t *req, int status, const char *reason, const char *text)
{
    respond(req, status, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static int authorized(recap_control_t *ctl, h2o_req_t *req)
{
    if (ctl->token == NULL)
        return 1;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i == -1)
        return 0;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t tlen = strlen(ctl->token);
    if (v.len != 7 + tlen || strncasecmp(v.base, "Bearer ", 7) != 0)
        return 0;
    unsigned char diff = 0; /* constant time over the token */
    for (size_t k = 0; k < tlen; k++)
        diff |= (unsigned char)(v.base[7 + k] ^ ctl->token[k]);
    return diff == 0;
}

/* A number parameter: absent (0, *out untouched), a number (0), or anything else (-1). */
static int number_param(const char *query, size_t qlen, const char *name, uint64_t *out)
{
    char s[32];
    int rc = recap_control_query_param(query, qlen, name, s, sizeof(s));
    return rc == -1 ? 0 : rc == 0 && rcx_parse_u64(s, out) == 0 ? 0 : -1;
}

/* name=1 is there. */
static bool flag_param(const char *query, size_t qlen, const char *name)
{
    char v[2];
    return recap_control_query_param(query, qlen, name, v, sizeof(v)) == 0 && v[0] == '1';
}

static void handle_calls(recap_control_t *ctl, h2o_req_t *req, const char *query, size_t qlen)
{
    uint64_t after = 0, since = 0, limit = UINT64_MAX;
    if (number_param(query, qlen, "after", &after) != 0) {
        respond_text(req, 400, "Bad Request", "after: not a sequence number\n");
        return;
    }
    if (number_param(query, qlen, "since", &since) != 0) {
        respond_text(req, 400, "Bad Request", "since: not a position (POST /tests/begin gives one)\n");
        return;
    }
    if (number_param(query, qlen, "limit", &limit) != 0) {
        respond_text(req, 400, "Bad Request", "limit: not a count\n");
        return;
    }
    char *test =
        h2o_mem_alloc_pool(&req->pool, qlen + 1); /* a decoded value is never longer than the query */
    int has_test = recap_control_query_param(query, qlen, "test", test, qlen + 1) == 0;
    char orphans[4] = "0";
    if (recap_control_query_param(query, qlen, "orphans", orphans, sizeof(orphans)) == -2 ||
        (strcmp(orphans, "0") != 0 && strcmp(orphans, "1") != 0)) {
        respond_text(req, 400, "Bad Request", "orphans: 0 or 1\n");
        return;
    }
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    uint64_t oldest;
    recap_ring_filter_t f = {.after = after,
                             .since = since,
                             .test = has_test ? test : NULL,
                             .orphans = orphans[0] == '1',
                             .limit = limit > SIZE_MAX ? SIZE_MAX : (size_t)limit};
    recap_ring_collect(ctl->ring, &f, &out, &oldest, NULL);
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "%llu", (unsigned long long)oldest);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-recap-oldest-seq"), 0, NULL,
                          h2o_strdup(&req->pool, hdr, (size_t)n).base, (size_t)n);
    respond(req, 200, "OK", "application/x-ndjson", out.base ? out.base : "", out.len);
    rcx_buf_free(&out);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void barrier_finish(pending_barrier_t *pb, int status, const char *reason)
{
    pb->done = 1;
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"written\":%llu,\"last_seq\":%llu}\n",
                     (unsigned long long)recap_writer_done(pb->ctl->rec->writer),
                     (unsigned long long)recap_writer_last_seq(pb->ctl->rec->writer));
    respond(pb->req, status, reason, "application/json", body, (size_t)n);
}

static void barrier_fire(recap_barrier_t *b)
{
    barrier_finish((pending_barrier_t *)b, 200, "OK");
}

static void barrier_expire(recap_barrier_t *b)
{
    barrier_finish((pending_barrier_t *)b, 504, "Gateway Timeout");
}

static void barrier_dispose(void *p)
{
    pending_barrier_t *pb = p;
    if (!pb->done) /* the client went away first */
        recap_barrier_cancel(&pb->ctl->rec->barriers, &pb->super);
}

/* One shared tick expires barriers; h2o 2.2.5 timeouts must not be disposed while they run. */
static void on_tick(h2o_timeout_entry_t *entry)
{
    recap_control_t *ctl = H2O_STRUCT_FROM_MEMBER(recap_control_t, tick_entry, entry);
    if (recap_barrier_expire(&ctl->rec->barriers, now_ms()) > 0)
        h2o_timeout_link(ctl->loop, &ctl->tick, &ctl->tick_entry);
}

/* Adds b (fire, expire and deadline set) and makes sure the tick will expire it. */
static void arm_barrier(recap_control_t *ctl, h2o_req_t *req, recap_barrier_t *b)
{
    if (ctl->loop == NULL) {
        ctl->loop = req->conn->ctx->loop;
        h2o_timeout_init(ctl->loop, &ctl->tick, BARRIER_TICK_MS);
        ctl->tick_entry.cb = on_tick;
    }
    recap_barrier_add(&ctl->rec->barriers, b, &ctl->rec->inflight);
    recap_recorder_poll_barriers(ctl->rec); /* may fire at once */
    if (!h2o_timeout_is_linked(&ctl->tick_entry))
        h2o_timeout_link(ctl->loop, &ctl->tick, &ctl->tick_entry);
}

static void handle_barrier(recap_control_t *ctl, h2o_req_t *req, const char *query, size_t qlen)
{
    char t[32];
    uint64_t timeout_ms = DEFAULT_BARRIER_TIMEOUT_MS;
    if (recap_control_query_param(query, qlen, "timeout_ms", t, sizeof(t)) == 0 &&
        (rcx_parse_u64(t, &timeout_ms) != 0 || timeout_ms > MAX_BARRIER_TIMEOUT_MS)) {
        respond_text(req, 400, "Bad Request", "timeout_ms: a number of milliseconds up to 600000\n");
        return;
    }
    pending_barrier_t *pb = h2o_mem_alloc_shared(&req->pool, sizeof(*pb), barrier_dispose);
    *pb = (pending_barrier_t){
        .super = {.fire = barrier_fire, .expire = barrier_expire, .deadline = now_ms() + timeout_ms},
        .ctl = ctl,
        .req = req};
    arm_barrier(ctl, req, &pb->super);
}

static void handle_test(recap_control_t *ctl, h2o_req_t *req)
{
    recap_recorder_t *rec = ctl->rec;
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("PUT"))) {
        const char *name = req->entity.base;
        size_t len = req->entity.base ? req->entity.len : 0;
        json_t *doc = NULL;
        if (len > 0 && name[0] == '{') {
            json_error_t je;
            doc = json_loadb(name, len, 0, &je);
            json_t *t = json_object_get(doc, "test");
            if (doc == NULL || !(json_is_string(t) || json_is_null(t))) {
                json_decref(doc);
                respond_text(req, 400, "Bad Request", "PUT /test takes the name, or {\"test\": \"name\"}\n");
                return;
            }
            name = json_string_value(t);
            len = name ? json_string_length(t) : 0;
        }
        while (len > 0 && (name[len - 1] == '\n' || name[len - 1] == '\r'))
            len--;
        if (name != NULL && (!rcx_utf8_valid(name, len) || memchr(name, '\0', len) != NULL)) {
            json_decref(doc);
            respond_text(req, 400, "Bad Request", "PUT /test: the name is not UTF-8 text\n");
            return;
        }
        recap_recorder_set_test(rec, name, len);
        json_decref(doc);
    } else if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("DELETE"))) {
        recap_recorder_set_test(rec, NULL, 0);
    } else if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
        respond_text(req, 405, "Method Not Allowed", "use GET, PUT or DELETE on /test\n");
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "test", rec->current_test ? json_string(rec->current_test) : json_null());
    char *body = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    if (body == NULL) {
        respond_text(req, 500, "Internal Server Error", "the test name cannot be shown as JSON\n");
        return;
    }
    respond(req, 200, "OK", "application/json", body, strlen(body));
    free(body);
}

/* ---- tests: begin, end, rewind ---- */

enum { STAGE_BARRIER, STAGE_SYNC, STAGE_JOB, STAGE_DONE };

typedef struct pending_test {
    recap_barrier_t barrier; /* first: the barrier callbacks get this pointer */
    recap_linker_sync_t sync;
    recap_control_t *ctl;
    h2o_req_t *req;
    char *test; /* on the request's pool; NULL for a plain sync */
    uint64_t since;
    bool rewind;
    int stage;
    recap_rewind_job_t *job;
} pending_test_t;

static void respond_json(h2o_req_t *req, int status, const char *body)
{
    const char *reason = status == 200   ? "OK"
                         : status == 409 ? "Conflict"
                         : status == 504 ? "Gateway Timeout"
                                         : "Service Unavailable";
    char *copy = h2o_mem_alloc_pool(&req->pool, strlen(body) + 2);
    size_t n = (size_t)sprintf(copy, "%s\n", body);
    respond(req, status, reason, "application/json", copy, n);
}

static void test_finish(pending_test_t *pt, int status, const char *error)
{
    pt->stage = STAGE_DONE;
    json_t *o = json_pack("{s:s, s:s?}", "error", error, "test", pt->test);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    respond_json(pt->req, status, body ? body : "{}");
    free(body);
}

static void rewind_done(void *ctx, int status, const char *body)
{
    pending_test_t *pt = ctx;
    pt->stage = STAGE_DONE;
    respond_json(pt->req, status, body);
}

/* The test's calls and the orphans committed while it ran (pushed since pt->since), planned and handed to the
 * rewinder. */
static void rewind_start(pending_test_t *pt)
{
    rcx_buf_t lines;
    rcx_buf_init(&lines, SIZE_MAX);
    uint64_t oldest;
    bool lost;
    recap_ring_filter_t f = {.since = pt->since, .test = pt->test, .orphans = true, .limit = SIZE_MAX};
    size_t n = recap_ring_collect(pt->ctl->ring, &f, &lines, &oldest, &lost);
    json_t **recs = rcx_xcalloc(n + 1, sizeof(*recs));
    size_t k = 0;
    for (char *p = lines.base, *end = lines.base + lines.len; p != NULL && p < end && k < n;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        recs[k++] = json_loadb(p, (size_t)(nl - p), 0, NULL);
        p = nl + 1;
    }
    rcx_buf_free(&lines);
    core_rw_plan_t plan;
    rcx_err_t why = {{0}};
    int rc = -1;
    if (lost)
        rcx_err_set(&why, "the ring (--ring-size) no longer holds every record of this test: raise it");
    else
        rc = core_rewind_plan(recs, k, &plan, &why);
    for (size_t i = 0; i < k; i++)
        json_decref(recs[i]);
    free(recs);
    if (rc != 0) {
        test_finish(pt, 409, why.msg);
    } else if (plan.n == 0) {
        core_rewind_plan_free(&plan);
        rewind_done(pt, 200, "{\"transactions\":0,\"rows\":0,\"tables\":{}}");
    } else if (pt->ctl->rewinder == NULL) {
        core_rewind_plan_free(&plan);
        test_finish(pt, 409, "rewind needs a database: start recap with --database-url");
    } else {
        pt->stage = STAGE_JOB;
        pt->job = recap_rewinder_submit(pt->ctl->rewinder, pt->test, &plan, rewind_done, pt);
    }
}

static void test_synced(recap_linker_sync_t *sync, bool ok)
{
    pending_test_t *pt = H2O_STRUCT_FROM_MEMBER(pending_test_t, sync, sync);
    if (pt->test != NULL)
        recap_running_end(&pt->ctl->rec->running, pt->test);
    if (!ok) {
        test_finish(pt, 503, "the replication stream is down: the test's row changes cannot all be known");
        return;
    }
    if (pt->rewind) {
        rewind_start(pt);
        return;
    }
    pt->stage = STAGE_DONE;
    char body[64];
    snprintf(body, sizeof(body), "{\"last_seq\":%llu}",
             (unsigned long long)recap_writer_last_seq(pt->ctl->rec->writer));
    respond_json(pt->req, 200, body);
}

static void test_recorded(recap_barrier_t *b)
{
    pending_test_t *pt = (pending_test_t *)b;
    pt->stage = STAGE_SYNC;
    pt->sync.fire = test_synced;
    if (pt->ctl->rec->linker != NULL)
        recap_linker_sync(pt->ctl->rec->linker, &pt->sync); /* may fire at once */
    else
        test_synced(&pt->sync, true);
}

static void test_expired(recap_barrier_t *b)
{
    test_finish((pending_test_t *)b, 504, "calls of the test were still not recorded after 30 s");
}

static void test_dispose(void *p)
{
    pending_test_t *pt = p;
    if (pt->stage == STAGE_BARRIER)
        recap_barrier_cancel(&pt->ctl->rec->barriers, &pt->barrier);
    else if (pt->stage == STAGE_SYNC && pt->ctl->rec->linker != NULL)
        recap_linker_sync_cancel(pt->ctl->rec->linker, &pt->sync);
    else if (pt->stage == STAGE_JOB)
        recap_rewinder_cancel(pt->job);
}

static void handle_tests(recap_control_t *ctl, h2o_req_t *req, const char *query, size_t qlen, int what)
{
    char *test = h2o_mem_alloc_pool(&req->pool, qlen + 1);
    uint64_t since = 0;
    if (what == 's') {
        test = NULL; /* POST /barrier?sync=1 */
    } else if (recap_control_query_param(query, qlen, "test", test, qlen + 1) != 0 || test[0] == '\0' ||
               !rcx_utf8_valid(test, strlen(test))) {
        respond_text(req, 400, "Bad Request", "test: the test's name (UTF-8) is required\n");
        return;
    }
    if (number_param(query, qlen, "since", &since) != 0) {
        respond_text(req, 400, "Bad Request", "since: not a position (POST /tests/begin gives one)\n");
        return;
    }
    if (what == 'b') {
        recap_running_begin(&ctl->rec->running, test);
        char body[96];
        snprintf(body, sizeof(body), "{\"last_seq\":%llu,\"since\":%llu}",
                 (unsigned long long)recap_writer_last_seq(ctl->rec->writer),
                 (unsigned long long)recap_ring_position(ctl->ring));
        respond_json(req, 200, body);
        return;
    }
    pending_test_t *pt = h2o_mem_alloc_shared(&req->pool, sizeof(*pt), test_dispose);
    *pt = (pending_test_t){.barrier = {.fire = test_recorded,
                                       .expire = test_expired,
                                       .deadline = now_ms() + DEFAULT_BARRIER_TIMEOUT_MS},
                           .ctl = ctl,
                           .req = req,
                           .test = test,
                           .since = since,
                           .rewind = what == 'r'};
    arm_barrier(ctl, req, &pt->barrier);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    recap_control_t *ctl = ((control_handler_t *)self)->ctl;
    if (!authorized(ctl, req)) {
        ctl->rec->metrics.control_unauthorized++;
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"recap\""));
        respond_text(req, 401, "Unauthorized", "missing or wrong bearer token\n");
        return 0;
    }
    h2o_iovec_t path = req->path_normalized;
    const char *query = "";
    size_t qlen = 0;
    if (req->query_at != SIZE_MAX) {
        query = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    int get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
              h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    int post = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"));
#define ROUTE(s) h2o_memis(path.base, path.len, H2O_STRLIT(s))
    if (ROUTE("/test")) {
        handle_test(ctl, req);
    } else if (ROUTE("/healthz") && get) {
        respond_text(req, 200, "OK", "ok\n");
    } else if (ROUTE("/readyz") && get) {
        const char *why = ctl->not_ready ? ctl->not_ready(ctl->not_ready_arg) : NULL;
        if (why == NULL) {
            respond_text(req, 200, "OK", "ready\n");
        } else {
            char *msg = h2o_mem_alloc_pool(&req->pool, strlen(why) + 12);
            sprintf(msg, "not ready: %s\n", why);
            respond_text(req, 503, "Service Unavailable", msg);
        }
    } else if (ROUTE("/calls") && get) {
        handle_calls(ctl, req, query, qlen);
    } else if (ROUTE("/barrier") && post && flag_param(query, qlen, "sync")) {
        handle_tests(ctl, req, query, qlen, 's');
    } else if (ROUTE("/barrier") && post) {
        handle_barrier(ctl, req, query, qlen);
    } else if (ROUTE("/tests/begin") && post) {
        handle_tests(ctl, req, query, qlen, 'b');
    } else if (ROUTE("/tests/end") && post) {
        handle_tests(ctl, req, query, qlen, 'e');
    } else if (ROUTE("/rewind") && post) {
        handle_tests(ctl, req, query, qlen, 'r');
    } else if (ROUTE("/metrics") && get) {
        rcx_buf_t out;
        rcx_buf_init(&out, SIZE_MAX);
        recap_linker_stats_t attr;
        if (ctl->rec->linker != NULL)
            attr = recap_linker_stats(ctl->rec->linker);
        recap_metrics_t m = ctl->rec->metrics;
        m.response_held = recap_guard_held(ctl->rec->guard);
        m.response_waits = recap_guard_pauses(ctl->rec->guard);
        recap_metrics_render(&m, ctl->rec->writer, ctl->cdc, ctl->rec->linker ? &attr : NULL,
                             ctl->rec->inflight.count, &out);
        respond(req, 200, "OK", "text/plain; version=0.0.4", out.base, out.len);
        rcx_buf_free(&out);
    } else if (ROUTE("/healthz") || ROUTE("/readyz") || ROUTE("/calls") || ROUTE("/barrier") ||
               ROUTE("/metrics") || ROUTE("/tests/begin") || ROUTE("/tests/end") || ROUTE("/rewind")) {
        respond_text(req, 405, "Method Not Allowed", "method not allowed on this route\n");
    } else {
        respond_text(req, 404, "Not Found",
                     "no such route: try /healthz /readyz /calls /barrier /test /tests/begin /tests/end "
                     "/rewind /metrics\n");
    }
#undef ROUTE
    return 0;
}

void recap_control_register(recap_control_t *ctl, h2o_pathconf_t *pathconf)
{
    control_handler_t *h = (control_handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    h->super.on_req = on_req;
    h->ctl = ctl;
}
