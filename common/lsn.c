/* common/lsn.c: see lsn.h. */
#include "common/lsn.h"

#include <inttypes.h>
#include <stdio.h>

void rcx_lsn_format(uint64_t lsn, char out[24])
{
    snprintf(out, 24, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

int rcx_lsn_parse(const char *s, uint64_t *out)
{
    unsigned int hi, lo;
    int used = 0;
    if (sscanf(s, "%X/%X%n", &hi, &lo, &used) != 2 || s[used] != '\0')
        return -1;
    *out = (uint64_t)hi << 32 | lo;
    return 0;
}
