/*
 * verifier/yaml.h: a YAML document as a small tree whose every node knows
 * its file:line:col, built from libfyaml's event stream (libfyaml 0.7's
 * document API does not expose node positions).
 *
 * Contract: rv_yaml_load() parses one file (or buffer) holding one document
 * and returns the root (NULL for an empty document, with no error) or fails
 * with "file:line:col: message" in err. Anchors and aliases are refused
 * (a spec should read the same top to bottom). The tree owns its strings;
 * rv_yaml_free() frees all of it. The writers append to a caller's buffer.
 * Pure: no global state, thread-compatible.
 */
#ifndef RV_YAML_H
#define RV_YAML_H

#include "common/buf.h"
#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { RV_Y_SCALAR, RV_Y_MAP, RV_Y_SEQ } rv_ykind_t;

typedef struct rv_pos {
    const char *file; /* borrowed from the loader's caller */
    int line, col;    /* 1-based */
} rv_pos_t;

typedef struct rv_ynode {
    rv_ykind_t kind;
    rv_pos_t pos;
    char *text; /* scalar: its value (NUL-terminated; may hold NULs: see len) */
    size_t len;
    bool plain;                     /* scalar written without quotes (so `1` is a number, `"1"` a string) */
    struct rv_ynode **keys, **vals; /* map: keys[i] -> vals[i]; seq: vals[i] */
    size_t n;
} rv_ynode_t;

/** Parses text[0..len) named file. */
rv_ynode_t *rv_yaml_parse(const char *file, const char *text, size_t len, rcx_err_t *err);

/** The largest spec file read. */
#define RV_YAML_MAX_FILE (64u * 1024 * 1024)

/** Reads and parses a file (at most RV_YAML_MAX_FILE bytes). */
rv_ynode_t *rv_yaml_load(const char *file, rcx_err_t *err);

/** The value of key in a map node, or NULL. */
rv_ynode_t *rv_yaml_get(const rv_ynode_t *map, const char *key);

void rv_yaml_free(rv_ynode_t *n);

/* ---- reading scalars and maps, with positions in every error ---- */

/** Sets err to "file:line:col: message" at node n. */
void rv_yaml_fail(rcx_err_t *err, const rv_ynode_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Sets err at node n and returns -1 from the calling function. */
#define RV_YAML_FAIL(err, n, ...)                                                                            \
    do {                                                                                                     \
        rv_yaml_fail((err), (n), __VA_ARGS__);                                                               \
        return -1;                                                                                           \
    } while (0)

/** "a mapping", "a list" or "a value", for messages. */
const char *rv_yaml_kind_name(const rv_ynode_t *n);

/** Refuses (-1, err at the key) a key of map outside allowed (NULL-terminated); where names the map. */
int rv_yaml_only_keys(const rv_ynode_t *map, const char *where, const char *const *allowed, rcx_err_t *err);

/** Plain scalars under YAML 1.2's core schema: null (~, null, empty), booleans, integers, floats. */
bool rv_yaml_is_null(const rv_ynode_t *n);
int rv_yaml_plain_bool(const rv_ynode_t *n); /* 1 true, 0 false, -1 not a boolean */
bool rv_yaml_plain_int(const rv_ynode_t *n, long long *v);
bool rv_yaml_plain_float(const rv_ynode_t *n, double *v);

/* ---- writing (recap specgen's drafts; the reader above reads them back) ---- */

/*
 * The spec language's one escape: a string value or key that starts with '$'
 * would be a matcher, so a literal one is written with the '$' doubled
 * ("$$ref" is the string "$ref"). Writers double it; the reader undoes it.
 */
#define RV_YAML_DOLLAR '$'

/** Whether a scalar's text is an escaped literal ("$$..."): its value is text + 1. */
bool rv_yaml_is_escaped_dollar(const char *text);

/** A string, double-quoted (JSON's quoting is YAML's), with no escape of '$'. */
void rv_yaml_write_string(rcx_buf_t *b, const char *s);

/** A value as a literal of the spec language: a string starting with '$' is escaped; others as JSON. */
void rv_yaml_write_literal(rcx_buf_t *b, const json_t *v);

/** A mapping key of a body: plain when safe, '$' escaped, else quoted. */
void rv_yaml_write_key(rcx_buf_t *b, const char *k);

/** A name written as it is (a table's): plain when it is safe, else quoted (never a matcher). */
void rv_yaml_write_name(rcx_buf_t *b, const char *k);

#endif
