/*
 * proxy/running.h: the tests running now, as the control API hears of them
 * (POST /tests/begin and /tests/end, PUT /test): an orphan transaction is
 * stamped with them when it arrives (linker.h), so it is reported on the test
 * that ran when it was committed, and rewound with it.
 *
 * Contract: pure bookkeeping, loop thread only. Names are copied. A name
 * begun twice is one entry (a retried begin); end of a name not running is a
 * no-op.
 */
#ifndef RECAP_RUNNING_H
#define RECAP_RUNNING_H

#include <stdbool.h>
#include <stddef.h>

typedef struct recap_running {
    char **names; /* NULL-terminated view handed out by recap_running_list */
    size_t n, cap;
    const char *label; /* PUT /test's name (borrowed from the recorder), or NULL */
} recap_running_t;

void recap_running_begin(recap_running_t *r, const char *name);
void recap_running_end(recap_running_t *r, const char *name);
bool recap_running_has(const recap_running_t *r, const char *name);

/** The begun tests, and the PUT /test label if it is not one of them: NULL-terminated, valid until the
 *  next call here. */
const char *const *recap_running_list(recap_running_t *r);

void recap_running_free(recap_running_t *r);

#endif
