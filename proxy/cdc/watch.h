/*
 * proxy/cdc/watch.h: names, while recap runs, the user tables the
 * publication does not list (a migration's new table when `recap db setup`
 * could not install its event trigger: no superuser). The stream checks at
 * each connect (stream.h); this looks again every interval on a connection
 * of its own, so a table that appears later is named within the interval:
 * a warning for each one new since the last look, and their count in the
 * gauge (recap_cdc_unwatched_tables). A failed look is logged once and tried
 * again at the next interval; it never stops anything.
 *
 * Threads: a thread of its own; start and stop from one thread; the gauge is
 * written atomically.
 */
#ifndef RECAP_CDC_WATCH_H
#define RECAP_CDC_WATCH_H

#include "common/err.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct recap_watch recap_watch_t;

/** Starts looking every interval_ms (the first look is silent: the stream has just said what it found). */
recap_watch_t *recap_watch_start(const char *database_url, const char *publication, uint64_t interval_ms,
                                 _Atomic uint64_t *gauge, rcx_err_t *err);

/** Stops and joins; NULL allowed. */
void recap_watch_stop(recap_watch_t *w);

#endif
