/* common/num.c: see num.h. */
#include "common/num.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The leading decimal digits of s; *end after them. -1 when there are none, or a sign, or overflow. */
static int leading(const char *s, unsigned long long *v, char **end)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *v = strtoull(s, end, 10);
    return errno ? -1 : 0;
}

int rcx_parse_u64(const char *s, uint64_t *out)
{
    unsigned long long v;
    char *end;
    if (leading(s, &v, &end) != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static unsigned long long size_unit(const char *u)
{
    static const struct {
        const char *name;
        unsigned long long mul;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"k", 1ull << 10},
                 {"kib", 1ull << 10},
                 {"kb", 1ull << 10},
                 {"m", 1ull << 20},
                 {"mib", 1ull << 20},
                 {"mb", 1ull << 20},
                 {"g", 1ull << 30},
                 {"gib", 1ull << 30},
                 {"gb", 1ull << 30}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(u, units[i].name) == 0)
            return units[i].mul;
    return 0;
}

int rcx_parse_size(const char *s, size_t *out)
{
    unsigned long long v, mul;
    char *end;
    if (leading(s, &v, &end) != 0 || (mul = size_unit(end)) == 0 || v > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

int rcx_parse_duration_ms(const char *s, uint64_t *out)
{
    unsigned long long v, mul;
    char *end;
    if (leading(s, &v, &end) != 0)
        return -1;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mul = 1;
    else if (strcmp(end, "s") == 0)
        mul = 1000;
    else if (strcmp(end, "m") == 0)
        mul = 60000;
    else
        return -1;
    if (v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}
