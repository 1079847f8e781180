/*
 * common/net.h: whether a TCP service answers (the proxy's start-up check of
 * its upstream, replay's check of its target).
 *
 * Contract: blocks for at most timeout_ms per address; returns 0 when a
 * connect succeeded, -1 with a one-line reason in why ("cannot resolve h",
 * "Connection refused", ...). Thread-safe; no state.
 */
#ifndef RCX_NET_H
#define RCX_NET_H

#include <stddef.h>

int rcx_tcp_probe(const char *host, const char *port, int timeout_ms, char *why, size_t whysz);

#endif
