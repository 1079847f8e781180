/*
 * verifier/shard.h: `recap verify` on several threads, for large captures
 * whose specs save nothing.
 *
 * Parsing JSON is most of verify's time (bench/verify.sh). Each capture file
 * is mapped and cut at line boundaries into as many ranges as threads; each
 * thread parses, selects and checks whole ranges on its own (a thread frees
 * only what it allocated: a pool of parsers feeding one checker was measured
 * slower than one thread), into a report per range; the reports are then
 * joined in file order, so the result is the one a single thread gives. Only
 * when no spec saves a value: a ${saved.x} makes each call depend on those
 * before it.
 *
 * Contract: rv_shard_verify() is called after the captures' first lines were
 * checked (rcx_reader_open); it adds every record after them to report and
 * returns whether any input error was seen (each also printed on stderr as
 * "recap: verify: file:line:col: ...", in file order).
 */
#ifndef RV_SHARD_H
#define RV_SHARD_H

#include "verifier/report.h"
#include "verifier/spec.h"

#include <stdbool.h>

/** Whether sharding applies: no spec saves, and at least min_bytes of capture. */
bool rv_shard_worthwhile(const rv_specs_t *specs, char *const *paths, int n, size_t min_bytes);

/**
 * Checks every record after the first line of each capture on `threads`
 * threads. -1 on an input error: a capture that cannot be read (err), or bad
 * lines (each one a note in the report, in file order; err is then empty).
 */
int rv_shard_verify(const rv_specs_t *specs, char *const *paths, int n, int threads, bool keep,
                    rv_report_t *report, rcx_err_t *err);

#endif
