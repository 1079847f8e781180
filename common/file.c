/* common/file.c: see file.h. */
#include "common/file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int rcx_write_file(const char *path, int (*fn)(FILE *out, const void *arg), const void *arg, rcx_err_t *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    int rc = f != NULL ? fn(f, arg) : -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        rcx_err_set(err, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
    }
    return rc;
}
