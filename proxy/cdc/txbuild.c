/* proxy/cdc/txbuild.c: see txbuild.h. */
#include "txbuild.h"

#include "../../common/capture.h"
#include "../../common/jsonw.h"
#include "values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void recap_pg_time(int64_t pg_us, char out[32])
{
    int64_t secs = pg_us / 1000000, us = pg_us % 1000000;
    if (us < 0) {
        us += 1000000;
        secs--;
    }
    struct timespec ts = {.tv_sec = (time_t)(secs + RECAP_PG_EPOCH_UNIX), .tv_nsec = (long)us * 1000};
    rcx_format_time(&ts, out);
}

void recap_txbuild_init(recap_txbuild_t *tb, const recap_txbuild_opts_t *opts)
{
    *tb = (recap_txbuild_t){.opts = *opts};
    rcx_buf_init(&tb->changes, SIZE_MAX);
    rcx_buf_init(&tb->scratch, SIZE_MAX);
}

static void reset(recap_txbuild_t *tb)
{
    for (size_t i = 0; i < tb->ntables; i++)
        free(tb->tables[i].name);
    tb->ntables = 0;
    free(tb->tag);
    tb->tag = NULL;
    tb->changes.len = 0;
    tb->nchanges = tb->nimages = 0;
    tb->images_truncated = false;
    tb->in_tx = false;
    if (tb->changes.cap > 4 * 1024 * 1024) /* give back what one huge transaction took */
        rcx_buf_free(&tb->changes);
}

void recap_txbuild_dispose(recap_txbuild_t *tb)
{
    reset(tb);
    free(tb->tables);
    rcx_buf_free(&tb->changes);
    rcx_buf_free(&tb->scratch);
}

bool recap_txbuild_in_tx(const recap_txbuild_t *tb)
{
    return tb->in_tx;
}

void recap_txbuild_abort(recap_txbuild_t *tb)
{
    reset(tb);
}

int recap_txbuild_begin(recap_txbuild_t *tb, const recap_pgo_msg_t *m, rcx_err_t *err)
{
    int rc = 0;
    if (tb->in_tx) {
        rcx_err_set(err, "replication: Begin of xid %u inside xid %u (the previous one is dropped)",
                    m->u.begin.xid, tb->xid);
        reset(tb);
        rc = -1;
    }
    tb->in_tx = true;
    tb->xid = m->u.begin.xid;
    tb->final_lsn = m->u.begin.final_lsn;
    tb->commit_ts = m->u.begin.commit_ts;
    return rc;
}

static recap_table_count_t *count_for(recap_txbuild_t *tb, const recap_rel_t *rel)
{
    for (size_t i = 0; i < tb->ntables; i++) {
        const char *n = tb->tables[i].name;
        size_t sl = strlen(rel->nspname);
        if (strncmp(n, rel->nspname, sl) == 0 && n[sl] == '.' && strcmp(n + sl + 1, rel->relname) == 0)
            return &tb->tables[i];
    }
    if (tb->ntables == tb->tables_cap) {
        tb->tables_cap = tb->tables_cap ? tb->tables_cap * 2 : 8;
        tb->tables = rcx_xrealloc(tb->tables, sizeof(*tb->tables) * tb->tables_cap);
    }
    recap_table_count_t *t = &tb->tables[tb->ntables++];
    size_t len = strlen(rel->nspname) + strlen(rel->relname) + 2;
    *t = (recap_table_count_t){.name = rcx_xmalloc(len)};
    snprintf(t->name, len, "%s.%s", rel->nspname, rel->relname);
    return t;
}

static bool same_value(const recap_pgo_col_t *a, const recap_pgo_col_t *b)
{
    if (b->kind == 'u')
        return true; /* unchanged TOAST is unchanged */
    if (a->kind != b->kind)
        return false;
    return a->kind == 'n' || (a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

/* A row image; key_only keeps the replica identity columns (a 'K' tuple). 'u' columns come from
 * `old` when it holds them, else they are listed in *toast. */
static void row_json(rcx_buf_t *b, const recap_rel_t *rel, const recap_pgo_tuple_t *t, bool key_only,
                     const recap_pgo_tuple_t *old, rcx_buf_t *toast)
{
    rcx_buf_append(b, "{", 1);
    bool first = true;
    for (uint16_t i = 0; i < t->ncols; i++) {
        if (key_only && !rel->cols[i].key)
            continue;
        const recap_pgo_col_t *c = &t->cols[i];
        if (c->kind == 'u') {
            if (old != NULL && i < old->ncols && old->cols[i].kind != 'u')
                c = &old->cols[i];
            else {
                if (toast->len > 0)
                    rcx_buf_append(toast, ",", 1);
                rcx_jw_string_lenient(toast, rel->cols[i].name, strlen(rel->cols[i].name));
                continue;
            }
        }
        if (!first)
            rcx_buf_append(b, ",", 1);
        first = false;
        rcx_jw_string_lenient(b, rel->cols[i].name, strlen(rel->cols[i].name));
        rcx_buf_append(b, ":", 1);
        if (c->kind == 'n')
            rcx_buf_append(b, "null", 4);
        else if (c->kind == 'b')
            rcx_jw_base64(b, (const char *)c->data, c->len);
        else
            recap_cdc_value_json(b, rel->cols[i].typoid, (const char *)c->data, c->len);
    }
    rcx_buf_append(b, "}", 1);
}

static bool keep_image(recap_txbuild_t *tb)
{
    if (tb->images_truncated)
        return false;
    if (tb->nimages >= tb->opts.max_rows || tb->changes.len >= tb->opts.max_bytes) {
        tb->images_truncated = true;
        return false;
    }
    return true;
}

static void change_head(recap_txbuild_t *tb, const char *op, const recap_rel_t *rel)
{
    rcx_buf_t *b = &tb->changes;
    if (tb->nimages++ > 0)
        rcx_buf_append(b, ",", 1);
    rcx_buf_append(b, "{\"op\":", 6);
    rcx_jw_string(b, op, strlen(op));
    rcx_jw_key(b, "schema", false);
    rcx_jw_string_lenient(b, rel->nspname, strlen(rel->nspname));
    rcx_jw_key(b, "table", false);
    rcx_jw_string_lenient(b, rel->relname, strlen(rel->relname));
}

int recap_txbuild_change(recap_txbuild_t *tb, const recap_rel_t *rel, const recap_pgo_msg_t *m,
                         rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: %c change outside a transaction", m->type);
        return -1;
    }
    if (rel == NULL) {
        rcx_err_set(err, "replication: change to relation %u before its Relation message", m->u.change.relid);
        return -1;
    }
    const recap_pgo_tuple_t *nt = &m->u.change.new_tuple, *ot = &m->u.change.old_tuple;
    if ((m->type != 'D' && nt->ncols != rel->ncols) || (m->u.change.old_kind && ot->ncols != rel->ncols)) {
        rcx_err_set(err, "replication: %s.%s has %u columns, a change carries %u", rel->nspname, rel->relname,
                    rel->ncols, m->type != 'D' ? nt->ncols : ot->ncols);
        return -1;
    }
    recap_table_count_t *count = count_for(tb, rel);
    tb->nchanges++;
    const char *op = m->type == 'I' ? "insert" : m->type == 'U' ? "update" : "delete";
    if (m->type == 'I')
        count->insert++;
    else if (m->type == 'U')
        count->update++;
    else
        count->delete ++;
    if (!keep_image(tb))
        return 0;

    rcx_buf_t *b = &tb->changes;
    rcx_buf_t *toast = &tb->scratch;
    toast->len = 0;
    change_head(tb, op, rel);
    bool full_old = m->u.change.old_kind == 'O';
    if (m->u.change.old_kind) {
        rcx_jw_key(b, full_old ? "old" : "key", false);
        row_json(b, rel, ot, !full_old, NULL, toast);
    }
    if (m->type != 'D') {
        rcx_jw_key(b, "new", false);
        row_json(b, rel, nt, false, full_old ? ot : NULL, toast);
    }
    if (m->type == 'U' && full_old) {
        rcx_jw_key(b, "changed", false);
        rcx_buf_append(b, "[", 1);
        bool first = true;
        for (uint16_t i = 0; i < rel->ncols; i++) {
            if (same_value(&ot->cols[i], &nt->cols[i]))
                continue;
            if (!first)
                rcx_buf_append(b, ",", 1);
            first = false;
            rcx_jw_string_lenient(b, rel->cols[i].name, strlen(rel->cols[i].name));
        }
        rcx_buf_append(b, "]", 1);
    }
    if (toast->len > 0) {
        rcx_jw_key(b, "toast_unchanged", false);
        rcx_buf_append(b, "[", 1);
        rcx_buf_append(b, toast->base, toast->len);
        rcx_buf_append(b, "]", 1);
    }
    if (m->type != 'I') {
        rcx_jw_key(b, "old_image", false);
        const char *img = full_old ? "full" : m->u.change.old_kind == 'K' ? "key" : "none";
        rcx_jw_string(b, img, strlen(img));
    }
    rcx_buf_append(b, "}", 1);
    return 0;
}

int recap_txbuild_truncate(recap_txbuild_t *tb, const recap_relcache_t *rc, const recap_pgo_msg_t *m,
                           rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: Truncate outside a transaction");
        return -1;
    }
    for (uint32_t i = 0; i < m->u.truncate.nrels; i++) {
        uint32_t relid = recap_pgo_truncate_relid(m, i);
        const recap_rel_t *rel = recap_relcache_get(rc, relid);
        if (rel == NULL) {
            rcx_err_set(err, "replication: Truncate of relation %u before its Relation message", relid);
            return -1;
        }
        count_for(tb, rel)->truncate++;
        tb->nchanges++;
        if (!keep_image(tb))
            continue;
        change_head(tb, "truncate", rel);
        rcx_jw_key(&tb->changes, "cascade", false);
        rcx_jw_bool(&tb->changes, (m->u.truncate.options & 1) != 0);
        rcx_jw_key(&tb->changes, "restart_identity", false);
        rcx_jw_bool(&tb->changes, (m->u.truncate.options & 2) != 0);
        rcx_buf_append(&tb->changes, "}", 1);
    }
    return 0;
}

int recap_txbuild_message(recap_txbuild_t *tb, const recap_pgo_msg_t *m, rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: transactional message outside a transaction");
        return -1;
    }
    if (tb->tag == NULL && strcmp(m->u.message.prefix, "recap.request") == 0)
        tb->tag = rcx_xstrndup((const char *)m->u.message.content, m->u.message.len);
    return 0;
}

static void lsn(rcx_buf_t *b, const char *key, uint64_t v)
{
    char s[24];
    recap_pgo_format_lsn(v, s);
    rcx_jw_key(b, key, false);
    rcx_jw_string(b, s, strlen(s));
}

int recap_txbuild_commit(recap_txbuild_t *tb, const recap_pgo_msg_t *m, rcx_buf_t *out, rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: Commit outside a transaction");
        return -1;
    }
    if (m->u.commit.commit_lsn != tb->final_lsn) {
        char a[24], c[24];
        recap_pgo_format_lsn(tb->final_lsn, a);
        recap_pgo_format_lsn(m->u.commit.commit_lsn, c);
        rcx_err_set(err, "replication: Commit at %s does not match its Begin (%s)", c, a);
        reset(tb);
        return -1;
    }
    char when[32];
    recap_pg_time(m->u.commit.commit_ts, when);
    rcx_buf_append(out, "{\"type\":\"tx\"", 12);
    rcx_jw_key(out, "xid", false);
    rcx_jw_int(out, tb->xid);
    lsn(out, "commit_lsn", m->u.commit.commit_lsn);
    lsn(out, "end_lsn", m->u.commit.end_lsn);
    rcx_jw_key(out, "commit_time", false);
    rcx_jw_string(out, when, strlen(when));
    rcx_jw_key(out, "tag", false);
    if (tb->tag != NULL)
        rcx_jw_string_lenient(out, tb->tag, strlen(tb->tag));
    else
        rcx_buf_append(out, "null", 4);
    rcx_jw_key(out, "tables", false);
    rcx_buf_append(out, "{", 1);
    for (size_t i = 0; i < tb->ntables; i++) {
        const recap_table_count_t *t = &tb->tables[i];
        if (i > 0) /* names come from the server: written leniently, whatever their bytes */
            rcx_buf_append(out, ",", 1);
        rcx_jw_string_lenient(out, t->name, strlen(t->name));
        rcx_buf_append(out, ":", 1);
        char counts[160];
        int n = snprintf(counts, sizeof(counts),
                         "{\"insert\":%llu,\"update\":%llu,\"delete\":%llu,\"truncate\":%llu}",
                         (unsigned long long)t->insert, (unsigned long long)t->update,
                         (unsigned long long)t->delete, (unsigned long long)t->truncate);
        rcx_buf_append(out, counts, (size_t)n);
    }
    rcx_buf_append(out, "}", 1);
    rcx_jw_key(out, "changes_total", false);
    rcx_jw_int(out, (int64_t)tb->nchanges);
    rcx_jw_key(out, "images_truncated", false);
    rcx_jw_bool(out, tb->images_truncated);
    rcx_jw_key(out, "changes", false);
    rcx_buf_append(out, "[", 1);
    rcx_buf_append(out, tb->changes.base, tb->changes.len);
    rcx_buf_append(out, "]}", 2);
    reset(tb);
    return 0;
}

int recap_txbuild_apply(recap_txbuild_t *tb, recap_relcache_t *rc, const recap_pgo_msg_t *m, rcx_buf_t *out,
                        rcx_err_t *err)
{
    switch (m->type) {
    case 'B':
        return recap_txbuild_begin(tb, m, err);
    case 'R':
        recap_relcache_put(rc, m);
        return 0;
    case 'I':
    case 'U':
    case 'D':
        return recap_txbuild_change(tb, recap_relcache_get(rc, m->u.change.relid), m, err);
    case 'T':
        return recap_txbuild_truncate(tb, rc, m, err);
    case 'M':
        return (m->u.message.flags & 1) ? recap_txbuild_message(tb, m, err) : 0;
    case 'C':
        return recap_txbuild_commit(tb, m, out, err) == 0 ? 1 : -1;
    default: /* 'O' origin, 'Y' type: nothing to record */
        return 0;
    }
}
