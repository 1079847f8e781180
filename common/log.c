/* common/log.c: see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic int current_level = RCX_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void rcx_log_set_level(rcx_log_level_t level)
{
    atomic_store(&current_level, (int)level);
}

int rcx_log_parse_level(const char *s, rcx_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (rcx_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void rcx_log(rcx_log_level_t level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&current_level))
        return;
    char line[1024];
    int n = snprintf(line, sizeof(line), "recap: %s: ", level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
