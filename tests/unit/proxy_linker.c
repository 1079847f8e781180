/*
 * Unit tests for proxy/linker.c, driven with fake hooks (no loop, no
 * database): each test walks one row of the state table in docs/internals.md
 * ("The linker") and checks what the linker asked for (window starts,
 * fences, timers), what it released (requests forwarded, held response ends,
 * the --serialize gate) and what it handed on (records with their db part,
 * orphan lines).
 */
#include "test.h"

#include "proxy/linker.h"

#define MAX 8

typedef struct world world_t;

typedef struct callctx {
    world_t *w;
    int i;
} callctx_t;

struct world {
    recap_linker_t *l;
    recap_inflight_t inflight;
    recap_link_t *link[MAX];
    callctx_t ctx[MAX];
    int forwarded[MAX], resumed[MAX];
    uint64_t starts, fences; /* runs asked for */
    int released;            /* --serialize gate releases */
    int armed, cancelled;    /* --settle timers */
    recap_link_t *timer_for;
    json_t *db[MAX]; /* what each call was handed on with */
    int handed;
    json_t *orphans[MAX];
    int norphans;
    const char *running[3]; /* the tests running (NULL-terminated) */
    int synced, sync_ok;
};

static const char *const *running(void *arg)
{
    return ((world_t *)arg)->running;
}

static uint64_t request_start(void *arg)
{
    return ++((world_t *)arg)->starts;
}

static uint64_t request_fence(void *arg)
{
    return ++((world_t *)arg)->fences;
}

static void write_call(void *arg, rcx_call_t *call, uint64_t resume_lsn, bool has_rows)
{
    world_t *w = arg;
    (void)resume_lsn;
    (void)has_rows;
    int i = call->id[0] - '0';
    assert_true(i >= 0 && i < MAX);
    assert_null(w->db[i]); /* handed on once */
    w->db[i] = json_loads(call->db_json, 0, NULL);
    assert_non_null(w->db[i]);
    w->handed++;
    rcx_call_free(call);
}

static void write_line(void *arg, char *line, size_t len, uint64_t resume_lsn, const char *const *tests,
                       size_t ntests)
{
    world_t *w = arg;
    (void)resume_lsn;
    (void)tests;
    (void)ntests;
    assert_true(w->norphans < MAX);
    w->orphans[w->norphans] = json_loadb(line, len, 0, NULL);
    assert_non_null(w->orphans[w->norphans]);
    w->norphans++;
    free(line);
}

static void release(void *arg)
{
    ((world_t *)arg)->released++;
}

static void *settle_arm(void *arg, recap_link_t *link, uint64_t ms)
{
    world_t *w = arg;
    assert_int_equal(ms, 50);
    w->armed++;
    w->timer_for = link;
    return w;
}

static void settle_cancel(void *arg, void *handle)
{
    world_t *w = arg;
    assert_ptr_equal(handle, w);
    w->cancelled++;
    w->timer_for = NULL;
}

static void go(void *ctx)
{
    callctx_t *c = ctx;
    c->w->forwarded[c->i]++;
}

static void resume(void *ctx)
{
    callctx_t *c = ctx;
    c->w->resumed[c->i]++;
}

static world_t *world(uint64_t settle_ms, bool serialize)
{
    world_t *w = calloc(1, sizeof(*w));
    recap_inflight_init(&w->inflight);
    recap_linker_opts_t opts = {.settle_ms = settle_ms, .serialize = serialize};
    recap_linker_hooks_t hooks = {.request_start = request_start,
                                  .request_fence = request_fence,
                                  .write_call = write_call,
                                  .write_line = write_line,
                                  .release = release,
                                  .settle_arm = settle_arm,
                                  .settle_cancel = settle_cancel,
                                  .running = running,
                                  .arg = w};
    w->l = recap_linker_new(&opts, &hooks, &w->inflight);
    recap_linker_stream_state(w->l, NULL);
    return w;
}

static void world_free(world_t *w)
{
    recap_linker_free(w->l);
    for (int i = 0; i < MAX; i++) {
        json_decref(w->db[i]);
        json_decref(w->orphans[i]);
    }
    assert_int_equal(w->inflight.count, 0);
    free(w);
}

static void admit(world_t *w, int i, bool gated)
{
    char id[8];
    snprintf(id, sizeof(id), "%d", i);
    w->ctx[i] = (callctx_t){w, i};
    w->link[i] = recap_linker_admit(w->l, id, gated, go, &w->ctx[i]);
}

static void finish(world_t *w, int i)
{
    rcx_call_t *call = rcx_call_new(16);
    snprintf(call->id, sizeof(call->id), "%d", i);
    recap_inflight_node_t node;
    recap_inflight_add(&w->inflight, &node);
    recap_linker_finish(w->l, w->link[i], call, &node);
}

static void end(world_t *w, int i)
{
    recap_linker_end(w->l, w->link[i], resume, &w->ctx[i]);
}

static void tx_with(world_t *w, uint64_t commit, int xid, const char *tag, bool rewind, const char *test)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "{\"xid\":%d,\"changes\":[]}", xid);
    recap_cdc_tx_t t = {.line = strdup(line),
                        .len = (size_t)n,
                        .commit_lsn = commit,
                        .end_lsn = commit + 8,
                        .tag = tag ? strdup(tag) : NULL,
                        .rewind = rewind,
                        .test = test ? strdup(test) : NULL};
    recap_linker_tx(w->l, &t);
}

static void tx(world_t *w, uint64_t commit, int xid, const char *tag)
{
    tx_with(w, commit, xid, tag, false, NULL);
}

/* A transaction with recap's own messages: a rewind, or a test's labelled direct write. */
static void tx_marked(world_t *w, uint64_t commit, int xid, bool rewind, const char *test)
{
    tx_with(w, commit, xid, NULL, rewind, test);
}

static const char *db_str(const world_t *w, int i, const char *key)
{
    assert_non_null(w->db[i]);
    return json_string_value(json_object_get(w->db[i], key));
}

static size_t db_ntx(const world_t *w, int i)
{
    return json_array_size(json_object_get(w->db[i], "transactions"));
}

/* Rows 1-4, 7: admitted -> forwarded -> response end held -> fence in the WAL -> finished, held -> complete.
 */
static void window_path(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    assert_int_equal(w->starts, 1);
    assert_int_equal(w->forwarded[0], 0); /* row 1: not forwarded before its window start is known */
    recap_linker_start_done(w->l, 1, true, 100);
    assert_int_equal(w->forwarded[0], 1); /* row 2 */
    tx(w, 50, 1, NULL);                   /* committed before the window: an orphan, once decided */
    tx(w, 150, 2, NULL);
    end(w, 0);
    assert_int_equal(w->resumed[0], 0); /* row 3: the response's end waits for the fence */
    assert_int_equal(w->fences, 1);
    finish(w, 0); /* the client went on (or the record is ready): row 7 once the end is released */
    recap_linker_fence_done(w->l, 1, true);
    assert_int_equal(w->handed, 0);
    assert_int_equal(recap_linker_held(w->l), 1);
    recap_linker_fence_arrived(w->l, 1, 200);
    assert_int_equal(w->handed, 1);
    assert_string_equal(db_str(w, 0, "status"), "complete");
    assert_string_equal(db_str(w, 0, "attribution"), "window");
    assert_int_equal(db_ntx(w, 0), 1);
    assert_int_equal(w->norphans, 1);
    assert_int_equal(json_integer_value(json_object_get(w->orphans[0], "xid")), 1);
    assert_string_equal(json_string_value(json_object_get(w->orphans[0], "type")), "orphan");
    recap_linker_stats_t st = recap_linker_stats(w->l);
    assert_int_equal(st.tx_window, 1);
    assert_int_equal(st.tx_orphan, 1);
    assert_int_equal(st.records_complete, 1);
    world_free(w);
}

/* Row 3 -> 6: the fence arrives while the response's end is still going out; the record comes later. */
static void complete_before_finish(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, true, 100);
    end(w, 0);
    recap_linker_fence_done(w->l, 1, true);
    assert_int_equal(w->resumed[0], 1); /* the fence is in the WAL: the client may see the end */
    recap_linker_fence_arrived(w->l, 1, 200);
    assert_int_equal(w->handed, 0); /* row 6: complete, waiting for the record */
    finish(w, 0);
    assert_int_equal(w->handed, 1);
    assert_string_equal(db_str(w, 0, "attribution"), "none");
    assert_int_equal(db_ntx(w, 0), 0);
    world_free(w);
}

/* Row 4 (--settle): the response goes at once, a timer holds the fence back; a late commit is caught. */
static void settle_timer(void **state)
{
    (void)state;
    world_t *w = world(50, false);
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, true, 100);
    end(w, 0);
    assert_int_equal(w->resumed[0], 1);
    assert_int_equal(w->armed, 1);
    assert_int_equal(w->fences, 0);
    finish(w, 0);
    tx(w, 180, 7, NULL); /* committed after the response, before the timer */
    recap_linker_settled(w->l, w->timer_for);
    assert_int_equal(w->fences, 1);
    recap_linker_fence_done(w->l, 1, true);
    recap_linker_fence_arrived(w->l, 1, 300);
    assert_string_equal(db_str(w, 0, "status"), "complete");
    assert_int_equal(db_ntx(w, 0), 1);
    assert_int_equal(w->cancelled, 0);
    world_free(w);
}

/* Row 4 then row 8: a stream failure while the timer runs cancels it. */
static void settle_timer_cancelled_by_a_reset(void **state)
{
    (void)state;
    world_t *w = world(50, false);
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, true, 100);
    end(w, 0);
    finish(w, 0);
    recap_linker_stream_state(w->l, "the replication connection was lost");
    assert_int_equal(w->cancelled, 1);
    assert_string_equal(db_str(w, 0, "status"), "unavailable");
    assert_string_equal(db_str(w, 0, "reason"), "the replication connection was lost");
    world_free(w);
}

/* Row 5 (--serialize): the gate opens when the fence after the call is in the WAL, not before. */
static void serialize_gate(void **state)
{
    (void)state;
    world_t *w = world(0, true);
    admit(w, 0, true);
    recap_linker_start_done(w->l, 1, true, 100);
    tx(w, 120, 3, NULL);
    end(w, 0);
    finish(w, 0);
    assert_int_equal(w->released, 0);
    recap_linker_fence_done(w->l, 1, true);
    assert_int_equal(w->released, 1);
    recap_linker_fence_arrived(w->l, 1, 200);
    assert_string_equal(db_str(w, 0, "attribution"), "serialized");
    assert_int_equal(w->released, 1); /* once */
    world_free(w);
}

/* Row 2: a tagged transaction goes to its call whatever the windows; overlapping windows share the rest. */
static void tag_and_ambiguous(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    admit(w, 1, false);
    recap_linker_start_done(w->l, 2, true, 100);
    assert_int_equal(w->forwarded[0] + w->forwarded[1], 2); /* one query served both */
    tx(w, 150, 4, "1");
    tx(w, 160, 5, NULL);
    end(w, 0);
    end(w, 1);
    finish(w, 0);
    finish(w, 1);
    assert_int_equal(w->fences, 1); /* one fence on its way at a time */
    recap_linker_fence_done(w->l, 1, true);
    assert_int_equal(w->fences, 2); /* the next one covers call 1 */
    recap_linker_fence_arrived(w->l, 1, 200);
    assert_int_equal(w->handed, 0); /* 160 may still be call 1's alone: undecided */
    recap_linker_fence_done(w->l, 2, true);
    recap_linker_fence_arrived(w->l, 2, 210);
    assert_int_equal(w->handed, 2);
    assert_string_equal(db_str(w, 0, "attribution"), "ambiguous");
    assert_int_equal(db_ntx(w, 0), 1);
    assert_string_equal(db_str(w, 1, "attribution"), "ambiguous"); /* one tag, one ambiguous */
    assert_int_equal(db_ntx(w, 1), 2);
    recap_linker_stats_t st = recap_linker_stats(w->l);
    assert_int_equal(st.tx_tag, 1);
    assert_int_equal(st.tx_ambiguous, 1);
    world_free(w);
}

/* Row 8: the window-start query failed: forwarded anyway, recorded unavailable. */
static void window_start_failed(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, false, 0);
    assert_int_equal(w->forwarded[0], 1);
    end(w, 0);
    assert_int_equal(w->resumed[0], 1); /* nothing to wait for */
    finish(w, 0);
    assert_string_equal(db_str(w, 0, "status"), "unavailable");
    assert_string_equal(db_str(w, 0, "reason"), "the window-start query failed");
    world_free(w);
}

/* Row 8: the fence query failed: held records go out, undecided transactions as orphans, ends released. */
static void fence_failed(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, true, 100);
    tx(w, 150, 6, NULL);
    end(w, 0);
    finish(w, 0);
    recap_linker_fence_done(w->l, 1, false);
    assert_int_equal(w->resumed[0], 0); /* finished: its end was no longer held */
    assert_string_equal(db_str(w, 0, "status"), "unavailable");
    assert_string_equal(db_str(w, 0, "reason"), "the fence query failed");
    assert_int_equal(w->norphans, 1);
    assert_int_equal(recap_linker_stats(w->l).resets, 1);
    world_free(w);
}

/* Row 8: the stream went down while a response's end was held: released at once. */
static void stream_failed_releases_held_ends(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, true, 100);
    end(w, 0);
    assert_int_equal(w->resumed[0], 0);
    recap_linker_stream_state(w->l, "gone");
    assert_int_equal(w->resumed[0], 1);
    assert_false(recap_linker_up(w->l));
    finish(w, 0);
    assert_string_equal(db_str(w, 0, "status"), "unavailable");
    tx(w, 400, 9, NULL); /* the stream is down: straight out as an orphan */
    assert_int_equal(w->norphans, 1);
    world_free(w);
}

/* Row 9: the client went away before the window start came back: the record waits for it, then goes on. */
static void dropped_while_waiting_for_its_start(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    finish(w, 0);
    assert_int_equal(w->handed, 0);
    recap_linker_start_done(w->l, 1, true, 100);
    assert_int_equal(w->forwarded[0], 0); /* never forwarded */
    assert_int_equal(w->fences, 1);       /* but its window is closed properly */
    recap_linker_fence_done(w->l, 1, true);
    recap_linker_fence_arrived(w->l, 1, 200);
    assert_string_equal(db_str(w, 0, "status"), "complete");
    world_free(w);
}

/* Row 10: shutting down: everything held goes out unavailable; a call finishing after goes out at once. */
static void flush_on_shutdown(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    admit(w, 0, false);
    admit(w, 1, false);
    recap_linker_start_done(w->l, 2, true, 100);
    end(w, 0);
    finish(w, 0);
    recap_linker_flush(w->l, "recap was shutting down");
    assert_string_equal(db_str(w, 0, "reason"), "recap was shutting down");
    finish(w, 1);
    assert_string_equal(db_str(w, 1, "status"), "unavailable");
    assert_int_equal(w->handed, 2);
    world_free(w);
}

/* Two calls in flight with the same X-Request-Id (a retry): the tag cannot tell them apart, the windows do.
 */
static void a_tag_two_calls_share_is_no_tag(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    w->ctx[0] = (callctx_t){w, 0};
    w->ctx[1] = (callctx_t){w, 1};
    w->link[0] = recap_linker_admit(w->l, "retry-1", false, go, &w->ctx[0]);
    w->link[1] = recap_linker_admit(w->l, "retry-1", false, go, &w->ctx[1]);
    recap_linker_start_done(w->l, 2, true, 100);
    tx(w, 150, 1, "retry-1");
    end(w, 0);
    end(w, 1);
    finish(w, 0);
    finish(w, 1);
    recap_linker_fence_done(w->l, 1, true);
    recap_linker_fence_arrived(w->l, 1, 200);
    recap_linker_fence_done(w->l, 2, true);
    recap_linker_fence_arrived(w->l, 2, 210);
    assert_string_equal(db_str(w, 0, "attribution"), "ambiguous");
    assert_string_equal(db_str(w, 1, "attribution"), "ambiguous");
    assert_int_equal(recap_linker_stats(w->l).tx_tag, 0);
    world_free(w);
}

/* A call that came while the stream was down was never admitted: its record says why, and it is counted. */
static void unadmitted_calls_say_why(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    recap_linker_stream_state(w->l, "connection lost: server closed the connection");
    rcx_call_t *call = rcx_call_new(16);
    recap_linker_unadmitted(w->l, call);
    json_t *db = json_loads(call->db_json, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(db, "status")), "unavailable");
    assert_string_equal(
        json_string_value(json_object_get(db, "reason")),
        "the replication stream was down when the call came: connection lost: server closed the "
        "connection");
    assert_int_equal(recap_linker_stats(w->l).records_unavailable, 1);
    json_decref(db);
    rcx_call_free(call);
    world_free(w);
}

typedef struct waiter {
    recap_linker_sync_t sync; /* first: the callback gets this pointer */
    world_t *w;
} waiter_t;

static void on_synced(recap_linker_sync_t *sync, bool ok)
{
    world_t *w = ((waiter_t *)sync)->w;
    w->synced++;
    w->sync_ok = ok;
}

/* A sync waits for a fence sent after it to arrive on the stream (every transaction before it is in), even
 * with no call to fence; a fence already on its way when it was asked for does not count. A reset fires it
 * not ok. */
static void sync_waits_for_a_later_fence(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    waiter_t s = {.sync = {.fire = on_synced}, .w = w};
    recap_linker_sync(w->l, &s.sync);
    assert_int_equal(w->fences, 1); /* asked for at once, no call needing it */
    assert_int_equal(w->synced, 0);
    recap_linker_fence_done(w->l, 1, true);
    assert_int_equal(w->synced, 0); /* in the WAL is not enough: it must come through the stream */
    recap_linker_fence_arrived(w->l, 1, 500);
    assert_int_equal(w->synced, 1);
    assert_true(w->sync_ok);
    /* one asked for while a call's fence is on its way waits for the next fence */
    admit(w, 0, false);
    recap_linker_start_done(w->l, 1, true, 100);
    end(w, 0);
    assert_int_equal(w->fences, 2);
    recap_linker_sync(w->l, &s.sync);
    assert_int_equal(w->fences, 2);
    recap_linker_fence_done(w->l, 2, true);
    assert_int_equal(w->fences, 3); /* the sync's own, now that the call's is done */
    recap_linker_fence_arrived(w->l, 2, 600);
    assert_int_equal(w->synced, 1);
    recap_linker_fence_done(w->l, 3, true);
    recap_linker_fence_arrived(w->l, 3, 700);
    assert_int_equal(w->synced, 2);
    finish(w, 0);
    /* a reset (the stream went down) fires what waits, not ok */
    recap_linker_sync(w->l, &s.sync);
    recap_linker_stream_state(w->l, "the stream went down");
    assert_int_equal(w->synced, 3);
    assert_false(w->sync_ok);
    world_free(w);
}

/* Orphans carry the tests running when they arrived; a test's labelled direct write is its orphan whatever
 * runs or whichever window is open; recap's own rewind is neither a call's nor an orphan. */
static void orphans_are_stamped_with_their_tests(void **state)
{
    (void)state;
    world_t *w = world(0, false);
    w->running[0] = "t.py::a";
    tx(w, 50, 1, NULL); /* no call open: decided at once */
    w->running[1] = "t.py::b";
    tx(w, 60, 2, NULL);
    w->running[0] = w->running[1] = NULL;
    tx(w, 70, 3, NULL);
    admit(w, 0, false); /* a call's window is open: a labelled write is still not the call's */
    recap_linker_start_done(w->l, 1, true, 100);
    tx_marked(w, 150, 4, false, "t.py::c");
    tx_marked(w, 160, 5, true, NULL);
    end(w, 0);
    recap_linker_fence_done(w->l, 1, true);
    recap_linker_fence_arrived(w->l, 1, 200);
    finish(w, 0);
    assert_int_equal(w->norphans, 4);
    assert_string_equal(json_string_value(json_object_get(w->orphans[0], "test")), "t.py::a");
    assert_int_equal(json_array_size(json_object_get(w->orphans[1], "tests")), 2);
    assert_null(json_object_get(w->orphans[2], "test"));
    assert_null(json_object_get(w->orphans[2], "tests"));
    assert_int_equal(json_integer_value(json_object_get(w->orphans[3], "xid")), 4);
    assert_string_equal(json_string_value(json_object_get(w->orphans[3], "test")), "t.py::c");
    assert_int_equal(db_ntx(w, 0), 0); /* neither the labelled write nor the rewind is the call's */
    assert_int_equal(recap_linker_stats(w->l).tx_rewind, 1);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(window_path),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(complete_before_finish),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(settle_timer),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(settle_timer_cancelled_by_a_reset),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(serialize_gate),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(tag_and_ambiguous),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(window_start_failed),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(fence_failed),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(stream_failed_releases_held_ends),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(dropped_while_waiting_for_its_start),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(flush_on_shutdown),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(unadmitted_calls_say_why),
        cmocka_unit_test(sync_waits_for_a_later_fence),
        cmocka_unit_test(orphans_are_stamped_with_their_tests),
        cmocka_unit_test(a_tag_two_calls_share_is_no_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
