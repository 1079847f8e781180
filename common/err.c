/* common/err.c: see err.h. */
#include "err.h"

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
