/* proxy/linker.c: see linker.h. */
#include "proxy/linker.h"

#include "common/codec.h"
#include "common/jsonw.h"
#include "common/lsn.h"
#include "common/log.h"
#include "core/attribution.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Pointers named by consecutive ids (1, 2, ...), oldest first: a ring that forgets freed ids at its front. */
typedef struct idq {
    void **v;
    size_t cap, head, n;
    uint64_t first; /* id of v[head] */
} idq_t;

static void *idq_get(const idq_t *q, uint64_t id)
{
    if (id < q->first || id - q->first >= q->n)
        return NULL;
    return q->v[(q->head + (size_t)(id - q->first)) % q->cap];
}

static uint64_t idq_push(idq_t *q, void *p)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        void **v = rcx_xmalloc(sizeof(*v) * cap);
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    if (q->first == 0)
        q->first = 1;
    q->v[(q->head + q->n) % q->cap] = p;
    return q->first + q->n++;
}

/* Clears an id and drops cleared ids from the front. */
static void idq_clear(idq_t *q, uint64_t id)
{
    if (id < q->first || id - q->first >= q->n)
        return;
    q->v[(q->head + (size_t)(id - q->first)) % q->cap] = NULL;
    while (q->n > 0 && q->v[q->head] == NULL) {
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->first++;
    }
}

/* A transaction from the stream, kept until it is decided and every record holding it has been handed on. */
typedef struct txent {
    uint64_t id, commit_lsn;
    char *line; /* the "tx" line until decided */
    size_t len;
    uint32_t refs; /* records holding a copy, not yet handed on */
    bool decided;
    char **tests; /* the tests running when it arrived (stamped on it if it is an orphan) */
    size_t ntests;
} txent_t;

struct recap_link {
    uint64_t id;
    char req_id[96];
    void (*go)(void *ctx); /* forwards the request */
    void *ctx;
    void (*resume)(void *ctx); /* releases the held end of the response */
    void *resume_ctx;
    uint64_t s, f;                              /* its window, once complete */
    uint64_t t_admit, t_start, t_end, t_resume; /* monotonic µs: for "latency_us" */
    uint64_t need;                              /* window-start run it waits for, 0 if none */
    uint64_t fence_seq;                         /* the fence run covering it, 0 if none yet */
    bool in_core, finished, ended, completed, gated, all_tag, any_ambiguous;
    rcx_call_t *call;
    recap_inflight_node_t node;
    void *settle;  /* the --settle timer (hooks.settle_arm's handle) while it runs */
    rcx_buf_t txs; /* its transactions as JSON objects, comma-separated */
    uint64_t *txids;
    size_t ntx, txids_cap;
};

typedef struct fence_map {
    uint64_t seq, fid;
} fence_map_t;

struct recap_linker {
    recap_linker_opts_t opts;
    recap_linker_hooks_t hooks;
    recap_inflight_t *inflight;
    core_attr_t core;
    idq_t links, txs;
    fence_map_t *fences; /* sent, not yet arrived, oldest first */
    size_t nfences, fences_cap;
    uint64_t fence_inflight;
    uint64_t last_end; /* end LSN of the newest transaction seen */
    bool up, closing;
    char why[200];
    _Atomic size_t held_bytes;
    recap_linker_stats_t stats;
    recap_linker_sync_t *syncs; /* waiting for a fence to arrive */
};

static void on_tx_decided(void *arg, uint64_t tx, core_attr_how_t how, const uint64_t *calls, size_t n);
static void on_call_complete(void *arg, uint64_t call, uint64_t s, uint64_t f);

static void core_init(recap_linker_t *l)
{
    core_attr_callbacks_t cb = {.tx_decided = on_tx_decided, .call_complete = on_call_complete, .arg = l};
    core_attr_init(&l->core, &cb);
    l->nfences = 0;
}

recap_linker_t *recap_linker_new(const recap_linker_opts_t *opts, const recap_linker_hooks_t *hooks,
                                 recap_inflight_t *inflight)
{
    recap_linker_t *l = rcx_xmalloc(sizeof(*l));
    *l = (recap_linker_t){.opts = *opts, .hooks = *hooks, .inflight = inflight};
    core_init(l);
    return l;
}

bool recap_linker_up(const recap_linker_t *l)
{
    return l->up;
}

size_t recap_linker_held_bytes(const recap_linker_t *l)
{
    return atomic_load(&l->held_bytes);
}

recap_linker_stats_t recap_linker_stats(const recap_linker_t *l)
{
    recap_linker_stats_t st = l->stats;
    st.records_held = recap_linker_held(l);
    return st;
}

size_t recap_linker_held(const recap_linker_t *l)
{
    size_t n = 0;
    for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        n += k != NULL && k->finished;
    }
    return n;
}

static void free_stamp(char **tests, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(tests[i]);
    free(tests);
}

/* Where a restart must resume: the commit LSN of the oldest transaction not yet handed on in a line. */
static uint64_t resume_point(recap_linker_t *l)
{
    for (;;) {
        txent_t *e = idq_get(&l->txs, l->txs.first);
        if (e == NULL)
            return l->last_end;
        if (!e->decided || e->refs > 0)
            return e->commit_lsn;
        idq_clear(&l->txs, e->id);
        free_stamp(e->tests, e->ntests);
        free(e);
    }
}

/* An LSN as a JSON string, after ,"key": (key NULL: the value alone). */
static void put_lsn(rcx_buf_t *b, const char *key, uint64_t lsn)
{
    char s[24];
    rcx_lsn_format(lsn, s);
    if (key != NULL)
        rcx_jw_key(b, key, false);
    rcx_jw_string(b, s, strlen(s));
}

/* The tests running now, copied. */
static size_t stamp(recap_linker_t *l, char ***out)
{
    const char *const *names = l->hooks.running ? l->hooks.running(l->hooks.arg) : NULL;
    size_t n = 0;
    while (names != NULL && names[n] != NULL)
        n++;
    *out = n > 0 ? rcx_xmalloc(sizeof(**out) * n) : NULL;
    for (size_t i = 0; i < n; i++)
        (*out)[i] = rcx_xstrdup(names[i]);
    return n;
}

/* An orphan line from a transaction object; takes the stamp. */
static void write_orphan(recap_linker_t *l, const char *tx, size_t len, uint64_t resume, char **tests,
                         size_t ntests)
{
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_codec_orphan_line(&b, resume, (const char *const *)tests, ntests, tx, len);
    size_t n = b.len;
    l->hooks.write_line(l->hooks.arg, rcx_buf_take(&b), n, resume, (const char *const *)tests, ntests);
    free_stamp(tests, ntests);
}

/* Takes e's stamp (e may be freed by resume_point before the line is written). */
static void write_orphan_of(recap_linker_t *l, txent_t *e, const char *line, size_t len)
{
    char **tests = e->tests;
    size_t ntests = e->ntests;
    e->tests = NULL;
    e->ntests = 0;
    write_orphan(l, line, len, resume_point(l), tests, ntests);
}

static void arm_settle(recap_linker_t *l, recap_link_t *k)
{
    k->settle = l->hooks.settle_arm(l->hooks.arg, k, l->opts.settle_ms);
}

static void cancel_settle(recap_linker_t *l, recap_link_t *k)
{
    if (k->settle != NULL) {
        l->hooks.settle_cancel(l->hooks.arg, k->settle);
        k->settle = NULL;
    }
}

static void release_gate(recap_linker_t *l, recap_link_t *k)
{
    if (k->gated) {
        k->gated = false;
        l->hooks.release(l->hooks.arg);
    }
}

/* Hands the record on with db (status ... then the fields given) and frees the link. */
static void hand_on(recap_linker_t *l, recap_link_t *k, const char *status, uint64_t s, uint64_t f)
{
    for (size_t i = 0; i < k->ntx; i++) {
        txent_t *e = idq_get(&l->txs, k->txids[i]);
        if (e != NULL)
            e->refs--;
    }
    uint64_t resume = resume_point(l);
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_buf_puts(&b, "{");
    rcx_jw_key(&b, "status", true);
    rcx_jw_string(&b, status, strlen(status));
    bool complete = strcmp(status, "complete") == 0;
    l->stats.records_complete += complete;
    l->stats.records_unavailable += !complete;
    if (complete) {
        const char *how = k->ntx == 0         ? "none"
                          : k->any_ambiguous  ? "ambiguous"
                          : k->all_tag        ? "tag"
                          : l->opts.serialize ? "serialized"
                                              : "window";
        rcx_jw_key(&b, "attribution", false);
        rcx_jw_string(&b, how, strlen(how));
        rcx_jw_key(&b, "window", false);
        rcx_buf_puts(&b, "[");
        put_lsn(&b, NULL, s);
        rcx_buf_puts(&b, ",");
        put_lsn(&b, NULL, f);
        rcx_buf_puts(&b, "]");
    } else {
        rcx_jw_key(&b, "reason", false);
        rcx_jw_string_lenient(&b, l->why, strlen(l->why));
    }
    if (k->t_start > 0) { /* what attribution cost this call */
        uint64_t now = now_us();
        char lat[160];
        int n = snprintf(lat, sizeof(lat), ",\"latency_us\":{\"window_start\":%llu",
                         (unsigned long long)(k->t_start - k->t_admit));
        if (k->t_end > 0)
            n += snprintf(lat + n, sizeof(lat) - (size_t)n, ",\"response_held\":%llu,\"to_complete\":%llu",
                          (unsigned long long)((k->t_resume ? k->t_resume : now) - k->t_end),
                          (unsigned long long)(now - k->t_end));
        rcx_buf_append(&b, lat, (size_t)n);
        rcx_buf_puts(&b, "}");
    }
    if (complete || k->ntx > 0) {
        rcx_jw_key(&b, "transactions", false);
        rcx_buf_puts(&b, "[");
        rcx_buf_append(&b, k->txs.base, k->txs.len);
        rcx_buf_puts(&b, "]");
    }
    if (resume > 0)
        put_lsn(&b, "resume_lsn", resume);
    rcx_buf_puts(&b, "}");
    k->call->db_json = rcx_buf_take(&b);
    atomic_fetch_sub(&l->held_bytes, k->txs.len);
    rcx_buf_free(&k->txs);
    recap_inflight_remove(l->inflight, &k->node);
    rcx_call_t *call = k->call;
    bool has_rows = k->ntx > 0;
    k->call = NULL;
    release_gate(l, k);
    cancel_settle(l, k);
    idq_clear(&l->links, k->id);
    free(k->txids);
    free(k);
    l->hooks.write_call(l->hooks.arg, call, resume, has_rows);
}

static void on_tx_decided(void *arg, uint64_t tx, core_attr_how_t how, const uint64_t *calls, size_t n)
{
    recap_linker_t *l = arg;
    txent_t *e = idq_get(&l->txs, tx);
    if (e == NULL)
        return;
    e->decided = true;
    l->stats.tx_tag += how == CORE_ATTR_TAG;
    l->stats.tx_window += how == CORE_ATTR_WINDOW;
    l->stats.tx_ambiguous += how == CORE_ATTR_AMBIGUOUS;
    l->stats.tx_orphan += how == CORE_ATTR_ORPHAN;
    const char *label = how == CORE_ATTR_TAG      ? "tag"
                        : how == CORE_ATTR_WINDOW ? (l->opts.serialize ? "serialized" : "window")
                                                  : "ambiguous";
    for (size_t i = 0; i < n; i++) {
        recap_link_t *k = idq_get(&l->links, calls[i]);
        if (k == NULL)
            continue;
        if (k->ntx == k->txids_cap) {
            k->txids_cap = k->txids_cap ? k->txids_cap * 2 : 4;
            k->txids = rcx_xrealloc(k->txids, sizeof(*k->txids) * k->txids_cap);
        }
        if (k->ntx == 0)
            k->all_tag = true;
        k->txids[k->ntx++] = tx;
        k->all_tag &= how == CORE_ATTR_TAG;
        k->any_ambiguous |= how == CORE_ATTR_AMBIGUOUS;
        size_t before = k->txs.len;
        if (k->txs.len > 0)
            rcx_buf_puts(&k->txs, ",");
        rcx_codec_call_tx(&k->txs, label, e->line, e->len);
        atomic_fetch_add(&l->held_bytes, k->txs.len - before);
        e->refs++;
    }
    char *line = e->line;
    size_t len = e->len;
    e->line = NULL;
    atomic_fetch_sub(&l->held_bytes, len);
    if (n == 0)
        write_orphan_of(l, e, line, len); /* may free e */
    free(line);
}

static void on_call_complete(void *arg, uint64_t call, uint64_t s, uint64_t f)
{
    recap_linker_t *l = arg;
    recap_link_t *k = idq_get(&l->links, call);
    if (k == NULL)
        return;
    k->in_core = false;
    if (k->finished) {
        hand_on(l, k, "complete", s, f);
        return;
    }
    k->completed = true; /* its fence arrived before the response's last bytes went out */
    k->s = s;
    k->f = f;
}

/* Releases the held ends of the responses of the links pred selects (collected first: releasing can
 * finish a call, which changes the list). */
static void fire_resumes(recap_linker_t *l, bool (*pred)(const recap_link_t *k, uint64_t arg), uint64_t arg)
{
    size_t n = 0, cap = 0;
    recap_link_t **ks = NULL;
    for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k == NULL || k->resume == NULL || !pred(k, arg))
            continue;
        if (n == cap)
            ks = rcx_xrealloc(ks, sizeof(*ks) * (cap = cap ? cap * 2 : 8));
        ks[n++] = k;
    }
    for (size_t i = 0; i < n; i++) { /* each resume may finish its own call only */
        void (*resume)(void *) = ks[i]->resume;
        void *ctx = ks[i]->resume_ctx;
        ks[i]->resume = NULL;
        ks[i]->t_resume = now_us();
        resume(ctx);
    }
    free(ks);
}

static bool fenced_by(const recap_link_t *k, uint64_t seq)
{
    return k->fence_seq == seq;
}

static bool any_link(const recap_link_t *k, uint64_t arg)
{
    (void)k;
    (void)arg;
    return true;
}

/* Fires (unlinked first) the syncs a fence up to `upto` satisfies; all of them when not ok. */
static void fire_syncs(recap_linker_t *l, uint64_t upto, bool ok)
{
    recap_linker_sync_t *done = NULL, **p = &l->syncs;
    while (*p != NULL) {
        recap_linker_sync_t *s = *p;
        if (!ok || (s->fence != 0 && s->fence <= upto)) {
            *p = s->next;
            s->next = done;
            done = s;
        } else {
            p = &s->next;
        }
    }
    while (done != NULL) {
        recap_linker_sync_t *s = done;
        done = s->next;
        s->fire(s, ok); /* may free s */
    }
}

static bool sync_unsent(const recap_linker_t *l)
{
    for (const recap_linker_sync_t *s = l->syncs; s != NULL; s = s->next)
        if (s->fence == 0)
            return true;
    return false;
}

/* Sends a fence covering every call ended since the last one (or one a sync waits for), unless one is on its
 * way. */
static void maybe_fence(recap_linker_t *l)
{
    if (l->fence_inflight != 0 || !l->up)
        return;
    uint64_t fid = core_attr_fence_sent(&l->core);
    if (fid == 0 && !sync_unsent(l))
        return;
    uint64_t seq = l->hooks.request_fence(l->hooks.arg);
    for (recap_linker_sync_t *s = l->syncs; s != NULL; s = s->next)
        if (s->fence == 0)
            s->fence = seq;
    l->stats.fences++;
    l->fence_inflight = seq;
    if (l->nfences == l->fences_cap) {
        l->fences_cap = l->fences_cap ? l->fences_cap * 2 : 16;
        l->fences = rcx_xrealloc(l->fences, sizeof(*l->fences) * l->fences_cap);
    }
    l->fences[l->nfences++] = (fence_map_t){seq, fid};
    for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k != NULL && k->in_core && k->ended && k->fence_seq == 0)
            k->fence_seq = seq;
    }
}

static void end_call(recap_linker_t *l, recap_link_t *k)
{
    core_attr_call_end(&l->core, k->id);
    k->ended = true;
    maybe_fence(l);
}

void recap_linker_settled(recap_linker_t *l, recap_link_t *k)
{
    k->settle = NULL; /* the hook's handle is spent */
    end_call(l, k);
}

/* The record is here and the window start known: hand it on, or close its window (after --settle). */
static void after_finish(recap_linker_t *l, recap_link_t *k)
{
    if (k->completed)
        hand_on(l, k, "complete", k->s, k->f);
    else if (!k->in_core)
        hand_on(l, k, "unavailable", 0, 0);
    else if (k->ended || k->settle != NULL)
        return; /* its window is closing */
    else if (l->opts.settle_ms > 0)
        arm_settle(l, k);
    else
        end_call(l, k);
}

void recap_linker_end(recap_linker_t *l, recap_link_t *k, void (*resume)(void *ctx), void *ctx)
{
    if (k->t_end == 0)
        k->t_end = k->t_resume = now_us();
    if (!k->in_core || k->ended || k->settle != NULL) {
        resume(ctx);
    } else if (l->opts.settle_ms > 0) { /* the app may still commit: the response goes, the fence waits */
        arm_settle(l, k);
        resume(ctx);
    } else {
        k->resume = resume;
        k->resume_ctx = ctx;
        k->t_resume = 0;
        end_call(l, k);
    }
}

/* The stream or a query failed: hand on everything held; start again with a fresh core. */
static void reset(recap_linker_t *l, const char *why, bool closing)
{
    l->closing |= closing;
    l->stats.resets += !closing;
    snprintf(l->why, sizeof(l->why), "%s", why);
    core_attr_dispose(&l->core);
    core_init(l);
    /* transactions not yet decided go out as orphans: recorded, never dropped */
    for (uint64_t id = l->txs.first; id < l->txs.first + l->txs.n; id++) {
        txent_t *e = idq_get(&l->txs, id);
        if (e != NULL && !e->decided) {
            char *line = e->line;
            size_t len = e->len;
            e->decided = true;
            e->line = NULL;
            atomic_fetch_sub(&l->held_bytes, len);
            write_orphan_of(l, e, line, len); /* may free e */
            free(line);
        }
    }
    uint64_t first = l->links.first, last = l->links.first + l->links.n;
    for (uint64_t id = first; id < last; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k == NULL || k->completed)
            continue;
        k->in_core = false;
        cancel_settle(l, k);
    }
    fire_resumes(l, any_link, 0);
    for (uint64_t id = first; id < last; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k != NULL && k->finished && (k->need == 0 || closing))
            hand_on(l, k, k->completed ? "complete" : "unavailable", k->s, k->f);
    }
    fire_syncs(l, 0, false); /* what they wait for may never come */
}

void recap_linker_stream_state(recap_linker_t *l, const char *why)
{
    if (why == NULL) {
        l->up = true;
        return;
    }
    if (l->up)
        reset(l, why, false);
    l->up = false;
}

void recap_linker_unadmitted(recap_linker_t *l, rcx_call_t *call)
{
    char reason[300];
    snprintf(reason, sizeof(reason), "the replication stream was down when the call came: %s",
             l->why[0] ? l->why : "not streaming yet");
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_buf_puts(&b, "{");
    rcx_jw_key(&b, "status", true);
    rcx_jw_string(&b, "unavailable", strlen("unavailable"));
    rcx_jw_key(&b, "reason", false);
    rcx_jw_string_lenient(&b, reason, strlen(reason));
    rcx_buf_puts(&b, "}");
    free(call->db_json);
    call->db_json = rcx_buf_take(&b);
    l->stats.records_unavailable++;
}

void recap_linker_flush(recap_linker_t *l, const char *why)
{
    reset(l, why, true);
    l->up = false;
}

recap_link_t *recap_linker_admit(recap_linker_t *l, const char *id, bool gated, void (*go)(void *ctx),
                                 void *ctx)
{
    recap_link_t *k = rcx_xmalloc(sizeof(*k));
    *k = (recap_link_t){.go = go, .ctx = ctx, .in_core = true, .gated = gated};
    snprintf(k->req_id, sizeof(k->req_id), "%s", id);
    rcx_buf_init(&k->txs, SIZE_MAX);
    k->id = idq_push(&l->links, k);
    k->t_admit = now_us();
    core_attr_call_begin(&l->core, k->id);
    k->need = l->hooks.request_start(l->hooks.arg);
    l->stats.window_starts++;
    return k;
}

void recap_linker_finish(recap_linker_t *l, recap_link_t *k, rcx_call_t *call, recap_inflight_node_t *node)
{
    recap_inflight_move(l->inflight, node, &k->node);
    k->call = call;
    k->go = NULL;
    k->resume = NULL;
    k->finished = true;
    if (l->closing)
        hand_on(l, k, "unavailable", 0, 0);
    else if (k->need == 0) /* else when its window start comes back */
        after_finish(l, k);
}

void recap_linker_start_done(recap_linker_t *l, uint64_t upto, bool ok, uint64_t lsn)
{
    /* collected first: forwarding and handing on change the list */
    size_t n = 0, cap = 16;
    recap_link_t **ready = rcx_xmalloc(sizeof(*ready) * cap);
    for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k == NULL || k->need == 0 || k->need > upto)
            continue;
        if (n == cap)
            ready = rcx_xrealloc(ready, sizeof(*ready) * (cap *= 2));
        ready[n++] = k;
    }
    for (size_t i = 0; i < n; i++) {
        recap_link_t *k = ready[i];
        k->need = 0;
        k->t_start = now_us();
        if (k->in_core && ok) {
            core_attr_call_start(&l->core, k->id, lsn);
        } else if (k->in_core) {
            core_attr_call_drop(&l->core, k->id);
            k->in_core = false;
            snprintf(l->why, sizeof(l->why), "the window-start query failed");
        }
    }
    for (size_t i = 0; i < n; i++) {
        recap_link_t *k = ready[i];
        if (k->finished)
            after_finish(l, k); /* it ended while it waited (the client went away) */
        else if (k->go != NULL)
            k->go(k->ctx);
    }
    free(ready);
}

void recap_linker_fence_done(recap_linker_t *l, uint64_t upto, bool ok)
{
    l->fence_inflight = 0;
    if (!ok) {
        reset(l, "the fence query failed", false);
        return;
    }
    for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k != NULL && k->fence_seq == upto)
            release_gate(l, k);
    }
    fire_resumes(l, fenced_by, upto); /* the fence is in the WAL: the client may see the response */
    maybe_fence(l);
}

void recap_linker_fence_arrived(recap_linker_t *l, uint64_t seq, uint64_t lsn)
{
    size_t i = 0;
    while (i < l->nfences && l->fences[i].seq < seq)
        i++; /* older ones were lost with a reset */
    if (i == l->nfences || l->fences[i].seq != seq) {
        memmove(l->fences, l->fences + i, sizeof(*l->fences) * (l->nfences - i));
        l->nfences -= i;
        return;
    }
    uint64_t fid = l->fences[i].fid;
    memmove(l->fences, l->fences + i + 1, sizeof(*l->fences) * (l->nfences - i - 1));
    l->nfences -= i + 1;
    if (fid != 0) /* 0: a fence only a sync asked for */
        core_attr_fence_arrived(&l->core, fid, lsn);
    fire_syncs(l, seq, true);
    maybe_fence(l);
}

void recap_linker_sync(recap_linker_t *l, recap_linker_sync_t *sync)
{
    if (!l->up) {
        sync->fire(sync, false);
        return;
    }
    sync->fence = 0;
    sync->next = l->syncs;
    l->syncs = sync;
    maybe_fence(l);
}

void recap_linker_sync_cancel(recap_linker_t *l, recap_linker_sync_t *sync)
{
    for (recap_linker_sync_t **p = &l->syncs; *p != NULL; p = &(*p)->next)
        if (*p == sync) {
            *p = sync->next;
            return;
        }
}

void recap_linker_tx(recap_linker_t *l, const recap_cdc_tx_t *tx)
{
    if (tx->end_lsn > l->last_end)
        l->last_end = tx->end_lsn;
    if (tx->rewind) { /* recap's own undoing of a test's rows: neither a call's nor an orphan */
        l->stats.tx_rewind++;
        free(tx->line);
        free(tx->tag);
        free(tx->test);
        return;
    }
    if (tx->test != NULL) { /* a test's own direct write says whose it is: never a call's, never ambiguous */
        char **own = rcx_xmalloc(sizeof(*own));
        own[0] = tx->test;
        l->stats.tx_orphan++;
        write_orphan(l, tx->line, tx->len, resume_point(l), own, 1);
        free(tx->line);
        free(tx->tag);
        return;
    }
    char **tests;
    size_t ntests = stamp(l, &tests);
    if (!l->up) {
        write_orphan(l, tx->line, tx->len, resume_point(l), tests, ntests);
        free(tx->line);
        free(tx->tag);
        return;
    }
    txent_t *e = rcx_xmalloc(sizeof(*e));
    *e = (txent_t){
        .commit_lsn = tx->commit_lsn, .line = tx->line, .len = tx->len, .tests = tests, .ntests = ntests};
    e->id = idq_push(&l->txs, e);
    atomic_fetch_add(&l->held_bytes, e->len);
    /* the call its recap.request tag names; two calls in flight with one id (a client's retry that reused its
     * X-Request-Id) make the tag say nothing: the windows decide, ambiguous where they overlap */
    uint64_t tag_call = 0;
    size_t named = 0;
    if (tx->tag != NULL)
        for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
            recap_link_t *k = idq_get(&l->links, id);
            if (k != NULL && k->in_core && strcmp(k->req_id, tx->tag) == 0 && named++ == 0)
                tag_call = k->id;
        }
    if (named > 1)
        tag_call = 0;
    free(tx->tag);
    core_attr_tx(&l->core, e->id, e->commit_lsn, tag_call);
}

void recap_linker_free(recap_linker_t *l)
{
    if (l == NULL)
        return;
    recap_linker_flush(l, "recap was shutting down");
    for (uint64_t id = l->links.first; id < l->links.first + l->links.n; id++) {
        recap_link_t *k = idq_get(&l->links, id);
        if (k != NULL) { /* still waiting for a window start: nothing recorded yet */
            rcx_buf_free(&k->txs);
            free(k->txids);
            free(k);
        }
    }
    for (uint64_t id = l->txs.first; id < l->txs.first + l->txs.n; id++) {
        txent_t *e = idq_get(&l->txs, id);
        if (e != NULL) {
            free(e->line);
            free_stamp(e->tests, e->ntests);
            free(e);
        }
    }
    free(l->links.v);
    free(l->txs.v);
    free(l->fences);
    core_attr_dispose(&l->core);
    free(l);
}
