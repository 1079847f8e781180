/* core/pgoutput.c: see pgoutput.h. One reader per message type, as in PostgreSQL's proto.c. */
#include "core/pgoutput.h"

#include "common/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bounds-checked cursor over one message. Every read fails once the input is short. */
typedef struct cursor {
    const uint8_t *p, *end;
    const char *proto; /* "pgoutput" or "replication", for errors */
    const char *what;  /* message name, for errors */
    rcx_err_t *err;
    bool failed;
} cursor_t;

static void fail(cursor_t *c, const char *fmt, const char *detail) /* fmt: proto, what, detail */
{
    if (!c->failed)
        rcx_err_set(c->err, fmt, c->proto, c->what, detail);
    c->failed = true;
}

static bool need(cursor_t *c, size_t n)
{
    if (c->failed)
        return false;
    if ((size_t)(c->end - c->p) < n) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%zu more bytes needed, %zu left", n, (size_t)(c->end - c->p));
        fail(c, "%s: %s message truncated (%s)", detail);
        return false;
    }
    return true;
}

static uint8_t u8(cursor_t *c)
{
    if (!need(c, 1))
        return 0;
    return *c->p++;
}

static uint16_t u16(cursor_t *c)
{
    if (!need(c, 2))
        return 0;
    uint16_t v = (uint16_t)(c->p[0] << 8 | c->p[1]);
    c->p += 2;
    return v;
}

static uint32_t u32(cursor_t *c)
{
    if (!need(c, 4))
        return 0;
    uint32_t v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    return v;
}

static uint64_t u64(cursor_t *c)
{
    if (!need(c, 8))
        return 0;
    uint64_t hi = u32(c);
    return hi << 32 | u32(c);
}

static const char *cstring(cursor_t *c)
{
    if (c->failed)
        return "";
    const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));
    if (nul == NULL) {
        fail(c, "%s: %s message: %s", "a string is not NUL-terminated");
        return "";
    }
    const char *s = (const char *)c->p;
    c->p = nul + 1;
    return s;
}

static const uint8_t *bytes(cursor_t *c, size_t n)
{
    if (!need(c, n))
        return NULL;
    const uint8_t *b = c->p;
    c->p += n;
    return b;
}

static void *grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n > *cap) {
        *arr = rcx_xrealloc(*arr, n * elem);
        *cap = n;
    }
    return *arr;
}

/* A flag bit this protocol version does not define: refused, as PostgreSQL's proto.c does. */
static void reserved(cursor_t *c, uint8_t flags)
{
    char detail[64];
    snprintf(detail, sizeof(detail), "unknown flags 0x%02x", flags);
    fail(c, "%s: %s message: %s", detail);
}

static void read_tuple(cursor_t *c, core_pgo_decoder_t *d, int slot, core_pgo_tuple_t *t)
{
    t->ncols = u16(c);
    if (t->ncols > CORE_PGO_MAX_COLUMNS) {
        fail(c, "%s: %s message: %s", "a tuple has more columns than PostgreSQL allows");
        t->ncols = 0;
    }
    t->cols =
        grow((void **)&d->scratch[slot], &d->scratch_cap[slot], t->ncols ? t->ncols : 1, sizeof(*t->cols));
    for (uint16_t i = 0; i < t->ncols && !c->failed; i++) {
        core_pgo_col_t *col = &t->cols[i];
        *col = (core_pgo_col_t){.kind = (char)u8(c)};
        switch (col->kind) {
        case CORE_PGO_COL_NULL:
        case CORE_PGO_COL_UNCHANGED:
            break;
        case CORE_PGO_COL_TEXT:
        case CORE_PGO_COL_BINARY:
            col->len = u32(c);
            col->data = bytes(c, col->len);
            break;
        default:
            if (!c->failed) {
                char detail[64];
                snprintf(detail, sizeof(detail), "column %u has unknown kind 0x%02x", i + 1,
                         (uint8_t)col->kind);
                fail(c, "%s: %s message: %s", detail);
            }
        }
    }
}

static void read_begin(cursor_t *c, core_pgo_msg_t *m)
{
    m->u.begin.final_lsn = u64(c);
    m->u.begin.commit_ts = (int64_t)u64(c);
    m->u.begin.xid = u32(c);
}

static void read_commit(cursor_t *c, core_pgo_msg_t *m)
{
    m->u.commit.flags = u8(c);
    if (!c->failed && (m->u.commit.flags & ~CORE_PGO_COMMIT_FLAGS) != 0)
        reserved(c, m->u.commit.flags);
    m->u.commit.commit_lsn = u64(c);
    m->u.commit.end_lsn = u64(c);
    m->u.commit.commit_ts = (int64_t)u64(c);
}

static void read_origin(cursor_t *c, core_pgo_msg_t *m)
{
    m->u.origin.lsn = u64(c);
    m->u.origin.name = cstring(c);
}

static void read_relation(cursor_t *c, core_pgo_decoder_t *d, core_pgo_msg_t *m)
{
    m->u.relation.relid = u32(c);
    m->u.relation.nspname = cstring(c);
    m->u.relation.relname = cstring(c);
    m->u.relation.replident = (char)u8(c);
    m->u.relation.ncols = u16(c);
    if (c->failed)
        return;
    if (strchr("dnfi", m->u.relation.replident) == NULL || m->u.relation.replident == 0) {
        fail(c, "%s: %s message: %s", "unknown replica identity");
        return;
    }
    if (m->u.relation.ncols > CORE_PGO_MAX_COLUMNS) {
        fail(c, "%s: %s message: %s", "more columns than PostgreSQL allows");
        return;
    }
    core_pgo_relcol_t *cols = grow((void **)&d->relcols, &d->relcols_cap,
                                   m->u.relation.ncols ? m->u.relation.ncols : 1, sizeof(*cols));
    for (uint16_t i = 0; i < m->u.relation.ncols && !c->failed; i++) {
        cols[i].flags = u8(c);
        if (!c->failed && (cols[i].flags & ~CORE_PGO_RELCOL_KEY) != 0)
            reserved(c, cols[i].flags);
        cols[i].name = cstring(c);
        cols[i].typoid = u32(c);
        cols[i].typmod = (int32_t)u32(c);
    }
    m->u.relation.cols = cols;
}

static void read_type(cursor_t *c, core_pgo_msg_t *m)
{
    m->u.type.typoid = u32(c);
    m->u.type.nspname = cstring(c);
    m->u.type.typname = cstring(c);
}

static void read_change(cursor_t *c, core_pgo_decoder_t *d, core_pgo_msg_t *m)
{
    m->u.change.relid = u32(c);
    m->u.change.old_kind = 0;
    m->u.change.old_tuple = (core_pgo_tuple_t){0};
    m->u.change.new_tuple = (core_pgo_tuple_t){0};
    uint8_t k = u8(c);
    if (c->failed)
        return;
    if (m->type == CORE_PGO_INSERT) {
        if (k != CORE_PGO_TUPLE_NEW)
            fail(c, "%s: %s message: %s", "expected a new tuple ('N')");
        else
            read_tuple(c, d, 1, &m->u.change.new_tuple);
        return;
    }
    if (k == CORE_PGO_TUPLE_KEY || k == CORE_PGO_TUPLE_OLD) {
        m->u.change.old_kind = (char)k;
        read_tuple(c, d, 0, &m->u.change.old_tuple);
        if (m->type == CORE_PGO_DELETE)
            return;
        k = u8(c);
    } else if (m->type == CORE_PGO_DELETE) {
        fail(c, "%s: %s message: %s", "expected an old tuple ('K' or 'O')");
        return;
    }
    if (c->failed)
        return;
    if (k != CORE_PGO_TUPLE_NEW)
        fail(c, "%s: %s message: %s", "expected a new tuple ('N')");
    else
        read_tuple(c, d, 1, &m->u.change.new_tuple);
}

static void read_truncate(cursor_t *c, core_pgo_msg_t *m)
{
    m->u.truncate.nrels = u32(c);
    m->u.truncate.options = u8(c);
    if (c->failed)
        return;
    if ((m->u.truncate.options & ~(CORE_PGO_TRUNCATE_CASCADE | CORE_PGO_TRUNCATE_RESTART_IDENTITY)) != 0) {
        reserved(c, m->u.truncate.options);
        return;
    }
    if (m->u.truncate.nrels > (size_t)(c->end - c->p) / 4) {
        fail(c, "%s: %s message truncated (%s)", "fewer relation ids than announced");
        return;
    }
    m->u.truncate.relids = bytes(c, (size_t)m->u.truncate.nrels * 4);
}

static void read_message(cursor_t *c, core_pgo_msg_t *m)
{
    m->u.message.flags = u8(c);
    if (!c->failed && (m->u.message.flags & ~CORE_PGO_MESSAGE_TRANSACTIONAL) != 0)
        reserved(c, m->u.message.flags);
    m->u.message.lsn = u64(c);
    m->u.message.prefix = cstring(c);
    m->u.message.len = u32(c);
    m->u.message.content = bytes(c, m->u.message.len);
}

static const char *type_name(char t)
{
    switch (t) {
    case CORE_PGO_BEGIN:
        return "Begin";
    case CORE_PGO_COMMIT:
        return "Commit";
    case CORE_PGO_ORIGIN:
        return "Origin";
    case CORE_PGO_RELATION:
        return "Relation";
    case CORE_PGO_TYPE:
        return "Type";
    case CORE_PGO_INSERT:
        return "Insert";
    case CORE_PGO_UPDATE:
        return "Update";
    case CORE_PGO_DELETE:
        return "Delete";
    case CORE_PGO_TRUNCATE:
        return "Truncate";
    case CORE_PGO_MESSAGE:
        return "Message";
    default:
        return NULL;
    }
}

void core_pgo_decoder_init(core_pgo_decoder_t *d)
{
    *d = (core_pgo_decoder_t){0};
}

void core_pgo_decoder_dispose(core_pgo_decoder_t *d)
{
    free(d->scratch[0]);
    free(d->scratch[1]);
    free(d->relcols);
    *d = (core_pgo_decoder_t){0};
}

int core_pgo_decode(core_pgo_decoder_t *d, const uint8_t *p, size_t n, core_pgo_msg_t *out, rcx_err_t *err)
{
    if (n == 0) {
        rcx_err_set(err, "pgoutput: empty message");
        return -1;
    }
    const char *name = type_name((char)p[0]);
    if (name == NULL) {
        rcx_err_set(err, "pgoutput: unknown message type 0x%02x", p[0]);
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->type = (char)p[0];
    cursor_t c = {.p = p + 1, .end = p + n, .proto = "pgoutput", .what = name, .err = err};
    switch (out->type) {
    case CORE_PGO_BEGIN:
        read_begin(&c, out);
        break;
    case CORE_PGO_COMMIT:
        read_commit(&c, out);
        break;
    case CORE_PGO_ORIGIN:
        read_origin(&c, out);
        break;
    case CORE_PGO_RELATION:
        read_relation(&c, d, out);
        break;
    case CORE_PGO_TYPE:
        read_type(&c, out);
        break;
    case CORE_PGO_INSERT:
    case CORE_PGO_UPDATE:
    case CORE_PGO_DELETE:
        read_change(&c, d, out);
        break;
    case CORE_PGO_TRUNCATE:
        read_truncate(&c, out);
        break;
    case CORE_PGO_MESSAGE:
        read_message(&c, out);
        break;
    }
    if (!c.failed && c.p != c.end) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%zu unexpected bytes at the end", (size_t)(c.end - c.p));
        fail(&c, "%s: %s message: %s", detail);
    }
    return c.failed ? -1 : 0;
}

uint32_t core_pgo_truncate_relid(const core_pgo_msg_t *m, uint32_t i)
{
    const uint8_t *b = m->u.truncate.relids + (size_t)i * 4;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int core_pgo_parse_copydata(const uint8_t *p, size_t n, core_pgo_copydata_t *out, rcx_err_t *err)
{
    memset(out, 0, sizeof(*out));
    if (n == 0) {
        rcx_err_set(err, "replication: empty CopyData message");
        return -1;
    }
    out->type = (char)p[0];
    cursor_t c = {.p = p + 1, .end = p + n, .proto = "replication", .err = err};
    if (out->type == CORE_PGO_XLOGDATA) {
        c.what = "XLogData";
        out->wal_start = u64(&c);
        out->wal_end = u64(&c);
        out->send_time = (int64_t)u64(&c);
        out->payload = c.p;
        out->len = c.failed ? 0 : (size_t)(c.end - c.p);
        c.p = c.end;
    } else if (out->type == CORE_PGO_KEEPALIVE) {
        c.what = "keepalive";
        out->wal_end = u64(&c);
        out->send_time = (int64_t)u64(&c);
        out->reply_requested = u8(&c) != 0;
        if (!c.failed && c.p != c.end)
            fail(&c, "%s: %s message: %s", "unexpected bytes at the end");
    } else {
        rcx_err_set(err, "replication: unknown CopyData message type 0x%02x", p[0]);
        return -1;
    }
    return c.failed ? -1 : 0;
}

static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

size_t core_pgo_standby_status(uint8_t out[34], uint64_t write_lsn, uint64_t flush_lsn, uint64_t apply_lsn,
                               int64_t now, bool reply)
{
    out[0] = CORE_PGO_STANDBY_STATUS;
    put64(out + 1, write_lsn);
    put64(out + 9, flush_lsn);
    put64(out + 17, apply_lsn);
    put64(out + 25, (uint64_t)now);
    out[33] = reply ? 1 : 0;
    return 34;
}
