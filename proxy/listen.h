/*
 * proxy/listen.h: the proxy's and the control API's listening sockets.
 *
 * A listener accepts up to 16 connections a wake-up and hands each to h2o
 * (h2o_accept). When no file descriptor is left (EMFILE, ENFILE), accepting
 * would fail at once while the listener stays readable, and the loop would
 * spin: the proxy's listener stops for 100 ms at a time instead (its clients
 * wait in the backlog, and /metrics counts the pauses), and the control
 * API's listener takes the one descriptor kept in reserve for it, so
 * /healthz and /metrics still answer.
 *
 * Contract: recap_listen_open binds and listens (non-blocking; an address
 * validated by proxy/config.c), -1 with the reason in err. Everything else
 * on the loop's thread: recap_listen_init once, recap_listen_start per
 * listener (the listener and the pair live as long as the loop; *paused is
 * the counter to bump), recap_listen_close stops one for good (idempotent).
 */
#ifndef RECAP_LISTEN_H
#define RECAP_LISTEN_H

#include "common/err.h"

#include <h2o.h>
#include <stdbool.h>
#include <stdint.h>

/* What the listeners share: the reserve descriptor and the pause timer. */
typedef struct recap_listen {
    h2o_evloop_t *loop;
    h2o_timeout_t pause;
    int spare_fd;
    uint64_t *paused; /* times accepting paused (recap_accept_paused_total) */
} recap_listen_t;

typedef struct recap_listener {
    recap_listen_t *shared;
    h2o_socket_t *sock;
    h2o_accept_ctx_t *actx;
    bool control; /* takes the reserve descriptor when none is left */
    h2o_timeout_entry_t resume;
} recap_listener_t;

/** A listening socket on addr ("host:port", ":port", "[v6]:port"); its descriptor, or -1 (err said). */
int recap_listen_open(const char *addr, rcx_err_t *err);

void recap_listen_init(recap_listen_t *shared, h2o_evloop_t *loop, uint64_t *paused);

/** Accepts on fd (from recap_listen_open) into actx from now on. */
void recap_listen_start(recap_listener_t *l, recap_listen_t *shared, int fd, h2o_accept_ctx_t *actx,
                        bool control);

/** Stops accepting and closes the socket. */
void recap_listen_close(recap_listener_t *l);

/** The address a listening fd got ("127.0.0.1:8080", "[::1]:43121"), port 0 having asked the kernel. */
void recap_listen_address(int fd, char *out, size_t n);

#endif
