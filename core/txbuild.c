/* core/txbuild.c: see txbuild.h. */
#include "core/txbuild.h"

#include "common/capture.h"
#include "common/jsonw.h"
#include "common/lsn.h"
#include "core/secret.h"
#include "core/values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void core_pg_time(int64_t pg_us, char out[32])
{
    int64_t secs = pg_us / 1000000, us = pg_us % 1000000;
    if (us < 0) {
        us += 1000000;
        secs--;
    }
    struct timespec ts = {.tv_sec = (time_t)(secs + CORE_PG_EPOCH_UNIX), .tv_nsec = (long)us * 1000};
    rcx_format_time(&ts, out);
}

void core_txbuild_init(core_txbuild_t *tb, const core_txbuild_opts_t *opts)
{
    *tb = (core_txbuild_t){.opts = *opts};
    rcx_buf_init(&tb->changes, SIZE_MAX);
    rcx_buf_init(&tb->scratch, SIZE_MAX);
}

static void reset(core_txbuild_t *tb)
{
    for (size_t i = 0; i < tb->ntables; i++)
        free(tb->tables[i].name);
    tb->ntables = 0;
    free(tb->tag);
    tb->tag = NULL;
    tb->rewind = false;
    free(tb->test);
    tb->test = NULL;
    rcx_buf_reset(&tb->changes);
    tb->nchanges = tb->nimages = 0;
    tb->images_truncated = false;
    tb->in_tx = false;
    if (tb->changes.cap > 4 * 1024 * 1024) /* give back what one huge transaction took */
        rcx_buf_free(&tb->changes);
}

void core_txbuild_dispose(core_txbuild_t *tb)
{
    reset(tb);
    free(tb->tables);
    rcx_buf_free(&tb->changes);
    rcx_buf_free(&tb->scratch);
}

bool core_txbuild_in_tx(const core_txbuild_t *tb)
{
    return tb->in_tx;
}

void core_txbuild_abort(core_txbuild_t *tb)
{
    reset(tb);
}

int core_txbuild_begin(core_txbuild_t *tb, const core_pgo_msg_t *m, rcx_err_t *err)
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

static core_table_count_t *count_for(core_txbuild_t *tb, const core_rel_t *rel)
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
    core_table_count_t *t = &tb->tables[tb->ntables++];
    size_t len = strlen(rel->nspname) + strlen(rel->relname) + 2;
    *t = (core_table_count_t){.name = rcx_xmalloc(len)};
    snprintf(t->name, len, "%s.%s", rel->nspname, rel->relname);
    return t;
}

static bool same_value(const core_pgo_col_t *a, const core_pgo_col_t *b)
{
    if (b->kind == CORE_PGO_COL_UNCHANGED)
        return true; /* unchanged TOAST is unchanged */
    if (a->kind != b->kind)
        return false;
    return a->kind == CORE_PGO_COL_NULL || (a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

/* A row image; key_only keeps the replica identity columns (a 'K' tuple). 'u' columns come from
 * `old` when it holds them, else they are listed in *toast. */
static bool secret_column(const core_txbuild_opts_t *o, const char *name)
{
    for (const char *const *c = o->redact_columns; c != NULL && *c != NULL; c++)
        if (strcasecmp(*c, name) == 0)
            return true;
    return o->redact_defaults && core_secret_name(name, strlen(name));
}

static void row_json(rcx_buf_t *b, const core_txbuild_opts_t *o, const core_rel_t *rel,
                     const core_pgo_tuple_t *t, bool key_only, const core_pgo_tuple_t *old, rcx_buf_t *toast)
{
    rcx_buf_puts(b, "{");
    bool first = true;
    for (uint16_t i = 0; i < t->ncols; i++) {
        if (key_only && !rel->cols[i].key)
            continue;
        const core_pgo_col_t *c = &t->cols[i];
        if (c->kind == CORE_PGO_COL_UNCHANGED) {
            if (old != NULL && i < old->ncols && old->cols[i].kind != CORE_PGO_COL_UNCHANGED)
                c = &old->cols[i];
            else {
                if (toast->len > 0)
                    rcx_buf_puts(toast, ",");
                rcx_jw_string_lenient(toast, rel->cols[i].name, strlen(rel->cols[i].name));
                continue;
            }
        }
        if (!first)
            rcx_buf_puts(b, ",");
        first = false;
        rcx_jw_string_lenient(b, rel->cols[i].name, strlen(rel->cols[i].name));
        rcx_buf_puts(b, ":");
        if (c->kind == CORE_PGO_COL_NULL)
            rcx_buf_puts(b, "null");
        else if (secret_column(o, rel->cols[i].name))
            rcx_buf_puts(b, "\"[REDACTED]\"");
        else if (c->kind == CORE_PGO_COL_BINARY)
            rcx_jw_base64(b, (const char *)c->data, c->len);
        else
            core_value_json(b, rel->cols[i].typoid, (const char *)c->data, c->len);
    }
    rcx_buf_puts(b, "}");
}

static bool keep_image(core_txbuild_t *tb)
{
    if (tb->images_truncated)
        return false;
    if (tb->nimages >= tb->opts.max_rows || tb->changes.len >= tb->opts.max_bytes) {
        tb->images_truncated = true;
        return false;
    }
    return true;
}

/* The replica identity's columns (the primary key, as Postgres says): where the tools learn which values an
 * insert made, rather than guessing from names. Nothing when the table has none. */
static void identity_json(rcx_buf_t *b, const core_rel_t *rel)
{
    bool first = true;
    for (uint16_t i = 0; i < rel->ncols; i++) {
        if (!rel->cols[i].key)
            continue;
        if (first)
            rcx_jw_key(b, "identity", false);
        rcx_buf_puts(b, first ? "[" : ",");
        first = false;
        rcx_jw_string_lenient(b, rel->cols[i].name, strlen(rel->cols[i].name));
    }
    if (!first)
        rcx_buf_puts(b, "]");
}

static void change_head(core_txbuild_t *tb, const char *op, const core_rel_t *rel)
{
    rcx_buf_t *b = &tb->changes;
    if (tb->nimages++ > 0)
        rcx_buf_puts(b, ",");
    rcx_buf_puts(b, "{\"op\":");
    rcx_jw_string(b, op, strlen(op));
    rcx_jw_key(b, "schema", false);
    rcx_jw_string_lenient(b, rel->nspname, strlen(rel->nspname));
    rcx_jw_key(b, "table", false);
    rcx_jw_string_lenient(b, rel->relname, strlen(rel->relname));
}

int core_txbuild_change(core_txbuild_t *tb, const core_rel_t *rel, const core_pgo_msg_t *m, rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: %c change outside a transaction", m->type);
        return -1;
    }
    if (rel == NULL) {
        rcx_err_set(err, "replication: change to relation %u before its Relation message", m->u.change.relid);
        return -1;
    }
    const core_pgo_tuple_t *nt = &m->u.change.new_tuple, *ot = &m->u.change.old_tuple;
    if ((m->type != CORE_PGO_DELETE && nt->ncols != rel->ncols) ||
        (m->u.change.old_kind && ot->ncols != rel->ncols)) {
        rcx_err_set(err, "replication: %s.%s has %u columns, a change carries %u", rel->nspname, rel->relname,
                    rel->ncols, m->type != CORE_PGO_DELETE ? nt->ncols : ot->ncols);
        return -1;
    }
    core_table_count_t *count = count_for(tb, rel);
    tb->nchanges++;
    const char *op = m->type == CORE_PGO_INSERT ? "insert" : m->type == CORE_PGO_UPDATE ? "update" : "delete";
    if (m->type == CORE_PGO_INSERT)
        count->insert++;
    else if (m->type == CORE_PGO_UPDATE)
        count->update++;
    else
        count->delete ++;
    if (!keep_image(tb))
        return 0;

    rcx_buf_t *b = &tb->changes;
    rcx_buf_t *toast = &tb->scratch;
    rcx_buf_reset(toast);
    change_head(tb, op, rel);
    bool full_old = m->u.change.old_kind == CORE_PGO_TUPLE_OLD;
    if (m->u.change.old_kind) {
        rcx_jw_key(b, full_old ? "old" : "key", false);
        row_json(b, &tb->opts, rel, ot, !full_old, NULL, toast);
    }
    if (m->type != CORE_PGO_DELETE) {
        rcx_jw_key(b, "new", false);
        row_json(b, &tb->opts, rel, nt, false, full_old ? ot : NULL, toast);
    }
    if (m->type == CORE_PGO_INSERT)
        identity_json(b, rel);
    if (m->type == CORE_PGO_UPDATE && full_old) {
        rcx_jw_key(b, "changed", false);
        rcx_buf_puts(b, "[");
        bool first = true;
        for (uint16_t i = 0; i < rel->ncols; i++) {
            if (same_value(&ot->cols[i], &nt->cols[i]))
                continue;
            if (!first)
                rcx_buf_puts(b, ",");
            first = false;
            rcx_jw_string_lenient(b, rel->cols[i].name, strlen(rel->cols[i].name));
        }
        rcx_buf_puts(b, "]");
    }
    if (toast->len > 0) {
        rcx_jw_key(b, "toast_unchanged", false);
        rcx_buf_puts(b, "[");
        rcx_buf_append(b, toast->base, toast->len);
        rcx_buf_puts(b, "]");
    }
    if (m->type != CORE_PGO_INSERT) {
        rcx_jw_key(b, "old_image", false);
        const char *img = full_old ? "full" : m->u.change.old_kind == CORE_PGO_TUPLE_KEY ? "key" : "none";
        rcx_jw_string(b, img, strlen(img));
    }
    rcx_buf_puts(b, "}");
    return 0;
}

int core_txbuild_truncate(core_txbuild_t *tb, const core_relcache_t *rc, const core_pgo_msg_t *m,
                          rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: Truncate outside a transaction");
        return -1;
    }
    for (uint32_t i = 0; i < m->u.truncate.nrels; i++) {
        uint32_t relid = core_pgo_truncate_relid(m, i);
        const core_rel_t *rel = core_relcache_get(rc, relid);
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
        rcx_jw_bool(&tb->changes, (m->u.truncate.options & CORE_PGO_TRUNCATE_CASCADE) != 0);
        rcx_jw_key(&tb->changes, "restart_identity", false);
        rcx_jw_bool(&tb->changes, (m->u.truncate.options & CORE_PGO_TRUNCATE_RESTART_IDENTITY) != 0);
        rcx_buf_puts(&tb->changes, "}");
    }
    return 0;
}

int core_txbuild_message(core_txbuild_t *tb, const core_pgo_msg_t *m, rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: transactional message outside a transaction");
        return -1;
    }
    if (tb->tag == NULL && strcmp(m->u.message.prefix, "recap.request") == 0)
        tb->tag = rcx_xstrndup((const char *)m->u.message.content, m->u.message.len);
    tb->rewind |= strcmp(m->u.message.prefix, "recap.rewind") == 0;
    if (tb->test == NULL && strcmp(m->u.message.prefix, "recap.test") == 0)
        tb->test = rcx_xstrndup((const char *)m->u.message.content, m->u.message.len);
    return 0;
}

static void lsn(rcx_buf_t *b, const char *key, uint64_t v)
{
    char s[24];
    rcx_lsn_format(v, s);
    rcx_jw_key(b, key, false);
    rcx_jw_string(b, s, strlen(s));
}

int core_txbuild_commit(core_txbuild_t *tb, const core_pgo_msg_t *m, rcx_buf_t *out, rcx_err_t *err)
{
    if (!tb->in_tx) {
        rcx_err_set(err, "replication: Commit outside a transaction");
        return -1;
    }
    if (m->u.commit.commit_lsn != tb->final_lsn) {
        char a[24], c[24];
        rcx_lsn_format(tb->final_lsn, a);
        rcx_lsn_format(m->u.commit.commit_lsn, c);
        rcx_err_set(err, "replication: Commit at %s does not match its Begin (%s)", c, a);
        reset(tb);
        return -1;
    }
    char when[32];
    core_pg_time(m->u.commit.commit_ts, when);
    rcx_buf_puts(out, "{");
    rcx_jw_key(out, "xid", true);
    rcx_jw_int(out, tb->xid);
    lsn(out, "commit_lsn", m->u.commit.commit_lsn);
    lsn(out, "end_lsn", m->u.commit.end_lsn);
    rcx_jw_key(out, "commit_time", false);
    rcx_jw_string(out, when, strlen(when));
    rcx_jw_key(out, "tag", false);
    if (tb->tag != NULL)
        rcx_jw_string_lenient(out, tb->tag, strlen(tb->tag));
    else
        rcx_buf_puts(out, "null");
    rcx_jw_key(out, "tables", false);
    rcx_buf_puts(out, "{");
    for (size_t i = 0; i < tb->ntables; i++) {
        const core_table_count_t *t = &tb->tables[i];
        if (i > 0) /* names come from the server: written leniently, whatever their bytes */
            rcx_buf_puts(out, ",");
        rcx_jw_string_lenient(out, t->name, strlen(t->name));
        rcx_buf_puts(out, ":");
        char counts[160];
        int n = snprintf(counts, sizeof(counts),
                         "{\"insert\":%llu,\"update\":%llu,\"delete\":%llu,\"truncate\":%llu}",
                         (unsigned long long)t->insert, (unsigned long long)t->update,
                         (unsigned long long)t->delete, (unsigned long long)t->truncate);
        rcx_buf_append(out, counts, (size_t)n);
    }
    rcx_buf_puts(out, "}");
    rcx_jw_key(out, "changes_total", false);
    rcx_jw_int(out, (int64_t)tb->nchanges);
    rcx_jw_key(out, "images_truncated", false);
    rcx_jw_bool(out, tb->images_truncated);
    rcx_jw_key(out, "changes", false);
    rcx_buf_puts(out, "[");
    rcx_buf_append(out, tb->changes.base, tb->changes.len);
    rcx_buf_puts(out, "]}");
    reset(tb);
    return 0;
}

int core_txbuild_apply(core_txbuild_t *tb, core_relcache_t *rc, const core_pgo_msg_t *m, rcx_buf_t *out,
                       rcx_err_t *err)
{
    switch (m->type) {
    case CORE_PGO_BEGIN:
        return core_txbuild_begin(tb, m, err);
    case CORE_PGO_RELATION:
        core_relcache_put(rc, m);
        return 0;
    case CORE_PGO_INSERT:
    case CORE_PGO_UPDATE:
    case CORE_PGO_DELETE:
        return core_txbuild_change(tb, core_relcache_get(rc, m->u.change.relid), m, err);
    case CORE_PGO_TRUNCATE:
        return core_txbuild_truncate(tb, rc, m, err);
    case CORE_PGO_MESSAGE:
        return (m->u.message.flags & CORE_PGO_MESSAGE_TRANSACTIONAL) ? core_txbuild_message(tb, m, err) : 0;
    case CORE_PGO_COMMIT:
        return core_txbuild_commit(tb, m, out, err) == 0 ? 1 : -1;
    default: /* 'O' origin, 'Y' type: nothing to record */
        return 0;
    }
}
