/*
 * verifier/replay.h: `recap replay BASELINE.jsonl --target URL`: a recorded
 * run sent again to a new build, recorded again, and diffed (diff.h).
 *
 * The requests go in recorded order, one at a time, through a recap proxy of
 * replay's own (`recap proxy` started in front of the target, with
 * --database-url for row changes) with libcurl. Generated values are
 * remapped: an id or uuid that an earlier baseline response returned (a
 * field named id or *_id, or any uuid) and a later request uses in its path,
 * query or JSON body is replaced by what the new run returned in the same
 * place. Each request carries its recorded test name (X-Recap-Test), so the
 * new capture is labelled like the baseline. Redacted headers cannot be sent
 * again ("[REDACTED]" is all the capture holds): they are dropped, and
 * --header supplies credentials. Orphan transactions of the baseline
 * (fixtures, background jobs) are reported, not replayed.
 *
 * The new capture is written to --capture (default BASELINE.replay.jsonl),
 * under a temporary name renamed into place only when the replay completed.
 * Exit 0 the new run is the same, 1 it differs, 2 usage or input error (a bad
 * baseline line, a target that is down, a proxy that cannot start).
 */
#ifndef RV_REPLAY_H
#define RV_REPLAY_H

#include <jansson.h>
#include <stdbool.h>

/** Rewrites old generated values into new ones. Pure. */
typedef struct rv_remap {
    json_t *map; /* "i:5" / "s:<uuid>" -> the new value */
} rv_remap_t;

void rv_remap_init(rv_remap_t *m);
void rv_remap_free(rv_remap_t *m);

/**
 * Learns old -> new from a baseline response body and the new run's, walked
 * together. Integer ids are learned in their role (an "id" belongs to the
 * resource that returned it, or to the key of the list holding it; "org_id"
 * to "org"), so an organization 1 and a job 1 are never confused; uuids on
 * their own.
 */
void rv_remap_learn(rv_remap_t *m, const char *resource, const json_t *old_body, const json_t *new_body);

/** The path (and query) with every segment or value that was learned replaced; caller frees. */
char *rv_remap_text(const rv_remap_t *m, const char *path, char sep);

/** A copy of a JSON body with learned ids and uuids replaced (a new reference). */
json_t *rv_remap_json(const rv_remap_t *m, const json_t *body);

/** argv[0] is "replay". */
int rv_replay_main(int argc, char **argv);

#endif
