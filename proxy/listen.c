/* proxy/listen.c: see listen.h. */
#include "proxy/listen.h"

#include "common/log.h"
#include "proxy/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int recap_listen_open(const char *addr, rcx_err_t *err)
{
    char host[256];
    unsigned short port;
    recap_parse_hostport(addr, host, sizeof(host), &port); /* validated by config */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
                    *res;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    int gai = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
    if (gai != 0) {
        rcx_err_set(err, "cannot listen on %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        rcx_err_set(err, "cannot listen on %s: %s", addr, strerror(saved));
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

void recap_listen_init(recap_listen_t *shared, h2o_evloop_t *loop, uint64_t *paused)
{
    *shared = (recap_listen_t){.loop = loop, .paused = paused};
    shared->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    h2o_timeout_init(loop, &shared->pause, 100);
}

static void on_accept(h2o_socket_t *listener, const char *err);

static void resume_accepting(h2o_timeout_entry_t *entry)
{
    recap_listener_t *l = H2O_STRUCT_FROM_MEMBER(recap_listener_t, resume, entry);
    if (l->sock != NULL)
        h2o_socket_read_start(l->sock, on_accept);
}

static void out_of_descriptors(recap_listener_t *l)
{
    recap_listen_t *s = l->shared;
    if (l->control && s->spare_fd >= 0) {
        close(s->spare_fd);
        h2o_socket_t *sock = h2o_evloop_socket_accept(l->sock);
        if (sock != NULL)
            h2o_accept(l->actx, sock);
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* fails while that call is open */
        return;
    }
    if ((*s->paused)++ == 0)
        rcx_log_warn("no file descriptor left: accepting paused for 100 ms at a time (raise `ulimit -n`)");
    h2o_socket_read_stop(l->sock);
    h2o_timeout_link(s->loop, &s->pause, &l->resume);
}

static void on_accept(h2o_socket_t *sock, const char *err)
{
    if (err != NULL)
        return;
    recap_listener_t *l = sock->data;
    for (int i = 0; i < 16; i++) {
        if (l->shared->spare_fd < 0) /* the control API's reserve was spent: take it back before any client */
            l->shared->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        h2o_socket_t *conn = h2o_evloop_socket_accept(sock);
        if (conn == NULL) {
            if (errno == EMFILE || errno == ENFILE)
                out_of_descriptors(l);
            return;
        }
        h2o_accept(l->actx, conn);
    }
}

void recap_listen_start(recap_listener_t *l, recap_listen_t *shared, int fd, h2o_accept_ctx_t *actx,
                        bool control)
{
    h2o_socket_t *sock = h2o_evloop_socket_create(shared->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    *l = (recap_listener_t){
        .shared = shared, .sock = sock, .actx = actx, .control = control, .resume = {.cb = resume_accepting}};
    sock->data = l;
    h2o_socket_read_start(sock, on_accept);
}

void recap_listen_close(recap_listener_t *l)
{
    if (l->sock == NULL)
        return;
    if (h2o_timeout_is_linked(&l->resume))
        h2o_timeout_unlink(&l->resume);
    h2o_socket_read_stop(l->sock);
    h2o_socket_close(l->sock);
    l->sock = NULL;
}

void recap_listen_address(int fd, char *out, size_t n)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&a, &len) == 0 && a.ss_family == AF_INET6) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
        port = ntohs(v6->sin6_port);
        snprintf(out, n, "[%s]:%u", host, port);
        return;
    }
    if (a.ss_family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&a;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        port = ntohs(v4->sin_port);
    }
    snprintf(out, n, "%s:%u", host, port);
}
