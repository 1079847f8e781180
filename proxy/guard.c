/* proxy/guard.c: see guard.h. */
#include "proxy/guard.h"

#include "common/buf.h"
#include "proxy/credit.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* picohttpparser, inside libh2o (its symbols are exported; its header is not installed) */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg,
                       size_t *msg_len, struct phr_header *headers, size_t *num_headers, size_t last_len);

#define MAX_HEADERS 100    /* as h2o's client */
#define MAX_HEAD 65536     /* a longer head is refused */
#define RESOLVE_EVERY_S 10 /* a name that did not resolve is tried again at a connection after this */
#define FLOOR (64 * 1024)  /* what a response may hold while all of them together hold more than the total */
#define UP_RCVBUF                                                                                            \
    (32 * 1024)       /* one read from the upstream takes at most about twice this (the kernel doubles it) */
#define REFRESH_MS 10 /* over the total, the others' counts are read again at most this often */

struct recap_guard {
    h2o_loop_t *loop; /* the guard thread's own */
    h2o_socket_t *listener;
    int fd; /* the listening socket, until the thread takes it */
    pthread_t thread;
    _Atomic int stopping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;          /* under lock: the thread has closed everything */
    struct pair *pairs; /* open ones, closed when the thread ends */
    char dir[64], path[96], url[128];
    char *host, *port;
    struct sockaddr_storage addr;
    socklen_t addrlen; /* 0: not resolved yet */
    time_t last_try;   /* of resolving */
    _Atomic uint64_t refused;
    /* what h2o may hold of each response (credit.h); credit NULL: no limit */
    recap_credit_t *credit;
    h2o_socket_t *wake; /* the credit's eventfd */
    uint64_t per, total;
    uint64_t held;         /* the sum of the pairs' held, as last seen (never less than the truth) */
    h2o_timeout_t trickle; /* a third of h2o's upstream I/O timeout: a waiting response passes a few bytes */
    uint64_t trickle_ms;
    uint64_t refreshed; /* when every pair's held was last read again (loop ms) */
    _Atomic uint64_t held_now, pauses;
};

/* What the response side expects next. */
typedef enum { R_HEAD, R_LENGTH, R_CHUNK_SIZE, R_CHUNK_DATA, R_CHUNK_END, R_TRAILER, R_UNTIL_CLOSE } rstate_t;

typedef struct pair {
    recap_guard_t *g;
    struct pair *prev, *next; /* in g->pairs */
    h2o_socket_t *down;       /* h2o's connection to us */
    h2o_socket_t *up;         /* ours to the upstream; NULL until connected */
    bool connected, closing;
    bool up_eof;       /* the upstream closed: what it sent is passed on, then h2o's side closes */
    bool want_request; /* the next bytes from h2o begin a request head */
    bool head_request; /* the request being answered is a HEAD */
    rstate_t rs;
    uint64_t left;       /* R_LENGTH, R_CHUNK_DATA: body bytes to go */
    size_t pending;      /* bytes of the upstream's input being written to h2o */
    size_t pending_down; /* bytes of h2o's input being written to the upstream */
    size_t scan_end;     /* R_TRAILER / R_CHUNK_SIZE: where in the line the scan is */
    char *refusal;       /* our own 502: written, then h2o's side drained until h2o closes it */
    bool refusal_written, down_eof;
    uint64_t token;   /* the response's credit token (its request's RECAP_CREDIT_HEADER); 0: no limit */
    uint64_t relayed; /* body bytes of the response passed to h2o */
    uint64_t held;    /* relayed less what h2o handed on, when last seen */
    bool paused;      /* not reading the upstream until the credit wakes us */
    h2o_timeout_entry_t trickle; /* while paused: a few bytes now and then, or h2o's I/O timeout ends it */
} pair_t;

static void on_down_read(h2o_socket_t *sock, const char *err);
static void on_up_read(h2o_socket_t *sock, const char *err);

static void set_held(pair_t *p, uint64_t held)
{
    p->g->held = p->g->held - p->held + held;
    p->held = held;
    atomic_store(&p->g->held_now, p->g->held);
}

static void close_pair(pair_t *p)
{
    set_held(p, 0);
    if (h2o_timeout_is_linked(&p->trickle))
        h2o_timeout_unlink(&p->trickle);
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        p->g->pairs = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    if (p->down != NULL) {
        p->down->data = NULL;
        h2o_socket_close(p->down);
    }
    if (p->up != NULL) {
        p->up->data = NULL;
        h2o_socket_close(p->up);
    }
    free(p->refusal);
    free(p);
}

static void on_refusal_written(h2o_socket_t *sock, const char *err)
{
    pair_t *p = sock->data;
    if (p == NULL)
        return;
    p->refusal_written = true;
    if (err != NULL || p->down_eof)
        close_pair(p);
}

/* Answers h2o with a 502 of our own, the cause in a header and the body, and closes the upstream's side.
 * h2o's side is read (and what comes dropped) until h2o closes it: closing while h2o may still be sending its
 * request would reset the connection, and h2o would report that instead of our answer. */
static void refuse(pair_t *p, const char *why)
{
    atomic_fetch_add(&p->g->refused, 1);
    p->closing = true;
    if (p->up != NULL) {
        p->up->data = NULL;
        h2o_socket_close(p->up);
        p->up = NULL;
    }
    if (p->pending > 0) { /* a body is still going out to h2o: the response can only be cut */
        close_pair(p);
        return;
    }
    rcx_log_warn("upstream: %s: answered 502", why);
    size_t n = strlen(why);
    p->refusal = rcx_xmalloc(n * 2 + 256);
    int len = snprintf(
        p->refusal, n * 2 + 256,
        "HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n"
        "content-length: %zu\r\n" RECAP_GUARD_ERROR_HEADER ": %s\r\n\r\n%s",
        n, why, why);
    h2o_socket_read_start(p->down, on_down_read);
    h2o_iovec_t buf = h2o_iovec_init(p->refusal, (size_t)len);
    h2o_socket_write(p->down, &buf, 1, on_refusal_written);
}

/* ---- the response side: heads checked, bodies followed ---- */

/* A header value as h2o compares it. */
static bool is(const struct phr_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* Checks a parsed head (its status and nh headers): 0 and the body's framing set, or -1 with the reason in
 * why. */
static int check_head(pair_t *p, int status, const struct phr_header *h, size_t nh, char *why, size_t whysz)
{
    bool chunked = false, has_length = false;
    size_t length = 0;
    for (size_t i = 0; i < nh; i++) {
        if (h[i].name == NULL)
            continue; /* a continuation line */
        if (is(&h[i], "transfer-encoding")) {
            if (h[i].value_len == 7 && memcmp(h[i].value, "chunked", 7) == 0) {
                chunked = true;
            } else if (!(h[i].value_len == 8 && memcmp(h[i].value, "identity", 8) == 0)) {
                snprintf(why, whysz, "the upstream answered with Transfer-Encoding \"%.*s\"",
                         (int)h[i].value_len, h[i].value);
                return -1;
            }
        } else if (is(&h[i], "content-length")) {
            if ((length = h2o_strtosize(h[i].value, h[i].value_len)) == SIZE_MAX) {
                snprintf(why, whysz, "the upstream answered with Content-Length \"%.*s\"",
                         (int)h[i].value_len, h[i].value);
                return -1;
            }
            has_length = true;
        }
    }
    if (status >= 100 && status < 200 && status != 101) {
        p->rs = R_HEAD; /* an interim response: the final one follows */
    } else if (status == 101) {
        p->rs = R_UNTIL_CLOSE; /* whatever the protocol is now, it is passed on as is */
    } else if (p->head_request || status == 204 || status == 304) {
        p->rs = R_HEAD;
        p->want_request = true;
    } else if (chunked) {
        p->rs = R_CHUNK_SIZE;
        p->scan_end = 0;
    } else if (has_length) {
        p->rs = length > 0 ? R_LENGTH : R_HEAD;
        p->left = length;
        p->want_request = length == 0;
    } else {
        p->rs = R_UNTIL_CLOSE;
    }
    return 0;
}

/* How many of the n bytes at b belong to the current body (or head); may finish the response. */
static size_t follow(pair_t *p, const char *b, size_t n)
{
    size_t i = 0;
    while (i < n && p->rs != R_HEAD && p->rs != R_UNTIL_CLOSE) {
        if (p->rs == R_LENGTH || p->rs == R_CHUNK_DATA) {
            size_t k = p->left < n - i ? (size_t)p->left : n - i;
            i += k;
            p->left -= k;
            p->relayed += k;
            if (p->left == 0)
                p->rs = p->rs == R_LENGTH ? R_HEAD : R_CHUNK_END;
            if (p->rs == R_HEAD)
                p->want_request = true;
            continue;
        }
        /* R_CHUNK_SIZE, R_CHUNK_END, R_TRAILER: lines ending in LF */
        const char *lf = memchr(b + i, '\n', n - i);
        if (lf == NULL) {
            if (n - i < MAX_HEAD)
                return i; /* the line is passed once it is whole */
            p->rs = R_UNTIL_CLOSE;
            return n;
        }
        size_t line_end = (size_t)(lf - b) + 1;
        if (p->rs == R_CHUNK_SIZE) {
            char *end;
            unsigned long long size = strtoull(b + i, &end, 16); /* extensions after ';' are ignored */
            if (end == b + i) {
                p->rs = R_UNTIL_CLOSE; /* malformed: h2o ends the body with an error; no more heads here */
                return n;
            }
            p->left = size;
            p->rs = size > 0 ? R_CHUNK_DATA : R_TRAILER;
        } else if (p->rs == R_CHUNK_END) {
            p->rs = R_CHUNK_SIZE;
        } else if (line_end - i <= 2) { /* the empty line after the trailers */
            p->rs = R_HEAD;
            p->want_request = true;
        }
        i = line_end;
    }
    return i;
}

/* ---- credit: how much of a response h2o may hold for a client that is not reading (credit.h) ---- */

/* Reads again what h2o holds of p's response. */
static void see_held(pair_t *p)
{
    uint64_t handed = recap_credit_handed_so_far(p->g->credit, p->token);
    set_held(p, handed == UINT64_MAX || handed >= p->relayed ? 0 : p->relayed - handed);
}

/* Whether p may read more of its response from the upstream; if not, p waits for the credit's wake. Between
 * responses it may always: what comes next belongs to the next request, which brings a budget of its own. */
static bool may_read(pair_t *p)
{
    recap_guard_t *g = p->g;
    if (g->credit == NULL || p->token == 0 || p->want_request)
        return true;
    see_held(p);
    uint64_t now = h2o_now(g->loop);
    if (g->held >= g->total && now - g->refreshed >= REFRESH_MS) { /* the others' counts may be old */
        g->refreshed = now;
        for (pair_t *o = g->pairs; o != NULL; o = o->next)
            if (o->token != 0)
                see_held(o);
    }
    /* past the total, every response may still hold a little: a slow client never stops the others */
    uint64_t limit = g->held < g->total ? g->per : (g->per < FLOOR ? g->per : FLOOR);
    if (p->held < limit || !recap_credit_pause(g->credit, p->token, p->relayed - limit / 2))
        return true;
    if (!p->paused)
        atomic_fetch_add(&g->pauses, 1);
    p->paused = true;
    if (!h2o_timeout_is_linked(&p->trickle))
        h2o_timeout_link(g->loop, &g->trickle, &p->trickle);
    return false;
}

static void resume(pair_t *p)
{
    p->paused = false;
    if (h2o_timeout_is_linked(&p->trickle))
        h2o_timeout_unlink(&p->trickle);
    h2o_socket_read_start(p->up, on_up_read);
}

static void pump_up(pair_t *p);

/* A response that has waited a third of h2o's upstream I/O timeout for its client: h2o would take the quiet
 * upstream for a dead one and cut the response, so a few bytes are read and passed (what h2o holds grows by
 * 64 bytes at most each time). */
static void on_trickle(h2o_timeout_entry_t *entry)
{
    pair_t *p = H2O_STRUCT_FROM_MEMBER(pair_t, trickle, entry);
    if (!p->paused || p->up == NULL)
        return;
    char b[64];
    ssize_t n = recv(h2o_socket_get_fd(p->up), b, sizeof(b), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        resume(p); /* the end, or an error: the usual read sees it */
        return;
    }
    h2o_timeout_link(p->g->loop, &p->g->trickle, &p->trickle);
    if (n > 0) {
        h2o_iovec_t room = h2o_buffer_reserve(&p->up->input, (size_t)n);
        memcpy(room.base, b, (size_t)n);
        p->up->input->size += (size_t)n;
        if (p->pending == 0)
            pump_up(p);
    }
}

/* The credit's eventfd: clients took some of what h2o held; the pairs waiting for that read again. */
static void on_wake(h2o_socket_t *sock, const char *err)
{
    recap_guard_t *g = sock->data;
    h2o_buffer_consume(&sock->input, sock->input->size);
    if (err != NULL)
        return;
    for (pair_t *p = g->pairs; p != NULL; p = p->next) {
        if (p->paused && p->up != NULL && may_read(p))
            resume(p);
    }
}

static void on_down_written(h2o_socket_t *sock, const char *err);

/* Passes what can be passed from the upstream's input to h2o. */
static void pump_up(pair_t *p)
{
    h2o_buffer_t *in = p->up->input;
    size_t n = 0;
    while (n < in->size) {
        if (p->rs == R_UNTIL_CLOSE) {
            p->relayed += in->size - n;
            n = in->size;
            break;
        }
        if (p->rs != R_HEAD) {
            size_t k = follow(p, in->bytes + n, in->size - n);
            if (k == 0 && p->rs != R_HEAD && p->rs != R_UNTIL_CLOSE)
                break; /* a line not whole yet */
            n += k;
            continue;
        }
        /* a head: wait for all of it, then check it */
        const char *start = in->bytes + n;
        size_t avail = in->size - n;
        int minor, status;
        const char *msg;
        size_t msg_len, nh = MAX_HEADERS;
        struct phr_header h[MAX_HEADERS];
        int r = phr_parse_response(start, avail, &minor, &status, &msg, &msg_len, h, &nh, 0);
        if (r == -2 && avail < MAX_HEAD)
            break; /* more of it to come */
        char why[256];
        if (r < 0 || check_head(p, status, h, nh, why, sizeof(why)) != 0) {
            if (r < 0)
                snprintf(why, sizeof(why), "the upstream's response head cannot be read");
            if (n > 0)
                break; /* pass what came before first */
            refuse(p, why);
            return;
        }
        n += (size_t)r;
    }
    if (n == 0) {
        if (p->up_eof)
            close_pair(p); /* a head cut short, or nothing left: h2o sees the end */
        return;
    }
    p->pending = n;
    h2o_socket_read_stop(p->up);
    h2o_iovec_t buf = h2o_iovec_init(in->bytes, n);
    h2o_socket_write(p->down, &buf, 1, on_down_written);
}

static void on_down_written(h2o_socket_t *sock, const char *err)
{
    pair_t *p = sock->data;
    if (p == NULL)
        return;
    if (err != NULL || p->up == NULL) {
        close_pair(p);
        return;
    }
    h2o_buffer_consume(&p->up->input, p->pending);
    p->pending = 0;
    if (!p->up_eof && may_read(p))
        h2o_socket_read_start(p->up, on_up_read);
    if (p->up->input->size > 0 || p->up_eof)
        pump_up(p);
}

static void on_up_read(h2o_socket_t *sock, const char *err)
{
    pair_t *p = sock->data;
    if (p == NULL)
        return;
    if (err != NULL) { /* the upstream closed: what came is passed on, then h2o sees the end */
        p->up_eof = true;
        h2o_socket_read_stop(p->up);
        if (p->rs != R_HEAD)
            p->rs = R_UNTIL_CLOSE; /* a body cut short is passed as it is: h2o reports it ended early */
    }
    if (p->pending == 0)
        pump_up(p);
}

/* ---- the request side: passed on as is; the method of each request noted (HEAD has no body) ---- */

static void on_up_written(h2o_socket_t *sock, const char *err);

/* The request's credit token (RECAP_CREDIT_HEADER, added by the recorder), taken out of the head in `in`
 * (the upstream never sees it); 0 when there is none. */
static uint64_t take_token(h2o_buffer_t *in, const struct phr_header *h, size_t nh)
{
    for (size_t i = 0; i < nh; i++) {
        if (h[i].name == NULL || !is(&h[i], RECAP_CREDIT_HEADER))
            continue;
        char v[24] = "";
        if (h[i].value_len < sizeof(v))
            memcpy(v, h[i].value, h[i].value_len);
        uint64_t token = strtoull(v, NULL, 10);
        char *start = (char *)h[i].name, *end = in->bytes + in->size;
        const char *lf = memchr(h[i].value, '\n', (size_t)(end - h[i].value));
        if (lf == NULL)
            return 0;
        memmove(start, lf + 1, (size_t)(end - (lf + 1)));
        in->size -= (size_t)(lf + 1 - start);
        return token;
    }
    return 0;
}

/* Passes h2o's input on to the upstream; at the start of a request, once its head is whole. */
static void pump_down(pair_t *p)
{
    h2o_buffer_t *in = p->down->input;
    if (in->size == 0)
        return;
    if (p->want_request) {
        const char *method, *path;
        size_t method_len, path_len, nh = MAX_HEADERS;
        int minor;
        struct phr_header h[MAX_HEADERS];
        int r =
            phr_parse_request(in->bytes, in->size, &method, &method_len, &path, &path_len, &minor, h, &nh, 0);
        if (r == -2 && in->size < MAX_HEAD)
            return; /* more of the head to come */
        p->head_request = r > 0 && method_len == 4 && memcmp(method, "HEAD", 4) == 0;
        p->want_request = false;
        p->token = r > 0 ? take_token(in, h, nh) : 0;
        p->relayed = 0;
        set_held(p, 0);
        if (p->paused) /* still waiting for the previous response's client: the new one starts afresh */
            resume(p);
    }
    p->pending_down = in->size;
    h2o_socket_read_stop(p->down);
    h2o_iovec_t buf = h2o_iovec_init(in->bytes, in->size);
    h2o_socket_write(p->up, &buf, 1, on_up_written);
}

static void on_up_written(h2o_socket_t *sock, const char *err)
{
    pair_t *p = sock->data;
    if (p == NULL)
        return;
    if (err != NULL) {
        close_pair(p);
        return;
    }
    h2o_buffer_consume(&p->down->input, p->pending_down);
    p->pending_down = 0;
    if (!p->closing)
        h2o_socket_read_start(p->down, on_down_read);
}

static void on_down_read(h2o_socket_t *sock, const char *err)
{
    pair_t *p = sock->data;
    if (p == NULL)
        return;
    if (p->refusal != NULL) { /* answered already: the rest of the request is dropped */
        h2o_buffer_consume(&sock->input, sock->input->size);
        p->down_eof |= err != NULL;
        if (p->down_eof && p->refusal_written)
            close_pair(p);
        return;
    }
    if (err != NULL) { /* h2o is done with this connection */
        close_pair(p);
        return;
    }
    if (p->connected && p->pending_down == 0)
        pump_down(p);
}

/* ---- connections ---- */

static void on_connect(h2o_socket_t *sock, const char *err)
{
    pair_t *p = sock->data;
    if (p == NULL)
        return;
    if (err != NULL) {
        p->up->data = NULL;
        h2o_socket_close(p->up);
        p->up = NULL;
        refuse(p, "connection failed");
        return;
    }
    p->connected = true;
    if (p->g->credit != NULL) { /* one read takes what the kernel holds: keep that small too */
        int rcvbuf = UP_RCVBUF;
        setsockopt(h2o_socket_get_fd(p->up), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    h2o_socket_read_start(p->up, on_up_read);
    pump_down(p);
}

/* The upstream's address: resolved once it can be (a compose service may not resolve before it exists). */
static int resolve(recap_guard_t *g)
{
    if (g->addrlen > 0)
        return 0;
    time_t now = time(NULL);
    if (g->last_try != 0 && now - g->last_try < RESOLVE_EVERY_S && now >= g->last_try)
        return -1;
    g->last_try = now;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res;
    if (getaddrinfo(g->host, g->port, &hints, &res) != 0)
        return -1;
    memcpy(&g->addr, res->ai_addr, res->ai_addrlen);
    g->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    recap_guard_t *g = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL) {
        pair_t *p = rcx_xcalloc(1, sizeof(*p));
        *p = (pair_t){.g = g, .down = sock, .want_request = true, .rs = R_HEAD, .next = g->pairs};
        p->trickle.cb = on_trickle;
        if (g->pairs != NULL)
            g->pairs->prev = p;
        g->pairs = p;
        sock->data = p;
        h2o_socket_read_start(sock, on_down_read);
        if (resolve(g) != 0 || (p->up = h2o_socket_connect(g->loop, (struct sockaddr *)&g->addr, g->addrlen,
                                                           on_connect)) == NULL) {
            refuse(p, "connection failed");
            continue;
        }
        p->up->data = p;
    }
}

/* The guard thread: its own loop, so relaying takes nothing from the proxy's. */
static void *run(void *arg)
{
    recap_guard_t *g = arg;
    g->loop = h2o_evloop_create();
    g->listener = h2o_evloop_socket_create(g->loop, g->fd, H2O_SOCKET_FLAG_DONT_READ);
    g->listener->data = g;
    h2o_socket_read_start(g->listener, on_accept);
    h2o_timeout_init(g->loop, &g->trickle, g->trickle_ms);
    int wake_fd = g->credit != NULL ? fcntl(recap_credit_wake_fd(g->credit), F_DUPFD_CLOEXEC, 0) : -1;
    if (wake_fd >= 0) { /* a copy: the eventfd itself stays the credit's; h2o reads it, which resets it */
        g->wake = h2o_evloop_socket_create(g->loop, wake_fd, 0);
        g->wake->data = g;
        h2o_socket_read_start(g->wake, on_wake);
    }
    resolve(g);
    while (!atomic_load(&g->stopping))
        h2o_evloop_run(g->loop, 100);
    h2o_socket_read_stop(g->listener);
    h2o_socket_close(g->listener);
    while (g->pairs != NULL)
        close_pair(g->pairs);
    if (g->wake != NULL)
        h2o_socket_close(g->wake);
    h2o_evloop_run(g->loop, 0); /* the sockets closed above are disposed of */
    /* Done, but the thread stays, parked: h2o keeps freed buffers for reuse in thread-local lists, which must
     * stay reachable (a thread that returned would leave them behind as leaks). */
    pthread_mutex_lock(&g->lock);
    g->done = true;
    pthread_cond_broadcast(&g->cond);
    for (;;)
        pthread_cond_wait(&g->cond, &g->lock);
    return NULL;
}

recap_guard_t *recap_guard_start(const char *host, const char *port, recap_credit_t *credit, uint64_t per,
                                 uint64_t total, uint64_t io_timeout_ms, rcx_err_t *err)
{
    recap_guard_t *g = rcx_xcalloc(1, sizeof(*g));
    g->trickle_ms = io_timeout_ms / 3 > 0 ? io_timeout_ms / 3 : 1;
    g->credit = credit;
    g->per = per;
    g->total = total;
    g->fd = -1;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->host = rcx_xstrdup(host);
    g->port = rcx_xstrdup(port);
    snprintf(g->dir, sizeof(g->dir), "/tmp/recap-guard-XXXXXX");
    if (mkdtemp(g->dir) == NULL) {
        rcx_err_set(err, "cannot make a directory for the upstream relay: %s", strerror(errno));
        goto Fail;
    }
    snprintf(g->path, sizeof(g->path), "%s/upstream.sock", g->dir);
    snprintf(g->url, sizeof(g->url), "http://[unix:%s]/", g->path);
    g->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g->path);
    if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(g->fd, SOMAXCONN) != 0) {
        rcx_err_set(err, "cannot listen on %s for the upstream relay: %s", g->path, strerror(errno));
        goto Fail;
    }
    if (pthread_create(&g->thread, NULL, run, g) != 0) {
        rcx_err_set(err, "cannot start the upstream relay's thread");
        goto Fail;
    }
    return g;
Fail:
    if (g->fd >= 0)
        close(g->fd);
    if (g->path[0] != '\0')
        unlink(g->path);
    if (g->dir[0] != '\0')
        rmdir(g->dir);
    free(g->host);
    free(g->port);
    free(g);
    return NULL;
}

const char *recap_guard_url(const recap_guard_t *g)
{
    return g->url;
}

uint64_t recap_guard_refused(const recap_guard_t *g)
{
    return g != NULL ? atomic_load(&g->refused) : 0;
}

uint64_t recap_guard_held(const recap_guard_t *g)
{
    return g != NULL ? atomic_load(&g->held_now) : 0;
}

uint64_t recap_guard_pauses(const recap_guard_t *g)
{
    return g != NULL ? atomic_load(&g->pauses) : 0;
}

void recap_guard_stop(recap_guard_t *g)
{
    if (g == NULL)
        return;
    atomic_store(&g->stopping, 1);
    pthread_mutex_lock(&g->lock);
    while (!g->done)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    unlink(g->path);
    rmdir(g->dir);
    /* g and its loop stay: h2o 2.2.5 has no way to free a loop (the server keeps g reachable) */
}
