/* verifier/yaml.c: see yaml.h. */
#include "verifier/yaml.h"

#include "common/buf.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

rv_ynode_t *rv_yaml_parse(const char *file, const char *text, size_t len, rcx_err_t *err)
{
    /* libfyaml 0.7 loops for ever on some invalid UTF-8 (found by fuzzing: "%\xfc") and stops reading at a
     * NUL: both are refused here, with their position */
    int line = 1, col = 1;
    for (size_t i = 0; i < len;) {
        size_t n = text[i] == '\0' ? 0 : utf8_len((const unsigned char *)text + i, len - i);
        if (n == 0) {
            rcx_err_set(err, "%s:%d:%d: %s: a spec file is UTF-8 text", file, line, col,
                        text[i] == '\0' ? "a NUL byte" : "not UTF-8");
            return NULL;
        }
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        i += n;
    }

    diag_catch_t caught = {{0}};
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = on_diag;
    dcfg.user = &caught;
    dcfg.colorize = false;
    dcfg.show_source = false;
    dcfg.show_position = true;
    dcfg.show_type = false;
    dcfg.show_module = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    struct fy_parse_cfg cfg = {.flags = 0, .diag = diag};
    struct fy_parser *p = fy_parser_create(&cfg);
    if (p == NULL || fy_parser_set_string(p, text, len) != 0) {
        rcx_err_set(err, "%s: cannot start the YAML parser", file);
        fy_parser_destroy(p);
        fy_diag_unref(diag);
        return NULL;
    }
    rv_ynode_t *stack[MAX_DEPTH + 1], *root = NULL, *pending_key[MAX_DEPTH + 1] = {0};
    int depth = 0, docs = 0;
    bool failed = false;
    struct fy_event *ev;
    while (!failed && (ev = fy_parser_parse(p)) != NULL) {
        const struct fy_mark *m = fy_event_start_mark(ev);
        rv_ynode_t *made = NULL;
        switch (ev->type) {
        case FYET_DOCUMENT_START:
            if (++docs > 1) {
                rcx_err_set(err, "%s:%d:%d: one YAML document per spec file", file, m ? m->line + 1 : 0,
                            m ? m->column + 1 : 0);
                failed = true;
            }
            break;
        case FYET_MAPPING_START:
        case FYET_SEQUENCE_START:
        case FYET_SCALAR:
        case FYET_ALIAS: {
            if (ev->type == FYET_ALIAS || (ev->type == FYET_SCALAR && ev->scalar.anchor != NULL) ||
                (ev->type == FYET_MAPPING_START && ev->mapping_start.anchor != NULL) ||
                (ev->type == FYET_SEQUENCE_START && ev->sequence_start.anchor != NULL)) {
                rcx_err_set(err, "%s:%d:%d: YAML anchors and aliases are not supported in specs", file,
                            m ? m->line + 1 : 0, m ? m->column + 1 : 0);
                failed = true;
                break;
            }
            if (ev->type == FYET_SCALAR) {
                made = node_new(RV_Y_SCALAR, file, m);
                size_t n = 0;
                const char *s = fy_token_get_text(ev->scalar.value, &n);
                made->text = rcx_xstrndup(s ? s : "", s ? n : 0);
                made->len = s ? n : 0;
                made->plain = fy_token_scalar_style(ev->scalar.value) == FYSS_PLAIN;
            } else {
                made = node_new(ev->type == FYET_MAPPING_START ? RV_Y_MAP : RV_Y_SEQ, file, m);
            }
            if (depth == 0) {
                root = made;
            } else {
                rv_ynode_t *parent = stack[depth - 1];
                if (parent->kind == RV_Y_SEQ) {
                    push(parent, NULL, made);
                } else if (pending_key[depth - 1] == NULL) {
                    if (made->kind != RV_Y_SCALAR) {
                        rcx_err_set(err, "%s:%d:%d: a mapping key must be a plain value", file,
                                    made->pos.line, made->pos.col);
                        rv_yaml_free(made);
                        failed = true;
                        break;
                    }
                    for (size_t i = 0; i < parent->n; i++)
                        if (strcmp(parent->keys[i]->text, made->text) == 0) {
                            rcx_err_set(err, "%s:%d:%d: duplicate key '%s'", file, made->pos.line,
                                        made->pos.col, made->text);
                            rv_yaml_free(made);
                            failed = true;
                            break;
                        }
                    if (!failed)
                        pending_key[depth - 1] = made;
                    made = NULL; /* a key is not a container to enter */
                    break;
                } else {
                    push(parent, pending_key[depth - 1], made);
                    pending_key[depth - 1] = NULL;
                }
            }
            if (made->kind != RV_Y_SCALAR) {
                if (depth == MAX_DEPTH) {
                    rcx_err_set(err, "%s:%d:%d: nested deeper than %d levels", file, made->pos.line,
                                made->pos.col, MAX_DEPTH);
                    failed = true;
                    break;
                }
                pending_key[depth] = NULL;
                stack[depth++] = made;
            }
            break;
        }
        case FYET_MAPPING_END:
        case FYET_SEQUENCE_END:
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
        fy_parser_event_free(p, ev);
    }
    if (!failed && fy_parser_get_stream_error(p)) {
        diag_error(&caught, file, err);
        failed = true;
    }
    if (failed) {
        for (int i = 0; i < depth; i++)
            rv_yaml_free(pending_key[i]);
        rv_yaml_free(root);
        root = NULL;
    }
    fy_parser_destroy(p);
    fy_diag_unref(diag);
    return root;
}

rv_ynode_t *rv_yaml_load(const char *file, rcx_err_t *err)
{
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        rcx_err_set(err, "%s: %s", file, strerror(errno));
        return NULL;
    }
    rcx_buf_t b;
    rcx_buf_init(&b, 64u * 1024 * 1024);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rcx_buf_append(&b, chunk, n);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || b.truncated) {
        rcx_err_set(err, "%s: %s", file, bad ? "read error" : "larger than 64 MiB");
        rcx_buf_free(&b);
        return NULL;
    }
    rv_ynode_t *root = rv_yaml_parse(file, b.base ? b.base : "", b.len, err);
    rcx_buf_free(&b);
    return root;
}
