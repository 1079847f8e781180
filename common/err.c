/* common/err.c: see err.h. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

void rcx_err_set(rcx_err_t *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

void rcx_err_flag(rcx_err_t *err, const char *command, int c, const char *flag)
{
    if (c == ':')
        rcx_err_set(err, "%s needs a value (see recap %s --help)", flag, command);
    else
        rcx_err_set(err, "unknown flag '%s' (see recap %s --help)", flag, command);
}
