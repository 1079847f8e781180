/* common/codec.c: see codec.h. */
#include "common/codec.h"

#include "common/jsonw.h"
#include "common/lsn.h"

#include <string.h>

/* How each line this codec writes begins (encode.c, writer.c and the header all go through here). */
#define CALL_OPEN "{\"type\":\"" RCX_TYPE_CALL "\""
#define ORPHAN_OPEN "{\"type\":\"" RCX_TYPE_ORPHAN "\""
#define HEADER_OPEN "{\"type\":\"" RCX_TYPE_HEADER "\""

void rcx_codec_call_open(rcx_buf_t *out)
{
    rcx_buf_puts(out, CALL_OPEN);
}

/* The members of a transaction object: what follows its opening brace. */
static void tx_members(rcx_buf_t *out, const char *tx, size_t n)
{
    if (n > 0 && tx[0] == '{') {
        tx++;
        n--;
    }
    if (n > 1 || (n == 1 && tx[0] != '}'))
        rcx_buf_puts(out, ",");
    rcx_buf_append(out, tx, n);
}

void rcx_codec_call_tx(rcx_buf_t *out, const char *attribution, const char *tx, size_t n)
{
    rcx_buf_puts(out, "{");
    rcx_jw_key(out, "attribution", true);
    rcx_jw_string(out, attribution, strlen(attribution));
    tx_members(out, tx, n);
}

void rcx_codec_lsn_member(rcx_buf_t *out, const char *key, uint64_t lsn, bool first)
{
    char s[24];
    rcx_lsn_format(lsn, s);
    rcx_jw_key(out, key, first);
    rcx_jw_string(out, s, strlen(s));
}

void rcx_codec_orphan_line(rcx_buf_t *out, uint64_t resume_lsn, const char *const *tests, size_t ntests,
                           const char *tx, size_t n)
{
    rcx_buf_puts(out, ORPHAN_OPEN);
    rcx_codec_lsn_member(out, "resume_lsn", resume_lsn, false);
    if (ntests > 0)
        rcx_jw_key(out, ntests == 1 ? "test" : "tests", false);
    for (size_t i = 0; i < ntests; i++) {
        rcx_buf_puts(out, ntests == 1 ? "" : i == 0 ? "[" : ",");
        rcx_jw_string_lenient(out, tests[i], strlen(tests[i]));
    }
    if (ntests > 1)
        rcx_buf_puts(out, "]");
    tx_members(out, tx, n);
}

static bool starts(const char *line, size_t len, const char *open)
{
    size_t n = strlen(open);
    return len > n && memcmp(line, open, n) == 0;
}

rcx_rec_kind_t rcx_codec_peek(const char *line, size_t len)
{
    return starts(line, len, CALL_OPEN)     ? RCX_REC_CALL
           : starts(line, len, ORPHAN_OPEN) ? RCX_REC_ORPHAN
           : starts(line, len, HEADER_OPEN) ? RCX_REC_HEADER
                                            : RCX_REC_OTHER;
}

static bool is_count(const json_t *v, json_int_t max)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= max;
}

const char *rcx_rec_malformed(const json_t *rec)
{
    if (rcx_rec_kind(rec) != RCX_REC_CALL)
        return NULL;
    const json_t *req = json_object_get(rec, "request"), *res = json_object_get(rec, "response"),
                 *seq = json_object_get(rec, "seq"), *db = json_object_get(rec, "db"),
                 *test = json_object_get(rec, "test");
    if (seq != NULL && !is_count(seq, INT64_MAX))
        return "a call's \"seq\" is not a number";
    const json_t *method = json_object_get(req, "method"), *path = json_object_get(req, "path"),
                 *status = json_object_get(res, "status");
    if (req != NULL && (!json_is_object(req) || (method != NULL && !json_is_string(method)) ||
                        (path != NULL && !json_is_string(path))))
        return "a call's \"request\" is not an object with a method and a path";
    if (res != NULL && (!json_is_object(res) || (status != NULL && !is_count(status, 999))))
        return "a call's \"response\" is not an object with a status from 0 to 999";
    if (db != NULL && !json_is_object(db))
        return "a call's \"db\" is not an object";
    if (test != NULL && !json_is_string(test) && !json_is_null(test))
        return "a call's \"test\" is not a name";
    return NULL;
}

rcx_rec_kind_t rcx_rec_kind(const json_t *rec)
{
    const char *t = json_string_value(json_object_get(rec, "type"));
    return t == NULL                         ? RCX_REC_OTHER
           : strcmp(t, RCX_TYPE_CALL) == 0   ? RCX_REC_CALL
           : strcmp(t, RCX_TYPE_ORPHAN) == 0 ? RCX_REC_ORPHAN
           : strcmp(t, RCX_TYPE_HEADER) == 0 ? RCX_REC_HEADER
                                             : RCX_REC_OTHER;
}

const char *rcx_rec_str(const json_t *rec, const char *a, const char *b)
{
    return json_string_value(json_object_get(json_object_get(rec, a), b));
}

uint64_t rcx_rec_arrival(const json_t *call)
{
    const json_t *a = json_object_get(call, "arrival");
    if (!json_is_integer(a))
        a = json_object_get(call, "seq");
    json_int_t v = json_integer_value(a);
    return v > 0 ? (uint64_t)v : 0;
}

int rcx_rec_status(const json_t *call)
{
    json_t *s = json_object_get(json_object_get(call, "response"), "status");
    json_int_t v = json_is_integer(s) ? json_integer_value(s) : 0;
    return v >= 0 && v <= 999 ? (int)v : 0;
}

const json_t *rcx_rec_transactions(const json_t *call)
{
    json_t *t = json_object_get(json_object_get(call, "db"), "transactions");
    return json_is_array(t) ? t : NULL;
}

int rcx_rec_change(const json_t *ch, rcx_change_t *out)
{
    static const char *const ops[] = {"insert", "update", "delete", "truncate"};
    *out = (rcx_change_t){.op = RCX_OP_OTHER,
                          .op_name = json_string_value(json_object_get(ch, "op")),
                          .schema = json_string_value(json_object_get(ch, "schema")),
                          .table = json_string_value(json_object_get(ch, "table"))};
    if (out->op_name == NULL || out->schema == NULL || out->table == NULL)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(out->op_name, ops[i]) == 0)
            out->op = (rcx_op_t)i;
    const json_t *old = json_object_get(ch, "old");
    if (out->op == RCX_OP_INSERT || out->op == RCX_OP_UPDATE)
        out->row = json_object_get(ch, "new");
    if (out->op == RCX_OP_INSERT && json_is_array(json_object_get(ch, "identity")))
        out->identity = json_object_get(ch, "identity");
    else if (out->op == RCX_OP_DELETE)
        out->row = old != NULL ? old : json_object_get(ch, "key");
    return 0;
}

uint64_t rcx_rec_resume_lsn(const json_t *rec)
{
    const json_t *holder = rcx_rec_kind(rec) == RCX_REC_CALL ? json_object_get(rec, "db") : rec;
    const char *s = json_string_value(json_object_get(holder, "resume_lsn"));
    uint64_t lsn = 0;
    if (s != NULL && rcx_lsn_parse(s, &lsn) != 0)
        lsn = 0;
    return lsn;
}
