/* verifier/shard.c: see shard.h. */
#include "verifier/shard.h"

#include "common/buf.h"
#include "common/capture_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DROP_BYTES (8u * 1024 * 1024)

typedef struct range {
    const char *name; /* the capture, as given */
    const char *base; /* its mapping */
    size_t start, end;
    unsigned long first_line; /* number of the line at start */
    unsigned long lines;      /* newlines in the range */
    rv_report_t rep;
    bool input_error, torn;
} range_t;

typedef struct job {
    const rv_specs_t *specs;
    range_t *ranges;
    size_t n;
    int stride, first;
    bool keep;
    struct gate *gate;
} job_t;

/* The threads start together once it is known how many did start (the ranges are dealt among those). */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t open;
    bool go;
    int threads;
    pthread_barrier_t counted; /* every range's lines counted: line numbers can be given */
} gate_t;

bool rv_shard_worthwhile(const rv_specs_t *specs, char *const *paths, int n, size_t min_bytes)
{
    for (size_t i = 0; i < specs->n; i++)
        if (specs->v[i].nsaves > 0)
            return false;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0)
            total += (size_t)st.st_size;
    }
    return total >= min_bytes;
}

static void note(range_t *r, const char *msg)
{
    rv_report_note(&r->rep, msg);
    r->input_error = true;
}

static void check_range(const rv_specs_t *specs, range_t *r, bool keep)
{
    json_t *saved = json_object(); /* stays empty: sharding only runs when nothing is saved */
    unsigned long lineno = r->first_line;
    const char *p = r->base + r->start, *end = r->base + r->end;
    const long page = sysconf(_SC_PAGESIZE);
    uintptr_t dropped = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    for (; p < end && !r->torn; lineno++) {
        /* pages already read go back to the page cache: memory stays bounded, whatever the capture's size */
        if ((uintptr_t)p - dropped >= DROP_BYTES) {
            uintptr_t upto = (uintptr_t)p & ~((uintptr_t)page - 1);
            madvise((void *)dropped, upto - dropped, MADV_DONTNEED);
            dropped = upto;
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (len == 0)
            continue;
        if (len > RCX_READER_MAX_LINE) {
            char msg[300];
            snprintf(msg, sizeof(msg), "%s:%lu:1: line longer than %u bytes", r->name, lineno,
                     RCX_READER_MAX_LINE);
            note(r, msg);
            r->torn = true; /* the serial reader stops there too */
            break;
        }
        json_t *rec = NULL;
        rcx_err_t err;
        int rc = rcx_capture_parse_line(r->name, lineno, line, len, nl != NULL, &rec, &err);
        if (rc == -2) {
            note(r, err.msg);
            r->torn = true;
        } else if (rc < 0) {
            note(r, err.msg);
        } else {
            if (strcmp(json_string_value(json_object_get(rec, "type")), "header") == 0) {
                if (rcx_capture_check_header(r->name, lineno, rec, &err) != 0)
                    note(r, err.msg);
            } else {
                rv_report_record(&r->rep, specs, r->name, lineno, rec, saved, keep);
            }
            json_decref(rec);
        }
    }
    json_decref(saved);
}

/* Newlines in [p, end), giving the pages back as it goes (they are read again, from the page cache). */
static unsigned long count_lines(const char *p, const char *end)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    unsigned long n = 0;
    while (p < end) {
        const char *stop = (size_t)(end - p) > DROP_BYTES ? p + DROP_BYTES : end;
        for (const char *q = p; (q = memchr(q, '\n', (size_t)(stop - q))) != NULL; q++)
            n++;
        uintptr_t from = ((uintptr_t)p + page - 1) & ~(page - 1), to = (uintptr_t)stop & ~(page - 1);
        if (to > from)
            madvise((void *)from, to - from, MADV_DONTNEED);
        p = stop;
    }
    return n;
}

static void *worker(void *arg)
{
    job_t *j = arg;
    pthread_mutex_lock(&j->gate->lock);
    while (!j->gate->go)
        pthread_cond_wait(&j->gate->open, &j->gate->lock);
    pthread_mutex_unlock(&j->gate->lock);
    j->stride = j->gate->threads;
    if (j->first >= j->stride)
        return NULL;
    for (size_t i = (size_t)j->first; i < j->n; i += (size_t)j->stride) {
        range_t *r = &j->ranges[i];
        r->lines = count_lines(r->base + r->start, r->base + r->end);
    }
    if (j->stride > 1)
        pthread_barrier_wait(&j->gate->counted);
    for (size_t i = (size_t)j->first; i < j->n; i += (size_t)j->stride) {
        range_t *r = &j->ranges[i];
        r->first_line = 2; /* line 1 is the header, already checked */
        for (size_t k = 0; k < i; k++)
            if (j->ranges[k].base == r->base)
                r->first_line += j->ranges[k].lines;
        check_range(j->specs, r, j->keep);
    }
    return NULL;
}

/* Moves a range's report into the whole one. */
static void join(rv_report_t *into, rv_report_t *from)
{
    for (size_t i = 0; i < from->n; i++) {
        if (into->n == into->cap) {
            into->cap = into->cap ? into->cap * 2 : 256;
            into->items = rcx_xrealloc(into->items, sizeof(*into->items) * into->cap);
        }
        into->items[into->n++] = from->items[i];
    }
    into->passed += from->passed;
    into->failed += from->failed;
    into->unmatched += from->unmatched;
    into->kept_passes += from->kept_passes;
    if (from->norphans > 0) {
        into->orphans =
            rcx_xrealloc(into->orphans, sizeof(*into->orphans) * (into->norphans + from->norphans));
        memcpy(into->orphans + into->norphans, from->orphans, sizeof(*from->orphans) * from->norphans);
        into->norphans += from->norphans;
    }
    rv_coverage_join(&into->coverage, &from->coverage);
    for (size_t i = 0; i < from->nnotes; i++) {
        rv_report_note(into, from->notes[i]);
        free(from->notes[i]);
    }
    free(from->items);
    free(from->orphans);
    free(from->notes);
    *from = (rv_report_t){0};
}

/* Maps a capture and cuts what follows its header line into up to `threads` ranges of whole lines. */
static int cut_file(const char *path, int threads, const rv_report_t *report, void **map, size_t *size,
                    range_t **ranges, size_t *nr, rcx_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        rcx_err_set(err, "%s: %s", path, fd < 0 ? strerror(errno) : "empty");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *size = (size_t)st.st_size;
    *map = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (*map == MAP_FAILED) {
        *map = NULL;
        rcx_err_set(err, "%s: cannot map it: %s", path, strerror(errno));
        return -1;
    }
    const char *base = *map;
    const char *first = memchr(base, '\n', *size); /* the header line, already checked */
    size_t pos = first ? (size_t)(first - base) + 1 : *size;
    for (int k = 0; k < threads && pos < *size; k++) {
        size_t end = k == threads - 1 ? *size : pos + (*size - pos) / (size_t)(threads - k);
        const char *nl = end < *size ? memchr(base + end, '\n', *size - end) : NULL;
        end = nl ? (size_t)(nl - base) + 1 : *size;
        *ranges = rcx_xrealloc(*ranges, sizeof(**ranges) * (*nr + 1));
        (*ranges)[(*nr)++] = (range_t){.name = path,
                                       .base = base,
                                       .start = pos,
                                       .end = end,
                                       .rep = {.require_spec = report->require_spec}};
        pos = end;
    }
    return 0;
}

/* Runs the workers (this thread is the first) until every range is checked. */
static void run_workers(const rv_specs_t *specs, range_t *ranges, size_t nr, int threads, bool keep)
{
    pthread_t *th = rcx_xcalloc((size_t)threads, sizeof(*th));
    job_t *jobs = rcx_xcalloc((size_t)threads, sizeof(*jobs));
    gate_t gate = {.lock = PTHREAD_MUTEX_INITIALIZER, .open = PTHREAD_COND_INITIALIZER};
    for (int t = 0; t < threads; t++)
        jobs[t] = (job_t){specs, ranges, nr, threads, t, keep, &gate};
    int started = 1; /* thread 0 is this one */
    while (started < threads && pthread_create(&th[started], NULL, worker, &jobs[started]) == 0)
        started++;
    pthread_barrier_init(&gate.counted, NULL, (unsigned)started);
    pthread_mutex_lock(&gate.lock);
    gate.threads = started;
    gate.go = true;
    pthread_cond_broadcast(&gate.open);
    pthread_mutex_unlock(&gate.lock);
    worker(&jobs[0]);
    for (int t = 1; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&gate.counted);
    free(th);
    free(jobs);
}

int rv_shard_verify(const rv_specs_t *specs, char *const *paths, int n, int threads, bool keep,
                    rv_report_t *report, rcx_err_t *err)
{
    if (threads < 1)
        threads = 1;
    range_t *ranges = NULL;
    size_t nr = 0;
    void **maps = rcx_xcalloc((size_t)n, sizeof(*maps));
    size_t *sizes = rcx_xcalloc((size_t)n, sizeof(*sizes));
    int rc = 0;
    for (int f = 0; f < n && rc == 0; f++)
        rc = cut_file(paths[f], threads, report, &maps[f], &sizes[f], &ranges, &nr, err);
    if (rc == 0) {
        run_workers(specs, ranges, nr, threads, keep);
        bool torn = false;
        for (size_t i = 0; i < nr; i++) {
            if (torn &&
                ranges[i].name == ranges[i - 1].name) { /* after a torn line nothing of that file counts */
                rv_report_free(&ranges[i].rep);
                continue;
            }
            torn = ranges[i].torn;
            if (ranges[i].input_error)
                rc = -1;
            join(report, &ranges[i].rep);
        }
    }
    for (int f = 0; f < n; f++)
        if (maps[f] != NULL)
            munmap(maps[f], sizes[f]);
    free(maps);
    free(sizes);
    free(ranges);
    return rc;
}
