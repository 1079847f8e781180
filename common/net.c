/* common/net.c: see net.h. */
#include "common/net.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rcx_tcp_probe(const char *host, const char *port, int timeout_ms, char *why, size_t whysz)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, whysz, "cannot resolve %s (%s)", host, gai_strerror(gai));
        return -1;
    }
    int ok = 0, err = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai != NULL && !ok; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            ok = 1;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int e = 0;
            socklen_t el = sizeof(e);
            if (poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
                ok = 1;
            else
                err = e ? e : ETIMEDOUT;
        } else {
            err = errno;
        }
        close(fd);
    }
    freeaddrinfo(res);
    if (!ok)
        snprintf(why, whysz, "%s", strerror(err));
    return ok ? 0 : -1;
}
