/* verifier/yaml.c: see yaml.h. */
#include "verifier/yaml.h"

#include "common/buf.h"
#include "common/file.h"

#include <ctype.h>
#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64

static rv_ynode_t *node_new(rv_ykind_t kind, const char *file, const struct fy_mark *m)
{
    rv_ynode_t *n = rcx_xcalloc(1, sizeof(*n));
    if (n == NULL)
        abort();
    n->kind = kind;
    n->pos = (rv_pos_t){file, m ? m->line + 1 : 1, m ? m->column + 1 : 1};
    return n;
}

static void push(rv_ynode_t *parent, rv_ynode_t *key, rv_ynode_t *val)
{
    if ((parent->n & (parent->n - 1)) == 0) { /* 0, 1, 2, 4...: grow to the next power of two */
        size_t cap = parent->n ? parent->n * 2 : 1;
        parent->vals = rcx_xrealloc(parent->vals, sizeof(*parent->vals) * cap);
        if (parent->kind == RV_Y_MAP)
            parent->keys = rcx_xrealloc(parent->keys, sizeof(*parent->keys) * cap);
    }
    if (parent->kind == RV_Y_MAP)
        parent->keys[parent->n] = key;
    parent->vals[parent->n++] = val;
}

void rv_yaml_free(rv_ynode_t *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            rv_yaml_free(n->keys[i]);
        rv_yaml_free(n->vals[i]);
    }
    free(n->keys);
    free(n->vals);
    free(n->text);
    free(n);
}

rv_ynode_t *rv_yaml_get(const rv_ynode_t *map, const char *key)
{
    if (map == NULL || map->kind != RV_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == RV_Y_SCALAR && strcmp(map->keys[i]->text, key) == 0)
            return map->vals[i];
    return NULL;
}

/* libfyaml's diagnostics, caught through its output hook (its collect mode leaks in 0.7.12): the first
 * error line, "<input>:L:C: error: message". */
typedef struct diag_catch {
    char first[400];
} diag_catch_t;

static void on_diag(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    diag_catch_t *c = user;
    if (c->first[0] == '\0' && len > 0 && memmem(buf, len, ": error: ", 9) != NULL)
        snprintf(c->first, sizeof(c->first), "%.*s", (int)len, buf);
}

static void diag_error(const diag_catch_t *c, const char *file, rcx_err_t *err)
{
    const char *e = strstr(c->first, ": error: ");
    int line = 0, col = 0;
    if (e != NULL) { /* ...:L:C before ": error: " */
        const char *p = e;
        while (p > c->first && p[-1] >= '0' && p[-1] <= '9')
            p--;
        col = atoi(p);
        if (p > c->first && p[-1] == ':') {
            const char *q = p - 1;
            while (q > c->first && q[-1] >= '0' && q[-1] <= '9')
                q--;
            line = atoi(q);
        }
        const char *msg = e + 9;
        rcx_err_set(err, "%s:%d:%d: YAML: %.*s", file, line, col, (int)strcspn(msg, "\n"), msg);
    } else {
        rcx_err_set(err, "%s: YAML: cannot be parsed", file);
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
    if (p[0] < 0x80)
        return 1;
    size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    uint32_t cp = p[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3f);
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0; /* overlong, out of range, or a surrogate */
    return n;
}

/* libfyaml 0.7 loops for ever on some invalid UTF-8 (found by fuzzing: "%\xfc") and stops reading at a NUL:
 * both are refused here, with their position. */
static int check_text(const char *file, const char *text, size_t len, rcx_err_t *err)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        size_t n = text[i] == '\0' ? 0 : utf8_len((const unsigned char *)text + i, len - i);
        if (n == 0) {
            rcx_err_set(err, "%s:%d:%d: %s: a spec file is UTF-8 text", file, line, col,
                        text[i] == '\0' ? "a NUL byte" : "not UTF-8");
            return -1;
        }
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        i += n;
    }
    return 0;
}

/* The tree being built from the event stream. */
typedef struct builder {
    const char *file;
    rcx_err_t *err;
    rv_ynode_t *stack[MAX_DEPTH + 1], *pending_key[MAX_DEPTH + 1], *root;
    int depth, docs;
} builder_t;

static int fail_at_mark(builder_t *b, const struct fy_mark *m, const char *what)
{
    rcx_err_set(b->err, "%s:%d:%d: %s", b->file, m ? m->line + 1 : 0, m ? m->column + 1 : 0, what);
    return -1;
}

/* A key of the open mapping: a plain value, not seen before in it. */
static int take_key(builder_t *b, rv_ynode_t *parent, rv_ynode_t *key)
{
    const char *why = key->kind != RV_Y_SCALAR ? "a mapping key must be a plain value" : NULL;
    for (size_t i = 0; i < parent->n && why == NULL; i++)
        if (strcmp(parent->keys[i]->text, key->text) == 0)
            why = "duplicate key";
    if (why != NULL) {
        if (key->kind == RV_Y_SCALAR)
            rcx_err_set(b->err, "%s:%d:%d: %s '%s'", b->file, key->pos.line, key->pos.col, why, key->text);
        else
            rcx_err_set(b->err, "%s:%d:%d: %s", b->file, key->pos.line, key->pos.col, why);
        rv_yaml_free(key);
        return -1;
    }
    b->pending_key[b->depth - 1] = key;
    return 0;
}

/* Puts a new node in its place (the root, a list's item, a key, a key's value) and enters containers. */
static int attach(builder_t *b, rv_ynode_t *made)
{
    if (b->depth == 0) {
        b->root = made;
    } else {
        rv_ynode_t *parent = b->stack[b->depth - 1];
        if (parent->kind == RV_Y_SEQ) {
            push(parent, NULL, made);
        } else if (b->pending_key[b->depth - 1] == NULL) {
            return take_key(b, parent, made); /* a key is not a container to enter */
        } else {
            push(parent, b->pending_key[b->depth - 1], made);
            b->pending_key[b->depth - 1] = NULL;
        }
    }
    if (made->kind == RV_Y_SCALAR)
        return 0;
    if (b->depth == MAX_DEPTH) {
        rcx_err_set(b->err, "%s:%d:%d: nested deeper than %d levels", b->file, made->pos.line, made->pos.col,
                    MAX_DEPTH);
        return -1;
    }
    b->pending_key[b->depth] = NULL;
    b->stack[b->depth++] = made;
    return 0;
}

static bool anchored(const struct fy_event *ev)
{
    return ev->type == FYET_ALIAS || (ev->type == FYET_SCALAR && ev->scalar.anchor != NULL) ||
           (ev->type == FYET_MAPPING_START && ev->mapping_start.anchor != NULL) ||
           (ev->type == FYET_SEQUENCE_START && ev->sequence_start.anchor != NULL);
}

static int on_event(builder_t *b, struct fy_event *ev)
{
    const struct fy_mark *m = fy_event_start_mark(ev);
    switch (ev->type) {
    case FYET_DOCUMENT_START:
        return ++b->docs > 1 ? fail_at_mark(b, m, "one YAML document per spec file") : 0;
    case FYET_MAPPING_START:
    case FYET_SEQUENCE_START:
    case FYET_SCALAR:
    case FYET_ALIAS: {
        if (anchored(ev))
            return fail_at_mark(b, m, "YAML anchors and aliases are not supported in specs");
        rv_ynode_t *made;
        if (ev->type == FYET_SCALAR) {
            made = node_new(RV_Y_SCALAR, b->file, m);
            size_t n = 0;
            const char *s = fy_token_get_text(ev->scalar.value, &n);
            made->text = rcx_xstrndup(s ? s : "", s ? n : 0);
            made->len = s ? n : 0;
            made->plain = fy_token_scalar_style(ev->scalar.value) == FYSS_PLAIN;
        } else {
            made = node_new(ev->type == FYET_MAPPING_START ? RV_Y_MAP : RV_Y_SEQ, b->file, m);
        }
        return attach(b, made);
    }
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        if (b->depth > 0)
            b->depth--;
        return 0;
    default:
        return 0;
    }
}

/* A parser over text whose diagnostics go to caught (not to stderr). */
static struct fy_parser *make_parser(const char *text, size_t len, diag_catch_t *caught,
                                     struct fy_diag **diag)
{
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = on_diag;
    dcfg.user = caught;
    dcfg.colorize = false;
    dcfg.show_source = false;
    dcfg.show_position = true;
    dcfg.show_type = false;
    dcfg.show_module = false;
    *diag = fy_diag_create(&dcfg);
    struct fy_parse_cfg cfg = {.flags = 0, .diag = *diag};
    struct fy_parser *p = fy_parser_create(&cfg);
    if (p != NULL && fy_parser_set_string(p, text, len) != 0) {
        fy_parser_destroy(p);
        p = NULL;
    }
    return p;
}

rv_ynode_t *rv_yaml_parse(const char *file, const char *text, size_t len, rcx_err_t *err)
{
    if (check_text(file, text, len, err) != 0)
        return NULL;
    diag_catch_t caught = {{0}};
    struct fy_diag *diag = NULL;
    struct fy_parser *p = make_parser(text, len, &caught, &diag);
    if (p == NULL) {
        rcx_err_set(err, "%s: cannot start the YAML parser", file);
        fy_diag_unref(diag);
        return NULL;
    }
    builder_t b = {.file = file, .err = err};
    bool failed = false;
    struct fy_event *ev;
    while (!failed && (ev = fy_parser_parse(p)) != NULL) {
        failed = on_event(&b, ev) != 0;
        fy_parser_event_free(p, ev);
    }
    if (!failed && fy_parser_get_stream_error(p)) {
        diag_error(&caught, file, err);
        failed = true;
    }
    if (failed) {
        for (int i = 0; i < b.depth; i++)
            rv_yaml_free(b.pending_key[i]);
        rv_yaml_free(b.root);
        b.root = NULL;
    }
    fy_parser_destroy(p);
    fy_diag_unref(diag);
    return b.root;
}

rv_ynode_t *rv_yaml_load(const char *file, rcx_err_t *err)
{
    rcx_buf_t b;
    if (rcx_read_file(file, RV_YAML_MAX_FILE, &b, err) != 0)
        return NULL;
    rv_ynode_t *root = rv_yaml_parse(file, b.base ? b.base : "", b.len, err);
    rcx_buf_free(&b);
    return root;
}

/* ---- reading scalars and maps ---- */

void rv_yaml_fail(rcx_err_t *err, const rv_ynode_t *n, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    rcx_err_set(err, "%s:%d:%d: %s", n->pos.file, n->pos.line, n->pos.col, what);
}

const char *rv_yaml_kind_name(const rv_ynode_t *n)
{
    return n->kind == RV_Y_MAP ? "a mapping" : n->kind == RV_Y_SEQ ? "a list" : "a value";
}

/* Refuses keys outside the allowed list (NULL-terminated). */
int rv_yaml_only_keys(const rv_ynode_t *map, const char *where, const char *const *allowed, rcx_err_t *err)
{
    for (size_t i = 0; i < map->n; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(map->keys[i]->text, *a) == 0;
        if (!ok) {
            char list[200] = "";
            for (const char *const *a = allowed; *a; a++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", a == allowed ? "" : ", ",
                         *a);
            RV_YAML_FAIL(err, map->keys[i], "unknown key '%s' in %s (known: %s)", map->keys[i]->text, where,
                         list);
        }
    }
    return 0;
}

bool rv_yaml_is_null(const rv_ynode_t *n)
{
    return n->plain && (n->len == 0 || strcmp(n->text, "null") == 0 || strcmp(n->text, "~") == 0 ||
                        strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

int rv_yaml_plain_bool(const rv_ynode_t *n)
{
    if (!n->plain)
        return -1;
    if (strcmp(n->text, "true") == 0 || strcmp(n->text, "True") == 0 || strcmp(n->text, "TRUE") == 0)
        return 1;
    if (strcmp(n->text, "false") == 0 || strcmp(n->text, "False") == 0 || strcmp(n->text, "FALSE") == 0)
        return 0;
    return -1;
}

bool rv_yaml_plain_int(const rv_ynode_t *n, long long *v)
{
    if (!n->plain || n->len == 0 || n->len > 20)
        return false;
    const char *p = n->text;
    if (*p == '-' || *p == '+')
        p++;
    if (*p == '\0')
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    char *end;
    *v = strtoll(n->text, &end, 10);
    return errno == 0 && *end == '\0';
}

bool rv_yaml_plain_float(const rv_ynode_t *n, double *v)
{
    if (!n->plain || n->len == 0)
        return false;
    const char *p = n->text;
    if (strchr(p, 'x') || strchr(p, 'X') || strcasestr(p, "inf") || strcasestr(p, "nan"))
        return false;
    char *end;
    errno = 0;
    *v = strtod(p, &end);
    return *end == '\0' && errno == 0 && isfinite(*v);
}

/* ---- writing ---- */

bool rv_yaml_is_escaped_dollar(const char *text)
{
    return text[0] == RV_YAML_DOLLAR && text[1] == RV_YAML_DOLLAR;
}

void rv_yaml_write_string(rcx_buf_t *b, const char *s)
{
    json_t *j = json_string(s);
    char *t = json_dumps(j, JSON_ENCODE_ANY);
    rcx_buf_puts(b, t);
    free(t);
    json_decref(j);
}

/* s with its leading '$' doubled, quoted. */
static void write_escaped(rcx_buf_t *b, const char *s)
{
    rcx_buf_t e;
    rcx_buf_init(&e, SIZE_MAX);
    rcx_buf_printf(&e, "%c%s", RV_YAML_DOLLAR, s);
    rv_yaml_write_string(b, rcx_buf_cstr(&e));
    rcx_buf_free(&e);
}

static bool plain_safe(const char *k, const char *also)
{
    bool plain = *k != '\0';
    for (const char *p = k; *p && plain; p++)
        plain = isalnum((unsigned char)*p) || strchr(also, *p) != NULL;
    return plain;
}

void rv_yaml_write_literal(rcx_buf_t *b, const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (s[0] == RV_YAML_DOLLAR)
            write_escaped(b, s);
        else
            rv_yaml_write_string(b, s);
        return;
    }
    char *t = json_dumps(v, JSON_ENCODE_ANY);
    rcx_buf_puts(b, t);
    free(t);
}

void rv_yaml_write_key(rcx_buf_t *b, const char *k)
{
    if (k[0] == RV_YAML_DOLLAR) /* a $ key is a matcher */
        write_escaped(b, k);
    else if (plain_safe(k, "_-"))
        rcx_buf_puts(b, k);
    else
        rv_yaml_write_string(b, k);
}

void rv_yaml_write_name(rcx_buf_t *b, const char *k)
{
    if (k[0] != RV_YAML_DOLLAR && plain_safe(k, "_-."))
        rcx_buf_puts(b, k);
    else
        rv_yaml_write_string(b, k);
}
