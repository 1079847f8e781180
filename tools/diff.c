/* tools/diff.c: see diff.h. */
#include "tools/diff.h"

#include "common/codec.h"
#include "core/flow.h"
#include "core/pathtpl.h"
#include "core/shape.h"

#include "common/buf.h"
#include "verifier/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 64

char *rt_call_key(const json_t *call)
{
    return rt_call_key_flow(NULL, call, 0);
}

/* ---- comparing ---- */

#define MAX_ORIGINS 64
#define MAX_MATCHED_ROWS 256 /* past this many rows of one kind in one call, rows are paired in order */
#define MAX_LCS 128          /* past this many elements, arrays of different lengths are compared in order */

typedef struct ctx {
    const core_flow_t *fa, *fb; /* each run's value flow */
    size_t *a2b;                /* aligned call of B (+1) per call of A; 0: none yet */
    json_t **rowpairs;          /* per call of A: {"s.t.op": [B's row (1, 2...) per row of A]} once paired */
    size_t ia, jb;              /* the pair being compared */
    const rt_noise_t *noise;
    const char *key;
    rt_diff_pair_t *pair;
    size_t dry; /* > 0: count differences without recording them (rows being matched) */
} ctx_t;

static void show(rcx_buf_t *b, const json_t *v)
{
    if (v == NULL)
        rcx_buf_puts(b, "(absent)");
    else
        rv_show(b, v, 200);
}

static bool noisy(const ctx_t *c, const char *where)
{
    if (c->noise == NULL)
        return false;
    size_t kl = strlen(c->key);
    for (size_t i = 0; i < c->noise->n; i++) {
        const char *n = c->noise->v[i];
        const char *tab = strchr(n, '\t');
        if (tab == NULL
                ? strcmp(n, where) == 0
                : ((size_t)(tab - n) == kl && strncmp(n, c->key, kl) == 0 && strcmp(tab + 1, where) == 0))
            return true;
    }
    return false;
}

static void delta(ctx_t *c, const char *where, const json_t *a, const json_t *b)
{
    if (noisy(c, where))
        return;
    if (c->dry > 0) {
        c->dry++;
        return;
    }
    rcx_buf_t x, y;
    rcx_buf_init(&x, SIZE_MAX);
    rcx_buf_init(&y, SIZE_MAX);
    show(&x, a);
    show(&y, b);
    rt_diff_pair_t *p = c->pair;
    p->d = rcx_xrealloc(p->d, sizeof(*p->d) * (p->nd + 1));
    p->d[p->nd++] = (rt_delta_t){rcx_xstrdup(where), rcx_buf_take(&x), rcx_buf_take(&y)};
}

static core_flow_phase_t phase_of(const char *where)
{
    return strncmp(where, "db", 2) == 0        ? CORE_FLOW_ROWS
           : strncmp(where, "request", 7) == 0 ? CORE_FLOW_REQUEST
                                               : CORE_FLOW_RESPONSE;
}

/* What the flow knows of one side's value: its origins, and whether it is new here (no earlier call made
 * it), was sent by its own call's request, or was made by its own call's rows. */
typedef struct side {
    core_flow_origin_t o[MAX_ORIGINS];
    size_t n;
    bool self, self_made, earlier, own_request, own_made;
} side_t;

static void look_up(const core_flow_t *f, size_t call, const char *text, size_t len, core_flow_phase_t phase,
                    const char *where, side_t *s)
{
    *s = (side_t){0};
    s->n = core_flow_origins(f, text, len, call, phase, s->o, MAX_ORIGINS);
    for (size_t k = 0; k < s->n; k++) {
        const core_flow_origin_t *o = &s->o[k];
        if (o->call == call && o->phase == phase && strcmp(core_flow_place(f, o->place), where) == 0) {
            s->self = true;
            s->self_made |= o->made;
        } else if (o->call < call) {
            s->earlier = true;
        } else if (o->phase == CORE_FLOW_REQUEST) {
            s->own_request = true;
        } else if (o->phase == CORE_FLOW_ROWS && o->made) {
            s->own_made = true;
        }
    }
}

/* The elem B's origin must have to be the same as A's p: the same elements of arrays in a body; in rows, the
 * row the diff paired with p's row (in order, while the call's rows are not paired yet). */
static uint32_t paired_elem(const ctx_t *c, const core_flow_origin_t *p, const char *place)
{
    if (p->phase != CORE_FLOW_ROWS || p->elem == 0)
        return p->elem;
    const char *end = strstr(place, "[]");
    if (strncmp(place, "db.", 3) != 0 || end == NULL)
        return p->elem;
    char key[512];
    snprintf(key, sizeof(key), "%.*s", (int)(end - place - 3), place + 3);
    const json_t *to = json_array_get(json_object_get(c->rowpairs[p->call], key), p->elem - 1);
    return json_is_integer(to) ? (uint32_t)json_integer_value(to) : p->elem;
}

/* Whether an origin of A and one of B are the same place of aligned calls (not the value's own place). Values
 * the client sent may differ anywhere (names a suite makes up per run); values the app made only where they
 * look made (made_like: ids, slugs, tokens): "acme" becoming "ACME" is a difference wherever it shows. */
static bool usable(const ctx_t *c, const core_flow_origin_t *o, size_t call, core_flow_phase_t phase,
                   bool made_like)
{
    /* the same phase of the same call is where the value is, not where it came from (but an insert's
     * identity is: a row that refers to a row inserted beside it) */
    (void)c;
    return !(o->call == call && o->phase == phase && !o->made) &&
           (o->phase == CORE_FLOW_REQUEST || made_like);
}

static bool any_made(const ctx_t *c, const side_t *s, size_t call, core_flow_phase_t phase, bool made_like)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->o[i].made && usable(c, &s->o[i], call, phase, made_like))
            return true;
    return false;
}

static bool corresponds(const ctx_t *c, const side_t *x, const side_t *y, core_flow_phase_t phase,
                        bool made_like)
{
    /* a value some insert made is that row, whatever else it equals (ids of every table start at 1) */
    bool made = any_made(c, x, c->ia, phase, made_like) || any_made(c, y, c->jb, phase, made_like);
    for (size_t i = 0; i < x->n; i++) {
        const core_flow_origin_t *p = &x->o[i];
        if (!usable(c, p, c->ia, phase, made_like) || (made && !p->made) || c->a2b[p->call] == 0)
            continue;
        const char *pp = core_flow_place(c->fa, p->place);
        for (size_t j = 0; j < y->n; j++) {
            const core_flow_origin_t *q = &y->o[j];
            if (q->call + 1 == c->a2b[p->call] && q->phase == p->phase && q->elem == paired_elem(c, p, pp) &&
                strcmp(core_flow_place(c->fb, q->place), pp) == 0)
                return true;
        }
    }
    return false;
}

/* Two different values at one place: the same when they come from the same place of aligned calls, or
 * when both were made here by the run (new on at least one side, not sent by the client) and look alike. */
static bool same_by_flow(const ctx_t *c, const char *where, const char *ta, size_t la, const char *tb,
                         size_t lb, bool integers)
{
    core_flow_phase_t phase = phase_of(where);
    side_t x, y;
    look_up(c->fa, c->ia, ta, la, phase, where, &x);
    look_up(c->fb, c->jb, tb, lb, phase, where, &y);
    bool made_like = integers || (core_is_digits(ta, la) && core_is_digits(tb, lb)) ||
                     (core_flow_volatile(ta, la) && core_flow_volatile(tb, lb));
    if (corresponds(c, &x, &y, phase, made_like))
        return true;
    if (integers) /* ids an insert made here (its identity), or the response's echo of them */
        return (x.self_made && y.self_made) || (phase == CORE_FLOW_RESPONSE && x.own_made && y.own_made);
    if (phase == CORE_FLOW_REQUEST && x.n == 0 && y.n == 0) {
        /* made up by the client right here (GET /profiles/nobody-1f3a): alike when they look alike */
    } else if (!x.self || !y.self || (x.earlier && y.earlier) || x.own_request || y.own_request) {
        return false;
    }
    if (!core_flow_volatile(ta, la) || !core_flow_volatile(tb, lb))
        return false;
    char sa[128], sb[128];
    core_flow_shape(ta, la, sa, sizeof(sa));
    core_flow_shape(tb, lb, sb, sizeof(sb));
    return strcmp(sa, sb) == 0;
}

/* Two sentences ("project 64 not found"): the same words, and where a word differs, a value that comes
 * from the same place (the ids and slugs inside messages). */
static bool same_tokens(const ctx_t *c, const char *where, const char *a, size_t la, const char *b, size_t lb)
{
    size_t pa = 0, pb = 0, oa, na, ob, nb, ea = 0, eb = 0, words = 0;
    for (;;) {
        bool ha = core_flow_token(a, la, &pa, &oa, &na), hb = core_flow_token(b, lb, &pb, &ob, &nb);
        if (!ha || !hb)
            return !ha && !hb && words > 0 && la - ea == lb - eb && memcmp(a + ea, b + eb, la - ea) == 0;
        if (oa - ea != ob - eb || memcmp(a + ea, b + eb, oa - ea) != 0)
            return false; /* what lies between the words differs */
        words++;
        if ((na != nb || memcmp(a + oa, b + ob, na) != 0) &&
            !same_by_flow(c, where, a + oa, na, b + ob, nb, false))
            return false;
        ea = oa + na;
        eb = ob + nb;
    }
}

static bool same_scalar(const ctx_t *c, const char *where, const json_t *a, const json_t *b)
{
    char na[32], nb[32];
    const char *ta, *tb;
    size_t la, lb;
    if (json_is_integer(a) != json_is_integer(b) || !core_flow_text(a, na, sizeof(na), &ta, &la) ||
        !core_flow_text(b, nb, sizeof(nb), &tb, &lb))
        return false;
    if (same_by_flow(c, where, ta, la, tb, lb, json_is_integer(a)))
        return true;
    return json_is_string(a) && same_tokens(c, where, ta, la, tb, lb);
}

static void compare(ctx_t *c, rcx_buf_t *where, const json_t *a, const json_t *b);

/* Whether a and b at where show no difference (nothing is recorded). */
static bool alike(ctx_t *c, rcx_buf_t *where, const json_t *a, const json_t *b)
{
    size_t saved = c->dry, mark = where->len;
    c->dry = 1;
    compare(c, where, a, b);
    bool same = c->dry == 1;
    c->dry = saved;
    rcx_buf_truncate(where, mark);
    return same;
}

static void element(ctx_t *c, rcx_buf_t *where, const json_t *a, const json_t *b)
{
    size_t mark = where->len;
    rcx_buf_puts(where, "[]");
    if (a != NULL && b != NULL)
        compare(c, where, a, b);
    else
        delta(c, rcx_buf_cstr(where), a, b);
    rcx_buf_truncate(where, mark);
}

/* Two arrays: element by element when they are as long; else the longest common run of alike elements
 * (LCS) is kept in step, so one missing or extra element is reported as itself, not as a shift of
 * everything after it. */
static void compare_lists(ctx_t *c, rcx_buf_t *where, const json_t *a, const json_t *b)
{
    size_t na = json_array_size(a), nb = json_array_size(b), mark = where->len;
    if (na != nb) {
        rcx_buf_puts(where, ".$len");
        json_t *la = json_integer((json_int_t)na), *lb = json_integer((json_int_t)nb);
        delta(c, rcx_buf_cstr(where), la, lb);
        json_decref(la);
        json_decref(lb);
        rcx_buf_truncate(where, mark);
    }
    if (na == nb || na > MAX_LCS || nb > MAX_LCS) {
        for (size_t i = 0; i < na && i < nb; i++)
            element(c, where, json_array_get(a, i), json_array_get(b, i));
        return;
    }
    rcx_buf_puts(where, "[]");
    size_t w = nb + 1;
    unsigned short *len = rcx_xcalloc((na + 1) * w, sizeof(*len)); /* LCS of a[i..] and b[j..] */
    bool *eq = rcx_xcalloc((na + 1) * w, sizeof(*eq));
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;) {
            eq[i * w + j] = alike(c, where, json_array_get(a, i), json_array_get(b, j));
            unsigned short skip =
                len[(i + 1) * w + j] > len[i * w + j + 1] ? len[(i + 1) * w + j] : len[i * w + j + 1];
            len[i * w + j] = eq[i * w + j] ? (unsigned short)(len[(i + 1) * w + j + 1] + 1) : skip;
        }
    rcx_buf_truncate(where, mark);
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && eq[i * w + j] && len[i * w + j] == len[(i + 1) * w + j + 1] + 1) {
            i++, j++;
        } else if (j >= nb || (i < na && len[(i + 1) * w + j] >= len[i * w + j + 1])) {
            element(c, where, json_array_get(a, i++), NULL);
        } else {
            element(c, where, NULL, json_array_get(b, j++));
        }
    }
    free(len);
    free(eq);
}

static void compare(ctx_t *c, rcx_buf_t *where, const json_t *a, const json_t *b)
{
    size_t mark = where->len;
    const char *w = rcx_buf_cstr(where);
    if (a == NULL || b == NULL) {
        if (a != b)
            delta(c, w, a, b);
        return;
    }
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            rcx_buf_puts(where, ".");
            rcx_buf_append(where, k, strlen(k));
            compare(c, where, v, json_object_get(b, k));
            rcx_buf_truncate(where, mark);
        }
        json_object_foreach((json_t *)b, k, v)
        {
            if (json_object_get(a, k) != NULL)
                continue;
            rcx_buf_puts(where, ".");
            rcx_buf_append(where, k, strlen(k));
            delta(c, rcx_buf_cstr(where), NULL, v);
            rcx_buf_truncate(where, mark);
        }
        return;
    }
    if (json_is_array(a) && json_is_array(b)) {
        compare_lists(c, where, a, b);
        return;
    }
    if (!json_equal((json_t *)a, (json_t *)b) && !same_scalar(c, w, a, b))
        delta(c, w, a, b);
}

/* The path's segments: where they differ, each must come from the same place of aligned calls. */
static void compare_paths(ctx_t *c, const json_t *a, const json_t *b)
{
    const char *pa = rcx_rec_str(a, "request", "path"), *pb = rcx_rec_str(b, "request", "path");
    if (pa == NULL || pb == NULL)
        return;
    char where[64];
    for (int seg = 0; *pa || *pb;) {
        size_t na = strcspn(pa, "/"), nb = strcspn(pb, "/");
        if (na > 0 || nb > 0) {
            snprintf(where, sizeof(where), "request.path[%d]", seg++);
            if ((na != nb || memcmp(pa, pb, na) != 0) && !same_by_flow(c, where, pa, na, pb, nb, false)) {
                delta(c, "request.path", json_object_get(json_object_get(a, "request"), "path"),
                      json_object_get(json_object_get(b, "request"), "path"));
                return;
            }
        }
        pa += na + (pa[na] == '/');
        pb += nb + (pb[nb] == '/');
    }
}

/* Row changes per table and operation: {"public.jobs.insert": [rows...]} plus exact counts. */
static json_t *rows_of(const json_t *call, json_t **counts)
{
    json_t *rows = json_object();
    *counts = json_object();
    size_t i;
    const json_t *tx;
    json_array_foreach(rcx_rec_transactions(call), i, tx)
    {
        const char *name;
        const json_t *cs;
        json_object_foreach((json_t *)json_object_get(tx, "tables"), name, cs)
        {
            static const char *const ops[] = {"insert", "update", "delete", "truncate"};
            for (int o = 0; o < 4; o++) {
                json_int_t n = json_integer_value(json_object_get(cs, ops[o]));
                if (n == 0)
                    continue;
                char k[600];
                snprintf(k, sizeof(k), "%s.%s", name, ops[o]);
                json_int_t had = json_integer_value(json_object_get(*counts, k));
                json_object_set_new(*counts, k, json_integer(had + n));
            }
        }
        size_t j;
        const json_t *ch;
        json_array_foreach(json_object_get(tx, "changes"), j, ch)
        {
            rcx_change_t c;
            if (rcx_rec_change(ch, &c) != 0 || c.op == RCX_OP_TRUNCATE)
                continue;
            const json_t *row = c.row;
            char k[600];
            snprintf(k, sizeof(k), "%s.%s.%s", c.schema, c.table, c.op_name);
            json_t *list = json_object_get(rows, k);
            if (list == NULL)
                json_object_set_new(rows, k, list = json_array());
            json_array_append(list, (json_t *)row);
        }
    }
    return rows;
}

static void row_where(rcx_buf_t *where, const char *k)
{
    rcx_buf_reset(where);
    rcx_buf_puts(where, "db.");
    rcx_buf_puts(where, k);
    rcx_buf_puts(where, "[]");
}

/* One table's rows of one operation, as multisets: each row of A is paired with a row of B that does not
 * differ from it, whatever order the app flushed them in. When as many rows are left on both sides, they
 * are paired in order and their differences reported; else each is reported whole (a missing or extra row).
 */
static void compare_rows(ctx_t *c, rcx_buf_t *where, const char *k, const json_t *v, const json_t *w)
{
    size_t na = json_array_size(v), nb = json_array_size(w);
    size_t *to = rcx_xcalloc(na + 1, sizeof(*to)); /* B's row + 1 per row of A */
    bool *used = rcx_xcalloc(nb + 1, sizeof(*used));
    size_t left_a = na, left_b = nb;
    row_where(where, k);
    for (size_t i = 0; i < na && na <= MAX_MATCHED_ROWS && nb <= MAX_MATCHED_ROWS; i++)
        for (size_t j = 0; j < nb && to[i] == 0; j++)
            if (!used[j] && alike(c, where, json_array_get(v, i), json_array_get(w, j))) {
                to[i] = j + 1;
                used[j] = true;
                left_a--;
                left_b--;
            }
    for (size_t i = 0, j = 0; i < na || j < nb;) {
        if (i < na && to[i] != 0) {
            i++;
            continue;
        }
        if (j < nb && used[j]) {
            j++;
            continue;
        }
        row_where(where, k);
        if (left_a == left_b && i < na && j < nb) {
            to[i] = j + 1;
            compare(c, where, json_array_get(v, i++), json_array_get(w, j++));
        } else if (i < na) {
            delta(c, rcx_buf_cstr(where), json_array_get(v, i++), NULL);
        } else {
            delta(c, rcx_buf_cstr(where), NULL, json_array_get(w, j++));
        }
    }
    json_t *pairs = json_array(); /* which row of B each row of A is, for the values that come from them */
    for (size_t i = 0; i < na; i++)
        json_array_append_new(pairs, to[i] ? json_integer((json_int_t)to[i]) : json_null());
    if (c->rowpairs[c->ia] == NULL)
        c->rowpairs[c->ia] = json_object();
    json_object_set_new(c->rowpairs[c->ia], k, pairs);
    free(to);
    free(used);
}

static void compare_pair(ctx_t *c, const json_t *a, const json_t *b)
{
    compare_paths(c, a, b);
    rcx_buf_t where;
    rcx_buf_init(&where, SIZE_MAX);
    const json_t *ra = json_object_get(a, "response"), *rb = json_object_get(b, "response");
    rcx_buf_puts(&where, "status");
    compare(c, &where, json_object_get(ra, "status"), json_object_get(rb, "status"));
    rcx_buf_reset(&where);
    rcx_buf_puts(&where, "response.headers.content-type");
    compare(c, &where, json_object_get(json_object_get(ra, "headers"), "content-type"),
            json_object_get(json_object_get(rb, "headers"), "content-type"));
    json_t *ba = rv_body_of(ra), *bb = rv_body_of(rb);
    rcx_buf_reset(&where);
    rcx_buf_puts(&where, "response.body");
    compare(c, &where, ba, bb);
    json_decref(ba);
    json_decref(bb);
    const char *sa = rcx_rec_str(a, "db", "status"), *sb = rcx_rec_str(b, "db", "status");
    if (sa == NULL || sb == NULL || strcmp(sa, "complete") != 0 || strcmp(sb, "complete") != 0) {
        rcx_buf_free(&where); /* row changes were not captured on both sides: nothing to compare */
        return;
    }
    json_t *ca, *cb, *rowsa = rows_of(a, &ca), *rowsb = rows_of(b, &cb);
    rcx_buf_reset(&where);
    rcx_buf_puts(&where, "db");
    compare(c, &where, ca, cb); /* counts per table and operation */
    const char *k;
    json_t *v;
    json_t *none = json_array();
    json_object_foreach(rowsa, k, v)
    {
        json_t *w = json_object_get(rowsb, k);
        compare_rows(c, &where, k, v, w != NULL ? w : none);
    }
    json_object_foreach(rowsb, k, v)
    {
        if (json_object_get(rowsa, k) == NULL)
            compare_rows(c, &where, k, none, v);
    }
    json_decref(none);
    json_decref(ca);
    json_decref(cb);
    json_decref(rowsa);
    json_decref(rowsb);
    rcx_buf_free(&where);
}

char *rt_call_key_flow(const core_flow_t *f, const json_t *call, size_t i)
{
    const char *method = rcx_rec_str(call, "request", "method");
    core_pathtpl_t t;
    core_flow_template(f, i, rcx_rec_str(call, "request", "path"), &t);
    rcx_buf_t b;
    rcx_buf_init(&b, SIZE_MAX);
    rcx_buf_printf(&b, "%s %s", method ? method : "?", t.tmpl);
    core_pathtpl_free(&t);
    return rcx_buf_take(&b);
}

/* A new pair of d, taking key. */
static rt_diff_pair_t *add_pair(rt_diff_t *d, char *key)
{
    d->pairs = rcx_xrealloc(d->pairs, sizeof(*d->pairs) * (d->n + 1));
    d->pairs[d->n] = (rt_diff_pair_t){.key = key};
    return &d->pairs[d->n++];
}

static char *path_copy(const json_t *call)
{
    const char *p = rcx_rec_str(call, "request", "path");
    return p != NULL ? rcx_xstrdup(p) : NULL;
}

/* One side of a pair: its seq, and its path when the pair will be reported. */
static void note_side(const json_t *call, bool shown, bool *has, long long *seq, char **path)
{
    *has = true;
    *seq = (long long)json_integer_value(json_object_get(call, "seq"));
    if (shown)
        *path = path_copy(call);
}

/* How far to skip in A (or B) to meet the other run again within the window; both 1 when nothing is close. */
static void resync(char *const *ka, size_t i, size_t na, char *const *kb, size_t j, size_t nb, size_t *skip_a,
                   size_t *skip_b)
{
    *skip_a = *skip_b = 0;
    for (size_t d = 1; d <= WINDOW; d++) {
        if (i + d < na && j < nb && strcmp(ka[i + d], kb[j]) == 0) {
            *skip_a = d;
            return;
        }
        if (j + d < nb && i < na && strcmp(ka[i], kb[j + d]) == 0) {
            *skip_b = d;
            return;
        }
    }
    *skip_a = i < na;
    *skip_b = j < nb;
}

static void free_keys(char **k, size_t n)
{
    for (size_t x = 0; k != NULL && x < n; x++)
        free(k[x]);
    free(k);
}

/* The first pass over a run: its value flow and each call's key (both final for call i once it is added). */
static core_flow_t *flow_and_keys(const rt_source_t *src, char ***keys)
{
    core_flow_t *f = core_flow_new(src->n);
    *keys = rcx_xcalloc(src->n + 1, sizeof(**keys));
    for (size_t i = 0; i < src->n; i++) {
        json_t *call = src->get(src->ctx, i);
        if (call == NULL) {
            core_flow_free(f);
            free_keys(*keys, i);
            *keys = NULL;
            return NULL;
        }
        core_flow_add(f, call);
        (*keys)[i] = rt_call_key_flow(f, call, i);
        json_decref(call);
    }
    return f;
}

/* A call only one run has: a pair of its own. -1 when it cannot be read. */
static int only_in(rt_diff_t *out, const rt_source_t *src, size_t i, char **key, bool in_a)
{
    json_t *call = src->get(src->ctx, i);
    if (call == NULL)
        return -1;
    rt_diff_pair_t *p = add_pair(out, *key);
    *key = NULL;
    if (in_a)
        note_side(call, true, &p->has_a, &p->seq_a, &p->path_a);
    else
        note_side(call, true, &p->has_b, &p->seq_b, &p->path_b);
    json_decref(call);
    *(in_a ? &out->only_a : &out->only_b) += 1;
    return 0;
}

/* The second pass: the runs aligned by key, each aligned pair read again and compared. */
static int align_and_compare(ctx_t *c, const rt_source_t *a, char **ka, const rt_source_t *b, char **kb,
                             rt_diff_t *out)
{
    size_t i = 0, j = 0, na = a->n, nb = b->n;
    while (i < na || j < nb) {
        if (i < na && j < nb && strcmp(ka[i], kb[j]) == 0) {
            json_t *x = a->get(a->ctx, i), *y = x != NULL ? b->get(b->ctx, j) : NULL;
            if (y == NULL) {
                json_decref(x);
                return -1;
            }
            rt_diff_pair_t *p = add_pair(out, ka[i]);
            ka[i] = NULL;
            free(kb[j]); /* the pair keeps A's; neither is looked at again (resync looks ahead only) */
            kb[j] = NULL;
            c->a2b[i] = j + 1;
            c->ia = i;
            c->jb = j;
            c->key = p->key;
            c->pair = p;
            compare_pair(c, x, y);
            note_side(x, p->nd > 0, &p->has_a, &p->seq_a, &p->path_a);
            note_side(y, p->nd > 0, &p->has_b, &p->seq_b, &p->path_b);
            out->differ += p->nd > 0;
            json_decref(x);
            json_decref(y);
            i++;
            j++;
            continue;
        }
        size_t skip_a, skip_b;
        resync(ka, i, na, kb, j, nb, &skip_a, &skip_b);
        for (size_t s = 0; s < skip_a; s++, i++)
            if (only_in(out, a, i, &ka[i], true) != 0)
                return -1;
        for (size_t s = 0; s < skip_b; s++, j++)
            if (only_in(out, b, j, &kb[j], false) != 0)
                return -1;
    }
    return 0;
}

int rt_diff_sources(const rt_source_t *a, const rt_source_t *b, const rt_noise_t *noise, rt_diff_t *out)
{
    *out = (rt_diff_t){0};
    char **ka = NULL, **kb = NULL;
    core_flow_t *fa = flow_and_keys(a, &ka), *fb = fa != NULL ? flow_and_keys(b, &kb) : NULL;
    int rc = -1;
    if (fb != NULL) {
        size_t *a2b = rcx_xcalloc(a->n + 1, sizeof(*a2b));
        json_t **rowpairs = rcx_xcalloc(a->n + 1, sizeof(*rowpairs));
        ctx_t c = {.fa = fa, .fb = fb, .a2b = a2b, .rowpairs = rowpairs, .noise = noise};
        rc = align_and_compare(&c, a, ka, b, kb, out);
        free(a2b);
        for (size_t x = 0; x < a->n; x++)
            json_decref(rowpairs[x]);
        free(rowpairs);
    }
    free_keys(ka, a->n);
    free_keys(kb, b->n);
    core_flow_free(fa);
    core_flow_free(fb);
    if (rc != 0)
        rt_diff_free(out);
    return rc;
}

static json_t *array_get(void *ctx, size_t i)
{
    return json_incref(((json_t **)ctx)[i]);
}

/* A run held in memory as a source (never fails: every call is at hand). */
static rt_source_t array_source(json_t *const *v, size_t n)
{
    return (rt_source_t){n, array_get, (void *)v};
}

void rt_diff_run(json_t *const *a, size_t na, json_t *const *b, size_t nb, const rt_noise_t *noise,
                 rt_diff_t *out)
{
    rt_source_t sa = array_source(a, na), sb = array_source(b, nb);
    rt_diff_sources(&sa, &sb, noise, out);
}

void rt_noise_add(rt_noise_t *noise, const char *where)
{
    for (size_t i = 0; i < noise->n; i++)
        if (strcmp(noise->v[i], where) == 0)
            return;
    noise->v = rcx_xrealloc(noise->v, sizeof(*noise->v) * (noise->n + 1));
    noise->v[noise->n++] = rcx_xstrdup(where);
}

int rt_diff_learn_sources(const rt_source_t *a, const rt_source_t *b, rt_noise_t *noise)
{
    rt_diff_t d;
    if (rt_diff_sources(a, b, NULL, &d) != 0)
        return -1;
    for (size_t i = 0; i < d.n; i++)
        for (size_t k = 0; k < d.pairs[i].nd; k++) {
            char *n = NULL;
            if (asprintf(&n, "%s\t%s", d.pairs[i].key, d.pairs[i].d[k].where) < 0)
                abort();
            rt_noise_add(noise, n);
            free(n);
        }
    rt_diff_free(&d);
    return 0;
}

void rt_diff_learn(json_t *const *a, size_t na, json_t *const *b, size_t nb, rt_noise_t *noise)
{
    rt_source_t sa = array_source(a, na), sb = array_source(b, nb);
    rt_diff_learn_sources(&sa, &sb, noise);
}

void rt_noise_free(rt_noise_t *noise)
{
    for (size_t i = 0; i < noise->n; i++)
        free(noise->v[i]);
    free(noise->v);
    *noise = (rt_noise_t){0};
}

void rt_diff_free(rt_diff_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (size_t k = 0; k < d->pairs[i].nd; k++) {
            free(d->pairs[i].d[k].where);
            free(d->pairs[i].d[k].a);
            free(d->pairs[i].d[k].b);
        }
        free(d->pairs[i].d);
        free(d->pairs[i].key);
        free(d->pairs[i].path_a);
        free(d->pairs[i].path_b);
    }
    free(d->pairs);
    *d = (rt_diff_t){0};
}
