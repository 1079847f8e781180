/*
 * verifier/yaml.h: a YAML document as a small tree whose every node knows
 * its file:line:col, built from libfyaml's event stream (libfyaml 0.7's
 * document API does not expose node positions).
 *
 * Contract: rv_yaml_load() parses one file (or buffer) holding one document
 * and returns the root (NULL for an empty document, with no error) or fails
 * with "file:line:col: message" in err. Anchors and aliases are refused
 * (a spec should read the same top to bottom). The tree owns its strings;
 * rv_yaml_free() frees all of it. Pure: no global state, thread-compatible.
 */
#ifndef RV_YAML_H
#define RV_YAML_H

#include "common/err.h"

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

/** Reads and parses a file. */
rv_ynode_t *rv_yaml_load(const char *file, rcx_err_t *err);

/** The value of key in a map node, or NULL. */
rv_ynode_t *rv_yaml_get(const rv_ynode_t *map, const char *key);

void rv_yaml_free(rv_ynode_t *n);

#endif
