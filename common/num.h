/*
 * common/num.h: the one parser of each kind of number recap takes from a
 * user (flags, environment, control API queries).
 *
 * Contract: pure. Each returns 0 and sets *out, or -1 (out untouched) when s
 * is empty, negative, has anything after the number that its kind does not
 * take, or overflows.
 */
#ifndef RCX_NUM_H
#define RCX_NUM_H

#include <stddef.h>
#include <stdint.h>

/** A plain decimal count: "42". */
int rcx_parse_u64(const char *s, uint64_t *out);

/** A size: a byte count or one of k/KiB/kb, M/MiB/mb, G/GiB/gb (any case; all powers of 1024). */
int rcx_parse_size(const char *s, size_t *out);

/** A duration in milliseconds: "250", "250ms", "30s", "2m". */
int rcx_parse_duration_ms(const char *s, uint64_t *out);

#endif
