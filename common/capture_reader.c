/* common/capture_reader.c: see capture_reader.h. */
#include "common/capture_reader.h"

#include "common/codec.h"

#include "common/buf.h"
#include "common/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rcx_reader {
    FILE *fp;
    bool owns_fp;
    char *name;
    json_t *header;
    char *line;
    size_t cap;
    unsigned long lineno;
    bool torn, eof;
    uint64_t pos;      /* bytes read so far */
    uint64_t line_off; /* where the line last read starts, and its length without the newline */
    size_t line_len;
};

/* Reads one line into r->line without its newline (NUL bytes and all: getdelim counts them, where fgets and
 * strlen would stop at the first). 1 line, 0 eof, -1 too long. */
static int read_line(rcx_reader_t *r, size_t *len, bool *newline)
{
    ssize_t got = getdelim(&r->line, &r->cap, '\n', r->fp);
    *newline = false;
    *len = 0;
    if (got <= 0)
        return 0;
    size_t n = (size_t)got;
    r->line_off = r->pos;
    r->pos += n;
    if (n > RCX_READER_MAX_LINE)
        return -1;
    if (r->line[n - 1] == '\n') {
        r->line[--n] = '\0';
        *newline = true;
    }
    *len = n;
    r->line_len = n;
    return 1;
}

int rcx_capture_check_header(const char *name, unsigned long lineno, const json_t *h, rcx_err_t *err)
{
    json_t *v = json_object_get(h, "recap");
    if (!json_is_integer(v)) {
        rcx_err_set(err, "%s:%lu:1: header line has no \"recap\" format version", name, lineno);
        return -1;
    }
    if (json_integer_value(v) != RCX_CAPTURE_FORMAT) {
        rcx_err_set(err, "%s:%lu:1: capture format version %lld, this recap reads version %d", name, lineno,
                    (long long)json_integer_value(v), RCX_CAPTURE_FORMAT);
        return -1;
    }
    return 0;
}

static int check_header(rcx_reader_t *r, json_t *h, rcx_err_t *err)
{
    return rcx_capture_check_header(r->name, r->lineno, h, err);
}

int rcx_capture_parse_line(const char *name, unsigned long lineno, const char *line, size_t len, bool newline,
                           json_t **out, rcx_err_t *err)
{
    const char *nul = memchr(line, '\0', len); /* a raw NUL would end the text for the JSON parser */
    if (nul != NULL) {
        rcx_err_set(err, "%s:%lu:%zu: a NUL byte in a capture line", name, lineno, (size_t)(nul - line) + 1);
        return newline ? -1 : -2;
    }
    json_error_t je;
    json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, &je); /* "\\u0000" is valid JSON */
    if (obj == NULL) {
        if (!newline) {
            rcx_err_set(err, "%s:%lu:%d: torn last line (%zu bytes, no newline): %s", name, lineno,
                        je.column > 0 ? je.column : 1, len, je.text);
            return -2;
        }
        rcx_err_set(err, "%s:%lu:%d: %s", name, lineno, je.column > 0 ? je.column : 1, je.text);
        return -1;
    }
    if (!json_is_string(json_object_get(obj, "type"))) {
        json_decref(obj);
        rcx_err_set(err, "%s:%lu:1: record has no \"type\"", name, lineno);
        return -1;
    }
    const char *why = rcx_rec_malformed(obj);
    if (why != NULL) {
        json_decref(obj);
        rcx_err_set(err, "%s:%lu:1: %s", name, lineno, why);
        return -1;
    }
    *out = obj;
    return 1;
}

/* Parses the next non-empty line. 1 ok, 0 eof, -1 error. */
static int next_object(rcx_reader_t *r, json_t **out, rcx_err_t *err)
{
    for (;;) {
        size_t len;
        bool newline;
        int rc = read_line(r, &len, &newline);
        if (rc == 0) {
            if (ferror(r->fp)) {
                rcx_err_set(err, "%s:%lu: read error: %s", r->name, r->lineno + 1, strerror(errno));
                r->eof = true;
                return -1;
            }
            r->eof = true;
            return 0;
        }
        r->lineno++;
        if (rc < 0) {
            rcx_err_set(err, "%s:%lu:1: line longer than %u bytes", r->name, r->lineno, RCX_READER_MAX_LINE);
            r->eof = true;
            return -1;
        }
        if (len == 0)
            continue;
        rc = rcx_capture_parse_line(r->name, r->lineno, r->line, len, newline, out, err);
        if (rc == -2) {
            r->torn = true;
            r->eof = true;
            return -1;
        }
        return rc;
    }
}

rcx_reader_t *rcx_reader_from_stream(FILE *fp, const char *name, rcx_err_t *err)
{
    rcx_reader_t *r = rcx_xmalloc(sizeof(*r));
    *r = (rcx_reader_t){.fp = fp, .name = rcx_xstrdup(name)};
    json_t *h = NULL;
    rcx_err_t first;
    int rc = next_object(r, &h, &first);
    if (rc < 0) {
        /* "file:1:5: ..." -> "file:1:5: not a recap capture: ..." */
        const char *rest = strstr(first.msg, ": ");
        rcx_err_set(err, "%.*s: not a recap capture:%s", (int)(rest ? rest - first.msg : 0), first.msg,
                    rest ? rest + 1 : first.msg);
    }
    if (rc == 0)
        rcx_err_set(err, "%s:1:1: empty file, not a recap capture", r->name);
    if (rc == 1 && strcmp(json_string_value(json_object_get(h, "type")), "header") != 0) {
        rcx_err_set(err, "%s:%lu:1: not a recap capture: the first line is not a header", r->name, r->lineno);
        rc = -1;
    }
    if (rc == 1 && check_header(r, h, err) == 0) {
        r->header = h;
        return r;
    }
    json_decref(h);
    free(r->name);
    free(r->line);
    free(r);
    return NULL;
}

rcx_reader_t *rcx_reader_open(const char *path, rcx_err_t *err)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        rcx_err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    rcx_reader_t *r = rcx_reader_from_stream(fp, path, err);
    if (r == NULL) {
        fclose(fp);
        return NULL;
    }
    r->owns_fp = true;
    return r;
}

const json_t *rcx_reader_header(const rcx_reader_t *r)
{
    return r->header;
}

int rcx_reader_next(rcx_reader_t *r, json_t **rec, rcx_err_t *err)
{
    for (;;) {
        if (r->eof)
            return 0;
        json_t *obj = NULL;
        int rc = next_object(r, &obj, err);
        if (rc != 1)
            return rc;
        if (strcmp(json_string_value(json_object_get(obj, "type")), "header") == 0) {
            int bad = check_header(r, obj, err);
            json_decref(obj);
            if (bad)
                return -1;
            continue;
        }
        *rec = obj;
        return 1;
    }
}

bool rcx_reader_torn(const rcx_reader_t *r)
{
    return r->torn;
}

unsigned long rcx_reader_line(const rcx_reader_t *r)
{
    return r->lineno;
}

void rcx_reader_span(const rcx_reader_t *r, uint64_t *off, size_t *len)
{
    *off = r->line_off;
    *len = r->line_len;
}

void rcx_reader_close(rcx_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->owns_fp)
        fclose(r->fp);
    json_decref(r->header);
    free(r->name);
    free(r->line);
    free(r);
}
