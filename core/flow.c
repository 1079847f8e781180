/* core/flow.c: see flow.h. */
#include "core/flow.h"

#include "common/buf.h"
#include "common/codec.h"
#include "common/hash.h"
#include "core/shape.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct entry {
    core_flow_origin_t o;
    uint32_t prev; /* the value's previous (older) entry, NONE at the oldest */
} entry_t;

/* One distinct text: a value or a place name. */
typedef struct slot {
    uint64_t hash;
    uint32_t off, len;   /* in the text arena */
    uint32_t head;       /* newest entry (values), or the place's id (places); NONE if none */
    uint32_t oldest;     /* oldest entry, NONE if none */
    uint32_t first_path; /* entries there were when the value first showed in a path; NONE: never */
} slot_t;

typedef struct table {
    slot_t *slots;
    size_t cap, used; /* cap is a power of two; slots with len == 0 and hash == 0 are empty */
} table_t;

struct core_flow {
    rcx_buf_t text; /* every distinct text, back to back */
    table_t values, places;
    uint32_t *place_off; /* place id -> offset of its NUL-terminated name in text */
    size_t nplaces;
    entry_t *entries;
    size_t nentries, entries_cap;
    uint32_t *ends;     /* per call and phase: entries there were at its end */
    uint32_t *resource; /* per call: offset of its resource's name in text */
    size_t ncalls;
    size_t added;    /* calls added so far (core_flow_add) */
    rcx_buf_t place; /* scratch: the place being walked */
};

static uint64_t hash_of(const char *s, size_t n)
{
    return rcx_fnv1a(RCX_FNV_OFFSET, s, n) | 1; /* never 0: 0 marks an empty slot */
}

static slot_t *find(const core_flow_t *f, const table_t *t, const char *s, size_t n, uint64_t h)
{
    if (t->cap == 0)
        return NULL;
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        slot_t *sl = &t->slots[i];
        if (sl->hash == 0)
            return sl;
        if (sl->hash == h && sl->len == n && memcmp(f->text.base + sl->off, s, n) == 0)
            return sl;
    }
}

static void grow(core_flow_t *f, table_t *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    slot_t *old = t->slots;
    size_t oldcap = t->cap;
    t->slots = rcx_xcalloc(cap, sizeof(*t->slots));
    t->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].hash != 0) {
            slot_t *sl = find(f, t, f->text.base + old[i].off, old[i].len, old[i].hash);
            *sl = old[i];
        }
    free(old);
}

/* The slot of s[0..n) in t, made when missing. */
static slot_t *intern(core_flow_t *f, table_t *t, const char *s, size_t n)
{
    if ((t->used + 1) * 4 > t->cap * 3)
        grow(f, t);
    uint64_t h = hash_of(s, n);
    slot_t *sl = find(f, t, s, n, h);
    if (sl->hash == 0) {
        *sl = (slot_t){.hash = h,
                       .off = (uint32_t)f->text.len,
                       .len = (uint32_t)n,
                       .head = NONE,
                       .oldest = NONE,
                       .first_path = NONE};
        rcx_buf_append(&f->text, s, n);
        rcx_buf_append(&f->text, "", 1);
        t->used++;
    }
    return sl;
}

static uint32_t place_id(core_flow_t *f, const char *name, size_t n)
{
    slot_t *sl = intern(f, &f->places, name, n);
    if (sl->head == NONE) {
        f->place_off = rcx_xrealloc(f->place_off, sizeof(*f->place_off) * (f->nplaces + 1));
        f->place_off[f->nplaces] = sl->off;
        sl->head = (uint32_t)f->nplaces++;
    }
    return sl->head;
}

const char *core_flow_place(const core_flow_t *f, uint32_t place)
{
    return place < f->nplaces ? f->text.base + f->place_off[place] : "";
}

/* ---- what a value is ---- */

bool core_flow_text(const json_t *v, char *buf, size_t bufsz, const char **text, size_t *len)
{
    if (json_is_string(v)) {
        *text = json_string_value(v);
        *len = json_string_length(v);
        return true;
    }
    if (json_is_integer(v)) {
        int k = snprintf(buf, bufsz, "%lld", (long long)json_integer_value(v));
        *text = buf;
        *len = k > 0 ? (size_t)k : 0;
        return k > 0;
    }
    return false;
}

/* Whether a text may have origins: not too short (strings), not too long, not a redaction mark. */
static bool eligible(const char *s, size_t n, bool integer)
{
    if (integer)
        return true;
    return n >= 3 && n <= CORE_FLOW_MAX_TEXT && !(n == 10 && memcmp(s, "[REDACTED]", 10) == 0);
}

static bool token_char(char c)
{
    return isalnum((unsigned char)c) || strchr("-_.@+~%", c) != NULL;
}

bool core_flow_token(const char *s, size_t n, size_t *pos, size_t *off, size_t *len)
{
    size_t i = *pos;
    while (i < n && !token_char(s[i]))
        i++;
    if (i >= n) {
        *pos = n;
        return false;
    }
    size_t j = i;
    while (j < n && token_char(s[j]))
        j++;
    *pos = j;
    while (j > i && s[j - 1] == '.')
        j--;
    *off = i;
    *len = j - i;
    return true;
}

static bool is_jwt(const char *s, size_t n)
{
    if (n < 20 || strncmp(s, "eyJ", 3) != 0)
        return false;
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            dots++;
        else if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '=')
            return false;
    }
    return dots == 2;
}

static bool is_timestamp_n(const char *s, size_t n)
{
    char buf[64];
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return core_is_timestamp(buf);
}

/* Whether s[0..n) has a run of eight or more hexadecimal digits of one case between non-alphanumerics: a
 * random hex token may have no decimal digit at all ("nobody-bfbbdcca"), and few words are made of a-f. */
static bool has_hex_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i, lower = 0, upper = 0;
        while (j < n && isalnum((unsigned char)s[j])) {
            char ch = s[j++];
            lower += isdigit((unsigned char)ch) || (ch >= 'a' && ch <= 'f');
            upper += isdigit((unsigned char)ch) || (ch >= 'A' && ch <= 'F');
        }
        if (j - i >= 8 && (lower == j - i || upper == j - i))
            return true;
        i = j + 1;
    }
    return false;
}

bool core_flow_volatile(const char *s, size_t n)
{
    if (core_is_uuid(s, n) || is_jwt(s, n) || is_timestamp_n(s, n))
        return true;
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i]))
            return false; /* a sentence: its tokens are compared, not its look */
        digit |= isdigit((unsigned char)s[i]) != 0;
    }
    return (n >= 6 && digit) || n >= 20 || has_hex_word(s, n);
}

void core_flow_shape(const char *s, size_t n, char *out, size_t outsz)
{
    const char *named = core_is_uuid(s, n)     ? "uuid"
                        : is_jwt(s, n)         ? "jwt"
                        : is_timestamp_n(s, n) ? "ts"
                                               : NULL;
    if (named != NULL) {
        snprintf(out, outsz, "%s", named);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outsz;) {
        if (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/' || s[i] == '=') {
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '/' || s[i] == '='))
                i++;
            out[k++] = 'x';
        } else {
            out[k++] = s[i++];
        }
    }
    if (outsz > 0)
        out[k] = '\0';
}

/* ---- building ---- */

static void add_origin(core_flow_t *f, const char *s, size_t n, size_t call, core_flow_phase_t phase,
                       uint32_t place, bool made, uint32_t elem)
{
    slot_t *sl = intern(f, &f->values, s, n);
    if (f->nentries == f->entries_cap) {
        f->entries_cap = f->entries_cap ? f->entries_cap * 2 : 4096;
        f->entries = rcx_xrealloc(f->entries, sizeof(*f->entries) * f->entries_cap);
    }
    uint32_t e = (uint32_t)f->nentries++;
    f->entries[e] = (entry_t){
        .o = {.call = (uint32_t)call, .place = place, .elem = elem, .phase = (uint8_t)phase, .made = made},
        .prev = sl->head};
    sl->head = e;
    if (sl->oldest == NONE)
        sl->oldest = e;
}

/* Every scalar of v at place (a buffer holding its name): an origin; `made` when an insert made it (its
 * identity). Arrays' elements share a place. */
static void walk_made(core_flow_t *f, rcx_buf_t *place, const json_t *v, size_t call, core_flow_phase_t phase,
                      int depth, bool made, uint32_t elem);

static void walk(core_flow_t *f, rcx_buf_t *place, const json_t *v, size_t call, core_flow_phase_t phase,
                 int depth)
{
    walk_made(f, place, v, call, phase, depth, false, 0);
}

static void walk_made(core_flow_t *f, rcx_buf_t *place, const json_t *v, size_t call, core_flow_phase_t phase,
                      int depth, bool made, uint32_t elem)
{
    size_t mark = place->len;
    if (json_is_object(v) && depth < 32) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            rcx_buf_puts(place, ".");
            rcx_buf_puts(place, k);
            walk_made(f, place, x, call, phase, depth + 1, made, elem);
            rcx_buf_truncate(place, mark);
        }
        return;
    }
    if (json_is_array(v) && depth < 32) {
        rcx_buf_puts(place, "[]");
        for (size_t i = 0; i < json_array_size(v); i++)
            walk_made(f, place, json_array_get(v, i), call, phase, depth + 1, made,
                      (elem ^ (uint32_t)(i + 1)) * 16777619u);
        rcx_buf_truncate(place, mark);
        return;
    }
    char num[32];
    const char *s;
    size_t n;
    if (!core_flow_text(v, num, sizeof(num), &s, &n) || !eligible(s, n, json_is_integer(v)))
        return;
    if (phase == CORE_FLOW_REQUEST && json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= 1)
        return; /* a flag or a first page, never an id the client made up */
    add_origin(f, s, n, call, phase, place_id(f, place->base, place->len), made, elem);
}

/* Notes when each segment first showed in a path; a segment the client made up right there
 * (/profiles/nobody-1f3a9c: new, and machine-made by its look) is an origin of its own. */
static void path_segments(core_flow_t *f, rcx_buf_t *place, const char *path, size_t call)
{
    size_t k = 0;
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, "/");
        if (n > 0) {
            slot_t *sl = intern(f, &f->values, p, n);
            if (sl->first_path == NONE)
                sl->first_path = (uint32_t)f->nentries;
            if (sl->oldest == NONE && n >= 8 && n <= CORE_FLOW_MAX_TEXT && core_flow_volatile(p, n)) {
                rcx_buf_reset(place);
                rcx_buf_printf(place, "request.path[%zu]", k);
                add_origin(f, p, n, call, CORE_FLOW_REQUEST, place_id(f, place->base, place->len), false, 0);
            }
            k++;
        }
        p += n + (p[n] == '/');
    }
}

static void query_values(core_flow_t *f, rcx_buf_t *place, const char *q, size_t call)
{
    for (const char *p = q ? q : ""; *p;) {
        size_t n = strcspn(p, "&"), eq = strcspn(p, "=");
        if (eq < n && n - eq - 1 >= 3 && n - eq - 1 <= CORE_FLOW_MAX_TEXT) {
            rcx_buf_reset(place);
            rcx_buf_puts(place, "request.query.");
            rcx_buf_append(place, p, eq);
            add_origin(f, p + eq + 1, n - eq - 1, call, CORE_FLOW_REQUEST,
                       place_id(f, place->base, place->len), false, 0);
        }
        p += n + (p[n] == '&');
    }
}

/* Set-Cookie values ("sid=abc; Path=/"): each cookie's value at response.cookie.<name>. */
static void set_cookies(core_flow_t *f, rcx_buf_t *place, const json_t *h, size_t call)
{
    if (json_is_array(h)) {
        for (size_t i = 0; i < json_array_size(h); i++)
            set_cookies(f, place, json_array_get(h, i), call);
        return;
    }
    const char *c = json_string_value(h);
    if (c == NULL)
        return;
    size_t eq = strcspn(c, "=;"), end = strcspn(c, ";");
    if (c[eq] != '=' || end <= eq + 1 || !eligible(c + eq + 1, end - eq - 1, false))
        return;
    rcx_buf_reset(place);
    rcx_buf_puts(place, "response.cookie.");
    rcx_buf_append(place, c, eq);
    add_origin(f, c + eq + 1, end - eq - 1, call, CORE_FLOW_RESPONSE, place_id(f, place->base, place->len),
               false, 0);
}

/* Whether col is the table's one identity column: the value an insert made. A key of several columns (a
 * join table's) is made of references, not of new values. */
static bool is_identity(const json_t *identity, const char *col)
{
    if (json_array_size(identity) != 1)
        return false;
    for (size_t i = 0; i < json_array_size(identity); i++)
        if (json_is_string(json_array_get(identity, i)) &&
            strcmp(json_string_value(json_array_get(identity, i)), col) == 0)
            return true;
    return false;
}

/* Each row's columns; a row's elem is its number among the call's rows of its table and operation (1, 2...
 * in capture order), so that a tool that pairs rows can tell which row a value came from. */
static void rows(core_flow_t *f, rcx_buf_t *place, const json_t *call, size_t i)
{
    json_t *seen = json_object(); /* "db.s.t.op[]" -> rows so far */
    size_t t;
    const json_t *tx;
    json_array_foreach(rcx_rec_transactions(call), t, tx)
    {
        size_t k;
        const json_t *ch;
        json_array_foreach(json_object_get(tx, "changes"), k, ch)
        {
            rcx_change_t c;
            if (rcx_rec_change(ch, &c) != 0 || c.row == NULL)
                continue;
            rcx_buf_reset(place);
            rcx_buf_printf(place, "db.%s.%s.%s[]", c.schema, c.table, c.op_name);
            json_int_t nth = json_integer_value(json_object_get(seen, rcx_buf_cstr(place))) + 1;
            json_object_set_new(seen, rcx_buf_cstr(place), json_integer(nth));
            size_t mark = place->len;
            const char *col;
            const json_t *v;
            json_object_foreach((json_t *)c.row, col, v)
            {
                rcx_buf_puts(place, ".");
                rcx_buf_puts(place, col);
                walk_made(f, place, v, i, CORE_FLOW_ROWS, 1, is_identity(c.identity, col), (uint32_t)nth);
                rcx_buf_truncate(place, mark);
            }
        }
    }
    json_decref(seen);
}

static void note_resource(core_flow_t *f, const char *path, size_t i)
{
    char name[64] = "";
    for (const char *p = path ? path : ""; *p;) {
        size_t n = strcspn(p, "/");
        if (n > 0 && !core_is_id_segment(p, n) && !core_flow_path_param(f, p, n, i))
            core_pathtpl_singular(p, n, name, sizeof(name));
        p += n + (p[n] == '/');
    }
    f->resource[i] = (uint32_t)f->text.len;
    rcx_buf_append(&f->text, name, strlen(name) + 1);
}

static void one_call(core_flow_t *f, rcx_buf_t *place, const json_t *call, size_t i)
{
    const json_t *req = json_object_get(call, "request"), *res = json_object_get(call, "response");
    path_segments(f, place, json_string_value(json_object_get(req, "path")), i);
    query_values(f, place, json_string_value(json_object_get(req, "query")), i);
    rcx_buf_reset(place);
    rcx_buf_puts(place, "request.body");
    walk(f, place, json_object_get(req, "body"), i, CORE_FLOW_REQUEST, 0);
    f->ends[3 * i] = (uint32_t)f->nentries;
    note_resource(f, json_string_value(json_object_get(req, "path")), i);
    rows(f, place, call, i);
    f->ends[3 * i + 1] = (uint32_t)f->nentries;
    rcx_buf_reset(place);
    rcx_buf_puts(place, "response.body");
    walk(f, place, json_object_get(res, "body"), i, CORE_FLOW_RESPONSE, 0);
    const json_t *headers = json_object_get(res, "headers");
    const json_t *loc = json_object_get(headers, "location");
    if (json_is_string(loc)) { /* the last segment of a Location names what was made */
        const char *l = json_string_value(loc), *last = strrchr(l, '/');
        last = last ? last + 1 : l;
        size_t n = strcspn(last, "?#");
        if (eligible(last, n, core_is_digits(last, n)))
            add_origin(f, last, n, i, CORE_FLOW_RESPONSE, place_id(f, "response.headers.location", 25), false,
                       0);
    }
    set_cookies(f, place, json_object_get(headers, "set-cookie"), i);
    f->ends[3 * i + 2] = (uint32_t)f->nentries;
}

core_flow_t *core_flow_new(size_t n)
{
    core_flow_t *f = rcx_xcalloc(1, sizeof(*f));
    rcx_buf_init(&f->text, SIZE_MAX);
    rcx_buf_init(&f->place, SIZE_MAX);
    f->ends = rcx_xcalloc(3 * n + 1, sizeof(*f->ends));
    f->resource = rcx_xcalloc(n + 1, sizeof(*f->resource));
    f->ncalls = n;
    return f;
}

void core_flow_add(core_flow_t *f, const json_t *call)
{
    if (f->added < f->ncalls)
        one_call(f, &f->place, call, f->added++);
}

core_flow_t *core_flow_build(json_t *const *calls, size_t n)
{
    core_flow_t *f = core_flow_new(n);
    for (size_t i = 0; i < n; i++)
        core_flow_add(f, calls[i]);
    return f;
}

void core_flow_free(core_flow_t *f)
{
    if (f == NULL)
        return;
    rcx_buf_free(&f->text);
    rcx_buf_free(&f->place);
    free(f->values.slots);
    free(f->places.slots);
    free(f->place_off);
    free(f->entries);
    free(f->ends);
    free(f->resource);
    free(f);
}

/* ---- reading ---- */

size_t core_flow_origins(const core_flow_t *f, const char *text, size_t len, size_t call,
                         core_flow_phase_t phase, core_flow_origin_t *out, size_t max)
{
    if (call >= f->ncalls || f->values.cap == 0)
        return 0;
    const slot_t *sl = find(f, &f->values, text, len, hash_of(text, len));
    if (sl == NULL || sl->hash == 0)
        return 0;
    uint32_t limit = f->ends[3 * call + (size_t)phase];
    size_t k = 0;
    for (uint32_t e = sl->head; e != NONE && k < max; e = f->entries[e].prev)
        if (e < limit)
            out[k++] = f->entries[e].o;
    return k;
}

bool core_flow_path_param(const core_flow_t *f, const char *s, size_t n, size_t call)
{
    if (call >= f->ncalls || f->values.cap == 0)
        return false;
    if (n >= 8 && core_flow_volatile(s, n))
        return true;
    const slot_t *sl = find(f, &f->values, s, n, hash_of(s, n));
    return sl != NULL && sl->hash != 0 && sl->oldest != NONE && sl->oldest < sl->first_path &&
           sl->oldest < f->ends[3 * call];
}

bool core_flow_known_before(const core_flow_t *f, const char *text, size_t len, size_t call)
{
    if (call == 0 || call > f->ncalls || f->values.cap == 0)
        return false;
    const slot_t *sl = find(f, &f->values, text, len, hash_of(text, len));
    return sl != NULL && sl->hash != 0 && sl->oldest != NONE && sl->oldest < f->ends[3 * (call - 1) + 2];
}

bool core_flow_oldest(const core_flow_t *f, const char *text, size_t len, core_flow_origin_t *out)
{
    if (f->values.cap == 0)
        return false;
    const slot_t *sl = find(f, &f->values, text, len, hash_of(text, len));
    if (sl == NULL || sl->hash == 0 || sl->oldest == NONE)
        return false;
    *out = f->entries[sl->oldest].o;
    return true;
}

bool core_flow_made(const core_flow_t *f, const char *text, size_t len)
{
    if (f->values.cap == 0)
        return false;
    const slot_t *sl = find(f, &f->values, text, len, hash_of(text, len));
    for (uint32_t e = sl != NULL && sl->hash != 0 ? sl->head : NONE; e != NONE; e = f->entries[e].prev)
        if (f->entries[e].o.made)
            return true;
    return false;
}

typedef struct template_arg {
    const core_flow_t *f;
    size_t call;
} template_arg_t;

static bool template_param(void *arg, const char *s, size_t n)
{
    const template_arg_t *a = arg;
    return core_flow_path_param(a->f, s, n, a->call);
}

void core_flow_template(const core_flow_t *f, size_t call, const char *path, core_pathtpl_t *t)
{
    template_arg_t arg = {f, call};
    core_pathtpl_make_with(t, path, f != NULL ? template_param : NULL, &arg);
}

const char *core_flow_resource(const core_flow_t *f, size_t call)
{
    return call < f->ncalls ? f->text.base + f->resource[call] : "";
}

void core_flow_role(const core_flow_t *f, const core_flow_origin_t *o, char *out, size_t outsz)
{
    const char *place = core_flow_place(f, o->place);
    const char *last = strrchr(place, '.');
    last = last ? last + 1 : place;
    size_t ln = strcspn(last, "[");
    if (ln > 3 && strncmp(last + ln - 3, "_id", 3) == 0) {
        core_pathtpl_singular(last, ln - 3, out, outsz);
        return;
    }
    if (strncmp(place, "db.", 3) == 0) { /* db.schema.table.op[].col */
        const char *t = strchr(place + 3, '.');
        size_t tn = t ? strcspn(t + 1, ".") : 0;
        core_pathtpl_singular(t ? t + 1 : "", tn, out, outsz);
        return;
    }
    if (last > place + 1) { /* the key that holds it: response.body.article.id, response.body.jobs[].id */
        const char *end = last - 1, *start = end;
        while (start > place && start[-1] != '.')
            start--;
        size_t kn = strcspn(start, ".[");
        if (start < end && strncmp(start, "body", 4) != 0 && kn > 0) {
            core_pathtpl_singular(start, kn, out, outsz);
            return;
        }
    }
    snprintf(out, outsz, "%s", core_flow_resource(f, o->call));
}

bool core_flow_same_role(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;
    return n >= 2 && strncmp(a, b, n) == 0;
}
