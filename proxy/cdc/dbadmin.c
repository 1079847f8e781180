/* proxy/cdc/dbadmin.c: see dbadmin.h. */
#include "proxy/cdc/dbadmin.h"

#include "common/buf.h"
#include "common/err.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One run of setup, status or teardown: where it reports, where its error goes. */
typedef struct db {
    PGconn *conn;
    const recap_db_opts_t *o;
    FILE *out;
    rcx_err_t *err;
} db_t;

/* Runs SQL; on failure fills a one-line error with advice for the usual causes. */
static PGresult *run(db_t *d, const char *sql, ExecStatusType want)
{
    PGconn *conn = d->conn;
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) == want)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", primary ? primary : PQresultErrorMessage(r));
    msg[strcspn(msg, "\n")] = '\0';
    if (state != NULL && strcmp(state, "42501") == 0)
        rcx_err_set(d->err,
                    "%s (needs ownership of the tables and CREATE on the database; slots need "
                    "the REPLICATION attribute)",
                    msg);
    else
        rcx_err_set(d->err, "%s", msg);
    PQclear(r);
    return NULL;
}

static int check_wal_level(db_t *d)
{
    PGresult *r = run(d, "SHOW wal_level", PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    int ok = strcmp(PQgetvalue(r, 0, 0), "logical") == 0;
    if (!ok)
        rcx_err_set(d->err,
                    "wal_level is %s; recap needs wal_level=logical (set it in postgresql.conf or with "
                    "`-c wal_level=logical` and restart PostgreSQL)",
                    PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok ? 0 : -1;
}

/* The tables to publish and their partitions (a partitioned table is published whole, its changes named by
 * the table: publish_via_partition_root), with whether each can be updated once published and whether it is
 * published through its partitioned table (a partition named in --tables without its table is published
 * itself). */
static PGresult *list_tables(db_t *d, const char *tables)
{
    PGconn *conn = d->conn;
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    char *lit = tables != NULL ? PQescapeLiteral(conn, tables, strlen(tables)) : NULL;
    if (lit != NULL)
        rcx_buf_printf(
            &sql,
            "WITH named AS (SELECT to_regclass(t)::oid AS oid FROM unnest(string_to_array(%s, ',')) t) ",
            lit);
    rcx_buf_printf(&sql,
                   "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relreplident, "
                   "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
                   "c.relispartition%s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p' ",
                   lit != NULL ? " AND pg_partition_root(c.oid) IN (SELECT oid FROM named)" : "");
    if (lit == NULL)
        rcx_buf_puts(&sql, "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE "
                           "'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ");
    else
        rcx_buf_puts(&sql, "AND (c.oid IN (SELECT oid FROM named) OR pg_partition_root(c.oid) IN (SELECT oid "
                           "FROM named)) ");
    PQfreemem(lit);
    rcx_buf_puts(&sql, "ORDER BY 1");
    PGresult *r = run(d, rcx_buf_cstr(&sql), PGRES_TUPLES_OK);
    rcx_buf_free(&sql);
    return r;
}

/* Every name in --tables must exist. */
static int check_named_tables(db_t *d, const char *tables)
{
    PGconn *conn = d->conn;
    char *copy = rcx_xstrdup(tables), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t != NULL && rc == 0; t = strtok_r(NULL, ",", &save)) {
        char sql[600];
        char *lit = PQescapeLiteral(conn, t, strlen(t));
        snprintf(sql, sizeof(sql), "SELECT to_regclass(%s) IS NOT NULL", lit);
        PQfreemem(lit);
        PGresult *r = run(d, sql, PGRES_TUPLES_OK);
        if (r == NULL) {
            rc = -1;
        } else {
            if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
                rcx_err_set(d->err, "--tables: no such table: %s", t);
                rc = -1;
            }
            PQclear(r);
        }
    }
    free(copy);
    return rc;
}

static int setup_slot(db_t *d)
{
    PGconn *conn = d->conn;
    const recap_db_opts_t *o = d->o;
    PGresult *r;
    char q[600];
    if (o->slot != NULL) {
        char *lit = PQescapeLiteral(conn, o->slot, strlen(o->slot));
        snprintf(q, sizeof(q),
                 "SELECT pg_create_logical_replication_slot(%s, 'pgoutput') WHERE NOT EXISTS "
                 "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                 lit, lit);
        PQfreemem(lit);
        if ((r = run(d, q, PGRES_TUPLES_OK)) == NULL)
            return -1;
        fprintf(d->out,
                "slot %s: %s (persistent: it keeps WAL until recap reads it; `recap db teardown --slot %s` "
                "drops it)\n",
                o->slot, PQntuples(r) ? "created" : "exists", o->slot);
        PQclear(r);
    } else {
        fprintf(d->out,
                "slot: none made here; recap proxy makes one for each run and drops it when it stops\n");
    }
    return 0;
}

/* Gives every table that needs it REPLICA IDENTITY FULL (all with --replica-identity-full; else those with
 * neither a key nor an identity, whose UPDATE and DELETE would fail once published), and lists those to
 * publish: not the partitions published through their table (each has its own identity, which its table's
 * does not change). Returns how many are listed, or -1. */
static int fix_identities(db_t *d, PGresult *t, rcx_buf_t *list)
{
    int listed = 0;
    for (int i = 0; i < PQntuples(t); i++) {
        const char *name = PQgetvalue(t, i, 0);
        char ident = PQgetvalue(t, i, 1)[0];
        bool has_pk = PQgetvalue(t, i, 2)[0] == 't', through_table = PQgetvalue(t, i, 3)[0] == 't';
        bool unsafe = ident == 'n' || (ident == 'd' && !has_pk);
        if ((d->o->replica_identity_full || unsafe) && ident != 'f') {
            char sql[600];
            snprintf(sql, sizeof(sql), "ALTER TABLE %s REPLICA IDENTITY FULL", name);
            PGresult *r = run(d, sql, PGRES_COMMAND_OK);
            if (r == NULL)
                return -1;
            PQclear(r);
            fprintf(d->out, "%s: REPLICA IDENTITY FULL%s\n", name,
                    unsafe
                        ? " (it has no primary key: published without it, the app's UPDATE and DELETE on it "
                          "would fail)"
                        : "");
        }
        if (!through_table)
            rcx_buf_printf(list, "%s%s", listed++ > 0 ? ", " : "", name);
    }
    return listed;
}

/* Creates the publication for these tables, or sets its tables; one FOR ALL TABLES keeps its tables. Either
 * way it names a partitioned table's changes by the table, as specs do, not by the partition that holds the
 * row (publish_via_partition_root). */
static int publish(db_t *d, const char *list, int ntables)
{
    const char *pub = d->o->publication;
    char *publit = PQescapeLiteral(d->conn, pub, strlen(pub));
    char q[600];
    snprintf(q, sizeof(q), "SELECT puballtables, pubviaroot FROM pg_publication WHERE pubname = %s", publit);
    PQfreemem(publit);
    PGresult *r = run(d, q, PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    bool exists = PQntuples(r) > 0;
    bool all_tables = exists && PQgetvalue(r, 0, 0)[0] == 't',
         via_root = exists && PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if (all_tables && via_root) { /* made by someone else, as recap needs it: left alone */
        fprintf(d->out, "publication %s: FOR ALL TABLES, left as it is (%d tables checked: %s)\n", pub,
                ntables, list);
        return 0;
    }
    char *pubid = PQescapeIdentifier(d->conn, pub, strlen(pub));
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    if (all_tables) /* it already covers every table */
        rcx_buf_printf(&sql, "ALTER PUBLICATION %s SET (publish_via_partition_root = true)", pubid);
    else if (exists)
        rcx_buf_printf(&sql,
                       "ALTER PUBLICATION %s SET TABLE %s; ALTER PUBLICATION %s SET "
                       "(publish_via_partition_root = true)",
                       pubid, list, pubid);
    else
        rcx_buf_printf(&sql, "CREATE PUBLICATION %s FOR TABLE %s WITH (publish_via_partition_root = true)",
                       pubid, list);
    PQfreemem(pubid);
    r = run(d, rcx_buf_cstr(&sql), PGRES_COMMAND_OK);
    rcx_buf_free(&sql);
    if (r == NULL)
        return -1;
    PQclear(r);
    if (all_tables)
        fprintf(
            d->out,
            "publication %s: FOR ALL TABLES, now naming partitioned tables' changes by the table (%d tables "
            "checked: %s)\n",
            pub, ntables, list);
    else
        fprintf(d->out, "publication %s: %d tables (%s)\n", pub, ntables, list);
    return 0;
}

/* An empty database (the app makes its tables when it starts, or in migrations): the publication, with none.
 */
static int publish_nothing_yet(db_t *d)
{
    const char *pub = d->o->publication;
    char *lit = PQescapeLiteral(d->conn, pub, strlen(pub)),
         *id = PQescapeIdentifier(d->conn, pub, strlen(pub));
    char sql[600];
    snprintf(sql, sizeof(sql),
             "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = %s) THEN "
             "CREATE PUBLICATION %s WITH (publish_via_partition_root = true); END IF; END $$",
             lit, id);
    PQfreemem(lit);
    PQfreemem(id);
    PGresult *r = run(d, sql, PGRES_COMMAND_OK);
    if (r == NULL)
        return -1;
    PQclear(r);
    fprintf(d->out, "publication %s: no tables yet\n", pub);
    return 0;
}

/*
 * Tables created later (by the app at start-up, by a migration while recap runs) are published as they are
 * created, and a keyless one gets REPLICA IDENTITY FULL first, so the app's UPDATE and DELETE on it keep
 * working: an event trigger. It needs a superuser; without one, setup says so (run it again after migrating).
 * Temporary and unlogged tables cannot be published and are left alone.
 */
static int publish_tables_to_come(db_t *d)
{
    PGresult *r = run(d, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    bool super = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!super) {
        fprintf(d->out,
                "tables created later: not watched until `recap db setup` runs again (publishing them as "
                "they are created needs an event trigger, which needs a superuser)\n");
        return 0;
    }
    const char *pub = d->o->publication;
    char *lit = PQescapeLiteral(d->conn, pub, strlen(pub));
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    rcx_buf_printf(
        &sql,
        "CREATE OR REPLACE FUNCTION recap_publish_new_tables() RETURNS event_trigger LANGUAGE plpgsql "
        "AS $f$ DECLARE t record; BEGIN FOR t IN SELECT DISTINCT c.oid, c.oid::regclass AS name, "
        "c.relreplident, "
        "c.relispartition FROM pg_event_trigger_ddl_commands() e JOIN pg_class c ON c.oid = e.objid WHERE "
        "e.object_type = 'table' AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p' LOOP "
        "IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t.oid AND i.indisprimary) AND "
        "t.relreplident IN ('d', 'n') THEN "
        "EXECUTE format('ALTER TABLE %%s REPLICA IDENTITY FULL', t.name); END IF; "
        "IF NOT t.relispartition AND "
        "EXISTS (SELECT 1 FROM pg_publication p WHERE p.pubname = %s AND NOT p.puballtables AND NOT "
        "EXISTS "
        "(SELECT 1 FROM pg_publication_rel r WHERE r.prpubid = p.oid AND r.prrelid = t.oid)) THEN "
        "EXECUTE format('ALTER PUBLICATION %%I ADD TABLE %%s', %s, t.name); END IF; END LOOP; END $f$; "
        "DROP EVENT TRIGGER IF EXISTS recap_publish_new_tables; "
        "CREATE EVENT TRIGGER recap_publish_new_tables ON ddl_command_end WHEN TAG IN ('CREATE TABLE', "
        "'CREATE TABLE AS', 'SELECT INTO') EXECUTE FUNCTION recap_publish_new_tables()",
        lit, lit);
    PQfreemem(lit);
    r = run(d, rcx_buf_cstr(&sql), PGRES_COMMAND_OK);
    rcx_buf_free(&sql);
    if (r == NULL)
        return -1;
    PQclear(r);
    fprintf(d->out,
            "tables created later: published as they are created (event trigger recap_publish_new_tables; "
            "keyless ones get REPLICA IDENTITY FULL)\n");
    return 0;
}

static int setup(db_t *d)
{
    const recap_db_opts_t *o = d->o;
    if (check_wal_level(d) != 0)
        return -1;
    if (o->tables != NULL && check_named_tables(d, o->tables) != 0)
        return -1;
    PGresult *t = list_tables(d, o->tables);
    if (t == NULL)
        return -1;
    rcx_buf_t list;
    rcx_buf_init(&list, SIZE_MAX);
    int ntables = fix_identities(d, t, &list), rc = ntables < 0 ? -1 : 0;
    PQclear(t);
    if (rc == 0)
        rc = ntables > 0 ? publish(d, rcx_buf_cstr(&list), ntables) : publish_nothing_yet(d);
    rcx_buf_free(&list);
    if (rc == 0 && o->tables == NULL)
        rc = publish_tables_to_come(d);
    return rc == 0 ? setup_slot(d) : -1;
}

void recap_db_unwatched_sql(rcx_buf_t *sql, const char *publication_literal)
{
    /* a partitioned table is watched when the publication lists it or, published without
     * publish_via_partition_root, its partitions */
    rcx_buf_printf(
        sql,
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relpersistence FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT "
        "c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT "
        "LIKE 'pg\\_%%' AND NOT EXISTS (SELECT 1 FROM pg_publication_tables t JOIN pg_namespace pn ON "
        "pn.nspname = t.schemaname JOIN pg_class pc ON pc.relnamespace = pn.oid AND pc.relname = t.tablename "
        "WHERE t.pubname = %s AND coalesce(pg_partition_root(pc.oid), pc.oid) = c.oid) ORDER BY 1",
        publication_literal);
}

void recap_db_by_partition_sql(rcx_buf_t *sql, const char *publication_literal)
{
    rcx_buf_printf(sql,
                   "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN "
                   "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p' AND NOT c.relispartition "
                   "AND EXISTS (SELECT 1 FROM pg_publication p WHERE p.pubname = %s AND NOT p.pubviaroot) "
                   "ORDER BY 1",
                   publication_literal);
}

/* User tables the publication does not list: their changes are never seen (say so, never silently). */
static int list_unwatched(db_t *d)
{
    char *lit = PQescapeLiteral(d->conn, d->o->publication, strlen(d->o->publication));
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    recap_db_unwatched_sql(&sql, lit);
    PGresult *r = run(d, rcx_buf_cstr(&sql), PGRES_TUPLES_OK);
    rcx_buf_reset(&sql);
    recap_db_by_partition_sql(&sql, lit);
    PQfreemem(lit);
    PGresult *p = r != NULL ? run(d, rcx_buf_cstr(&sql), PGRES_TUPLES_OK) : NULL;
    rcx_buf_free(&sql);
    if (p == NULL) {
        PQclear(r);
        return -1;
    }
    fprintf(d->out, "not watched: %d tables%s\n", PQntuples(r),
            PQntuples(r) ? " (their changes are not recorded: run `recap db setup` again)" : "");
    for (int i = 0; i < PQntuples(r); i++)
        fprintf(d->out, "  %s%s\n", PQgetvalue(r, i, 0),
                PQgetvalue(r, i, 1)[0] == 'u' ? "  (unlogged: logical replication cannot see it)" : "");
    if (PQntuples(p) > 0) /* published without publish_via_partition_root */
        fprintf(d->out,
                "named by their partitions: %d partitioned tables (specs name the table: run `recap db "
                "setup` again)\n",
                PQntuples(p));
    for (int i = 0; i < PQntuples(p); i++)
        fprintf(d->out, "  %s\n", PQgetvalue(p, i, 0));
    PQclear(r);
    PQclear(p);
    return 0;
}

static int status(db_t *d)
{
    PGconn *conn = d->conn;
    const recap_db_opts_t *o = d->o;
    PGresult *r = run(d, "SHOW wal_level", PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    fprintf(d->out, "wal_level: %s%s\n", PQgetvalue(r, 0, 0),
            strcmp(PQgetvalue(r, 0, 0), "logical") ? " (recap needs logical)" : "");
    PQclear(r);
    char sql[800];
    char *lit = PQescapeLiteral(conn, o->publication, strlen(o->publication));
    snprintf(
        sql, sizeof(sql),
        "SELECT t.schemaname || '.' || t.tablename, c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE "
        "i.indrelid = c.oid AND i.indisprimary) FROM pg_publication_tables t "
        "JOIN pg_class c ON c.oid = (quote_ident(t.schemaname) || '.' || quote_ident(t.tablename))::regclass "
        "WHERE t.pubname = %s ORDER BY 1",
        lit);
    r = run(d, sql, PGRES_TUPLES_OK);
    if (r == NULL) {
        PQfreemem(lit);
        return -1;
    }
    PGresult *p;
    snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_publication WHERE pubname = %s", lit);
    PQfreemem(lit);
    if ((p = run(d, sql, PGRES_TUPLES_OK)) == NULL) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(p) == 0)
        fprintf(d->out, "publication %s: missing (run `recap db setup`)\n", o->publication);
    else
        fprintf(d->out, "publication %s: %d tables\n", o->publication, PQntuples(r));
    PQclear(p);
    for (int i = 0; i < PQntuples(r); i++) {
        char id = PQgetvalue(r, i, 1)[0];
        fprintf(d->out, "  %s  replica identity %s\n", PQgetvalue(r, i, 0),
                id == 'f'                                    ? "full"
                : id == 'd' && PQgetvalue(r, i, 2)[0] == 't' ? "default (key)"
                : id == 'd'
                    ? "default, and no primary key: UPDATE and DELETE on it fail (run `recap db setup`)"
                : id == 'i' ? "index"
                            : "nothing");
    }
    PQclear(r);
    if (list_unwatched(d) != 0)
        return -1;
    r = run(
        d,
        "SELECT slot_name, temporary, active, coalesce(confirmed_flush_lsn::text, '-'), "
        "coalesce(pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)), '-') "
        "FROM pg_replication_slots WHERE plugin = 'pgoutput' AND database = current_database() ORDER BY 1",
        PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    fprintf(d->out, "slots: %d\n", PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++)
        fprintf(d->out, "  %s  %s, %s, confirmed %s, behind by %s\n", PQgetvalue(r, i, 0),
                PQgetvalue(r, i, 1)[0] == 't' ? "temporary" : "persistent",
                PQgetvalue(r, i, 2)[0] == 't' ? "active" : "inactive", PQgetvalue(r, i, 3),
                PQgetvalue(r, i, 4));
    PQclear(r);
    return 0;
}

static int teardown(db_t *d)
{
    PGconn *conn = d->conn;
    const recap_db_opts_t *o = d->o;
    char sql[400];
    char *id = PQescapeIdentifier(conn, o->publication, strlen(o->publication));
    snprintf(sql, sizeof(sql), "DROP PUBLICATION IF EXISTS %s", id);
    PQfreemem(id);
    PGresult *r = run(d, sql, PGRES_COMMAND_OK);
    if (r == NULL)
        return -1;
    PQclear(r);
    fprintf(d->out, "publication %s: dropped\n", o->publication);
    if (o->slot != NULL) {
        char *lit = PQescapeLiteral(conn, o->slot, strlen(o->slot));
        snprintf(sql, sizeof(sql),
                 "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                 lit);
        PQfreemem(lit);
        if ((r = run(d, sql, PGRES_TUPLES_OK)) == NULL)
            return -1;
        fprintf(d->out, "slot %s: %s\n", o->slot, PQntuples(r) ? "dropped" : "did not exist");
        PQclear(r);
    }
    r = run(d, "SELECT 1 FROM pg_event_trigger WHERE evtname = 'recap_publish_new_tables'", PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    bool trigger = PQntuples(r) > 0;
    PQclear(r);
    if (trigger) {
        r = run(
            d,
            "DROP EVENT TRIGGER recap_publish_new_tables; DROP FUNCTION IF EXISTS recap_publish_new_tables()",
            PGRES_COMMAND_OK);
        if (r == NULL)
            return -1;
        PQclear(r);
        fprintf(d->out, "event trigger recap_publish_new_tables: dropped\n");
    }
    /* the slots recap proxy makes for a run and drops when it stops cleanly: one left is a crash's */
    r = run(d,
            "SELECT slot_name, pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name "
            "LIKE "
            "'recap\\_run\\_%' AND NOT active AND database = current_database() ORDER BY 1",
            PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        fprintf(d->out, "slot %s: dropped (left by a recap proxy that did not stop cleanly)\n",
                PQgetvalue(r, i, 0));
    PQclear(r);
    fprintf(d->out, "replica identities are left as they are\n");
    return 0;
}

/* Waits (bounded by o->wait_ms) until the server answers and accepts connections: in compose, setup may start
 * while PostgreSQL is still initialising its data directory. */
static void wait_for_server(const recap_db_opts_t *o)
{
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {o->url, "2", NULL};
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        PGPing ping = PQpingParams(keys, vals, 1);
        if (ping == PQPING_OK || ping == PQPING_NO_ATTEMPT)
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t waited =
            (int64_t)(now.tv_sec - t0.tv_sec) * 1000 + (int64_t)(now.tv_nsec - t0.tv_nsec) / 1000000;
        if (waited >= (int64_t)o->wait_ms)
            return; /* the connection that follows says why */
        nanosleep(&(struct timespec){0, 250 * 1000 * 1000}, NULL);
    }
}

/* Connects, runs one action, disconnects. */
static int with_connection(const recap_db_opts_t *o, FILE *out, rcx_err_t *err, int (*fn)(db_t *))
{
    wait_for_server(o);
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {o->url, "recap db", "10", NULL};
    db_t d = {.conn = PQconnectdbParams(keys, vals, 1), .o = o, .out = out, .err = err};
    if (PQstatus(d.conn) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(d.conn));
        msg[strcspn(msg, "\n")] = '\0';
        rcx_err_set(err, "cannot connect to the database%s: %s",
                    o->wait_ms > 0 ? " (after waiting for it)" : "", msg);
        PQfinish(d.conn);
        return -1;
    }
    PQclear(PQexec(d.conn, "SET client_min_messages = warning"));
    int rc = fn(&d);
    PQfinish(d.conn);
    return rc;
}

int recap_db_setup(const recap_db_opts_t *o, FILE *out, rcx_err_t *err)
{
    return with_connection(o, out, err, setup);
}

int recap_db_status(const recap_db_opts_t *o, FILE *out, rcx_err_t *err)
{
    return with_connection(o, out, err, status);
}

int recap_db_teardown(const recap_db_opts_t *o, FILE *out, rcx_err_t *err)
{
    return with_connection(o, out, err, teardown);
}
