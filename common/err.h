/*
 * common/err.h: an error that says what went wrong and where.
 *
 * Contract: library functions that can fail on bad input fill an rcx_err_t
 * supplied by the caller (never allocated) and return -1 or NULL. The message
 * is one line, already prefixed with its position ("file:line:col: ") when
 * there is one; the CLI (cli/cli.h) prints it as "recap: <verb>: <msg>" and exits 2.
 * Libraries never print and never exit.
 */
#ifndef RCX_ERR_H
#define RCX_ERR_H

#include <stddef.h>

typedef struct rcx_err {
    char msg[512];
} rcx_err_t;

/** Formats the message (printf-style); a NULL err is allowed and ignored. */
void rcx_err_set(rcx_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** The message for a flag getopt_long refused in `recap COMMAND`: c is ':' (the flag needs a value) or
 * anything else (an unknown flag). */
void rcx_err_flag(rcx_err_t *err, const char *command, int c, const char *flag);

#endif
