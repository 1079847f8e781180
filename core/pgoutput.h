/*
 * core/pgoutput.h: a decoder for PostgreSQL's logical replication
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
#ifndef CORE_PGOUTPUT_H
#define CORE_PGOUTPUT_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** PostgreSQL's timestamps count microseconds from 2000-01-01; this is that day in Unix seconds. */
#define CORE_PG_EPOCH_UNIX 946684800LL

/* Message types (PostgreSQL's LogicalRepMsgType, src/include/replication/logicalproto.h). */
enum {
    CORE_PGO_BEGIN = 'B',
    CORE_PGO_COMMIT = 'C',
    CORE_PGO_ORIGIN = 'O',
    CORE_PGO_RELATION = 'R',
    CORE_PGO_TYPE = 'Y',
    CORE_PGO_INSERT = 'I',
    CORE_PGO_UPDATE = 'U',
    CORE_PGO_DELETE = 'D',
    CORE_PGO_TRUNCATE = 'T',
    CORE_PGO_MESSAGE = 'M',
};

/* What precedes a tuple in Insert, Update and Delete. */
enum { CORE_PGO_TUPLE_NEW = 'N', CORE_PGO_TUPLE_KEY = 'K', CORE_PGO_TUPLE_OLD = 'O' };

/* A column's kind inside a tuple. */
enum {
    CORE_PGO_COL_NULL = 'n',
    CORE_PGO_COL_UNCHANGED = 'u', /* unchanged TOAST: the value is not sent */
    CORE_PGO_COL_TEXT = 't',
    CORE_PGO_COL_BINARY = 'b',
};

/* Flag bits; any other bit set is refused as PostgreSQL's proto.c does (a newer protocol we do not speak). */
#define CORE_PGO_COMMIT_FLAGS 0x00              /* PostgreSQL 15 defines none */
#define CORE_PGO_RELCOL_KEY 0x01                /* the column is part of the replica identity key */
#define CORE_PGO_TRUNCATE_CASCADE 0x01          /* TRUNCATE ... CASCADE */
#define CORE_PGO_TRUNCATE_RESTART_IDENTITY 0x02 /* TRUNCATE ... RESTART IDENTITY */
#define CORE_PGO_MESSAGE_TRANSACTIONAL 0x01     /* pg_logical_emit_message(true, ...) */

/** PostgreSQL's limit on columns per table (MaxTupleAttributeNumber). */
#define CORE_PGO_MAX_COLUMNS 1664

typedef struct core_pgo_col {
    char kind;           /* CORE_PGO_COL_* */
    const uint8_t *data; /* 't'/'b' only */
    uint32_t len;
} core_pgo_col_t;

typedef struct core_pgo_tuple {
    uint16_t ncols;
    core_pgo_col_t *cols;
} core_pgo_tuple_t;

typedef struct core_pgo_relcol {
    uint8_t flags; /* CORE_PGO_RELCOL_KEY */
    const char *name;
    uint32_t typoid;
    int32_t typmod;
} core_pgo_relcol_t;

typedef struct core_pgo_msg {
    char type; /* CORE_PGO_BEGIN ... CORE_PGO_MESSAGE */
    union {
        struct {
            uint64_t final_lsn; /* start of the commit record */
            int64_t commit_ts;  /* microseconds since 2000-01-01 */
            uint32_t xid;
        } begin;
        struct {
            uint8_t flags; /* CORE_PGO_COMMIT_FLAGS */
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
            core_pgo_relcol_t *cols;
        } relation;
        struct {
            uint32_t typoid;
            const char *nspname, *typname;
        } type;
        struct { /* 'I', 'U', 'D' */
            uint32_t relid;
            char old_kind; /* 0 none, CORE_PGO_TUPLE_KEY (key columns), _OLD (whole row) */
            core_pgo_tuple_t old_tuple, new_tuple; /* new: I and U; old: U (optional) and D */
        } change;
        struct {
            uint32_t nrels;
            uint8_t options;       /* CORE_PGO_TRUNCATE_* */
            const uint8_t *relids; /* nrels big-endian u32: read with core_pgo_truncate_relid */
        } truncate;
        struct {
            uint8_t flags; /* CORE_PGO_MESSAGE_TRANSACTIONAL */
            uint64_t lsn;  /* end of the message's WAL record */
            const char *prefix;
            const uint8_t *content;
            uint32_t len;
        } message;
    } u;
} core_pgo_msg_t;

typedef struct core_pgo_decoder {
    core_pgo_col_t *scratch[2];
    size_t scratch_cap[2];
    core_pgo_relcol_t *relcols;
    size_t relcols_cap;
} core_pgo_decoder_t;

void core_pgo_decoder_init(core_pgo_decoder_t *d);
void core_pgo_decoder_dispose(core_pgo_decoder_t *d);

/** Decodes one pgoutput message. 0 ok; -1 with err for anything malformed. */
int core_pgo_decode(core_pgo_decoder_t *d, const uint8_t *p, size_t n, core_pgo_msg_t *out, rcx_err_t *err);

/** The i-th relation of a Truncate message (i < nrels). */
uint32_t core_pgo_truncate_relid(const core_pgo_msg_t *msg, uint32_t i);

/* The CopyData frames of a replication stream. */
/* CopyData frame types (the streaming replication protocol). */
enum { CORE_PGO_XLOGDATA = 'w', CORE_PGO_KEEPALIVE = 'k', CORE_PGO_STANDBY_STATUS = 'r' };

typedef struct core_pgo_copydata {
    char type;              /* CORE_PGO_XLOGDATA or CORE_PGO_KEEPALIVE */
    uint64_t wal_start;     /* 'w' */
    uint64_t wal_end;       /* 'w', 'k' */
    int64_t send_time;      /* 'w', 'k' */
    bool reply_requested;   /* 'k' */
    const uint8_t *payload; /* 'w': the pgoutput message */
    size_t len;
} core_pgo_copydata_t;

/** Parses a CopyData message from the server. 0 ok; -1 with err. */
int core_pgo_parse_copydata(const uint8_t *p, size_t n, core_pgo_copydata_t *out, rcx_err_t *err);

/** Writes a Standby Status Update ('r', 34 bytes) into out; returns 34. */
size_t core_pgo_standby_status(uint8_t out[34], uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
                               int64_t now, bool reply);

#endif
