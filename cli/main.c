/*
 * cli/main.c: `recap <subcommand>`: dispatch only. Each subcommand parses its
 * own flags and returns the exit code: 0 ok, 1 verification failed, 2 usage or
 * input error.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#ifndef RECAP_VERSION
#define RECAP_VERSION "0.0.0"
#endif

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand_t;

static int version_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        puts("usage: recap version\n\nPrints recap's version and the capture format it writes.");
        return 0;
    }
    if (argc > 1)
        return cli_fail("version", "unexpected argument '%s'", argv[1]);
    printf("recap %s (capture format 1)\n", RECAP_VERSION);
    return 0;
}

static const subcommand_t subcommands[] = {
    {"proxy", cli_proxy_main, "record every call through a reverse proxy"},
    {"db", cli_db_main, "set up, inspect or tear down what recap needs in PostgreSQL"},
    {"verify", cli_verify_main, "check captured calls against YAML specs"},
    {"diff", cli_diff_main, "compare two recorded runs call by call"},
    {"replay", cli_replay_main, "send a recorded run to a new build, record it, and diff"},
    {"specgen", cli_specgen_main, "draft specs from recorded calls"},
    {"show", cli_show_main, "print recorded calls and the rows they changed"},
    {"run", cli_run_main, "put a proxy in front of the API, run a suite through it, verify"},
    {"version", version_main, "print the version"},
};

static void usage(FILE *out)
{
    fputs("usage: recap <command> [options]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n`recap <command> --help` describes each one.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return version_main(1, argv + 1);
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "recap: unknown command '%s' (see recap --help)\n", argv[1]);
    return 2;
}
