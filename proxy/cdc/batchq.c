/* proxy/cdc/batchq.c: see batchq.h. */
#include "proxy/cdc/batchq.h"

#include "common/buf.h"
#include "common/log.h"
#include "common/lsn.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct recap_batchq {
    char *url, *name, *sql;
    recap_batchq_done_cb on_done;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t requested; /* under lock */
    bool stopping;      /* under lock */
    /* worker only */
    PGconn *conn;
    uint64_t served;
    bool failing; /* the last run failed: said once until one succeeds */
};

static void say_failure(recap_batchq_t *q, const char *what)
{
    if (!q->failing)
        rcx_log_warn("%s query failed: %.*s (calls are recorded as db unavailable until it works)", q->name,
                     (int)strcspn(what, "\n"), what);
    q->failing = true;
}

/* Runs the statement for number n; 0 with the LSN in the first column, -1 on failure. */
static int run_once(recap_batchq_t *q, uint64_t n, uint64_t *lsn)
{
    if (q->conn != NULL && PQstatus(q->conn) != CONNECTION_OK) {
        PQfinish(q->conn);
        q->conn = NULL;
    }
    if (q->conn == NULL) {
        const char *keys[] = {"dbname", "application_name", NULL};
        const char *vals[] = {q->url, "recap", NULL};
        q->conn = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(q->conn) != CONNECTION_OK) {
            say_failure(q, PQerrorMessage(q->conn));
            PQfinish(q->conn);
            q->conn = NULL;
            return -1;
        }
    }
    char num[24], sql[512];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)n);
    size_t o = 0;
    for (const char *p = q->sql; *p && o + sizeof(num) < sizeof(sql); p++) {
        if (p[0] == '%' && p[1] == 'N') {
            o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s", num);
            p++;
        } else {
            sql[o++] = *p;
        }
    }
    sql[o] = '\0';
    PGresult *r = PQexec(q->conn, sql);
    int rc = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
        rcx_lsn_parse(PQgetvalue(r, 0, 0), lsn) == 0) {
        rc = 0;
        if (q->failing)
            rcx_log_info("%s query works again", q->name);
        q->failing = false;
    } else {
        say_failure(q, PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(q->conn));
    }
    PQclear(r);
    return rc;
}

static void *worker(void *arg)
{
    recap_batchq_t *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stopping && q->requested == q->served)
            pthread_cond_wait(&q->cond, &q->lock);
        if (q->stopping)
            break;
        uint64_t upto = q->requested;
        pthread_mutex_unlock(&q->lock);
        uint64_t lsn = 0;
        bool ok = run_once(q, upto, &lsn) == 0;
        q->served = upto;
        q->on_done(q->arg, upto, ok, lsn);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    PQfinish(q->conn);
    q->conn = NULL;
    return NULL;
}

recap_batchq_t *recap_batchq_start(const char *database_url, const char *name, const char *sql,
                                   recap_batchq_done_cb on_done, void *arg, rcx_err_t *err)
{
    recap_batchq_t *q = rcx_xmalloc(sizeof(*q));
    *q = (recap_batchq_t){.url = rcx_xstrdup(database_url),
                          .name = rcx_xstrdup(name),
                          .sql = rcx_xstrdup(sql),
                          .on_done = on_done,
                          .arg = arg};
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    if (pthread_create(&q->thread, NULL, worker, q) != 0) {
        rcx_err_set(err, "cannot start the %s thread", name);
        q->thread = 0;
        recap_batchq_stop(q);
        return NULL;
    }
    return q;
}

uint64_t recap_batchq_request(recap_batchq_t *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t n = ++q->requested;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return n;
}

void recap_batchq_stop(recap_batchq_t *q)
{
    if (q == NULL)
        return;
    if (q->thread) {
        pthread_mutex_lock(&q->lock);
        q->stopping = true;
        pthread_cond_signal(&q->cond);
        pthread_mutex_unlock(&q->lock);
        pthread_join(q->thread, NULL);
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->cond);
    free(q->url);
    free(q->name);
    free(q->sql);
    free(q);
}
