/*
 * tools/replay.h: a recorded run sent again to a new build and recorded
 * again (`recap replay`, cli/replay.c, then diffs the two).
 *
 * The requests go in recorded order, one at a time, through a recap proxy of
 * replay's own (`recap proxy` started in front of the target, with
 * --database-url for row changes) with libcurl. Generated values are
 * remapped (core/remap.h): an id or uuid that an earlier baseline response
 * returned and a later request uses in its path, query or JSON body is
 * replaced by what the new run returned in the same place. Each request
 * carries its recorded test name (X-Recap-Test), so the new capture is
 * labelled like the baseline. Redacted headers cannot be sent again
 * ("[REDACTED]" is all the capture holds): they are dropped and counted, and
 * extra_headers supplies credentials.
 *
 * Contract: rt_replay_run() blocks until the replay is done; the new capture
 * is written under a temporary name and renamed to o->capture only when every
 * request was answered and the proxy's barrier and clean stop succeeded.
 * -1 with err otherwise (a target that is down, a proxy that cannot start),
 * nothing left behind. Never prints. One at a time per process.
 */
#ifndef RT_REPLAY_H
#define RT_REPLAY_H

#include "common/err.h"
#include "tools/runs.h"

#include <stddef.h>

typedef struct rt_replay_opts {
    const char *target;               /* http://host:port */
    const char *database_url;         /* or NULL: no row changes recorded */
    const char *capture;              /* where the new run goes */
    const char *self;                 /* the recap binary to start as the proxy */
    const char *const *extra_headers; /* "Name: value", sent on every request */
    size_t nextra;
} rt_replay_opts_t;

typedef struct rt_replay_result {
    size_t calls;           /* requests sent */
    size_t dropped_headers; /* redacted header values that could not be sent */
    double seconds;         /* sending them took */
} rt_replay_result_t;

int rt_replay_run(const rt_replay_opts_t *o, const rt_calls_t *base, rt_replay_result_t *res, rcx_err_t *err);

/**
 * Whether every call of a baseline read from path can be sent as it was recorded: a method that is a token, a
 * path, query, header or test name with no line break or NUL (they would inject headers or smuggle a request
 * into the target). -1 with "path:line:1: ..." on the first that cannot; rt_replay_run checks it first.
 */
int rt_replay_check(const rt_calls_t *base, const char *path, rcx_err_t *err);

#endif
