/* proxy/cdc/stream.c: see stream.h. The loop follows pg_recvlogical's shape. */
#include "proxy/cdc/stream.h"

#include "common/log.h"
#include "common/buf.h"
#include "common/lsn.h"
#include "core/pgoutput.h"
#include "proxy/cdc/dbadmin.h"
#include "core/relcache.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define STATUS_INTERVAL_MS 1000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

struct recap_cdc {
    recap_cdc_opts_t opts;
    recap_cdc_callbacks_t cb;
    pthread_t thread;
    int wake; /* eventfd: stop */
    _Atomic int stopping;
    _Atomic uint64_t durable; /* confirmed by the owner */
    recap_cdc_stats_t stats;
    /* CDC thread only */
    bool said_by_partition; /* warned that partitioned tables come by their partitions' names */
    int said_unwatched; /* how many tables the last warning named (-1: none yet), so it is not said each retry
                         */
    PGconn *conn;
    core_pgo_decoder_t dec;
    core_relcache_t rels;
    core_txbuild_t tx;
    uint64_t delivered; /* end LSN of the last transaction handed to on_tx */
    bool skipping;      /* inside a transaction already delivered before a reconnect */
    uint64_t received, last_status_ms;
    unsigned session_no;
    char slot[64];
    char last_why[512];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t pg_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - CORE_PG_EPOCH_UNIX * 1000000;
}

/* The first line of libpq's message. */
static const char *pq_error(PGconn *conn)
{
    static _Thread_local char msg[256];
    snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
    msg[strcspn(msg, "\n")] = '\0';
    return msg;
}

/* A key=value conninfo again, every setting but the password, values quoted as libpq reads them. */
static void conninfo_without_password(PQconninfoOption *opts, char *out, size_t outsz)
{
    rcx_buf_t b;
    rcx_buf_init(&b, outsz > 0 ? outsz - 1 : 0);
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL || strcmp(o->keyword, "password") == 0)
            continue;
        rcx_buf_printf(&b, "%s%s='", b.len ? " " : "", o->keyword);
        for (const char *c = o->val; *c; c++) {
            if (*c == '\'' || *c == '\\')
                rcx_buf_puts(&b, "\\");
            rcx_buf_append(&b, c, 1);
        }
        rcx_buf_puts(&b, "'");
    }
    snprintf(out, outsz, "%.*s", (int)b.len, b.base ? b.base : "");
    rcx_buf_free(&b);
}

void recap_cdc_redact_url(const char *url, char *out, size_t outsz)
{
    /* postgresql://user:secret@host/db?password=x -> postgresql://user@host/db; key=value: no password */
    const char *scheme = strstr(url, "://");
    if (scheme == NULL) {
        PQconninfoOption *opts = PQconninfoParse(url, NULL);
        if (opts == NULL) {
            snprintf(out, outsz, "(a connection string recap could not read)");
            return;
        }
        conninfo_without_password(opts, out, outsz);
        PQconninfoFree(opts);
        return;
    }
    const char *at = strchr(scheme + 3, '@');
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    if (colon != NULL) {
        rcx_buf_append(&b, url, (size_t)(colon - url));
        rcx_buf_puts(&b, at);
    } else {
        rcx_buf_puts(&b, url);
    }
    char *q = strchr(rcx_buf_cstr(&b), '?');
    if (q != NULL) { /* query parameters: every one but password */
        rcx_buf_t kept;
        rcx_buf_init(&kept, SIZE_MAX);
        for (char *save = NULL, *kv = strtok_r(q + 1, "&", &save); kv != NULL;
             kv = strtok_r(NULL, "&", &save))
            if (strncasecmp(kv, "password=", 9) != 0)
                rcx_buf_printf(&kept, "%c%s", kept.len ? '&' : '?', kv);
        rcx_buf_truncate(&b, (size_t)(q - b.base));
        rcx_buf_append(&b, kept.base, kept.len);
        rcx_buf_free(&kept);
    }
    snprintf(out, outsz, "%s", rcx_buf_cstr(&b));
    rcx_buf_free(&b);
}

/* Says when streaming starts, and each new reason it stopped (not every retry of the same one). */
static void set_state(recap_cdc_t *c, const char *why)
{
    int was = atomic_exchange(&c->stats.streaming, why == NULL);
    if (why == NULL) {
        if (!was)
            rcx_log_info("cdc: streaming from slot %s", c->slot);
        c->last_why[0] = '\0';
    } else if (strcmp(why, c->last_why) != 0) {
        rcx_log_warn("cdc: not streaming: %s (retrying)", why);
        snprintf(c->last_why, sizeof(c->last_why), "%s", why);
    }
    if (c->cb.on_state)
        c->cb.on_state(c->cb.arg, why);
}

static int send_status(recap_cdc_t *c, bool reply)
{
    uint8_t msg[34];
    uint64_t flush = atomic_load(&c->durable);
    core_pgo_standby_status(msg, c->received, flush, flush, pg_now_us(), reply);
    if (PQputCopyData(c->conn, (const char *)msg, sizeof(msg)) <= 0 || PQflush(c->conn) != 0)
        return -1;
    atomic_store(&c->stats.flushed_lsn, flush);
    c->last_status_ms = now_ms();
    return 0;
}

/* One simple query on the connection; the result is the caller's to clear. NULL with why on failure. */
static PGresult *query(recap_cdc_t *c, const char *sql, ExecStatusType want, char *why, size_t whysz)
{
    PGresult *r = PQexec(c->conn, sql);
    if (PQresultStatus(r) != want) {
        const char *e = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(why, whysz, "%s", e && *e ? e : pq_error(c->conn));
        why[strcspn(why, "\n")] = '\0';
        PQclear(r);
        return NULL;
    }
    return r;
}

/* wal_level is logical and the publication exists (a wrong name would only fail at the first change). */
static int check_server(recap_cdc_t *c, char *why, size_t whysz)
{
    PGresult *r = query(c, "SHOW wal_level", PGRES_TUPLES_OK, why, whysz);
    if (r == NULL)
        return -1;
    if (strcmp(PQgetvalue(r, 0, 0), "logical") != 0) {
        snprintf(why, whysz, "wal_level is %s; recap needs wal_level=logical (set it and restart PostgreSQL)",
                 PQgetvalue(r, 0, 0));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    char sql[512];
    char *pub = PQescapeLiteral(c->conn, c->opts.publication, strlen(c->opts.publication));
    snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_publication WHERE pubname = %s", pub);
    PQfreemem(pub);
    if ((r = query(c, sql, PGRES_TUPLES_OK, why, whysz)) == NULL)
        return -1;
    int found = PQntuples(r);
    PQclear(r);
    if (!found) {
        snprintf(why, whysz, "publication \"%s\" does not exist: run `recap db setup` first",
                 c->opts.publication);
        return -1;
    }
    return 0;
}

/* The tables a catalog query of dbadmin.h lists for this publication (sql_of builds it), joined with ", "
 * into names (cut past 4 KiB); how many, or -1 with the reason in why. */
static int publication_tables(recap_cdc_t *c, void (*sql_of)(rcx_buf_t *, const char *), rcx_buf_t *names,
                              char *why, size_t whysz)
{
    char *pub = PQescapeLiteral(c->conn, c->opts.publication, strlen(c->opts.publication));
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    sql_of(&sql, pub);
    PQfreemem(pub);
    PGresult *r = query(c, rcx_buf_cstr(&sql), PGRES_TUPLES_OK, why, whysz);
    rcx_buf_free(&sql);
    if (r == NULL)
        return -1;
    int n = PQntuples(r);
    for (int i = 0; i < n; i++)
        rcx_buf_printf(names, "%s%s", i ? ", " : "", PQgetvalue(r, i, 0));
    PQclear(r);
    return n;
}

/* User tables the publication does not list, counted in the stats and named in a warning at each connect
 * where their number changed: their changes never reach recap. A failed check is only logged (it never
 * stops the stream). */
static void check_unwatched(recap_cdc_t *c)
{
    rcx_buf_t names;
    rcx_buf_init(&names, 4096);
    char why[256];
    int n = publication_tables(c, recap_db_unwatched_sql, &names, why, sizeof(why));
    if (n < 0)
        rcx_log_warn("cdc: cannot list the tables that are not watched: %s", why);
    else if (n > 0 && n != c->said_unwatched) /* not at each retry */
        rcx_log_warn("cdc: %d table%s not watched (their changes are not recorded; run `recap db setup` "
                     "again): %s",
                     n, n == 1 ? " is" : "s are", rcx_buf_cstr(&names));
    if (n >= 0) {
        c->said_unwatched = n;
        atomic_store(&c->stats.unwatched_tables, (uint64_t)n);
    }
    rcx_buf_free(&names);
}

/* Partitioned tables whose changes the publication names by their partitions (made without
 * publish_via_partition_root): a spec's `orders` would never see `orders_2026`. Said once. */
static void check_by_partition(recap_cdc_t *c)
{
    if (c->said_by_partition)
        return;
    rcx_buf_t names;
    rcx_buf_init(&names, 4096);
    char why[256];
    if (publication_tables(c, recap_db_by_partition_sql, &names, why, sizeof(why)) > 0) {
        rcx_log_warn(
            "cdc: publication %s names the changes of partitioned tables by their partitions, not by "
            "the table (%s): `recap db setup` sets publish_via_partition_root",
            c->opts.publication, rcx_buf_cstr(&names));
        c->said_by_partition = true;
    }
    rcx_buf_free(&names);
}

/* A temporary slot of this session (its start in *start), or the named one, made if missing. */
static int open_slot(recap_cdc_t *c, uint64_t *start, char *why, size_t whysz)
{
    char sql[512];
    PGresult *r;
    if (c->opts.slot == NULL) {
        snprintf(c->slot, sizeof(c->slot), "recap_%d_%u", (int)getpid(), ++c->session_no);
        snprintf(sql, sizeof(sql),
                 "CREATE_REPLICATION_SLOT %s TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')", c->slot);
        if ((r = query(c, sql, PGRES_TUPLES_OK, why, whysz)) == NULL)
            return -1;
        rcx_lsn_parse(PQgetvalue(r, 0, 1), start);
        PQclear(r);
        return 0;
    }
    snprintf(c->slot, sizeof(c->slot), "%s", c->opts.slot);
    char *lit = PQescapeLiteral(c->conn, c->slot, strlen(c->slot));
    snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", lit);
    PQfreemem(lit);
    if ((r = query(c, sql, PGRES_TUPLES_OK, why, whysz)) == NULL)
        return -1;
    int found = PQntuples(r);
    PQclear(r);
    if (found)
        return 0;
    char *id = PQescapeIdentifier(c->conn, c->slot, strlen(c->slot));
    snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL pgoutput (SNAPSHOT 'nothing')", id);
    PQfreemem(id);
    if ((r = query(c, sql, PGRES_TUPLES_OK, why, whysz)) == NULL)
        return -1;
    PQclear(r);
    return 0;
}

/* A watermark from the capture file must come from this server's WAL: one ahead of it is forgotten. */
static int check_watermark(recap_cdc_t *c, char *why, size_t whysz)
{
    PGresult *r = query(c, "SELECT pg_current_wal_lsn()", PGRES_TUPLES_OK, why, whysz);
    if (r == NULL)
        return -1;
    uint64_t current = 0;
    rcx_lsn_parse(PQgetvalue(r, 0, 0), &current);
    PQclear(r);
    if (c->delivered > current) {
        char a[24], b[24];
        rcx_lsn_format(c->delivered, a);
        rcx_lsn_format(current, b);
        rcx_log_warn("cdc: the capture's last transaction (%s) is ahead of this server's WAL (%s): it comes "
                     "from another database; resuming from the slot instead",
                     a, b);
        c->delivered = 0;
    }
    return 0;
}

static int connect_and_start(recap_cdc_t *c, char *why, size_t whysz)
{
    const char *keys[] = {"dbname", "replication", "application_name", NULL};
    const char *vals[] = {c->opts.database_url, "database", "recap", NULL};
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        snprintf(why, whysz, "cannot connect to the database: %s", pq_error(c->conn));
        return -1;
    }
    uint64_t start = 0;
    if (check_server(c, why, whysz) != 0)
        return -1;
    check_unwatched(c);
    check_by_partition(c);
    if (open_slot(c, &start, why, whysz) != 0 ||
        (c->opts.slot != NULL && c->delivered > 0 && check_watermark(c, why, whysz) != 0))
        return -1;
    /* resume after what was delivered: never from the slot's position alone, which goes back after a
     * server crash (docs/pgoutput.md, "Resuming") */
    if (c->delivered > start)
        start = c->delivered;
    char lsn[24], sql[512];
    rcx_lsn_format(start, lsn);
    char *id = PQescapeIdentifier(c->conn, c->slot, strlen(c->slot));
    char *pubs = PQescapeLiteral(c->conn, c->opts.publication, strlen(c->opts.publication));
    snprintf(
        sql, sizeof(sql),
        "START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names %s, messages 'true')", id,
        lsn, pubs);
    PQfreemem(id);
    PQfreemem(pubs);
    PGresult *r = query(c, sql, PGRES_COPY_BOTH, why, whysz);
    if (r == NULL)
        return -1;
    PQclear(r);
    if (c->received < start)
        c->received = start;
    if (atomic_load(&c->durable) < start)
        atomic_store(&c->durable, start);
    PQsetnonblocking(c->conn, 1);
    return 0;
}

static int handle_pgoutput(recap_cdc_t *c, const uint8_t *p, size_t n, char *why, size_t whysz)
{
    core_pgo_msg_t m;
    rcx_err_t err;
    if (core_pgo_decode(&c->dec, p, n, &m, &err) != 0) {
        snprintf(why, whysz, "%s", err.msg);
        return -1;
    }
    if (m.type == CORE_PGO_MESSAGE &&
        !(m.u.message.flags & CORE_PGO_MESSAGE_TRANSACTIONAL)) { /* fences: not part of any transaction */
        if (m.u.message.lsn > c->delivered && c->cb.on_message)
            c->cb.on_message(c->cb.arg, m.u.message.prefix, (const char *)m.u.message.content,
                             m.u.message.len, m.u.message.lsn);
        return 0;
    }
    if (m.type == CORE_PGO_BEGIN) /* sent again after a reconnect: already delivered, drop it whole */
        c->skipping = m.u.begin.final_lsn < c->delivered;
    if (c->skipping && m.type != CORE_PGO_RELATION) { /* relations are cached whatever happens */
        if (m.type == CORE_PGO_COMMIT)
            c->skipping = false;
        return 0;
    }
    if (m.type == CORE_PGO_INSERT || m.type == CORE_PGO_UPDATE || m.type == CORE_PGO_DELETE)
        atomic_fetch_add(&c->stats.changes, 1);
    rcx_buf_t line;
    rcx_buf_init(&line, SIZE_MAX);
    char *tag = (m.type == CORE_PGO_COMMIT && c->tx.tag != NULL) ? rcx_xstrdup(c->tx.tag) : NULL;
    bool rewind = m.type == CORE_PGO_COMMIT && c->tx.rewind;
    char *test = m.type == CORE_PGO_COMMIT && c->tx.test != NULL ? rcx_xstrdup(c->tx.test) : NULL;
    int rc = core_txbuild_apply(&c->tx, &c->rels, &m, &line, &err);
    if (rc == 1) {
        c->delivered = m.u.commit.end_lsn;
        atomic_fetch_add(&c->stats.transactions, 1);
        atomic_store(&c->stats.lag_us, pg_now_us() - m.u.commit.commit_ts);
        recap_cdc_tx_t tx = {.line = line.base,
                             .len = line.len,
                             .commit_lsn = m.u.commit.commit_lsn,
                             .end_lsn = m.u.commit.end_lsn,
                             .tag = tag,
                             .rewind = rewind,
                             .test = test};
        c->cb.on_tx(c->cb.arg, &tx); /* hands line, tag and test over */
        return 0;
    }
    free(tag);
    free(test);
    rcx_buf_free(&line);
    if (rc < 0) {
        snprintf(why, whysz, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* Streams until the connection fails or stop is asked. */
static void stream(recap_cdc_t *c, char *why, size_t whysz)
{
    set_state(c, NULL);
    while (!atomic_load(&c->stopping)) {
        struct pollfd fds[2] = {{.fd = PQsocket(c->conn), .events = POLLIN},
                                {.fd = c->wake, .events = POLLIN}};
        uint64_t elapsed = now_ms() - c->last_status_ms;
        int timeout = elapsed >= STATUS_INTERVAL_MS ? 0 : (int)(STATUS_INTERVAL_MS - elapsed);
        if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
            snprintf(why, whysz, "poll: %s", strerror(errno));
            return;
        }
        if (!PQconsumeInput(c->conn)) {
            snprintf(why, whysz, "connection lost: %s", pq_error(c->conn));
            return;
        }
        bool reply = false;
        for (;;) {
            char *buf = NULL;
            int n = PQgetCopyData(c->conn, &buf, 1);
            if (n == 0)
                break;
            if (n == -1) {
                PGresult *r = PQgetResult(c->conn);
                snprintf(why, whysz, "stream ended: %s",
                         r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : pq_error(c->conn));
                why[strcspn(why, "\n")] = '\0';
                PQclear(r);
                return;
            }
            if (n == -2) {
                snprintf(why, whysz, "connection lost: %s", pq_error(c->conn));
                return;
            }
            core_pgo_copydata_t cd;
            rcx_err_t err;
            int rc = core_pgo_parse_copydata((const uint8_t *)buf, (size_t)n, &cd, &err);
            if (rc != 0) {
                snprintf(why, whysz, "%s", err.msg);
            } else if (cd.type == CORE_PGO_KEEPALIVE) {
                reply |= cd.reply_requested;
                /* between transactions, with everything delivered durable, the slot may move past
                 * WAL that held nothing published */
                if (!core_txbuild_in_tx(&c->tx) && atomic_load(&c->durable) >= c->delivered &&
                    cd.wal_end > c->received) {
                    c->received = cd.wal_end;
                    uint64_t d = atomic_load(&c->durable);
                    while (d < cd.wal_end && !atomic_compare_exchange_weak(&c->durable, &d, cd.wal_end))
                        ;
                }
            } else {
                if (cd.wal_start > c->received)
                    c->received = cd.wal_start;
                rc = handle_pgoutput(c, cd.payload, cd.len, why, whysz);
            }
            PQfreemem(buf);
            if (rc != 0)
                return;
        }
        if (reply || now_ms() - c->last_status_ms >= STATUS_INTERVAL_MS) {
            if (send_status(c, false) != 0) {
                snprintf(why, whysz, "cannot send status: %s", pq_error(c->conn));
                return;
            }
        }
        atomic_store(&c->stats.received_lsn, c->received);
    }
    send_status(c, false);
    snprintf(why, whysz, "stopped");
}

static void *run(void *arg)
{
    recap_cdc_t *c = arg;
    unsigned backoff = BACKOFF_MIN_MS;
    while (!atomic_load(&c->stopping)) {
        char why[512] = "";
        uint64_t started = now_ms();
        if (connect_and_start(c, why, sizeof(why)) == 0)
            stream(c, why, sizeof(why));
        core_txbuild_abort(&c->tx); /* a transaction cut short is sent again in full */
        c->skipping = false;
        core_relcache_clear(&c->rels); /* pgoutput describes relations again */
        PQfinish(c->conn);
        c->conn = NULL;
        if (atomic_load(&c->stopping))
            break;
        set_state(c, why);
        if (now_ms() - started > 10000)
            backoff = BACKOFF_MIN_MS; /* it worked for a while: retry soon */
        struct pollfd p = {.fd = c->wake, .events = POLLIN};
        poll(&p, 1, (int)backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        atomic_fetch_add(&c->stats.reconnects, 1);
    }
    atomic_store(&c->stats.streaming, 0);
    return NULL;
}

recap_cdc_t *recap_cdc_start(const recap_cdc_opts_t *opts, const recap_cdc_callbacks_t *cb, rcx_err_t *err)
{
    recap_cdc_t *c = rcx_xcalloc(1, sizeof(*c));
    c->said_unwatched = -1;
    c->opts = *opts;
    c->cb = *cb;
    if (opts->slot != NULL) /* a temporary slot starts after anything a capture already holds */
        c->delivered = opts->resume_after;
    c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    core_pgo_decoder_init(&c->dec);
    core_relcache_init(&c->rels);
    core_txbuild_init(&c->tx, &opts->tx);
    if (c->wake < 0 || pthread_create(&c->thread, NULL, run, c) != 0) {
        rcx_err_set(err, "cannot start the CDC thread: %s", strerror(errno));
        recap_cdc_stop(c);
        return NULL;
    }
    return c;
}

void recap_cdc_confirm(recap_cdc_t *c, uint64_t lsn)
{
    uint64_t d = atomic_load(&c->durable);
    while (d < lsn && !atomic_compare_exchange_weak(&c->durable, &d, lsn))
        ;
}

recap_cdc_stats_t *recap_cdc_stats(recap_cdc_t *c)
{
    return &c->stats;
}

/* A clean stop: the run's own slot goes (a crash leaves it, and the next run on the same capture resumes from
 * it; `recap db status` lists it, `recap db teardown` removes it). Waits for the walsender to let it go. */
static void drop_run_slot(recap_cdc_t *c)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {c->opts.database_url, "recap", "5", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    bool dropped = false;
    char *lit =
        PQstatus(conn) == CONNECTION_OK ? PQescapeLiteral(conn, c->opts.slot, strlen(c->opts.slot)) : NULL;
    for (int i = 0; lit != NULL && i < 50 && !dropped; i++) {
        char sql[300];
        snprintf(sql, sizeof(sql),
                 "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s "
                 "AND NOT active",
                 lit);
        PGresult *r = PQexec(conn, sql);
        dropped = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        PQclear(r);
        if (!dropped)
            nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL); /* the walsender is still letting go */
    }
    if (!dropped)
        rcx_log_warn("cdc: the run's slot %s could not be dropped: `recap db teardown` removes it",
                     c->opts.slot);
    PQfreemem(lit);
    PQfinish(conn);
}

void recap_cdc_stop(recap_cdc_t *c)
{
    if (c == NULL)
        return;
    if (c->thread) {
        atomic_store(&c->stopping, 1);
        uint64_t one = 1;
        ssize_t w = write(c->wake, &one, sizeof(one));
        (void)w;
        pthread_join(c->thread, NULL);
        if (c->opts.drop_slot && c->opts.slot != NULL)
            drop_run_slot(c);
    }
    if (c->wake >= 0)
        close(c->wake);
    core_txbuild_dispose(&c->tx);
    core_relcache_dispose(&c->rels);
    core_pgo_decoder_dispose(&c->dec);
    free(c);
}
