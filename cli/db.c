/* cli/db.c: `recap db setup | status | teardown`: flags in, proxy/cdc/dbadmin.h does the work. */
#include "cli/cli.h"
#include "common/num.h"
#include "proxy/cdc/dbadmin.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
          "                           and deletes carry the whole old row\n"
          "  --wait DUR               wait this long for the server to accept connections (default 30s)\n"
          "\n"
          "setup works on an empty database: tables created later (the app's start-up, migrations) are\n"
          "published as they are created, keyless ones with REPLICA IDENTITY FULL (an event trigger:\n"
          "needs a superuser; otherwise run setup again after migrating). status lists the tables\n"
          "that are not watched.\n",
          out);
}

int cli_db_main(int argc, char **argv)
{
    enum { O_URL = 256, O_TABLES, O_SLOT, O_PUB, O_FULL, O_WAIT, O_HELP };
    static const struct option options[] = {
        {"database-url", required_argument, NULL, O_URL},
        {"tables", required_argument, NULL, O_TABLES},
        {"slot", required_argument, NULL, O_SLOT},
        {"publication", required_argument, NULL, O_PUB},
        {"replica-identity-full", no_argument, NULL, O_FULL},
        {"wait", required_argument, NULL, O_WAIT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    recap_db_opts_t o = {.url = getenv("RECAP_DATABASE_URL"), .publication = "recap", .wait_ms = 30000};
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
        case O_WAIT:
            if (rcx_parse_duration_ms(optarg, &o.wait_ms) != 0)
                return cli_fail("db", "--wait: '%s' is not a duration (e.g. 30s)", optarg);
            break;
        case O_HELP:
            usage(stdout);
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return cli_flag_error("db", c, argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_fail("db", "say setup, status or teardown (see recap db --help)");
    const char *action = argv[optind];
    int (*fn)(const recap_db_opts_t *, FILE *, rcx_err_t *) =
        strcmp(action, "setup") == 0      ? recap_db_setup
        : strcmp(action, "status") == 0   ? recap_db_status
        : strcmp(action, "teardown") == 0 ? recap_db_teardown
                                          : NULL;
    if (fn == NULL)
        return cli_fail("db", "unknown action '%s': say setup, status or teardown", action);
    if (o.url == NULL || o.url[0] == '\0')
        return cli_fail("db", "no database: give --database-url URL or set RECAP_DATABASE_URL");
    if (o.slot != NULL && strspn(o.slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(o.slot))
        return cli_fail("db", "--slot: '%s' is not a slot name (lower-case letters, digits, _)", o.slot);
    rcx_err_t err;
    return fn(&o, stdout, &err) == 0 ? 0 : cli_fail_err("db", &err);
}
