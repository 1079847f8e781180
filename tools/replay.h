/*
 * tools/replay.h: a recorded run sent again to a new build and recorded
 * again (`recap replay`, cli/replay.c, then diffs the two).
 *
 * The requests go in recorded order, one at a time, through a recap proxy of
 * replay's own (`recap proxy` started in front of the target, with
 * --database-url for row changes, on the addresses asked for or free ones)
 * with libcurl. References are rewritten (core/remap.h on the baseline's
 * value flow): a slug, id, name or token an earlier baseline call had and a
 * later request carries in its path, query, JSON body or a header is
 * replaced by what the new run returned in its place. Redacted credentials
 * are rebuilt from the new run where the baseline says where they came from
 * (request.derived, proxy/creds.h: `Token ` + the new login's token, the new
 * session cookie); else given from outside (extra_headers "Name: value", or
 * RECAP_REPLAY_HEADER_NAME), sent only on the calls that carried that header;
 * else not sent, and the calls are listed in the result. Each request
 * carries its recorded test name (X-Recap-Test), so the new capture is
 * labelled like the baseline. With `via`, no proxy is started: the calls go
 * through the running recap proxy at target (the compose setup), each with an
 * X-Request-Id of this replay's, and the new run is read back from that
 * proxy's control API (POST /barrier, GET /calls).
 *
 * Contract: rt_replay_run() blocks until the replay is done; the new capture
 * is written under a temporary name and renamed to o->capture only when every
 * request was answered and the proxy's barrier and clean stop succeeded.
 * -1 with err otherwise (a target that is down, a proxy that cannot start),
 * nothing left behind. Never prints. One at a time per process.
 */
#ifndef RT_REPLAY_H
#define RT_REPLAY_H

#include "common/buf.h"
#include "common/err.h"
#include "tools/runs.h"

#include <stddef.h>

typedef struct rt_replay_opts {
    const char *target;               /* http://host:port */
    const char *database_url;         /* or NULL: no row changes recorded */
    const char *capture;              /* where the new run goes */
    const char *self;                 /* the recap binary to start as the proxy */
    const char *const *extra_headers; /* "Name: value": credentials from outside the run */
    size_t nextra;
    const char *listen, *control_listen; /* the proxy's addresses, or NULL for free loopback ports */
    const char *via; /* a running recap proxy's control URL: the calls go to target (its listener) and the
                        new run is read from its ring (GET /calls) instead of a proxy of replay's own */
} rt_replay_opts_t;

typedef struct rt_replay_result {
    size_t calls;           /* requests sent */
    size_t rebuilt, given;  /* redacted header values rebuilt from the new run, given from outside */
    size_t unauthenticated; /* redacted header values not sent */
    rcx_buf_t unauth_list;  /* the first ten of them: "#3 authorization, #7 cookie" */
    double seconds;         /* sending them took */
} rt_replay_result_t;

/** Runs the replay; res is filled (free it with rt_replay_result_free whatever the outcome). */
int rt_replay_run(const rt_replay_opts_t *o, const rt_calls_t *base, rt_replay_result_t *res, rcx_err_t *err);
void rt_replay_result_free(rt_replay_result_t *res);

/**
 * Whether every call of a baseline read from path can be sent as it was recorded: a method that is a token, a
 * path, query, header or test name with no line break or NUL (they would inject headers or smuggle a request
 * into the target). -1 with "path:line:1: ..." on the first that cannot; rt_replay_run checks it first.
 */
int rt_replay_check(const rt_calls_t *base, const char *path, rcx_err_t *err);

#endif
