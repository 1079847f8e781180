/*
 * common/lsn.h: PostgreSQL's write-ahead log positions as text ("16/B374D848",
 * two hex halves), as the capture writes them and PostgreSQL prints them.
 *
 * Contract: pure.
 */
#ifndef RCX_LSN_H
#define RCX_LSN_H

#include <stdint.h>

/** Writes lsn as "HI/LO" (upper-case hex) into out[24]. */
void rcx_lsn_format(uint64_t lsn, char out[24]);

/** Parses "HI/LO"; 0, or -1 when s is anything else. */
int rcx_lsn_parse(const char *s, uint64_t *out);

#endif
