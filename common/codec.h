/*
 * common/codec.h: the capture format's lines, written and read in one place
 * (docs/capture-format.md describes them).
 *
 * A capture is JSONL: a "header" line, then "call" lines (proxy/encode.c
 * writes their body through rcx_codec_call_open) and "orphan" lines. A
 * committed transaction travels as a transaction object ({"xid":...,
 * "commit_lsn":...,"changes":[...]}, written by core/txbuild.c); the codec
 * puts it inside a call (with its attribution) or on an orphan line (with
 * the resume position). Only this file knows how the lines begin; nothing
 * else cuts or peeks into JSON text.
 *
 * Contract: pure. Writers append to a caller's buffer; readers borrow from
 * the record (a jansson object) they are given and return NULL or 0 for
 * anything absent or of another type.
 */
#ifndef RCX_CODEC_H
#define RCX_CODEC_H

#include "common/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The kinds of line, by their "type". */
typedef enum { RCX_REC_OTHER = 0, RCX_REC_HEADER, RCX_REC_CALL, RCX_REC_ORPHAN } rcx_rec_kind_t;

#define RCX_TYPE_HEADER "header"
#define RCX_TYPE_CALL "call"
#define RCX_TYPE_ORPHAN "orphan"

/* ---- writing ---- */

/** Opens a call line: `{"type":"call"`; the caller appends ",key":... members and the closing brace. */
void rcx_codec_call_open(rcx_buf_t *out);

/** One element of a call's db.transactions: the transaction object with its attribution first. */
void rcx_codec_call_tx(rcx_buf_t *out, const char *attribution, const char *tx, size_t n);

/**
 * An orphan line (no newline): the transaction object with its type and resume position first, and the tests
 * running when it arrived: "test" when one was, "tests" (a list) when several were, neither when none.
 */
void rcx_codec_orphan_line(rcx_buf_t *out, uint64_t resume_lsn, const char *const *tests, size_t ntests,
                           const char *tx, size_t n);

/** A position as a JSON member ("key":"HI/LO"), with a leading comma unless first. */
void rcx_codec_lsn_member(rcx_buf_t *out, const char *key, uint64_t lsn, bool first);

/** The kind of a line this codec wrote, from its first bytes, without parsing the line. */
rcx_rec_kind_t rcx_codec_peek(const char *line, size_t len);

/* ---- reading (records parsed by capture_reader.h) ---- */

/** What is wrong with a parsed record's shape (a call whose request is no object, a status out of range...),
 * or NULL when every reader may take it as it is. */
const char *rcx_rec_malformed(const json_t *rec);

/** The kind of a parsed record. */
rcx_rec_kind_t rcx_rec_kind(const json_t *rec);

/** rec[a][b] as a string, or NULL: rcx_rec_str(call, "request", "method"). */
const char *rcx_rec_str(const json_t *rec, const char *a, const char *b);

/**
 * The order a call's request arrived in: its "arrival", or its "seq" in captures written before
 * arrivals were (records are written as calls finish, so file order is not arrival order).
 */
uint64_t rcx_rec_arrival(const json_t *call);

/** The response status of a call, 0 if none. */
int rcx_rec_status(const json_t *call);

/** The call's db.transactions (an array), or NULL. */
const json_t *rcx_rec_transactions(const json_t *call);

/* One element of a transaction's "changes". */
typedef enum { RCX_OP_INSERT, RCX_OP_UPDATE, RCX_OP_DELETE, RCX_OP_TRUNCATE, RCX_OP_OTHER } rcx_op_t;

typedef struct rcx_change {
    rcx_op_t op;
    const char *op_name, *schema, *table;
    const json_t *row; /* the row it leaves (insert, update: "new") or removes (delete: "old", or "key" when
                          only the key was captured); NULL for a truncate */
    const json_t *identity; /* an insert's replica identity columns (an array of names), or NULL */
} rcx_change_t;

/** Reads a change (borrowing from it); -1 when it has no op, schema or table. */
int rcx_rec_change(const json_t *ch, rcx_change_t *out);

/** A call's or orphan's resume_lsn (a call keeps it under db); 0 if none or unreadable. */
uint64_t rcx_rec_resume_lsn(const json_t *rec);

#endif
