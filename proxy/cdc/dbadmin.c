/* proxy/cdc/dbadmin.c: see dbadmin.h. */
#include "dbadmin.h"

#include "../../common/buf.h"
#include "../../common/err.h"

#include <getopt.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct db_opts {
    const char *action;
    const char *url;
    const char *tables; /* comma-separated, or NULL for every user table */
    const char *slot;
    const char *publication;
    bool replica_identity_full;
} db_opts_t;

static void usage(FILE *out)
{
    fputs("usage: recap db setup|status|teardown [options]\n"
          "\n"
          "  setup     check wal_level, create or update the publication, give tables that have no\n"
          "            primary key REPLICA IDENTITY FULL (so the app can still update them), create\n"
          "            the persistent slot if --slot is given (otherwise recap proxy makes a\n"
          "            temporary one each time it starts)\n"
          "  status    wal_level, the publication and its tables, recap's slots and their lag\n"
          "  teardown  drop the publication and the --slot slot\n"
          "\n"
          "  --database-url URL       the database (env RECAP_DATABASE_URL)\n"
          "  --tables a,b,schema.c    publish these tables only (default: every table outside\n"
          "                           pg_catalog and information_schema)\n"
          "  --slot NAME              a persistent slot to create (setup) or drop (teardown)\n"
          "  --publication NAME       default recap\n"
          "  --replica-identity-full  give every published table REPLICA IDENTITY FULL, so updates\n"
          "                           and deletes carry the whole old row\n",
          out);
}

static int die(PGconn *conn, const char *fmt, const char *detail)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", detail ? detail : "");
    msg[strcspn(msg, "\n")] = '\0';
    fprintf(stderr, "recap: db: ");
    fprintf(stderr, fmt, msg);
    fputc('\n', stderr);
    PQfinish(conn);
    return 2;
}

/* Runs SQL; on failure prints a one-line error with advice for the usual causes. */
static PGresult *run(PGconn *conn, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) == want)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", primary ? primary : PQresultErrorMessage(r));
    msg[strcspn(msg, "\n")] = '\0';
    if (state != NULL && strcmp(state, "42501") == 0)
        fprintf(stderr,
                "recap: db: %s (needs ownership of the tables and CREATE on the database; slots need "
                "the REPLICATION attribute)\n",
                msg);
    else
        fprintf(stderr, "recap: db: %s\n", msg);
    PQclear(r);
    return NULL;
}

static int check_wal_level(PGconn *conn)
{
    PGresult *r = run(conn, "SHOW wal_level", PGRES_TUPLES_OK);
    if (r == NULL)
        return -1;
    int ok = strcmp(PQgetvalue(r, 0, 0), "logical") == 0;
    if (!ok)
        fprintf(
            stderr,
            "recap: db: wal_level is %s; recap needs wal_level=logical (set it in postgresql.conf or with "
            "`-c wal_level=logical` and restart PostgreSQL)\n",
            PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok ? 0 : -1;
}

/* The tables to publish, with whether each can be updated once published. */
static PGresult *list_tables(PGconn *conn, const char *tables)
{
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    const char *head = "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relreplident, "
                       "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) "
                       "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition ";
    rcx_buf_append(&sql, head, strlen(head));
    if (tables == NULL) {
        const char *all = "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE "
                          "'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' ";
        rcx_buf_append(&sql, all, strlen(all));
    } else {
        char *lit = PQescapeLiteral(conn, tables, strlen(tables));
        const char *in = "AND c.oid = ANY (SELECT to_regclass(t)::oid FROM unnest(string_to_array(";
        rcx_buf_append(&sql, in, strlen(in));
        rcx_buf_append(&sql, lit, strlen(lit));
        rcx_buf_append(&sql, ", ',')) t) ", 11);
        PQfreemem(lit);
    }
    rcx_buf_append(&sql, "ORDER BY 1", 11);
    PGresult *r = run(conn, sql.base, PGRES_TUPLES_OK);
    rcx_buf_free(&sql);
    return r;
}

/* Every name in --tables must exist. */
static int check_named_tables(PGconn *conn, const char *tables)
{
    char *copy = rcx_xstrndup(tables, strlen(tables)), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t != NULL && rc == 0; t = strtok_r(NULL, ",", &save)) {
        char sql[600];
        char *lit = PQescapeLiteral(conn, t, strlen(t));
        snprintf(sql, sizeof(sql), "SELECT to_regclass(%s) IS NOT NULL", lit);
        PQfreemem(lit);
        PGresult *r = run(conn, sql, PGRES_TUPLES_OK);
        if (r == NULL) {
            rc = -1;
        } else {
            if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
                fprintf(stderr, "recap: db: --tables: no such table: %s\n", t);
                rc = -1;
            }
            PQclear(r);
        }
    }
    free(copy);
    return rc;
}

static int setup_slot(PGconn *conn, const db_opts_t *o)
{
    PGresult *r;
    char q[600];
    if (o->slot != NULL) {
        char *lit = PQescapeLiteral(conn, o->slot, strlen(o->slot));
        snprintf(q, sizeof(q),
                 "SELECT pg_create_logical_replication_slot(%s, 'pgoutput') WHERE NOT EXISTS "
                 "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                 lit, lit);
        PQfreemem(lit);
        if ((r = run(conn, q, PGRES_TUPLES_OK)) == NULL)
            return 2;
        printf("slot %s: %s (persistent: it keeps WAL until recap reads it; `recap db teardown --slot %s` "
               "drops it)\n",
               o->slot, PQntuples(r) ? "created" : "exists", o->slot);
        PQclear(r);
    } else {
        printf("slot: none made here; recap proxy creates a temporary one each time it starts\n");
    }
    return 0;
}

static int setup(PGconn *conn, const db_opts_t *o)
{
    if (check_wal_level(conn) != 0)
        return 2;
    if (o->tables != NULL && check_named_tables(conn, o->tables) != 0)
        return 2;
    PGresult *t = list_tables(conn, o->tables);
    if (t == NULL)
        return 2;
    if (PQntuples(t) == 0) {
        fprintf(stderr, "recap: db: no tables to publish\n");
        PQclear(t);
        return 2;
    }
    rcx_buf_t list;
    rcx_buf_init(&list, SIZE_MAX);
    int rc = 0;
    for (int i = 0; i < PQntuples(t) && rc == 0; i++) {
        const char *name = PQgetvalue(t, i, 0);
        char ident = PQgetvalue(t, i, 1)[0];
        bool has_pk = PQgetvalue(t, i, 2)[0] == 't';
        bool unsafe = ident == 'n' || (ident == 'd' && !has_pk);
        if ((o->replica_identity_full || unsafe) && ident != 'f') {
            char sql[600];
            snprintf(sql, sizeof(sql), "ALTER TABLE %s REPLICA IDENTITY FULL", name);
            PGresult *r = run(conn, sql, PGRES_COMMAND_OK);
            if (r == NULL)
                rc = 2;
            PQclear(r);
            if (rc == 0)
                printf(
                    "%s: REPLICA IDENTITY FULL%s\n", name,
                    unsafe
                        ? " (it has no primary key: published without it, the app's UPDATE and DELETE on it "
                          "would fail)"
                        : "");
        }
        if (i > 0)
            rcx_buf_append(&list, ", ", 2);
        rcx_buf_append(&list, name, strlen(name));
    }
    rcx_buf_append(&list, "", 1);
    int ntables = PQntuples(t);
    PQclear(t);
    if (rc != 0) {
        rcx_buf_free(&list);
        return rc;
    }
    char *pubid = PQescapeIdentifier(conn, o->publication, strlen(o->publication));
    char *publit = PQescapeLiteral(conn, o->publication, strlen(o->publication));
    char q[600];
    snprintf(q, sizeof(q), "SELECT puballtables FROM pg_publication WHERE pubname = %s", publit);
    PQfreemem(publit);
    PGresult *r = run(conn, q, PGRES_TUPLES_OK);
    if (r == NULL) {
        PQfreemem(pubid);
        rcx_buf_free(&list);
        return 2;
    }
    bool exists = PQntuples(r) > 0;
    bool all_tables = exists && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (all_tables) { /* made by someone else: it already covers every table, leave it */
        PQfreemem(pubid);
        printf("publication %s: FOR ALL TABLES, left as it is (%d tables checked: %s)\n", o->publication,
               ntables, list.base);
        rcx_buf_free(&list);
        return setup_slot(conn, o);
    }
    rcx_buf_t sql;
    rcx_buf_init(&sql, SIZE_MAX);
    snprintf(q, sizeof(q), exists ? "ALTER PUBLICATION %s SET TABLE " : "CREATE PUBLICATION %s FOR TABLE ",
             pubid);
    PQfreemem(pubid);
    rcx_buf_append(&sql, q, strlen(q));
    rcx_buf_append(&sql, list.base, list.len); /* with its NUL */
    r = run(conn, sql.base, PGRES_COMMAND_OK);
    rcx_buf_free(&sql);
    if (r == NULL) {
        rcx_buf_free(&list);
        return 2;
    }
    PQclear(r);
    printf("publication %s: %d tables (%s)\n", o->publication, ntables, list.base);
    rcx_buf_free(&list);
    return setup_slot(conn, o);
}

static int status(PGconn *conn, const db_opts_t *o)
{
    PGresult *r = run(conn, "SHOW wal_level", PGRES_TUPLES_OK);
    if (r == NULL)
        return 2;
    printf("wal_level: %s%s\n", PQgetvalue(r, 0, 0),
           strcmp(PQgetvalue(r, 0, 0), "logical") ? " (recap needs logical)" : "");
    PQclear(r);
    char sql[800];
    char *lit = PQescapeLiteral(conn, o->publication, strlen(o->publication));
    snprintf(
        sql, sizeof(sql),
        "SELECT t.schemaname || '.' || t.tablename, c.relreplident FROM pg_publication_tables t "
        "JOIN pg_class c ON c.oid = (quote_ident(t.schemaname) || '.' || quote_ident(t.tablename))::regclass "
        "WHERE t.pubname = %s ORDER BY 1",
        lit);
    r = run(conn, sql, PGRES_TUPLES_OK);
    if (r == NULL) {
        PQfreemem(lit);
        return 2;
    }
    PGresult *p;
    snprintf(sql, sizeof(sql), "SELECT 1 FROM pg_publication WHERE pubname = %s", lit);
    PQfreemem(lit);
    if ((p = run(conn, sql, PGRES_TUPLES_OK)) == NULL) {
        PQclear(r);
        return 2;
    }
    if (PQntuples(p) == 0)
        printf("publication %s: missing (run `recap db setup`)\n", o->publication);
    else
        printf("publication %s: %d tables\n", o->publication, PQntuples(r));
    PQclear(p);
    for (int i = 0; i < PQntuples(r); i++) {
        char id = PQgetvalue(r, i, 1)[0];
        printf("  %s  replica identity %s\n", PQgetvalue(r, i, 0),
               id == 'f'   ? "full"
               : id == 'd' ? "default (key)"
               : id == 'i' ? "index"
                           : "nothing");
    }
    PQclear(r);
    r = run(conn,
            "SELECT slot_name, temporary, active, coalesce(confirmed_flush_lsn::text, '-'), "
            "coalesce(pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)), '-') "
            "FROM pg_replication_slots WHERE plugin = 'pgoutput' ORDER BY 1",
            PGRES_TUPLES_OK);
    if (r == NULL)
        return 2;
    printf("slots: %d\n", PQntuples(r));
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %s  %s, %s, confirmed %s, behind by %s\n", PQgetvalue(r, i, 0),
               PQgetvalue(r, i, 1)[0] == 't' ? "temporary" : "persistent",
               PQgetvalue(r, i, 2)[0] == 't' ? "active" : "inactive", PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4));
    PQclear(r);
    return 0;
}

static int teardown(PGconn *conn, const db_opts_t *o)
{
    char sql[400];
    char *id = PQescapeIdentifier(conn, o->publication, strlen(o->publication));
    snprintf(sql, sizeof(sql), "DROP PUBLICATION IF EXISTS %s", id);
    PQfreemem(id);
    PGresult *r = run(conn, sql, PGRES_COMMAND_OK);
    if (r == NULL)
        return 2;
    PQclear(r);
    printf("publication %s: dropped\n", o->publication);
    if (o->slot != NULL) {
        char *lit = PQescapeLiteral(conn, o->slot, strlen(o->slot));
        snprintf(sql, sizeof(sql),
                 "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                 lit);
        PQfreemem(lit);
        if ((r = run(conn, sql, PGRES_TUPLES_OK)) == NULL)
            return 2;
        printf("slot %s: %s\n", o->slot, PQntuples(r) ? "dropped" : "did not exist");
        PQclear(r);
    }
    printf("replica identities are left as they are\n");
    return 0;
}

int recap_db_main(int argc, char **argv)
{
    enum { O_URL = 256, O_TABLES, O_SLOT, O_PUB, O_FULL, O_HELP };
    static const struct option options[] = {
        {"database-url", required_argument, NULL, O_URL},
        {"tables", required_argument, NULL, O_TABLES},
        {"slot", required_argument, NULL, O_SLOT},
        {"publication", required_argument, NULL, O_PUB},
        {"replica-identity-full", no_argument, NULL, O_FULL},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    db_opts_t o = {.url = getenv("RECAP_DATABASE_URL"), .publication = "recap"};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (c) {
        case O_URL:
            o.url = optarg;
            break;
        case O_TABLES:
            o.tables = optarg;
            break;
        case O_SLOT:
            o.slot = optarg;
            break;
        case O_PUB:
            o.publication = optarg;
            break;
        case O_FULL:
            o.replica_identity_full = true;
            break;
        case O_HELP:
            usage(stdout);
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return rcx_flag_error("db", c, argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "recap: db: say setup, status or teardown (see recap db --help)\n");
        return 2;
    }
    o.action = argv[optind];
    int (*fn)(PGconn *, const db_opts_t *) = strcmp(o.action, "setup") == 0      ? setup
                                             : strcmp(o.action, "status") == 0   ? status
                                             : strcmp(o.action, "teardown") == 0 ? teardown
                                                                                 : NULL;
    if (fn == NULL) {
        fprintf(stderr, "recap: db: unknown action '%s': say setup, status or teardown\n", o.action);
        return 2;
    }
    if (o.url == NULL || o.url[0] == '\0') {
        fprintf(stderr, "recap: db: no database: give --database-url URL or set RECAP_DATABASE_URL\n");
        return 2;
    }
    if (o.slot != NULL && strspn(o.slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(o.slot)) {
        fprintf(stderr, "recap: db: --slot: '%s' is not a slot name (lower-case letters, digits, _)\n",
                o.slot);
        return 2;
    }
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {o.url, "recap db", "10", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK)
        return die(conn, "cannot connect to the database: %s", PQerrorMessage(conn));
    PGresult *quiet = PQexec(conn, "SET client_min_messages = warning");
    PQclear(quiet);
    int rc = fn(conn, &o);
    PQfinish(conn);
    return rc;
}
