/* proxy/server.c: wires the listeners, h2o, the recorder, the writer and the control API. See proxy.h. */
#include "proxy/proxy.h"

#include "common/hash.h"
#include "common/log.h"
#include "common/net.h"
#include "proxy/config.h"
#include "proxy/control.h"
#include "proxy/recorder.h"
#include "proxy/cdc/batchq.h"
#include "proxy/cdc/watch.h"
#include "proxy/guard.h"
#include "proxy/rewind.h"
#include "proxy/cdc/stream.h"
#include "proxy/linker.h"
#include "proxy/listen.h"
#include "proxy/ring.h"
#include "proxy/writer.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RING_MAX_BYTES (64u * 1024 * 1024)

typedef struct server server_t;

struct server {
    recap_proxy_config_t cfg;
    recap_redact_t redact;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_evloop_t *loop;
    h2o_hostconf_t *proxy_hosts[2], *control_hosts[2];
    h2o_accept_ctx_t proxy_accept, control_accept;
    h2o_socket_t *signals;
    recap_listen_t listen;
    recap_listener_t proxy_listener, control_listener;
    recap_recorder_t rec;
    recap_control_t control;
    recap_ring_t *ring;
    recap_writer_t *writer;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    h2o_multithread_message_t message;
    _Atomic int notify_pending;
    int stopping;
    recap_cdc_t *cdc;
    recap_batchq_t *starts, *fences; /* window starts and fences, each on its own connection */
    recap_watch_t *watch;            /* names tables that appear unpublished */
    recap_linker_t *linker;
    recap_guard_t *guard;   /* the relay h2o's upstream connections go through (guard.h); NULL for https */
    recap_credit_t *credit; /* what h2o may hold of each response (credit.h); kept, as the guard is */
    h2o_timeout_t settle;   /* --settle: one timeout, every call's timer on it */
    char nonce[20];         /* "<hex>:" in every fence this process emits */
    char run_slot[64];      /* the slot of this run when no --slot is given (the stream borrows it) */
    h2o_multithread_receiver_t db_receiver;
    _Atomic size_t cdc_posted_bytes; /* transactions posted to the loop, not yet with the linker */
    _Atomic int cdc_stopping;
};

/* What the database threads tell the loop, in the order they told it. */
typedef enum { DB_TX, DB_FENCE_ARRIVED, DB_STREAM_STATE, DB_START_DONE, DB_FENCE_DONE } db_event_kind_t;

typedef struct db_event {
    h2o_multithread_message_t super;
    db_event_kind_t kind;
    recap_cdc_tx_t tx;
    uint64_t seq, lsn;
    bool ok;
    char why[]; /* DB_STREAM_STATE: empty when streaming started */
} db_event_t;

/* A key for what must not be told from outside (proxy/redact.h classes): the kernel's randomness, else the
 * clock and pid. */
static uint64_t random_key(void)
{
    uint64_t k = 0;
    if (getrandom(&k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        k = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40);
    }
    return k;
}

static SSL_CTX *make_tls(const recap_proxy_config_t *cfg, rcx_err_t *err)
{
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ssl, cfg->tls_cert) != 1) {
        rcx_err_set(err, "--tls-cert %s: %s", cfg->tls_cert, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ssl);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ssl, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        !SSL_CTX_check_private_key(ssl)) {
        rcx_err_set(err, "--tls-key %s: %s", cfg->tls_key, ERR_reason_error_string(ERR_get_error()));
        SSL_CTX_free(ssl);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ssl, h2o_http2_alpn_protocols);
    return ssl;
}

/* Says at start-up whether the upstream answers a TCP connect; never fatal (it may come up later). */
static void probe_upstream(const h2o_url_t *url)
{
    char host[256], port[8], why[300];
    snprintf(host, sizeof(host), "%.*s", (int)url->host.len, url->host.base);
    snprintf(port, sizeof(port), "%u", h2o_url_get_port(url));
    if (rcx_tcp_probe(host, port, 1000, why, sizeof(why)) != 0)
        rcx_log_warn("upstream %s:%s is not reachable now (%s); calls get 502 until it is", host, port, why);
}

static void on_writer_progress(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    server_t *s = H2O_STRUCT_FROM_MEMBER(server_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages))
        h2o_linklist_unlink(messages->next);
    atomic_store(&s->notify_pending, 0);
    recap_writer_reap(s->writer);
    if (s->cdc != NULL)
        recap_cdc_confirm(s->cdc, recap_writer_durable_lsn(s->writer));
    recap_recorder_poll_barriers(&s->rec);
}

/* Loop: what the database threads said, in order. */
static void on_db_events(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    server_t *s = H2O_STRUCT_FROM_MEMBER(server_t, db_receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        db_event_t *e = H2O_STRUCT_FROM_MEMBER(db_event_t, super.link, messages->next);
        h2o_linklist_unlink(&e->super.link);
        switch (e->kind) {
        case DB_TX:
            atomic_fetch_sub(&s->cdc_posted_bytes, e->tx.len);
            recap_linker_tx(s->linker, &e->tx);
            break;
        case DB_FENCE_ARRIVED:
            recap_linker_fence_arrived(s->linker, e->seq, e->lsn);
            break;
        case DB_STREAM_STATE:
            recap_linker_stream_state(s->linker, e->why[0] ? e->why : NULL);
            break;
        case DB_START_DONE:
            recap_linker_start_done(s->linker, e->seq, e->ok, e->lsn);
            break;
        case DB_FENCE_DONE:
            recap_linker_fence_done(s->linker, e->seq, e->ok);
            break;
        }
        free(e);
    }
    recap_recorder_poll_barriers(&s->rec);
}

static void post(server_t *s, db_event_t proto, const char *why)
{
    size_t wlen = why ? strlen(why) : 0;
    db_event_t *e = rcx_xmalloc(sizeof(*e) + wlen + 1);
    *e = proto;
    memcpy(e->why, why ? why : "", wlen + 1);
    h2o_multithread_send_message(&s->db_receiver, &e->super);
}

/* CDC thread: hand the transaction over, nothing else. */
static void cdc_tx_ready(void *arg, const recap_cdc_tx_t *tx)
{
    server_t *s = arg;
    /* Backpressure: while what waits for the disk (posted to the loop, queued for the writer) is over
     * --queue-bytes, stop reading the stream. PostgreSQL keeps the WAL in the slot meanwhile; no change is
     * dropped. What the linker holds for calls whose windows are open is not waited on: only the stream can
     * release it (the fence that closes a window comes through it), so waiting on it could never end; it is
     * bounded by --max-tx-bytes per transaction still undecided. */
    recap_writer_stats_t *st = recap_writer_stats(s->writer);
    bool waited = false;
    while (atomic_load(&s->cdc_posted_bytes) + atomic_load(&st->queued_bytes) > s->cfg.queue_bytes &&
           !atomic_load(&s->cdc_stopping)) {
        waited = true;
        nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
    }
    if (waited)
        atomic_fetch_add(&recap_cdc_stats(s->cdc)->backpressure_waits, 1);
    atomic_fetch_add(&s->cdc_posted_bytes, tx->len);
    post(s, (db_event_t){.kind = DB_TX, .tx = *tx}, NULL);
}

/* CDC thread: a non-transactional message; ours are "<nonce>:<fence number>". */
static void cdc_message(void *arg, const char *prefix, const char *content, size_t len, uint64_t lsn)
{
    server_t *s = arg;
    size_t nl = strlen(s->nonce);
    if (strcmp(prefix, "recap.fence") != 0 || len <= nl || len > nl + 20 ||
        memcmp(content, s->nonce, nl) != 0)
        return;
    uint64_t seq = 0;
    for (size_t i = nl; i < len; i++) {
        if (content[i] < '0' || content[i] > '9')
            return;
        seq = seq * 10 + (uint64_t)(content[i] - '0');
    }
    post(s, (db_event_t){.kind = DB_FENCE_ARRIVED, .seq = seq, .lsn = lsn}, NULL);
}

static void cdc_state(void *arg, const char *why)
{
    server_t *s = arg;
    if (why != NULL)
        rcx_log_debug("cdc: %s", why);
    post(s, (db_event_t){.kind = DB_STREAM_STATE}, why ? why : "");
}

static void start_done(void *arg, uint64_t upto, bool ok, uint64_t lsn)
{
    post(arg, (db_event_t){.kind = DB_START_DONE, .seq = upto, .ok = ok, .lsn = lsn}, NULL);
}

static void fence_done(void *arg, uint64_t upto, bool ok, uint64_t lsn)
{
    post(arg, (db_event_t){.kind = DB_FENCE_DONE, .seq = upto, .ok = ok, .lsn = lsn}, NULL);
}

/* Linker hooks (loop thread). */
static uint64_t request_start(void *arg)
{
    return recap_batchq_request(((server_t *)arg)->starts);
}

static uint64_t request_fence(void *arg)
{
    return recap_batchq_request(((server_t *)arg)->fences);
}

static void write_call(void *arg, rcx_call_t *call, uint64_t resume_lsn, bool has_rows)
{
    server_t *s = arg;
    /* a record with rows is never dropped, nor any record once stopping: shutdown loses nothing */
    recap_writer_push(s->writer, call, resume_lsn, has_rows || s->stopping);
    recap_recorder_poll_barriers(&s->rec);
}

static void write_line(void *arg, char *line, size_t len, uint64_t resume_lsn, const char *const *tests,
                       size_t ntests)
{
    server_t *s = arg;
    if (s->ring != NULL) /* for GET /calls?orphans=1 and rewinds, under the tests that ran; it comes after the
                          * last call written (after=that call's seq must not leave it out) */
        recap_ring_push_orphan(s->ring, recap_writer_last_seq(s->writer) + 1, tests, ntests, line, len);
    recap_writer_push_line(s->writer, line, len, resume_lsn);
}

static const char *const *running(void *arg)
{
    return recap_running_list(&((server_t *)arg)->rec.running);
}

static void release_gate(void *arg)
{
    recap_recorder_gate_release(&((server_t *)arg)->rec);
}

/* Writer thread: wakes the loop once per batch (a single message, never linked twice). */
static void notify_loop(void *arg)
{
    server_t *s = arg;
    if (atomic_exchange(&s->notify_pending, 1) == 0)
        h2o_multithread_send_message(&s->receiver, &s->message);
}

static void on_signal(h2o_socket_t *sock, const char *err)
{
    server_t *s = sock->data;
    if (err != NULL)
        return;
    /* h2o has already read the signalfd into sock->input: each 128-byte record is one signal */
    size_t n = sock->input->size / sizeof(struct signalfd_siginfo);
    if (n == 0)
        return;
    struct signalfd_siginfo si; /* h2o's buffer is not aligned for it: copy */
    memcpy(&si, sock->input->bytes, sizeof(si));
    if (!s->stopping)
        rcx_log_info("signal %u: no new connections; finishing %zu calls in flight", si.ssi_signo,
                     s->rec.inflight.count);
    s->stopping = 1;
    h2o_buffer_consume(&sock->input, n * sizeof(struct signalfd_siginfo));
}

static const char *not_ready(void *arg)
{
    server_t *s = arg;
    if (s->stopping)
        return "shutting down";
    if (s->cdc != NULL && !atomic_load(&recap_cdc_stats(s->cdc)->streaming))
        return "not streaming from the database (the log says why)";
    if (s->linker != NULL && !recap_linker_up(s->linker)) /* the loop has not yet heard the stream is up */
        return "not streaming from the database yet";
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Writes what could not finish in time as aborted records: nothing that reached recap is lost. */
static void abandon_inflight(server_t *s)
{
    size_t n = s->rec.inflight.count;
    if (n == 0)
        return;
    rcx_log_warn("%zu calls still in flight after --shutdown-timeout; recorded as aborted", n);
    while (s->rec.inflight.count > 0) {
        recap_inflight_node_t *node = s->rec.inflight.list.next;
        recap_recorder_abandon(&s->rec, node);
    }
}

/* What the flags could not check without libpq and h2o: the database URL and the upstream URL. */
static int check_urls(const recap_proxy_config_t *cfg, h2o_url_t *upstream, rcx_err_t *err)
{
    if (cfg->database_url != NULL && strncmp(cfg->database_url, "postgresql://", 13) != 0 &&
        strncmp(cfg->database_url, "postgres://", 11) != 0) {
        char *why = NULL;
        PQconninfoOption *opts = PQconninfoParse(cfg->database_url, &why);
        if (opts == NULL) {
            rcx_err_set(err, "--database-url: not a postgresql:// URL nor key=value settings: %s",
                        why ? strtok(why, "\n") : "out of memory");
            PQfreemem(why);
            return -1;
        }
        PQconninfoFree(opts);
    }
    if (h2o_url_parse(cfg->upstream, SIZE_MAX, upstream) != 0) {
        rcx_err_set(err, "--upstream: cannot parse '%s' as a URL", cfg->upstream);
        return -1;
    }
    return 0;
}

/* The ring and the writer, with the capture's header line. */
static int open_capture(server_t *s, rcx_err_t *err)
{
    const recap_proxy_config_t *cfg = &s->cfg;
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    char database[512];
    if (cfg->database_url != NULL)
        recap_cdc_redact_url(cfg->database_url, database, sizeof(database));
    json_t *header = rcx_capture_header_json(cfg->upstream, cfg->database_url ? database : NULL, &started);
    s->redact = (recap_redact_t){.headers = cfg->redact_headers,
                                 .fields = cfg->redact_fields,
                                 .defaults = !cfg->no_default_redaction,
                                 .class_key = random_key()};
    s->ring = recap_ring_new(cfg->ring_size, RING_MAX_BYTES);
    recap_writer_opts_t wopts = {.path = cfg->capture,
                                 .header = header,
                                 .redact = &s->redact,
                                 .queue_bytes = cfg->queue_bytes,
                                 .ring = s->ring,
                                 .notify = notify_loop,
                                 .notify_arg = s};
    s->writer = recap_writer_open(&wopts, err);
    json_decref(header);
    if (s->writer == NULL) {
        recap_ring_free(s->ring);
        return -1;
    }
    return 0;
}

/* h2o's upstream: the guard's socket for an http:// upstream on a TCP host (guard.h: h2o 2.2.5 aborts on some
 * bad response framing), the upstream itself for https:// (the guard speaks no TLS). */
static int guard_upstream(server_t *s, h2o_url_t *upstream, rcx_err_t *err)
{
    struct sockaddr_un sun;
    if (s->cfg.trust_upstream || upstream->scheme != &H2O_URL_SCHEME_HTTP ||
        h2o_url_host_to_sun(upstream->host, &sun) == NULL)
        return 0; /* TLS, or a unix socket upstream: h2o speaks to it directly */
    char host[256], port[8];
    snprintf(host, sizeof(host), "%.*s", (int)upstream->host.len, upstream->host.base);
    snprintf(port, sizeof(port), "%u", (unsigned)h2o_url_get_port(upstream));
    if ((s->credit = recap_credit_new(65536)) == NULL) {
        rcx_err_set(err, "cannot make an eventfd for the upstream relay: %s", strerror(errno));
        return -1;
    }
    if ((s->guard = recap_guard_start(host, port, s->credit, s->cfg.response_buffer,
                                      s->cfg.response_buffer_total, s->cfg.upstream_timeout_ms, err)) == NULL)
        return -1;
    static h2o_url_t relay;
    if (h2o_url_parse(recap_guard_url(s->guard), SIZE_MAX, &relay) != 0) {
        rcx_err_set(err, "cannot use the upstream relay's URL %s", recap_guard_url(s->guard));
        return -1;
    }
    *upstream = relay;
    return 0;
}

/* h2o's configuration: the proxy host (recorder ahead of the proxy handler) and the control host. */
static int configure_h2o(server_t *s, h2o_url_t *upstream, SSL_CTX *ssl, rcx_err_t *err)
{
    const recap_proxy_config_t *cfg = &s->cfg;
    s->loop = h2o_evloop_create();
    h2o_url_t target = *upstream; /* the upstream stays the real one: for the start-up probe, for logs */
    if (guard_upstream(s, &target, err) != 0)
        return -1;
    h2o_config_init(&s->conf);
    s->conf.max_request_entity_size = cfg->max_request_size;
    s->conf.proxy.io_timeout = cfg->upstream_timeout_ms;
    h2o_hostconf_t *ph = h2o_config_register_host(&s->conf, h2o_iovec_init(H2O_STRLIT("proxy")), 65535);
    h2o_pathconf_t *pp = h2o_config_register_path(ph, "/", 0);
    pp->error_log.emit_request_errors = 0; /* recorded in the capture instead */
    h2o_proxy_config_vars_t pv = {
        .io_timeout = cfg->upstream_timeout_ms, .preserve_host = 1, .keepalive_timeout = 2000};
    recap_recorder_init(&s->rec, cfg, s->writer);
    s->rec.redact = &s->redact;
    s->rec.guard = s->guard;
    s->rec.credit = s->credit;
    recap_recorder_register(&s->rec, pp, &target, &pv);
    h2o_hostconf_t *ch = h2o_config_register_host(&s->conf, h2o_iovec_init(H2O_STRLIT("control")), 65535);
    s->control = (recap_control_t){.rec = &s->rec,
                                   .ring = s->ring,
                                   .token = cfg->control_token,
                                   .not_ready = not_ready,
                                   .not_ready_arg = s};
    recap_control_register(&s->control, h2o_config_register_path(ch, "/", 0));

    h2o_context_init(&s->ctx, s->loop, &s->conf);
    s->proxy_hosts[0] = ph;
    s->control_hosts[0] = ch;
    s->proxy_accept = (h2o_accept_ctx_t){.ctx = &s->ctx, .hosts = s->proxy_hosts, .ssl_ctx = ssl};
    s->control_accept = (h2o_accept_ctx_t){.ctx = &s->ctx, .hosts = s->control_hosts};
    s->queue = h2o_multithread_create_queue(s->loop);
    h2o_multithread_register_receiver(s->queue, &s->receiver, on_writer_progress);
    h2o_multithread_register_receiver(s->queue, &s->db_receiver, on_db_events);
    return 0;
}

typedef struct settle_timer {
    h2o_timeout_entry_t entry;
    server_t *s;
    recap_link_t *link;
} settle_timer_t;

static void on_settled(h2o_timeout_entry_t *entry)
{
    settle_timer_t *t = H2O_STRUCT_FROM_MEMBER(settle_timer_t, entry, entry);
    recap_linker_t *linker = t->s->linker;
    recap_link_t *link = t->link;
    free(t);
    recap_linker_settled(linker, link);
}

static void *settle_arm(void *arg, recap_link_t *link, uint64_t ms)
{
    server_t *s = arg;
    (void)ms; /* s->settle was made with cfg.settle_ms */
    settle_timer_t *t = rcx_xcalloc(1, sizeof(*t));
    *t = (settle_timer_t){.entry = {.cb = on_settled}, .s = s, .link = link};
    h2o_timeout_link(s->loop, &s->settle, &t->entry);
    return t;
}

static void settle_cancel(void *arg, void *handle)
{
    (void)arg;
    settle_timer_t *t = handle;
    h2o_timeout_unlink(&t->entry);
    free(t);
}

/* "recap_run_<16 hex>": a hash (FNV-1a) of the capture's full path and the database, so the same capture on
 * the same database finds its slot again after a crash, and two runs never share one. */
static void run_slot_name(const recap_proxy_config_t *cfg, char *out, size_t n)
{
    char path[PATH_MAX];
    const char *parts[2] = {realpath(cfg->capture, path) != NULL ? path : cfg->capture, cfg->database_url};
    uint64_t h = RCX_FNV_OFFSET;
    for (int i = 0; i < 2; i++)
        h = rcx_fnv1a(rcx_fnv1a(h, parts[i], strlen(parts[i])), "\n", 1);
    snprintf(out, n, "recap_run_%016llx", (unsigned long long)h);
}

#define WATCH_INTERVAL_MS 2000 /* how soon a table that appears unpublished is named */

/* The linker, the two query workers (window starts, fences) and the replication stream. */
static int start_database(server_t *s, rcx_err_t *err)
{
    const recap_proxy_config_t *cfg = &s->cfg;
    uint64_t r[2];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r[0] = (uint64_t)getpid() ^ (uint64_t)time(NULL);
    snprintf(s->nonce, sizeof(s->nonce), "%016llx:", (unsigned long long)r[0]);
    char fence_sql[160];
    snprintf(fence_sql, sizeof(fence_sql),
             "SELECT pg_logical_emit_message(false, 'recap.fence', '%s%%N'), pg_current_xact_id()", s->nonce);
    recap_linker_opts_t lopts = {.settle_ms = cfg->settle_ms, .serialize = cfg->serialize};
    recap_linker_hooks_t hooks = {.request_start = request_start,
                                  .request_fence = request_fence,
                                  .write_call = write_call,
                                  .write_line = write_line,
                                  .running = running,
                                  .release = release_gate,
                                  .settle_arm = settle_arm,
                                  .settle_cancel = settle_cancel,
                                  .arg = s};
    h2o_timeout_init(s->loop, &s->settle, cfg->settle_ms);
    s->linker = recap_linker_new(&lopts, &hooks, &s->rec.inflight);
    s->rec.linker = s->linker;
    s->starts = recap_batchq_start(cfg->database_url, "window-start", "SELECT pg_current_wal_insert_lsn()",
                                   start_done, s, err);
    if (s->starts == NULL)
        return -1;
    s->fences = recap_batchq_start(cfg->database_url, "fence", fence_sql, fence_done, s, err);
    if (s->fences == NULL)
        return -1;
    /* without --slot, a persistent slot of this run's own (named after the capture and the database): a
     * reconnect loses nothing and a restart on the same capture resumes from it; a clean stop drops it */
    if (cfg->slot == NULL)
        run_slot_name(cfg, s->run_slot, sizeof(s->run_slot));
    recap_cdc_opts_t copts = {.database_url = cfg->database_url,
                              .slot = cfg->slot != NULL ? cfg->slot : s->run_slot,
                              .drop_slot = cfg->slot == NULL,
                              .publication = cfg->publication,
                              .tx = {.max_rows = cfg->max_tx_rows,
                                     .max_bytes = cfg->max_tx_bytes,
                                     .redact_columns = cfg->redact_fields,
                                     .redact_defaults = !cfg->no_default_redaction},
                              .resume_after = recap_writer_durable_lsn(s->writer)};
    recap_cdc_callbacks_t cb = {
        .on_tx = cdc_tx_ready, .on_message = cdc_message, .on_state = cdc_state, .arg = s};
    if ((s->cdc = recap_cdc_start(&copts, &cb, err)) == NULL)
        return -1;
    s->control.cdc = recap_cdc_stats(s->cdc);
    s->control.rewinder = recap_rewinder_new(cfg->database_url, s->queue);
    s->watch = recap_watch_start(cfg->database_url, cfg->publication, WATCH_INTERVAL_MS,
                                 &recap_cdc_stats(s->cdc)->unwatched_tables, err);
    return s->watch != NULL ? 0 : -1;
}

/* After SIGTERM: no new connections, in-flight calls finish (bounded), held records go out, the database
 * threads stop, the writer drains. */
static void shut_down(server_t *s)
{
    recap_listen_close(&s->proxy_listener);
    h2o_context_request_shutdown(&s->ctx);
    double deadline = now_ms() + (double)s->cfg.shutdown_timeout_ms;
    while (s->rec.inflight.count > 0 && now_ms() < deadline) /* calls, and records waiting for rows */
        h2o_evloop_run(s->loop, 20);
    if (s->linker != NULL) {
        size_t held = recap_linker_held(s->linker);
        if (held > 0)
            rcx_log_warn("%zu records still waiting for their row changes after --shutdown-timeout; written "
                         "with db unavailable",
                         held);
        recap_linker_flush(s->linker, "recap was shutting down");
    }
    abandon_inflight(s);
    if (s->cdc != NULL) {
        atomic_store(&s->cdc_stopping, 1); /* releases a stream waiting on backpressure */
        recap_cdc_stop(s->cdc);            /* joins: no more transactions are posted after this */
        recap_batchq_stop(s->starts);
        recap_batchq_stop(s->fences);
        recap_rewinder_stop(s->control.rewinder); /* its answers go out in the loop run below */
        recap_watch_stop(s->watch);
        s->watch = NULL;
        s->cdc = NULL;
        s->control.cdc = NULL;
        h2o_evloop_run(s->loop, 0); /* the last transactions go out as orphans */
        s->rec.linker = NULL;
        recap_linker_free(s->linker);
        s->linker = NULL;
    }
    recap_guard_stop(s->guard);   /* its thread ends and its socket file goes */
    recap_writer_stop(s->writer); /* drains the queue */
    recap_writer_stats_t *st = recap_writer_stats(s->writer);
    rcx_log_info("stopped: %llu records written (calls, and transactions no call made), %llu dropped",
                 (unsigned long long)atomic_load(&st->written),
                 (unsigned long long)(atomic_load(&st->dropped) + atomic_load(&st->write_errors)));
}

static int serve(server_t *s, rcx_err_t *err)
{
    const recap_proxy_config_t *cfg = &s->cfg;
    h2o_url_t upstream;
    SSL_CTX *ssl = NULL;
    if (check_urls(cfg, &upstream, err) != 0 || (cfg->tls_cert != NULL && (ssl = make_tls(cfg, err)) == NULL))
        return -1;
    int proxy_fd = recap_listen_open(cfg->listen, err);
    if (proxy_fd < 0)
        return -1;
    int control_fd = recap_listen_open(cfg->control_listen, err);
    if (control_fd < 0 || open_capture(s, err) != 0) {
        close(proxy_fd);
        if (control_fd >= 0)
            close(control_fd);
        return -1;
    }
    if (configure_h2o(s, &upstream, ssl, err) != 0) {
        close(proxy_fd);
        close(control_fd);
        return -1;
    }
    if (cfg->database_url != NULL && start_database(s, err) != 0)
        return -1;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP); /* a closed terminal or `kill -HUP`: a clean stop too, every call written */
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    s->signals = h2o_evloop_socket_create(s->loop, sfd, 0);
    s->signals->data = s;
    h2o_socket_read_start(s->signals, on_signal);

    recap_listen_init(&s->listen, s->loop, &s->rec.metrics.accept_paused);
    recap_listen_start(&s->proxy_listener, &s->listen, proxy_fd, &s->proxy_accept, false);
    recap_listen_start(&s->control_listener, &s->listen, control_fd, &s->control_accept, true);
    char listen[80], control[80];
    recap_listen_address(proxy_fd, listen, sizeof(listen));
    recap_listen_address(control_fd, control, sizeof(control));
    rcx_log_info("proxying %s%s -> %s; control API on %s%s; capture %s", listen, ssl ? " (TLS)" : "",
                 cfg->upstream, control, cfg->control_token ? " (token)" : "", cfg->capture);
    probe_upstream(&upstream);

    while (!s->stopping)
        h2o_evloop_run(s->loop, INT32_MAX);
    shut_down(s);
    return 0;
}

int recap_proxy_run(const recap_proxy_config_t *cfg, rcx_err_t *err)
{
    /* Static: the h2o context and configuration live until exit (h2o 2.2.5 has no safe teardown for a
     * context with connections still open), and a reachable object is not a leak. */
    static server_t server;
    server_t *s = &server;
    s->cfg = *cfg;

    /* Signals go to the signalfd only: block them before any thread starts. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP); /* a closed terminal or `kill -HUP`: a clean stop too, every call written */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file size limit: a write error, counted, not a death */
    return serve(s, err);
}
