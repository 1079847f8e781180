/* proxy/writer.c: see writer.h. */
#include "proxy/writer.h"

#include "common/capture_reader.h"
#include "common/log.h"
#include "common/codec.h"
#include "common/lsn.h"
#include "proxy/encode.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH_GATHER_NS (1000 * 1000) /* 1 ms */

typedef struct item {
    struct item *next;
    rcx_call_t *call; /* a call record to encode, or NULL for a line already encoded: */
    char *line;
    size_t len;
    uint64_t lsn; /* for a line: the WAL position it makes durable */
    size_t size;
    uint64_t ticket;
} item_t;

struct recap_writer {
    recap_writer_opts_t opts;
    int fd;
    off_t size; /* bytes of whole lines in the file: where a failed write is cut back to */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    item_t *head, *tail;  /* under lock */
    item_t *spent;        /* under lock: written, to be freed by the loop (recap_writer_reap) */
    bool stopping;        /* under lock */
    bool sleeping;        /* under lock: the thread waits for work and must be signalled */
    uint64_t pushed, seq; /* loop thread only */
    _Atomic uint64_t done;
    _Atomic uint64_t durable_lsn;
    recap_writer_stats_t stats;
    rcx_buf_t out; /* writer thread only */
};

static size_t call_size(const rcx_call_t *c)
{
    return sizeof(*c) + c->req.headers.cap + c->res.headers.cap + c->req.body.cap + c->res.body.cap;
}

/* From whole lines at the end of p[0..n): the seq of the last call and the last resume_lsn written. */
static void last_marks_in(const char *p, size_t n, bool from_start, uint64_t *seq, uint64_t *tx_lsn)
{
    size_t end = n;
    while (end > 0 && (*seq == 0 || *tx_lsn == 0)) {
        size_t start = end;
        while (start > 0 && p[start - 1] != '\n')
            start--;
        if (start == 0 && !from_start)
            return; /* the window begins mid-line */
        const char *line = p + start;
        size_t len = end - start;
        rcx_rec_kind_t kind = rcx_codec_peek(line, len);
        bool is_call = kind == RCX_REC_CALL, is_orphan = kind == RCX_REC_ORPHAN;
        if ((is_call && *seq == 0) || ((is_call || is_orphan) && *tx_lsn == 0)) {
            json_t *rec = json_loadb(line, len, 0, NULL);
            json_t *v = json_object_get(rec, "seq");
            if (is_call && *seq == 0 && json_is_integer(v))
                *seq = (uint64_t)json_integer_value(v);
            if (*tx_lsn == 0)
                *tx_lsn = rcx_rec_resume_lsn(rec);
            json_decref(rec);
        }
        end = start > 0 ? start - 1 : 0;
    }
}

/*
 * Checks that an existing capture is of our format (its first line) and finds
 * its last seq by reading backwards from the end, so start-up does not read a
 * large capture whole.
 */
static int scan_existing(const char *path, off_t size, uint64_t *last_seq, uint64_t *tx_lsn, rcx_err_t *err)
{
    rcx_err_t rerr;
    rcx_reader_t *r = rcx_reader_open(path, &rerr);
    if (r == NULL) {
        rcx_err_set(err, "%s; refusing to append to it (choose another --capture)", rerr.msg);
        return -1;
    }
    rcx_reader_close(r);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rcx_err_set(err, "cannot read capture file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t window = 1024 * 1024;
    char *buf = NULL;
    *last_seq = 0;
    for (;;) {
        size_t n = (off_t)window < size ? window : (size_t)size;
        buf = rcx_xrealloc(buf, n);
        ssize_t got = pread(fd, buf, n, size - (off_t)n);
        if (got != (ssize_t)n) {
            rcx_err_set(err, "cannot read capture file %s: %s", path,
                        got < 0 ? strerror(errno) : "short read");
            free(buf);
            close(fd);
            return -1;
        }
        *last_seq = *tx_lsn = 0;
        last_marks_in(buf, n, (off_t)n == size, last_seq, tx_lsn);
        /* the last tx is looked for in the window that holds the last call: a capture without
         * calls near its end is read further back, one without transactions is not read whole */
        if (*last_seq > 0 || (off_t)n == size || window >= RCX_READER_MAX_LINE)
            break;
        window *= 4;
    }
    free(buf);
    close(fd);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Encodes one record into w->out and the ring. */
static void encode(recap_writer_t *w, rcx_call_t *call)
{
    size_t start = w->out.len;
    size_t k = recap_encode_call(call, w->opts.redact, &w->out);
    atomic_fetch_add(&w->stats.redacted, k);
    if (w->opts.ring != NULL) {
        recap_ring_push(w->opts.ring, call->seq, call->test, w->out.base + start, w->out.len - start);
    }
    rcx_buf_puts(&w->out, "\n");
}

static void flush_batch(recap_writer_t *w, uint64_t records, uint64_t last_ticket, uint64_t lsn)
{
    if (w->out.len > 0) {
        if (write_all(w->fd, w->out.base, w->out.len) == 0) {
            w->size += (off_t)w->out.len;
            atomic_fetch_add(&w->stats.written, records);
            atomic_fetch_add(&w->stats.bytes, w->out.len);
            /* database changes are confirmed to PostgreSQL only once they are on disk */
            if (lsn > 0 && (fsync(w->fd) == 0 || errno == EINVAL))
                atomic_store(&w->durable_lsn, lsn);
        } else {
            /* a full disk (or a file size limit) took part of the batch: cut it off, so the file holds whole
             * lines only and the next batch does not glue onto half a line; the counters say what is in it */
            int e = errno;
            if (ftruncate(w->fd, w->size) != 0)
                rcx_log_error("capture write failed and the partial batch could not be cut off: %s",
                              strerror(errno));
            atomic_fetch_add(&w->stats.write_errors, records);
            rcx_log_error("capture write failed, %llu records lost: %s", (unsigned long long)records,
                          strerror(e));
        }
    }
    rcx_buf_reset(&w->out);
    atomic_store(&w->done, last_ticket);
    if (w->opts.notify != NULL)
        w->opts.notify(w->opts.notify_arg);
}

static void free_items(item_t *it)
{
    while (it != NULL) {
        item_t *next = it->next;
        rcx_call_free(it->call);
        free(it->line);
        free(it);
        it = next;
    }
}

static void *run(void *arg)
{
    recap_writer_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        if (w->head == NULL && !w->stopping) {
            while (w->head == NULL && !w->stopping) {
                w->sleeping = true;
                pthread_cond_wait(&w->cond, &w->lock);
            }
            w->sleeping = false;
            if (!w->stopping) {
                /* Let a batch gather: one wake-up per batch, not one per record (a futex wake and
                 * two context switches per call cost the proxy a quarter of its throughput). */
                pthread_mutex_unlock(&w->lock);
                nanosleep(&(struct timespec){0, BATCH_GATHER_NS}, NULL);
                pthread_mutex_lock(&w->lock);
            }
        }
        item_t *batch = w->head;
        w->head = w->tail = NULL;
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->lock);

        uint64_t records = 0, last = atomic_load(&w->done), lsn = 0;
        item_t *spent = NULL, *spent_tail = NULL;
        while (batch != NULL) {
            item_t *it = batch;
            batch = it->next;
            if (it->call != NULL) {
                encode(w, it->call);
            } else {
                rcx_buf_append(&w->out, it->line, it->len);
                rcx_buf_puts(&w->out, "\n");
            }
            lsn = it->lsn > lsn ? it->lsn : lsn; /* a call's resume_lsn counts as an orphan line's does */
            records++;
            last = it->ticket;
            atomic_fetch_sub(&w->stats.queued_bytes, it->size);
            it->next = NULL;
            if (spent_tail)
                spent_tail->next = it;
            else
                spent = it;
            spent_tail = it;
            if (w->out.len >= 4 * 1024 * 1024) {
                flush_batch(w, records, last, lsn);
                records = 0;
                lsn = 0;
            }
        }
        if (spent != NULL && w->opts.notify != NULL) {
            /* freed on the loop that allocated them: a free here takes the loop's malloc arena
             * lock, and that contention cost the proxy ~7% of its CPU (perf, bench/proxy.sh) */
            pthread_mutex_lock(&w->lock);
            spent_tail->next = w->spent;
            w->spent = spent;
            pthread_mutex_unlock(&w->lock);
        } else {
            free_items(spent);
        }
        flush_batch(w, records, last, lsn);
        if (stop)
            return NULL;
    }
}

/* The end of the last whole line of fd's first size bytes (0 when there is none). */
static off_t last_line_end(int fd, off_t size)
{
    char buf[4096];
    off_t pos = size;
    while (pos > 0) {
        size_t n = pos > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)pos;
        if (pread(fd, buf, n, pos - (off_t)n) != (ssize_t)n)
            return size; /* unreadable: leave it as it is */
        for (size_t i = n; i > 0; i--)
            if (buf[i - 1] == '\n')
                return pos - (off_t)n + (off_t)i;
        pos -= (off_t)n;
    }
    return 0;
}

/*
 * Opens the capture for appending, this process's alone (a second recap on the same file is refused), private
 * (0600, also when it existed), and ending with a whole line: a torn last line (a recap killed mid-write, a
 * full disk) is cut off, so every line in the file is whole. *size: its size after that.
 */
static int open_capture(const char *path, off_t *size, uint64_t *last_seq, uint64_t *tx_lsn, rcx_err_t *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rcx_err_set(err, "cannot open capture file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        why = errno == EWOULDBLOCK ? "is in use by another recap (one proxy per capture file)"
                                   : strerror(errno);
    else if (fstat(fd, &st) != 0)
        why = strerror(errno);
    if (why == NULL && st.st_size > 0 && scan_existing(path, st.st_size, last_seq, tx_lsn, err) != 0) {
        close(fd); /* not ours: left exactly as it was */
        return -1;
    }
    if (why == NULL && (st.st_mode & 0077) != 0 && fchmod(fd, 0600) != 0)
        why = "is readable by others and cannot be made private (chmod 600 it, or give another --capture)";
    if (why != NULL) {
        rcx_err_set(err, "capture file %s %s", path, why);
        close(fd);
        return -1;
    }
    off_t end = st.st_size > 0 ? last_line_end(fd, st.st_size) : 0;
    if (end < st.st_size) {
        if (ftruncate(fd, end) != 0) {
            rcx_err_set(err, "capture file %s: cannot cut its torn last line: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        rcx_log_warn(
            "capture file %s: its last %lld bytes were not a whole line (a recap stopped mid-write): cut",
            path, (long long)(st.st_size - end));
    }
    if (fcntl(fd, F_SETFL, O_APPEND) != 0) {
        rcx_err_set(err, "capture file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *size = end;
    return fd;
}

recap_writer_t *recap_writer_open(const recap_writer_opts_t *opts, rcx_err_t *err)
{
    uint64_t last_seq = 0, tx_lsn = 0;
    off_t size;
    int fd = open_capture(opts->path, &size, &last_seq, &tx_lsn, err);
    if (fd < 0)
        return NULL;
    char *header = json_dumps(opts->header, JSON_COMPACT);
    size_t hlen = strlen(header);
    header[hlen] = '\n';
    int hr = write_all(fd, header, hlen + 1);
    free(header);
    if (hr != 0 && ftruncate(fd, size) != 0) /* only whole lines, also when the disk is full at start */
        rcx_log_error("capture file %s: a partial header could not be cut off", opts->path);
    if (hr != 0) {
        rcx_err_set(err, "cannot write capture file %s: %s", opts->path, strerror(errno));
        close(fd);
        return NULL;
    }

    recap_writer_t *w = rcx_xmalloc(sizeof(*w));
    *w = (recap_writer_t){
        .opts = *opts, .fd = fd, .size = size + (off_t)hlen + 1, .seq = last_seq, .durable_lsn = tx_lsn};
    rcx_buf_init(&w->out, SIZE_MAX);
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        rcx_err_set(err, "cannot start the writer thread");
        close(fd);
        free(w);
        return NULL;
    }
    return w;
}

/* Queues an item (loop thread) and wakes the writer if it sleeps; returns its ticket. */
static uint64_t enqueue(recap_writer_t *w, item_t proto)
{
    uint64_t ticket = ++w->pushed;
    item_t *it = rcx_xmalloc(sizeof(*it));
    *it = proto;
    it->ticket = ticket;
    atomic_fetch_add(&w->stats.queued_bytes, it->size);
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    if (w->sleeping) {
        w->sleeping = false;
        pthread_cond_signal(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return ticket; /* `it` may already be freed by the writer */
}

uint64_t recap_writer_push(recap_writer_t *w, rcx_call_t *call, uint64_t lsn, bool keep)
{
    size_t size = call_size(call);
    if (!keep && atomic_load(&w->stats.queued_bytes) + size > w->opts.queue_bytes) {
        uint64_t n = atomic_fetch_add(&w->stats.dropped, 1);
        if ((n & (n + 1)) == 0) /* 1st, 2nd, 4th, 8th...: says it without flooding */
            rcx_log_warn("writer is behind: %llu records dropped so far (queue over %zu bytes)",
                         (unsigned long long)n + 1, w->opts.queue_bytes);
        rcx_call_free(call);
        return 0;
    }
    call->seq = ++w->seq;
    return enqueue(w, (item_t){.call = call, .lsn = lsn, .size = size});
}

uint64_t recap_writer_push_line(recap_writer_t *w, char *line, size_t len, uint64_t lsn)
{
    return enqueue(w, (item_t){.line = line, .len = len, .lsn = lsn, .size = len + sizeof(item_t)});
}

uint64_t recap_writer_durable_lsn(recap_writer_t *w)
{
    return atomic_load(&w->durable_lsn);
}

void recap_writer_reap(recap_writer_t *w)
{
    pthread_mutex_lock(&w->lock);
    item_t *spent = w->spent;
    w->spent = NULL;
    pthread_mutex_unlock(&w->lock);
    free_items(spent);
}

uint64_t recap_writer_done(recap_writer_t *w)
{
    return atomic_load(&w->done);
}

uint64_t recap_writer_pushed(recap_writer_t *w)
{
    return w->pushed;
}

uint64_t recap_writer_last_seq(recap_writer_t *w)
{
    return w->seq;
}

recap_writer_stats_t *recap_writer_stats(recap_writer_t *w)
{
    return &w->stats;
}

void recap_writer_stop(recap_writer_t *w)
{
    if (w->fd < 0)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (fsync(w->fd) != 0 && errno != EINVAL)
        rcx_log_warn("fsync of the capture file failed: %s", strerror(errno));
    close(w->fd);
    w->fd = -1;
}

void recap_writer_close(recap_writer_t *w)
{
    if (w == NULL)
        return;
    recap_writer_stop(w);
    recap_writer_reap(w);
    rcx_buf_free(&w->out);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cond);
    free(w);
}
