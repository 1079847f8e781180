/*
 * core/values.h: a column's text form (as pgoutput sends it) as JSON,
 * keeping PostgreSQL's meaning.
 *
 *   bool                         true / false
 *   int2, int4, int8, oid        JSON numbers, every digit
 *   float4, float8               JSON numbers (PostgreSQL prints the shortest exact form);
 *                                NaN and ±Infinity as strings
 *   numeric                      a JSON *string* with the exact decimal text
 *                                ("12345678901234567890.123456789"): a JSON number
 *                                would be rounded to a double by most readers
 *   json, jsonb                  the document itself
 *   everything else              a string with PostgreSQL's text form
 *
 * Contract: pure; appends to a caller-owned buffer.
 */
#ifndef CORE_VALUES_H
#define CORE_VALUES_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

enum {
    CORE_OID_BOOL = 16,
    CORE_OID_INT8 = 20,
    CORE_OID_INT2 = 21,
    CORE_OID_INT4 = 23,
    CORE_OID_OID = 26,
    CORE_OID_JSON = 114,
    CORE_OID_FLOAT4 = 700,
    CORE_OID_FLOAT8 = 701,
    CORE_OID_NUMERIC = 1700,
    CORE_OID_JSONB = 3802,
};

/** Appends the JSON for one non-null text value of type typoid. */
void core_value_json(rcx_buf_t *out, uint32_t typoid, const char *p, size_t n);

#endif
