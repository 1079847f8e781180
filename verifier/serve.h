/*
 * verifier/serve.h: `recap verify --serve`, one verifier that stays up for a
 * test run (the pytest plugin starts one per process) instead of a process
 * per test.
 *
 * Protocol, on two streams: the client writes a batch of records (capture
 * lines, as GET /calls gives them: in the order they finished; they are
 * checked in the order they arrived, verifier/order.h) followed by one empty line; the
 * server answers with one JSON line:
 *   {"calls":3,"failed":1,"findings":["specs/x.yaml:4:9: call #12 ... "],
 *    "no_spec":["#13 GET /api/x -> 200"],"errors":["line 2: not JSON: ..."]}
 * and flushes ("matched": the calls a spec selected). A batch may begin with
 *   #spec {"file":"tests/test_x.py:12","text":"specs:\n  - name: ..."}
 * (spec-format YAML, or JSON, which is YAML): its calls are then checked
 * against that spec alone (the pytest plugin's recap.expect), and a spec
 * that does not load is an error of the batch, said with file:line:col.
 * Orphan lines in a batch (transactions committed while the test ran that
 * no call made) fail it when a spec file says `orphans: forbid`:
 * "orphans":["orphan transaction 741 (public.event_log: 1 inserted) ..."]; every
 * answer says whether the specs forbid orphans ("orphans_forbidden": true), so
 * an empty batch (one empty line) asks.
 * Values specs save (save:) are kept from one batch to the next,
 * so a value saved by one test's call is there for the next test's; a batch
 * may also begin with
 *   #saved {"org": 3}
 * (values saved elsewhere: another process's tests), taken for the names this
 * server has no value of its own for (its own are the fresher for its tests), and
 * every answer carries "saved", the values known after it. A line
 * that is not a record is an error of its batch, never the end of the
 * server; the end of input ends it (0).
 *
 * Contract: blocking, one client; specs loaded and finished by the caller
 * and borrowed; no output but the answers.
 */
#ifndef RV_SERVE_H
#define RV_SERVE_H

#include "verifier/spec.h"

#include <stdbool.h>
#include <stdio.h>

/** Answers batches from in on out until in ends; 0, or -1 when out cannot be written. */
int rv_serve(const rv_specs_t *specs, bool require_spec, FILE *in, FILE *out);

#endif
