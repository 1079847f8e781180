/* common/file.c: see file.h. */
#include "common/file.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

int rcx_read_file(const char *path, size_t max, rcx_buf_t *out, rcx_err_t *err)
{
    rcx_buf_init(out, max);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rcx_err_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && !out->truncated)
        rcx_buf_append(out, chunk, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || out->truncated) {
        if (bad)
            rcx_err_set(err, "%s: read error", path);
        else
            rcx_err_set(err, "%s: larger than %zu MiB", path, max >> 20);
        rcx_buf_free(out);
        return -1;
    }
    return 0;
}

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
