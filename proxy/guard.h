/*
 * proxy/guard.h: a relay between h2o's reverse proxy and an http:// upstream
 * that checks each response's framing before h2o reads it.
 *
 * h2o 2.2.5's upstream client aborts the whole process (an assertion in
 * lib/common/http1client.c) on a response whose Content-Length is not a
 * number or whose Transfer-Encoding is neither chunked nor identity, when
 * the connection could be kept alive: every call in flight would be lost.
 * No setting avoids it. So h2o's upstream is this relay, on a unix socket of
 * recap's own; for each connection h2o opens, the relay opens one to the real
 * upstream and passes bytes both ways unchanged. It reads each response head
 * with the same parser and the same Content-Length reader as h2o
 * (picohttpparser's phr_parse_response, h2o_strtosize), and follows the body
 * (length, chunks, until close) to find the next head. A head h2o would abort
 * on is never passed on: the relay answers 502 itself, with the cause in an
 * `x-recap-upstream-error` header (the recorder records it as the call's
 * error and takes the header off), and closes both connections. An upstream
 * it cannot connect to is answered the same way ("connection failed").
 *
 * Threads: the relay runs on a thread of its own with its own h2o loop, so
 * relaying takes nothing from the proxy's loop. recap_guard_start and _stop
 * from one thread: start makes the socket (its URL, to give h2o as its
 * upstream, from recap_guard_url) and the thread, which resolves the
 * upstream's host once it can (else again at a later connection); stop
 * closes every connection and the socket, and parks the thread for the rest
 * of the process (h2o's per-thread buffer caches must stay reachable).
 */
#ifndef RECAP_GUARD_H
#define RECAP_GUARD_H

#ifndef H2O_USE_LIBUV
#define H2O_USE_LIBUV 0
#endif
#include <h2o.h>

#include "common/err.h"
#include "proxy/credit.h"

#include <stdint.h>

#define RECAP_GUARD_ERROR_HEADER "x-recap-upstream-error"

typedef struct recap_guard recap_guard_t;

/** Listens on a new unix socket for h2o's upstream connections to host:port; NULL with err. With a credit
 *  table (borrowed, outliving the guard), h2o holds at most about `per` bytes of a response its client has
 * not taken yet, and when all of them together hold `total`, 64 KiB each (credit.h); NULL: no limit. A
 * response held back passes a few bytes every third of io_timeout_ms (h2o's upstream I/O timeout), so that
 * h2o does not take a slow client's upstream for a dead one. */
recap_guard_t *recap_guard_start(const char *host, const char *port, recap_credit_t *credit, uint64_t per,
                                 uint64_t total, uint64_t io_timeout_ms, rcx_err_t *err);

/** "http://[unix:/tmp/recap-guard-XXXXXX/upstream.sock]/": the guard's URL (owned by the guard). */
const char *recap_guard_url(const recap_guard_t *g);

/** Responses refused (bad framing) and connections to the upstream that failed, for /metrics (any thread). */
uint64_t recap_guard_refused(const recap_guard_t *g);

/** Bytes of responses h2o holds for clients that have not taken them (as the relay last saw), and how
 *  often a response waited for its client, for /metrics (any thread). */
uint64_t recap_guard_held(const recap_guard_t *g);
uint64_t recap_guard_pauses(const recap_guard_t *g);

/** Closes the relay and removes the socket; g's memory and thread stay (h2o 2.2.5 cannot free a loop, and
 *  keeps per-thread buffer caches), so call it once, at the end. */
void recap_guard_stop(recap_guard_t *g);

#endif
