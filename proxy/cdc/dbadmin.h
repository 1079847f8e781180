/*
 * proxy/cdc/dbadmin.h: what recap needs in PostgreSQL (the publication, the
 * slot, replica identities), made, shown and removed safely; `recap db`
 * (cli/db.c) drives it.
 *
 * setup never leaves a published table that the application can no longer
 * UPDATE or DELETE: a table with neither a primary key nor a replica identity
 * gets REPLICA IDENTITY FULL, and setup says so. The publication lists the
 * tables explicitly (FOR ALL TABLES needs a superuser and would publish future
 * tables that may have no key). With a superuser, an event trigger publishes
 * tables created later (made safe the same way first); without one, setup
 * says to run it again after migrating, and status and the proxy (at each
 * connect) name the tables that are not watched.
 *
 * Contract: each call connects, writes what it did or found to out (one fact
 * a line) and disconnects; 0, or -1 with one line in err (a refused
 * connection, a missing privilege, wal_level not logical). Blocking; any
 * thread.
 */
#ifndef RECAP_CDC_DBADMIN_H
#define RECAP_CDC_DBADMIN_H

#include "common/buf.h"
#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct recap_db_opts {
    const char *url;
    const char *tables; /* comma-separated, or NULL for every user table */
    const char *slot;   /* a persistent slot to make (setup) or drop (teardown), or NULL */
    const char *publication;
    bool replica_identity_full; /* on every published table, not only those without a key */
    uint64_t wait_ms;           /* how long to wait for the server to answer before giving up */
} recap_db_opts_t;

int recap_db_setup(const recap_db_opts_t *o, FILE *out, rcx_err_t *err);
int recap_db_status(const recap_db_opts_t *o, FILE *out, rcx_err_t *err);
int recap_db_teardown(const recap_db_opts_t *o, FILE *out, rcx_err_t *err);

/** Appends to sql the query listing the user tables publication_literal (already quoted) does not list:
 *  their quoted name and relpersistence, in name order. Shared by `db status` and the stream's check. */
void recap_db_unwatched_sql(rcx_buf_t *sql, const char *publication_literal);

/** Appends to sql the query listing the partitioned tables whose changes the publication names by the
 *  partition that holds each row (it was made without publish_via_partition_root): their quoted names. Specs
 *  name the table; `recap db setup` sets the option. Shared by `db status` and the stream's check. */
void recap_db_by_partition_sql(rcx_buf_t *sql, const char *publication_literal);

#endif
