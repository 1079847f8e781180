/* cli/cli.c: see cli.h. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>

int cli_fail(const char *verb, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "recap: %s: %s\n", verb, msg);
    return 2;
}

int cli_fail_err(const char *verb, const rcx_err_t *err)
{
    return cli_fail(verb, "%s", err->msg);
}

int cli_flag_error(const char *verb, int c, const char *flag)
{
    rcx_err_t err;
    rcx_err_flag(&err, verb, c, flag);
    return cli_fail_err(verb, &err);
}
