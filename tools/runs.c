/* tools/runs.c: see runs.h. */
#include "tools/runs.h"

#include "common/buf.h"
#include "common/capture_reader.h"
#include "common/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void rt_calls_free(rt_calls_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->v[i]);
    free(c->v);
    free(c->lines);
    *c = (rt_calls_t){0};
}

/* What diff reads of a call, in a new record that shares those parts with the parsed whole (the rest is freed
 * at once, so its memory is used again for the next line: the kept parts are all that grows): the request's
 * method, path, query and body (the value flow's client-made values); the response's status, content type and
 * body; the row changes. */
static json_t *to_compare(const json_t *call)
{
    json_t *c = json_object();
    static const char *const top[] = {"type", "seq", "arrival", "test", "db"};
    for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
        json_t *v = json_object_get(call, top[i]);
        if (v != NULL)
            json_object_set(c, top[i], v);
    }
    const json_t *req = json_object_get(call, "request"), *res = json_object_get(call, "response");
    json_t *r = json_object();
    static const char *const req_keep[] = {"method", "path", "query",
                                           "body"}; /* the body: where values come from */
    for (size_t i = 0; i < sizeof(req_keep) / sizeof(req_keep[0]); i++)
        if (json_object_get(req, req_keep[i]) != NULL)
            json_object_set(r, req_keep[i], json_object_get(req, req_keep[i]));
    json_object_set_new(c, "request", r);
    if (json_is_object(res)) {
        json_t *o = json_object();
        static const char *const res_keep[] = {"status", "body", "body_text", "body_b64", "truncated"};
        for (size_t i = 0; i < sizeof(res_keep) / sizeof(res_keep[0]); i++)
            if (json_object_get(res, res_keep[i]) != NULL)
                json_object_set(o, res_keep[i], json_object_get(res, res_keep[i]));
        const json_t *ct = json_object_get(json_object_get(res, "headers"), "content-type");
        if (ct != NULL)
            json_object_set_new(o, "headers", json_pack("{s:O}", "content-type", ct));
        json_object_set_new(c, "response", o);
    }
    return c;
}

static int load(const char *path, rt_calls_t *out, bool compare_only, rcx_err_t *err);

typedef struct order {
    uint64_t arrival;
    size_t at; /* place in the file: keeps the sort stable */
    json_t *call;
    unsigned long line;
} order_t;

static int by_arrival(const void *x, const void *y)
{
    const order_t *a = x, *b = y;
    if (a->arrival != b->arrival)
        return a->arrival < b->arrival ? -1 : 1;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* The calls from `from` on, in the order their requests arrived (a capture holds them as they finished). */
static void sort_by_arrival(rt_calls_t *c, size_t from)
{
    size_t n = c->n - from;
    order_t *o = rcx_xcalloc(n + 1, sizeof(*o));
    for (size_t i = 0; i < n; i++)
        o[i] = (order_t){rcx_rec_arrival(c->v[from + i]), i, c->v[from + i], c->lines[from + i]};
    qsort(o, n, sizeof(*o), by_arrival);
    for (size_t i = 0; i < n; i++) {
        c->v[from + i] = o[i].call;
        c->lines[from + i] = o[i].line;
    }
    free(o);
}

int rt_load_calls(const char *path, rt_calls_t *out, rcx_err_t *err)
{
    return load(path, out, false, err);
}

int rt_load_calls_to_compare(const char *path, rt_calls_t *out, rcx_err_t *err)
{
    return load(path, out, true, err);
}

/* A diff of part of a run would mislead: any bad line is an error. */
static int load(const char *path, rt_calls_t *out, bool compare_only, rcx_err_t *err)
{
    rcx_reader_t *r = rcx_reader_open(path, err);
    if (r == NULL)
        return -1;
    json_t *rec;
    int rc;
    size_t from = out->n;
    while ((rc = rcx_reader_next(r, &rec, err)) != 0) {
        if (rc < 0) {
            rcx_reader_close(r);
            return -1;
        }
        if (rcx_rec_kind(rec) == RCX_REC_CALL) {
            if (compare_only) {
                json_t *small = to_compare(rec);
                json_decref(rec);
                rec = small;
            }
            out->v = rcx_xrealloc(out->v, sizeof(*out->v) * (out->n + 1));
            out->lines = rcx_xrealloc(out->lines, sizeof(*out->lines) * (out->n + 1));
            out->lines[out->n] = rcx_reader_line(r);
            out->v[out->n++] = rec;
        } else {
            json_decref(rec);
        }
    }
    rcx_reader_close(r);
    sort_by_arrival(out, from);
    return 0;
}

/* ---- a run read again from its file, call by call ---- */

typedef struct span {
    uint64_t off, arrival;
    uint32_t len;  /* the line's bytes, without its newline */
    uint32_t line; /* its number, for messages */
} span_t;

struct rt_run {
    int fd;
    char *name;
    span_t *s;
    size_t n;
    char *buf;
    size_t cap;
    rcx_err_t err;
};

static int span_by_arrival(const void *x, const void *y)
{
    const span_t *a = x, *b = y;
    if (a->arrival != b->arrival)
        return a->arrival < b->arrival ? -1 : 1;
    return a->off < b->off ? -1 : a->off > b->off;
}

void rt_run_close(rt_run_t *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->name);
    free(r->s);
    free(r->buf);
    free(r);
}

rt_run_t *rt_run_open(const char *path, rcx_err_t *err)
{
    rcx_reader_t *rd = rcx_reader_open(path, err);
    if (rd == NULL)
        return NULL;
    rt_run_t *r = rcx_xcalloc(1, sizeof(*r));
    r->name = rcx_xstrdup(path);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rcx_err_set(err, "%s: %s", path, strerror(errno));
        goto Fail;
    }
    size_t cap = 0;
    json_t *rec;
    int rc;
    while ((rc = rcx_reader_next(rd, &rec, err)) != 0) {
        if (rc < 0)
            goto Fail;
        if (rcx_rec_kind(rec) == RCX_REC_CALL) {
            if (r->n == cap)
                r->s = rcx_xrealloc(r->s, sizeof(*r->s) * (cap = cap ? cap * 2 : 1024));
            uint64_t off;
            size_t len;
            rcx_reader_span(rd, &off, &len);
            r->s[r->n++] = (span_t){off, rcx_rec_arrival(rec), (uint32_t)len, (uint32_t)rcx_reader_line(rd)};
        }
        json_decref(rec);
    }
    rcx_reader_close(rd);
    if (r->n > 0)
        qsort(r->s, r->n, sizeof(*r->s), span_by_arrival);
    return r;
Fail:
    rcx_reader_close(rd);
    rt_run_close(r);
    return NULL;
}

static json_t *run_get(void *ctx, size_t i)
{
    rt_run_t *r = ctx;
    const span_t *s = &r->s[i];
    if (r->cap < (size_t)s->len + 1)
        r->buf = rcx_xrealloc(r->buf, r->cap = (size_t)s->len + 1);
    json_t *rec = NULL;
    ssize_t got = pread(r->fd, r->buf, s->len, (off_t)s->off);
    if (got != (ssize_t)s->len ||
        rcx_capture_parse_line(r->name, s->line, r->buf, s->len, true, &rec, &r->err) != 1 ||
        rcx_rec_kind(rec) != RCX_REC_CALL) {
        json_decref(rec);
        rcx_err_set(&r->err, "%s:%u:1: the capture changed while it was being compared", r->name, s->line);
        return NULL;
    }
    json_t *small = to_compare(rec);
    json_decref(rec);
    return small;
}

rt_source_t rt_run_source(rt_run_t *r)
{
    return (rt_source_t){r->n, run_get, r};
}

const rcx_err_t *rt_run_error(const rt_run_t *r)
{
    return &r->err;
}

int rt_load_noise(const char *path, rt_noise_t *noise, rcx_err_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        rcx_err_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    unsigned long n = 0;
    while (fgets(line, sizeof(line), f)) {
        n++;
        char *s = line + strspn(line, " \t");
        s[strcspn(s, "#\r\n")] = '\0';
        for (size_t l = strlen(s); l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'); l--)
            s[l - 1] = '\0';
        if (*s == '\0')
            continue;
        if (strncmp(s, "status", 6) != 0 && strncmp(s, "response.", 9) != 0 && strncmp(s, "db", 2) != 0 &&
            strcmp(s, "request.path") != 0) {
            rcx_err_set(err,
                        "%s:%lu:1: '%s' is not a path (status, request.path, response.body..., "
                        "response.headers..., db...)",
                        path, n, s);
            fclose(f);
            return -1;
        }
        rt_noise_add(noise, s);
    }
    fclose(f);
    return 0;
}

int rt_count_orphans(const char *path, size_t *n, rcx_err_t *err)
{
    rcx_reader_t *r = rcx_reader_open(path, err);
    if (r == NULL)
        return -1;
    json_t *rec;
    int rc;
    *n = 0;
    while ((rc = rcx_reader_next(r, &rec, err)) == 1) {
        *n += rcx_rec_kind(rec) == RCX_REC_ORPHAN;
        json_decref(rec);
    }
    rcx_reader_close(r);
    return rc;
}
