/* proxy/recorder.c: the capture tee around h2o's reverse proxy. See recorder.h. */
#include "proxy/recorder.h"

#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Per-request state: on req->pool, disposed with it. */
typedef struct call_state {
    recap_recorder_t *rec;
    rcx_call_t *call; /* NULL once handed to the writer */
    recap_inflight_node_t node;
    struct timespec t0;
    h2o_req_t *req;
    h2o_handler_t *handler;
    recap_link_t *link; /* with the linker until finished */
    /* --serialize */
    struct call_state *next_waiting;
    bool waiting, gated;
    bool refused;    /* answered by recap itself, never forwarded (a protocol upgrade) */
    uint64_t credit; /* the response's token with the upstream relay (credit.h); 0: none */
} call_state_t;

/* The prefilter is how the filter and the logger find the state from a request. */
typedef struct state_link {
    h2o_req_prefilter_t super;
    call_state_t *state;
} state_link_t;

typedef struct tee {
    h2o_ostream_t super;
    call_state_t *state;
    /* the last send, held until the call's window is closed (linker.h) */
    h2o_req_t *req;
    h2o_iovec_t *bufs;
    size_t bufcnt;
    h2o_send_state_t send_state;
    size_t sent; /* body bytes passed on or held */
} tee_t;

typedef struct recorder_handler {
    h2o_handler_t super;
    recap_recorder_t *rec;
} recorder_handler_t;

typedef struct recorder_filter {
    h2o_filter_t super;
    recap_recorder_t *rec;
} recorder_filter_t;

typedef struct recorder_logger {
    h2o_logger_t super;
    recap_recorder_t *rec;
} recorder_logger_t;

static const char proxy_module[] = "lib/core/proxy.c";

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static uint64_t next_random(recap_recorder_t *rec)
{
    /* xorshift128+: ids need to be unique, not secret */
    uint64_t s1 = rec->rng[0];
    const uint64_t s0 = rec->rng[1];
    rec->rng[0] = s0;
    s1 ^= s1 << 23;
    rec->rng[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
    return rec->rng[1] + s0;
}

static void make_uuid(recap_recorder_t *rec, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t hi = next_random(rec), lo = next_random(rec);
    hi = (hi & ~0xf000ull) | 0x4000ull;                 /* version 4 */
    lo = (lo & ~(0xc000ull << 48)) | (0x8000ull << 48); /* variant 10 */
    char *o = out;
    for (int i = 60; i >= 0; i -= 4) {
        *o++ = hex[(hi >> i) & 15];
        if (i == 32 || i == 16)
            *o++ = '-';
    }
    *o++ = '-';
    for (int i = 60; i >= 0; i -= 4) {
        *o++ = hex[(lo >> i) & 15];
        if (i == 48)
            *o++ = '-';
    }
    *o = '\0';
}

void recap_recorder_init(recap_recorder_t *rec, const recap_proxy_config_t *cfg, recap_writer_t *writer)
{
    *rec = (recap_recorder_t){
        .cfg = cfg, .writer = writer, .arrivals = writer ? recap_writer_last_seq(writer) : 0};
    recap_inflight_init(&rec->inflight);
    if (getrandom(rec->rng, sizeof(rec->rng), 0) != (ssize_t)sizeof(rec->rng)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rec->rng[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
        rec->rng[1] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
    }
    rec->rng[0] |= 1;
    recap_creds_init(&rec->creds, next_random(rec));
}

void recap_recorder_set_test(recap_recorder_t *rec, const char *name, size_t len)
{
    free(rec->current_test);
    rec->current_test = (name != NULL && len > 0) ? rcx_xstrndup(name, len) : NULL;
    rec->running.label = rec->current_test;
}

void recap_recorder_poll_barriers(recap_recorder_t *rec)
{
    recap_barrier_poll(&rec->barriers, &rec->inflight, recap_writer_pushed(rec->writer),
                       recap_writer_done(rec->writer));
}

/* The first error h2o's proxy logged for this request, if any. */
static const h2o_iovec_t *proxy_error(h2o_req_t *req)
{
    for (size_t i = 0; i < req->error_logs.size; i++)
        if (strcmp(req->error_logs.entries[i].module, proxy_module) == 0)
            return &req->error_logs.entries[i].msg;
    return NULL;
}

static void go_on(void *ctx)
{
    call_state_t *st = ctx;
    h2o_delegate_request(st->req, st->handler);
}

/* The call may go on: through the linker (which forwards it once its window start is known), or at once (-1).
 */
static int admit(recap_recorder_t *rec, call_state_t *st)
{
    if (rec->linker == NULL || !recap_linker_up(rec->linker))
        return -1;
    st->link = recap_linker_admit(rec->linker, st->call->id, st->gated, go_on, st);
    return 0;
}

void recap_recorder_gate_release(recap_recorder_t *rec)
{
    call_state_t *next = rec->gate_waiting;
    rec->gate_busy = next != NULL;
    if (next == NULL)
        return;
    rec->gate_waiting = next->next_waiting;
    next->waiting = false;
    next->gated = true;
    if (admit(rec, next) != 0)
        h2o_delegate_request_deferred(next->req, next->handler); /* not from inside another request */
}

/* --serialize: a call that waited gave up, or the call through is done with the gate. */
static void gate_leave(recap_recorder_t *rec, call_state_t *st)
{
    if (st->waiting) {
        for (call_state_t **p = &rec->gate_waiting; *p != NULL; p = &(*p)->next_waiting)
            if (*p == st) {
                *p = st->next_waiting;
                break;
            }
        st->waiting = false;
    } else if (st->gated) {
        st->gated = false;
        recap_recorder_gate_release(rec);
    }
}

/* Closes the record and hands it to the linker or the writer. */
static void finish(call_state_t *st, h2o_req_t *req)
{
    rcx_call_t *call = st->call;
    recap_recorder_t *rec = st->rec;
    if (call == NULL)
        return;
    if (st->link == NULL) /* with the linker, it releases the gate once the call's window is closed */
        gate_leave(rec, st);
    st->call = NULL;
    if (call->status == 0) /* torn down before any response: the client went away */
        call->aborted = true;
    call->duration_ms = ms_since(&st->t0);
    if (rec->redact != NULL && call->status != 0)
        recap_creds_learn(&rec->creds, rec->redact, call);
    if (!st->refused)
        call->db_status = rec->linker == NULL ? "disabled" : "unavailable";
    if (req != NULL) {
        const h2o_iovec_t *err = proxy_error(req);
        if (err != NULL && call->error == NULL)
            call->error = rcx_call_strdup(call, err->base, err->len);
    }
    recap_metrics_t *m = &rec->metrics;
    m->calls++;
    m->calls_by_class[call->status >= 100 && call->status < 600 ? call->status / 100 : 0]++;
    m->aborted += call->aborted;
    m->request_bytes += call->req.body.seen;
    m->response_bytes += call->res.body.seen;
    m->truncated_bodies += call->req.body.truncated + call->res.body.truncated;
    if (st->link != NULL) {
        recap_link_t *link = st->link;
        st->link = NULL;
        recap_linker_finish(rec->linker, link, call, &st->node);
        return;
    }
    if (rec->linker != NULL && !st->refused) /* never admitted: the stream was down */
        recap_linker_unadmitted(rec->linker, call);
    recap_inflight_remove(&rec->inflight, &st->node);
    recap_writer_push(rec->writer, call, 0, false);
    recap_recorder_poll_barriers(rec);
}

static void on_state_dispose(void *p)
{
    call_state_t *st = p;
    recap_credit_close(st->rec->credit, st->credit);
    if (st->call != NULL) { /* torn down before the logger ran */
        st->call->aborted = true;
        finish(st, NULL);
    }
}

void recap_recorder_abandon(recap_recorder_t *rec, recap_inflight_node_t *node)
{
    (void)rec;
    call_state_t *st = H2O_STRUCT_FROM_MEMBER(call_state_t, node, node);
    if (st->call != NULL) {
        st->call->aborted = true;
        finish(st, NULL);
    } else {
        recap_inflight_remove(&st->rec->inflight, node);
    }
}

static void on_link_setup(h2o_req_prefilter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    h2o_setup_next_prefilter(self, req, slot);
}

static call_state_t *find_state(h2o_req_t *req)
{
    for (h2o_req_prefilter_t *p = req->prefilters; p != NULL; p = p->next)
        if (p->on_setup_ostream == on_link_setup)
            return ((state_link_t *)p)->state;
    return NULL;
}

static void copy_headers(rcx_msg_t *msg, const h2o_headers_t *headers)
{
    for (size_t i = 0; i < headers->size; i++) {
        const h2o_header_t *h = &headers->entries[i];
        rcx_msg_add_header(msg, h->name->base, h->name->len, h->value.base, h->value.len);
    }
}

static void split_path(rcx_call_t *call, h2o_iovec_t path)
{
    const char *q = memchr(path.base, '?', path.len);
    size_t plen = q ? (size_t)(q - path.base) : path.len;
    call->path = rcx_call_strdup(call, path.base, plen);
    call->query = q ? rcx_call_strdup(call, q + 1, path.len - plen - 1) : rcx_call_strdup(call, "", 0);
}

/* An HTTP/1 protocol upgrade (WebSocket...): h2o 2.2.5's proxy would answer the client 101 with
 * "Connection: close" and no Upgrade, and the client would hang. Refused at once, clearly, and recorded. */
static bool refuse_upgrade(call_state_t *st)
{
    h2o_req_t *req = st->req;
    if (req->version >= 0x200 || req->upgrade.base == NULL) /* h2o keeps Upgrade out of req->headers */
        return false;
    static const char msg[] =
        "recap does not proxy protocol upgrades (Upgrade: WebSocket and the like); send "
        "this request to the API directly\n";
    st->refused = true;
    st->call->error = rcx_call_strdup(st->call, "a protocol upgrade, refused by recap", 36);
    st->call->db_json =
        rcx_xstrdup("{\"status\":\"unavailable\",\"reason\":\"not forwarded: a protocol upgrade, "
                    "refused by recap\"}");
    req->res.status = 501;
    req->res.reason = "Not Implemented";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain"));
    h2o_send_inline(req, msg, sizeof(msg) - 1);
    return true;
}

/* The response's token with the upstream relay, sent in a header of its own (the relay takes it off); one a
 * client sent is not passed on. */
static void open_credit(recap_recorder_t *rec, call_state_t *st, h2o_req_t *req)
{
    ssize_t i;
    while ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT(RECAP_CREDIT_HEADER), -1)) != -1)
        h2o_delete_header(&req->headers, i);
    if ((st->credit = recap_credit_open(rec->credit)) == 0) { /* no relay, or every slot in use */
        rec->metrics.response_unlimited += rec->credit != NULL;
        return;
    }
    char *v = h2o_mem_alloc_pool(&req->pool, 24);
    int n = snprintf(v, 24, "%" PRIu64, st->credit);
    h2o_add_header_by_str(&req->pool, &req->headers, H2O_STRLIT(RECAP_CREDIT_HEADER), 0, NULL, v, (size_t)n);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    recap_recorder_t *rec = ((recorder_handler_t *)self)->rec;
    call_state_t *st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), on_state_dispose);
    *st = (call_state_t){.rec = rec};
    clock_gettime(CLOCK_MONOTONIC, &st->t0);
    state_link_t *link = (state_link_t *)h2o_add_prefilter(req, sizeof(*link));
    link->super.on_setup_ostream = on_link_setup;
    link->state = st;

    rcx_call_t *call = rcx_call_new(rec->cfg->max_body);
    clock_gettime(CLOCK_REALTIME, &call->started_at);
    call->arrival = ++rec->arrivals;
    call->http_version = req->version;
    call->method = rcx_call_strdup(call, req->input.method.base, req->input.method.len);
    split_path(call, req->input.path);

    /* X-Recap-Test: the test label, taken off the request unless told to keep it */
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-recap-test"), -1);
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        call->test = rcx_call_strdup(call, v.base, v.len);
        if (!rec->cfg->keep_test_header)
            while ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-recap-test"), -1)) != -1)
                h2o_delete_header(&req->headers, i);
    } else if (rec->current_test != NULL) {
        call->test = rcx_call_strdup(call, rec->current_test, strlen(rec->current_test));
    }
    /* X-Recap-Phase: which part of the test made the call (setup, call, teardown), taken off the same way */
    i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-recap-phase"), -1);
    if (i != -1) {
        h2o_iovec_t v = req->headers.entries[i].value;
        call->phase = rcx_call_strdup(call, v.base, v.len < 32 ? v.len : 32);
        if (!rec->cfg->keep_test_header)
            while ((i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-recap-phase"), -1)) != -1)
                h2o_delete_header(&req->headers, i);
    }

    /* X-Request-Id: the client's is kept; one is made when missing or too long to record */
    i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-request-id"), -1);
    if (i != -1 && req->headers.entries[i].value.len > 0 &&
        req->headers.entries[i].value.len < sizeof(call->id)) {
        h2o_iovec_t v = req->headers.entries[i].value;
        memcpy(call->id, v.base, v.len);
        call->id[v.len] = '\0';
    } else {
        make_uuid(rec, call->id);
        char *v = h2o_mem_alloc_pool(&req->pool, 37);
        memcpy(v, call->id, 37);
        h2o_set_header_by_str(&req->pool, &req->headers, H2O_STRLIT("x-request-id"), 0, v, 36, 1);
    }

    /* h2o keeps Host (HTTP/1) and :authority (HTTP/2) out of req->headers */
    if (req->input.authority.base != NULL)
        rcx_msg_add_header(&call->req, "host", 4, req->input.authority.base, req->input.authority.len);
    copy_headers(&call->req, &req->headers);
    if (rec->redact != NULL)
        recap_creds_derive(&rec->creds, rec->redact, call);
    if (req->entity.base != NULL)
        rcx_buf_append(&call->req.body, req->entity.base, req->entity.len);
    open_credit(rec, st, req);

    st->call = call;
    st->req = req;
    st->handler = self;
    recap_inflight_add(&rec->inflight, &st->node);
    if (refuse_upgrade(st))
        return 0;
    if (rec->cfg->serialize) { /* one call at a time through to the upstream */
        if (rec->gate_busy) {
            call_state_t **tail = &rec->gate_waiting;
            while (*tail != NULL)
                tail = &(*tail)->next_waiting;
            *tail = st;
            st->waiting = true;
            return 0; /* recap_recorder_gate_release() lets it through when its turn comes */
        }
        rec->gate_busy = true;
        st->gated = true;
    }
    return admit(rec, st); /* -1: on to the reverse proxy now */
}

static void release_last_send(void *ctx)
{
    tee_t *tee = ctx;
    h2o_ostream_send_next(&tee->super, tee->req, tee->bufs, tee->bufcnt, tee->send_state);
}

/* Whether the client sees the response complete with this send: its last state, its last declared
 * byte (HTTP/1.1 with Content-Length), or a response that has no body. */
static bool completes_response(h2o_req_t *req, size_t sent, h2o_send_state_t state)
{
    if (state != H2O_SEND_STATE_IN_PROGRESS)
        return true;
    int status = req->res.status;
    if (status == 204 || status == 304 || (status >= 100 && status < 200) ||
        h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        return true;
    return req->res.content_length != SIZE_MAX && sent >= req->res.content_length;
}

static void tee_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                     h2o_send_state_t state)
{
    tee_t *tee = (tee_t *)self;
    call_state_t *st = tee->state;
    if (st->call != NULL) {
        for (size_t i = 0; i < bufcnt; i++)
            rcx_buf_append(&st->call->res.body, bufs[i].base, bufs[i].len);
        if (state == H2O_SEND_STATE_ERROR && st->call->error == NULL)
            st->call->error = rcx_call_strdup(st->call, "upstream response ended early", 29);
    }
    size_t n = 0;
    for (size_t i = 0; i < bufcnt; i++)
        n += bufs[i].len;
    tee->sent += n;
    recap_credit_handed(st->rec->credit, st->credit, n);
    if (st->link != NULL && completes_response(req, tee->sent, state)) {
        /* the bytes stay valid: the generator is not asked for more until this send completes */
        tee->req = req;
        tee->bufs = h2o_mem_alloc_pool(&req->pool, sizeof(*bufs) * (bufcnt ? bufcnt : 1));
        if (bufcnt > 0)
            memcpy(tee->bufs, bufs, sizeof(*bufs) * bufcnt);
        tee->bufcnt = bufcnt;
        tee->send_state = state;
        recap_linker_end(st->rec->linker, st->link, release_last_send, tee);
        return;
    }
    h2o_ostream_send_next(self, req, bufs, bufcnt, state);
}

static void tee_stop(h2o_ostream_t *self, h2o_req_t *req)
{
    (void)req;
    call_state_t *st = ((tee_t *)self)->state;
    if (st->call != NULL)
        st->call->aborted = true;
}

static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    recap_recorder_t *rec = ((recorder_filter_t *)self)->rec;
    call_state_t *st = find_state(req);
    if (st != NULL && st->call != NULL) {
        rcx_call_t *call = st->call;
        const h2o_iovec_t *err = proxy_error(req);
        ssize_t g = h2o_find_header_by_str(&req->res.headers, H2O_STRLIT(RECAP_GUARD_ERROR_HEADER), -1);
        if (g != -1) { /* the relay answered for an upstream h2o would have aborted on (guard.h) */
            h2o_iovec_t why = req->res.headers.entries[g].value;
            if (call->error == NULL)
                call->error = rcx_call_strdup(call, why.base, why.len);
            h2o_delete_header(&req->res.headers, g);
            rec->metrics.upstream_errors++;
        } else if (err != NULL && req->res.status == 502) {
            if (h2o_memis(err->base, err->len, H2O_STRLIT("I/O timeout"))) {
                /* h2o 2.2.5 says 502 for every upstream failure; a timeout is a 504 */
                req->res.status = 504;
                req->res.reason = "Gateway Timeout";
                rec->metrics.upstream_timeouts++;
            } else {
                rec->metrics.upstream_errors++;
            }
        }
        call->status = req->res.status;
        call->ttfb_ms = ms_since(&st->t0);
        copy_headers(&call->res, &req->res.headers);
        if (req->res.content_length != SIZE_MAX) {
            char cl[24], *p = cl + sizeof(cl);
            size_t v = req->res.content_length;
            do
                *--p = (char)('0' + v % 10);
            while ((v /= 10) != 0);
            rcx_msg_add_header(&call->res, "content-length", 14, p, (size_t)(cl + sizeof(cl) - p));
        }
        tee_t *tee = (tee_t *)h2o_add_ostream(req, sizeof(*tee), slot);
        tee->super.do_send = tee_send;
        tee->super.stop = tee_stop;
        tee->state = st;
        slot = &tee->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

static void on_log(h2o_logger_t *self, h2o_req_t *req)
{
    (void)self;
    call_state_t *st = find_state(req);
    if (st != NULL)
        finish(st, req);
}

void recap_recorder_register(recap_recorder_t *rec, h2o_pathconf_t *pathconf, h2o_url_t *upstream,
                             h2o_proxy_config_vars_t *proxy_vars)
{
    recorder_handler_t *h = (recorder_handler_t *)h2o_create_handler(pathconf, sizeof(*h));
    h->super.on_req = on_req;
    h->rec = rec;
    h2o_proxy_register_reverse_proxy(pathconf, upstream, proxy_vars);
    recorder_filter_t *f = (recorder_filter_t *)h2o_create_filter(pathconf, sizeof(*f));
    f->super.on_setup_ostream = on_setup_ostream;
    f->rec = rec;
    recorder_logger_t *l = (recorder_logger_t *)h2o_create_logger(pathconf, sizeof(*l));
    l->super.log_access = on_log;
    l->rec = rec;
}
