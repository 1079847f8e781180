/*
 * proxy/credit.h: how much of each response the upstream relay may pass to
 * h2o before the client has taken what it has (#18: a client that asks for a
 * large response and does not read it made h2o 2.2.5 buffer the whole body).
 *
 * h2o's reverse proxy reads its upstream as fast as the upstream sends and
 * has no limit of its own. Its upstream is recap's relay (guard.h), so the
 * relay decides what h2o gets: for each response it counts the body bytes it
 * has passed, and the recorder counts the body bytes h2o has handed on
 * towards the client (its output filter sees each one). The difference is
 * what h2o holds for a client that is not reading; past the limit the relay
 * stops reading the upstream (the upstream's own send blocks: TCP applies
 * the backpressure), and the recorder wakes it once the client has taken
 * half of it.
 *
 * A response is named by a token the recorder takes at the request
 * (recap_credit_open) and sends to the relay in an internal request header
 * (RECAP_CREDIT_HEADER) that the relay takes off again. The slots hold only
 * counters; a token whose slot was closed or reused is stale and limits
 * nothing (h2o closes the relay connection of a request it dropped).
 *
 * Threads: open, handed and close are the proxy loop's (one thread); held,
 * pause and wake_fd are the relay's (another). Counters are atomics; a wake
 * is never lost (the pause re-reads what the recorder may have handed
 * meanwhile). Errors: none; open returns 0 when every slot is taken (that
 * response is then not limited).
 */
#ifndef RECAP_CREDIT_H
#define RECAP_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECAP_CREDIT_HEADER "x-recap-credit"

typedef struct recap_credit recap_credit_t;

/** A table of `slots` responses and the eventfd that wakes the relay; NULL if no eventfd can be made. */
recap_credit_t *recap_credit_new(size_t slots);

/** Frees the table and closes the eventfd (nothing may use it any more). */
void recap_credit_free(recap_credit_t *c);

/* ---- the proxy loop's side (each takes a NULL table: no relay, nothing limited) ---- */

/** A token for a new response (never 0), or 0 when every slot is in use or c is NULL. */
uint64_t recap_credit_open(recap_credit_t *c);

/** n more body bytes of the token's response went on towards the client; wakes the relay if it waits for
 *  them. A stale or 0 token is ignored. */
void recap_credit_handed(recap_credit_t *c, uint64_t token, size_t n);

/** The response is done (or dropped): its slot can be reused, its token is stale from now on. */
void recap_credit_close(recap_credit_t *c, uint64_t token);

/* ---- the relay's side ---- */

/** Body bytes handed on so far for the token's response; UINT64_MAX for a stale or 0 token. */
uint64_t recap_credit_handed_so_far(recap_credit_t *c, uint64_t token);

/** The relay waits until `wake_at` bytes of the token's response have been handed on: returns true if it must
 *  wait (a write to the eventfd will come when they are), false if they already have been (or the token is
 *  stale): go on at once. */
bool recap_credit_pause(recap_credit_t *c, uint64_t token, uint64_t wake_at);

/** The eventfd the relay reads: readable after one or more wakes (read it to reset it). */
int recap_credit_wake_fd(const recap_credit_t *c);

#endif
