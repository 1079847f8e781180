/* proxy/rewind.c: see rewind.h. */
#include "proxy/rewind.h"

#include "common/buf.h"
#include "common/log.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct recap_rewind_job {
    h2o_multithread_message_t super; /* first: the receiver gets this pointer */
    recap_rewinder_t *rw;
    struct recap_rewind_job *next; /* queue */
    char *test;
    core_rw_plan_t plan;
    recap_rewind_done_cb done;
    void *ctx;
    bool cancelled; /* loop only */
    int status;
    char *body;
};

struct recap_rewinder {
    char *url;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    recap_rewind_job_t *head, **tail; /* under lock */
    bool stopping;                    /* under lock */
    PGconn *conn;                     /* worker only */
    _Atomic uint64_t done;
};

/* One table's columns, as the catalog says now. */
typedef struct table_meta {
    char *schema, *table;
    core_rw_column_t *cols;
    char **owned; /* names and types */
    size_t ncols;
} table_meta_t;

static void set_error(recap_rewind_job_t *job, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(recap_rewind_job_t *job, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = rcx_xvasprintf(fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s, s:s?}", "error", msg, "test", job->test);
    job->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    job->status = status;
    free(msg);
}

/* The first line of libpq's message. */
static const char *first_line(const char *msg, int *len)
{
    *len = (int)strcspn(msg, "\n");
    return msg;
}

static bool connected(recap_rewinder_t *rw, recap_rewind_job_t *job)
{
    if (rw->conn != NULL && PQstatus(rw->conn) == CONNECTION_OK)
        return true;
    PQfinish(rw->conn);
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {rw->url, "recap rewind", NULL};
    rw->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(rw->conn) == CONNECTION_OK)
        return true;
    int n;
    const char *m = first_line(PQerrorMessage(rw->conn), &n);
    set_error(job, 503, "rewind: cannot connect to the database: %.*s", n, m);
    PQfinish(rw->conn);
    rw->conn = NULL;
    return false;
}

/* Runs sql (with params); true when it succeeded, else the job's error says what failed. */
static bool exec(recap_rewinder_t *rw, recap_rewind_job_t *job, const char *what, const char *sql, int np,
                 const char *const *params, PGresult **keep)
{
    PGresult *r = PQexecParams(rw->conn, sql, np, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (keep != NULL)
            *keep = r;
        else
            PQclear(r);
        return true;
    }
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int n;
    const char *m = first_line(PQresultErrorMessage(r), &n);
    if (code != NULL && strcmp(code, "42501") == 0 && strstr(sql, "session_replication_role") != NULL)
        set_error(
            job, 409,
            "rewind needs to turn triggers and foreign-key checks off (session_replication_role), which "
            "takes a superuser: connect recap as one, or GRANT SET ON PARAMETER session_replication_role "
            "TO the role recap connects as (PostgreSQL 15): %.*s",
            n, m);
    else
        set_error(job, PQstatus(rw->conn) == CONNECTION_OK ? 409 : 503, "rewind: %s: %.*s", what, n, m);
    PQclear(r);
    return false;
}

static const table_meta_t *meta_for(recap_rewinder_t *rw, recap_rewind_job_t *job, table_meta_t **metas,
                                    size_t *nmetas, const core_rw_step_t *st)
{
    for (size_t i = 0; i < *nmetas; i++)
        if (strcmp((*metas)[i].schema, st->schema) == 0 && strcmp((*metas)[i].table, st->table) == 0)
            return &(*metas)[i];
    const char *params[] = {st->schema, st->table};
    PGresult *r = NULL;
    if (!exec(rw, job, "reading the table's columns",
              "SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(a.attnum = ANY(i.indkey), "
              "false),"
              " a.attgenerated <> '' FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND "
              "i.indisprimary WHERE a.attrelid = to_regclass(quote_ident($1) || '.' || quote_ident($2)) AND "
              "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
              2, params, &r))
        return NULL;
    size_t n = (size_t)PQntuples(r);
    if (n == 0) {
        PQclear(r);
        set_error(job, 409, "rewind: table %s.%s is not there any more", st->schema, st->table);
        return NULL;
    }
    *metas = rcx_xrealloc(*metas, sizeof(**metas) * (*nmetas + 1));
    table_meta_t *m = &(*metas)[(*nmetas)++];
    *m = (table_meta_t){.schema = rcx_xstrdup(st->schema),
                        .table = rcx_xstrdup(st->table),
                        .cols = rcx_xcalloc(n, sizeof(*m->cols)),
                        .owned = rcx_xcalloc(2 * n, sizeof(char *)),
                        .ncols = n};
    for (size_t i = 0; i < n; i++) {
        m->owned[2 * i] = rcx_xstrdup(PQgetvalue(r, (int)i, 0));
        m->owned[2 * i + 1] = rcx_xstrdup(PQgetvalue(r, (int)i, 1));
        m->cols[i] = (core_rw_column_t){.name = m->owned[2 * i],
                                        .type = m->owned[2 * i + 1],
                                        .pk = PQgetvalue(r, (int)i, 2)[0] == 't',
                                        .generated = PQgetvalue(r, (int)i, 3)[0] == 't'};
    }
    PQclear(r);
    return m;
}

static void free_metas(table_meta_t *metas, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < 2 * metas[i].ncols; k++)
            free(metas[i].owned[k]);
        free(metas[i].owned);
        free(metas[i].cols);
        free(metas[i].schema);
        free(metas[i].table);
    }
    free(metas);
}

/* "id=5" or "id=5, name=acme": how a row is named in an error. */
static void describe_row(const core_rw_step_t *st, char *out, size_t n)
{
    const core_rw_col_t *c = st->kind == CORE_RW_INSERT ? st->put : st->now;
    size_t nc = st->kind == CORE_RW_INSERT ? st->nput : st->nnow, o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < nc && i < 3 && o < n; i++)
        o += (size_t)snprintf(out + o, n - o, "%s%s=%.40s", i ? ", " : "", c[i].name,
                              c[i].value ? c[i].value : "NULL");
}

/* Runs every step; the counts go to tables ({"public.t": {"deleted": 1, ...}}). */
static bool run_steps(recap_rewinder_t *rw, recap_rewind_job_t *job, json_t *tables)
{
    table_meta_t *metas = NULL;
    size_t nmetas = 0;
    bool ok = true;
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    for (size_t i = 0; i < job->plan.n && ok; i++) {
        const core_rw_step_t *st = &job->plan.steps[i];
        const table_meta_t *m = meta_for(rw, job, &metas, &nmetas, st);
        if (m == NULL) {
            ok = false;
            break;
        }
        const char **params = rcx_xcalloc(2 * (st->nnow + st->nput) + 1, sizeof(*params));
        size_t np = 0;
        rcx_err_t err = {{0}};
        core_rw_table_t meta = {m->cols, m->ncols};
        rcx_buf_reset(&sql);
        PGresult *r = NULL;
        char row[200], what[400];
        describe_row(st, row, sizeof(row));
        snprintf(what, sizeof(what), "%s.%s (%s)", st->schema, st->table, row);
        if (core_rewind_sql(st, &meta, &sql, params, &np, &err) != 0) {
            set_error(job, 409, "rewind: %s", err.msg);
            ok = false;
        } else {
            rcx_buf_append(&sql, "", 1);
            ok = exec(rw, job, what, sql.base, (int)np, params, &r);
        }
        if (ok && strcmp(PQcmdTuples(r), "1") != 0 && strcmp(sql.base, "SELECT 1") != 0) {
            set_error(job, 409,
                      "rewind: the row %s is not as the test left it (%s rows match): something else "
                      "changed it since",
                      what, PQcmdTuples(r)[0] ? PQcmdTuples(r) : "0");
            ok = false;
        }
        PQclear(r);
        free(params);
        if (ok) {
            char name[300];
            snprintf(name, sizeof(name), "%s.%s", st->schema, st->table);
            json_t *t = json_object_get(tables, name);
            if (t == NULL)
                json_object_set_new(
                    tables, name,
                    t = json_pack("{s:i, s:i, s:i}", "deleted", 0, "updated", 0, "inserted", 0));
            const char *k = st->kind == CORE_RW_DELETE   ? "deleted"
                            : st->kind == CORE_RW_UPDATE ? "updated"
                                                         : "inserted";
            json_object_set_new(t, k, json_integer(json_integer_value(json_object_get(t, k)) + 1));
        }
    }
    rcx_buf_free(&sql);
    free_metas(metas, nmetas);
    return ok;
}

static void run(recap_rewinder_t *rw, recap_rewind_job_t *job)
{
    if (!connected(rw, job))
        return;
    const char *test[] = {job->test};
    json_t *tables = json_object();
    bool ok = exec(rw, job, "BEGIN", "BEGIN", 0, NULL, NULL) &&
              exec(rw, job, "turning triggers off", "SET LOCAL session_replication_role = replica", 0, NULL,
                   NULL) &&
              exec(rw, job, "marking the transaction as recap's",
                   "SELECT pg_logical_emit_message(true, 'recap.rewind', $1)", 1, test, NULL) &&
              run_steps(rw, job, tables) && exec(rw, job, "COMMIT", "COMMIT", 0, NULL, NULL);
    if (!ok) {
        PGresult *r = PQexec(rw->conn, "ROLLBACK");
        PQclear(r);
        json_decref(tables);
        return;
    }
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:o}", "test", job->test, "transactions",
                  (json_int_t)job->plan.transactions, "rows", (json_int_t)job->plan.n, "tables", tables);
    job->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    job->status = 200;
    atomic_fetch_add(&rw->done, 1);
}

static void *worker(void *arg)
{
    recap_rewinder_t *rw = arg;
    for (;;) {
        pthread_mutex_lock(&rw->lock);
        while (rw->head == NULL && !rw->stopping)
            pthread_cond_wait(&rw->cond, &rw->lock);
        if (rw->stopping) {
            pthread_mutex_unlock(&rw->lock);
            break;
        }
        recap_rewind_job_t *job = rw->head;
        rw->head = job->next;
        if (rw->head == NULL)
            rw->tail = &rw->head;
        pthread_mutex_unlock(&rw->lock);
        run(rw, job);
        h2o_multithread_send_message(&rw->receiver, &job->super);
    }
    PQfinish(rw->conn);
    return NULL;
}

static void free_job(recap_rewind_job_t *job)
{
    core_rewind_plan_free(&job->plan);
    free(job->test);
    free(job->body);
    free(job);
}

/* Loop: finished jobs. */
static void on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        recap_rewind_job_t *job = H2O_STRUCT_FROM_MEMBER(recap_rewind_job_t, super.link, messages->next);
        h2o_linklist_unlink(&job->super.link);
        if (!job->cancelled)
            job->done(job->ctx, job->status, job->body ? job->body : "{\"error\":\"rewind: no answer\"}");
        free_job(job);
    }
}

recap_rewinder_t *recap_rewinder_new(const char *database_url, h2o_multithread_queue_t *queue)
{
    recap_rewinder_t *rw = rcx_xcalloc(1, sizeof(*rw));
    rw->url = rcx_xstrdup(database_url);
    rw->queue = queue;
    rw->tail = &rw->head;
    pthread_mutex_init(&rw->lock, NULL);
    pthread_cond_init(&rw->cond, NULL);
    h2o_multithread_register_receiver(queue, &rw->receiver, on_done);
    if (pthread_create(&rw->thread, NULL, worker, rw) != 0) {
        rcx_log_error("rewind: cannot start its thread");
        abort();
    }
    return rw;
}

recap_rewind_job_t *recap_rewinder_submit(recap_rewinder_t *rw, const char *test, core_rw_plan_t *plan,
                                          recap_rewind_done_cb done, void *ctx)
{
    recap_rewind_job_t *job = rcx_xcalloc(1, sizeof(*job));
    *job = (recap_rewind_job_t){.rw = rw, .test = rcx_xstrdup(test), .plan = *plan, .done = done, .ctx = ctx};
    *plan = (core_rw_plan_t){0};
    pthread_mutex_lock(&rw->lock);
    *rw->tail = job;
    rw->tail = &job->next;
    pthread_cond_signal(&rw->cond);
    pthread_mutex_unlock(&rw->lock);
    return job;
}

void recap_rewinder_cancel(recap_rewind_job_t *job)
{
    job->cancelled = true;
}

uint64_t recap_rewinder_count(const recap_rewinder_t *rw)
{
    return rw != NULL ? atomic_load(&rw->done) : 0;
}

void recap_rewinder_stop(recap_rewinder_t *rw)
{
    if (rw == NULL)
        return;
    pthread_mutex_lock(&rw->lock);
    rw->stopping = true;
    pthread_cond_signal(&rw->cond);
    pthread_mutex_unlock(&rw->lock);
    pthread_join(rw->thread, NULL);
    for (recap_rewind_job_t *job = rw->head, *next; job != NULL; job = next) {
        next = job->next;
        set_error(job, 503, "rewind: recap is stopping");
        h2o_multithread_send_message(&rw->receiver, &job->super);
    }
    rw->head = NULL;
    rw->tail = &rw->head;
}
