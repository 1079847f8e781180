/*
 * cli/cli.h: what every subcommand shares. cli/ is the only place that
 * parses flags, prints "recap: VERB: ..." and picks an exit code: 0 ok,
 * 1 verification failed (or the runs differ), 2 usage or input error.
 *
 * Contract: each cli_*_main takes argv with argv[0] the subcommand's name,
 * uses getopt_long (resetting optind itself), and returns the exit code; the
 * libraries it calls return errors (common/err.h) and never print.
 */
#ifndef CLI_H
#define CLI_H

#include "common/err.h"

/** Prints "recap: VERB: message" on stderr; returns 2. */
int cli_fail(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The same for an error a library filled. */
int cli_fail_err(const char *verb, const rcx_err_t *err);

/** The message for a flag getopt_long refused (c is ':' for a missing value); returns 2. */
int cli_flag_error(const char *verb, int c, const char *flag);

int cli_proxy_main(int argc, char **argv);
int cli_db_main(int argc, char **argv);
int cli_verify_main(int argc, char **argv);
int cli_diff_main(int argc, char **argv);
int cli_replay_main(int argc, char **argv);
int cli_specgen_main(int argc, char **argv);
int cli_show_main(int argc, char **argv);
int cli_run_main(int argc, char **argv);

#endif
