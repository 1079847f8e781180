/*
 * proxy/cdc/dbadmin.h: `recap db setup | status | teardown`: the publication,
 * the slot and replica identities recap needs, made safely.
 *
 * setup never leaves a published table that the application can no longer
 * UPDATE or DELETE: a table with neither a primary key nor a replica identity
 * gets REPLICA IDENTITY FULL, and setup says so. The publication lists the
 * tables explicitly (FOR ALL TABLES needs a superuser and would publish future
 * tables that may have no key); run setup again after adding tables.
 * Returns the exit code (0, or 2 with a one-line message on stderr).
 */
#ifndef RECAP_CDC_DBADMIN_H
#define RECAP_CDC_DBADMIN_H

/** argv[0] is "db". */
int recap_db_main(int argc, char **argv);

#endif
