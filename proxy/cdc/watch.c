/* proxy/cdc/watch.c: see watch.h. */
#include "proxy/cdc/watch.h"

#include "common/buf.h"
#include "common/log.h"
#include "proxy/cdc/dbadmin.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct recap_watch {
    char *url, *publication;
    uint64_t interval_ms;
    _Atomic uint64_t *gauge;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping; /* under lock */
    /* the thread's */
    PGconn *conn;
    char **known; /* the tables not watched at the last look */
    size_t nknown;
    bool looked, failing;
};

static bool was_known(const recap_watch_t *w, const char *name)
{
    for (size_t i = 0; i < w->nknown; i++)
        if (strcmp(w->known[i], name) == 0)
            return true;
    return false;
}

static void forget(recap_watch_t *w)
{
    for (size_t i = 0; i < w->nknown; i++)
        free(w->known[i]);
    free(w->known);
    w->known = NULL;
    w->nknown = 0;
}

static PGresult *list(recap_watch_t *w, char *why, size_t whysz)
{
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK) {
        PQfinish(w->conn);
        const char *keys[] = {"dbname", "application_name", NULL};
        const char *vals[] = {w->url, "recap watch", NULL};
        w->conn = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(w->conn) != CONNECTION_OK) {
            snprintf(why, whysz, "%.*s", (int)strcspn(PQerrorMessage(w->conn), "\n"),
                     PQerrorMessage(w->conn));
            return NULL;
        }
    }
    char *lit = PQescapeLiteral(w->conn, w->publication, strlen(w->publication));
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    recap_db_unwatched_sql(&sql, lit);
    PQfreemem(lit);
    PGresult *r = PQexec(w->conn, rcx_buf_cstr(&sql));
    rcx_buf_free(&sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    snprintf(why, whysz, "%.*s", (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
}

/* One look: the tables new since the last one are named, the gauge set. */
static void look(recap_watch_t *w)
{
    char why[256];
    PGresult *r = list(w, why, sizeof(why));
    if (r == NULL) {
        if (!w->failing)
            rcx_log_warn("cdc: cannot list the tables that are not watched: %s (tried again every %llu ms)",
                         why, (unsigned long long)w->interval_ms);
        w->failing = true;
        return;
    }
    w->failing = false;
    size_t n = (size_t)PQntuples(r);
    char **now = rcx_xcalloc(n + 1, sizeof(*now));
    for (size_t i = 0; i < n; i++) {
        now[i] = rcx_xstrdup(PQgetvalue(r, (int)i, 0));
        if (w->looked && !was_known(w, now[i]))
            rcx_log_warn(
                "cdc: table %s appeared and is not watched: its changes are not recorded (run `recap db "
                "setup` again; as a superuser, setup publishes tables as they are created)%s",
                now[i], PQgetvalue(r, (int)i, 1)[0] == 'u' ? " (unlogged: no replication can see it)" : "");
    }
    PQclear(r);
    forget(w);
    w->known = now;
    w->nknown = n;
    w->looked = true;
    atomic_store(w->gauge, (uint64_t)n);
}

static void *run(void *arg)
{
    recap_watch_t *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        pthread_mutex_unlock(&w->lock);
        look(w);
        pthread_mutex_lock(&w->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)(w->interval_ms / 1000);
        until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!w->stopping && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&w->lock);
    PQfinish(w->conn);
    forget(w);
    return NULL;
}

recap_watch_t *recap_watch_start(const char *database_url, const char *publication, uint64_t interval_ms,
                                 _Atomic uint64_t *gauge, rcx_err_t *err)
{
    recap_watch_t *w = rcx_xcalloc(1, sizeof(*w));
    w->url = rcx_xstrdup(database_url);
    w->publication = rcx_xstrdup(publication);
    w->interval_ms = interval_ms ? interval_ms : 1;
    w->gauge = gauge;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        rcx_err_set(err, "cannot start the table watch thread");
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w->url);
        free(w->publication);
        free(w);
        return NULL;
    }
    return w;
}

void recap_watch_stop(recap_watch_t *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w->url);
    free(w->publication);
    free(w);
}
