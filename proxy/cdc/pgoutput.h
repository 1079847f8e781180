/*
 * proxy/cdc/pgoutput.h: a decoder for PostgreSQL's logical replication
 * protocol as the built-in pgoutput plugin sends it (proto_version 1, or 2
 * with streaming off: the same bytes), and for the CopyData frames around it.
 *
 * Contract: pure. Bytes in, one decoded message out; no I/O, no allocation
 * but the decoder's own scratch arrays, which it reuses. A decoded message
 * borrows from the input bytes and the decoder: it is valid until the next
 * call on the same decoder or until the bytes change. Strings point into the
 * input (their NUL is checked to be inside it). Every length is checked
 * before it is read: truncated, oversized or unknown input returns -1 with a
 * message in err, never reads past the end. Not thread-safe: one decoder per
 * stream. Reference: PostgreSQL docs, "Logical Replication Message Formats".
 */
#ifndef RECAP_CDC_PGOUTPUT_H
#define RECAP_CDC_PGOUTPUT_H

#include "../../common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** PostgreSQL's timestamps count microseconds from 2000-01-01; this is that day in Unix seconds. */
#define RECAP_PG_EPOCH_UNIX 946684800LL

/** PostgreSQL's limit on columns per table (MaxTupleAttributeNumber). */
#define RECAP_PGO_MAX_COLUMNS 1664

typedef struct recap_pgo_col {
    char kind;           /* 'n' null, 'u' unchanged TOAST (value not sent), 't' text, 'b' binary */
    const uint8_t *data; /* 't'/'b' only */
    uint32_t len;
} recap_pgo_col_t;

typedef struct recap_pgo_tuple {
    uint16_t ncols;
    recap_pgo_col_t *cols;
} recap_pgo_tuple_t;

typedef struct recap_pgo_relcol {
    uint8_t flags; /* 1: part of the replica identity key */
    const char *name;
    uint32_t typoid;
    int32_t typmod;
} recap_pgo_relcol_t;

typedef struct recap_pgo_msg {
    char type; /* 'B','C','O','R','Y','I','U','D','T','M' */
    union {
        struct {
            uint64_t final_lsn; /* start of the commit record */
            int64_t commit_ts;  /* microseconds since 2000-01-01 */
            uint32_t xid;
        } begin;
        struct {
            uint8_t flags;
            uint64_t commit_lsn, end_lsn;
            int64_t commit_ts;
        } commit;
        struct {
            uint64_t lsn;
            const char *name;
        } origin;
        struct {
            uint32_t relid;
            const char *nspname, *relname;
            char replident; /* 'd' default, 'n' nothing, 'f' full, 'i' index */
            uint16_t ncols;
            recap_pgo_relcol_t *cols;
        } relation;
        struct {
            uint32_t typoid;
            const char *nspname, *typname;
        } type;
        struct { /* 'I', 'U', 'D' */
            uint32_t relid;
            char old_kind;                          /* 0 none, 'K' key columns only, 'O' the whole old row */
            recap_pgo_tuple_t old_tuple, new_tuple; /* new: I and U; old: U (optional) and D */
        } change;
        struct {
            uint32_t nrels;
            uint8_t options;       /* 1 CASCADE, 2 RESTART IDENTITY */
            const uint8_t *relids; /* nrels big-endian u32: read with recap_pgo_truncate_relid */
        } truncate;
        struct {
            uint8_t flags; /* 1: transactional */
            uint64_t lsn;  /* end of the message's WAL record */
            const char *prefix;
            const uint8_t *content;
            uint32_t len;
        } message;
    } u;
} recap_pgo_msg_t;

typedef struct recap_pgo_decoder {
    recap_pgo_col_t *scratch[2];
    size_t scratch_cap[2];
    recap_pgo_relcol_t *relcols;
    size_t relcols_cap;
} recap_pgo_decoder_t;

void recap_pgo_decoder_init(recap_pgo_decoder_t *d);
void recap_pgo_decoder_dispose(recap_pgo_decoder_t *d);

/** Decodes one pgoutput message. 0 ok; -1 with err for anything malformed. */
int recap_pgo_decode(recap_pgo_decoder_t *d, const uint8_t *p, size_t n, recap_pgo_msg_t *out,
                     rcx_err_t *err);

/** The i-th relation of a Truncate message (i < nrels). */
uint32_t recap_pgo_truncate_relid(const recap_pgo_msg_t *msg, uint32_t i);

/* The CopyData frames of a replication stream. */
typedef struct recap_pgo_copydata {
    char type;              /* 'w' XLogData, 'k' primary keepalive */
    uint64_t wal_start;     /* 'w' */
    uint64_t wal_end;       /* 'w', 'k' */
    int64_t send_time;      /* 'w', 'k' */
    bool reply_requested;   /* 'k' */
    const uint8_t *payload; /* 'w': the pgoutput message */
    size_t len;
} recap_pgo_copydata_t;

/** Parses a CopyData message from the server. 0 ok; -1 with err. */
int recap_pgo_parse_copydata(const uint8_t *p, size_t n, recap_pgo_copydata_t *out, rcx_err_t *err);

/** Writes a Standby Status Update ('r', 34 bytes) into out; returns 34. */
size_t recap_pgo_standby_status(uint8_t out[34], uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
                                int64_t now, bool reply);

/** Formats an LSN as PostgreSQL does ("16/B374D848") into out[24]. */
void recap_pgo_format_lsn(uint64_t lsn, char out[24]);

/** Parses "X/Y"; 0 ok, -1 not an LSN. */
int recap_pgo_parse_lsn(const char *s, uint64_t *out);

#endif
