/*
 * verifier/spec.h: specs, as loaded from YAML (docs/spec-format.md).
 *
 * A spec names the calls it applies to (method, path template, test name,
 * request headers) and what they must show (status, response headers, body,
 * database effects), and may save values for later calls. Values are checked
 * by matchers (match.h).
 *
 * Contract: rv_specs_load() reads one file or every *.yaml / *.yml file of a
 * directory (in name order) into an rv_specs_t that owns everything; on bad
 * input it fails with one "file:line:col: message" in err and leaves nothing
 * allocated. Every matcher and spec keeps the position it was written at.
 * Loading validates everything that can be known before seeing a call:
 * unknown keys, types, regexes, references (a path parameter the template
 * lacks, a saved name nothing saves). Pure apart from reading files.
 */
#ifndef RV_SPEC_H
#define RV_SPEC_H

#include "common/err.h"
#include "verifier/yaml.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    RV_M_LIT,    /* a scalar: equal (numbers compare as numbers, also against numeric strings) */
    RV_M_OBJ,    /* a mapping: an object holding at least these keys, each matching */
    RV_M_ARR,    /* a sequence: an array of the same length, element by element */
    RV_M_TYPE,   /* $int, $number, $string, $bool, $uuid, $timestamp, $date, $null, $object, $array */
    RV_M_REGEX,  /* {$regex: ...}: a string pcre2 finds the pattern in */
    RV_M_RANGE,  /* {$min: a, $max: b}: a number (or numeric string) within, inclusive */
    RV_M_ANY,    /* $any: present, any value */
    RV_M_ABSENT, /* $absent: the key is not there */
    RV_M_LEN,    /* {$len: m}: the length of a string, array or object matches m */
    RV_M_REF,    /* ${root.path}: equal to a value of this call or a saved one */
    RV_M_ALL,    /* a mapping of several $ keys: each holds */
    RV_M_EVERY,  /* {$every: m}: a list whose every element matches kids[0] (none: passes) */
    RV_M_NONE,   /* {$none: m}: a list no element of which matches kids[0] */
    RV_M_COUNT,  /* {$count: m}: a list whose number of elements matches kids[0] */
} rv_mkind_t;

typedef enum {
    RV_T_INT,
    RV_T_NUMBER,
    RV_T_STRING,
    RV_T_BOOL,
    RV_T_UUID,
    RV_T_TIMESTAMP,
    RV_T_DATE,
    RV_T_NULL,
    RV_T_OBJECT,
    RV_T_ARRAY,
} rv_type_t;

typedef enum {
    RV_R_REQUEST_BODY,
    RV_R_REQUEST_QUERY,
    RV_R_REQUEST_HEADERS,
    RV_R_RESPONSE_BODY,
    RV_R_RESPONSE_HEADERS,
    RV_R_PATH,
    RV_R_SAVED,
} rv_root_t;

typedef struct rv_ref {
    rv_root_t root;
    char **segs; /* object keys, or array indexes as digits */
    size_t nsegs;
    char *text; /* as written, without ${} */
} rv_ref_t;

typedef struct rv_matcher {
    rv_mkind_t kind;
    rv_pos_t pos;
    json_t *lit;              /* LIT */
    char **keys;              /* OBJ */
    struct rv_matcher **kids; /* OBJ, ARR, ALL; LEN: kids[0] */
    size_t n;
    rv_type_t type; /* TYPE */
    void *re;       /* REGEX: pcre2_code */
    char *re_src;
    double min, max; /* RANGE */
    bool has_min, has_max;
    rv_ref_t ref; /* REF */
} rv_matcher_t;

typedef enum { RV_OP_INSERT, RV_OP_UPDATE, RV_OP_DELETE, RV_OP_COUNT } rv_op_t;

typedef struct rv_op_expect {
    bool given;
    rv_pos_t pos;
    bool is_count;
    uint64_t count;
    rv_matcher_t *count_m; /* a count given as a matcher ({$min: 1}) */
    rv_matcher_t *quant;   /* quantifiers over the rows ({$every: m, $none: m, $count: m}): RV_M_ALL */
    rv_matcher_t **rows;   /* matched as a set */
    size_t nrows;
} rv_op_expect_t;

typedef struct rv_table_expect {
    char *name; /* "organizations" (any schema) or "public.organizations" */
    rv_pos_t pos;
    rv_op_expect_t op[RV_OP_COUNT];
} rv_table_expect_t;

typedef enum { RV_DB_UNCHECKED, RV_DB_NONE, RV_DB_TABLES } rv_db_mode_t;

typedef struct rv_header_expect {
    char *name; /* lower case */
    rv_matcher_t *m;
} rv_header_expect_t;

typedef struct rv_save {
    char *name;
    rv_ref_t ref;
    rv_pos_t pos;
} rv_save_t;

typedef struct rv_spec {
    char *name; /* given, or "METHOD /path" */
    rv_pos_t pos;
    size_t order; /* load order: files by name, specs in file order */
    /* match */
    char *method; /* upper case, NULL: any */
    char *path;   /* the template as written */
    char **segs;  /* its segments; a parameter is "{name}" */
    size_t nsegs;
    char *test; /* fnmatch pattern, NULL: any */
    rv_header_expect_t *when_headers;
    size_t nwhen_headers;
    rv_matcher_t *when_status; /* match.status: the outcome it applies to, NULL: any */
    int specificity;
    /* expect */
    rv_matcher_t *status, *body;
    rv_header_expect_t *headers;
    size_t nheaders;
    rv_db_mode_t db;
    rv_pos_t db_pos;
    bool strict;
    rv_table_expect_t *tables;
    size_t ntables;
    /* save */
    rv_save_t *saves;
    size_t nsaves;
} rv_spec_t;

typedef struct rv_specs {
    rv_spec_t *v;
    size_t n;
    bool forbid_orphans; /* some file says orphans: forbid */
    rv_pos_t orphans_pos;
    char **files; /* names positions point into */
    size_t nfiles;
} rv_specs_t;

/** Loads a spec file, or every *.yaml / *.yml in a directory (name order). */
int rv_specs_load(rv_specs_t *s, const char *path, rcx_err_t *err);

/** Loads one spec document from memory (tests, fuzzing); appends to s. */
int rv_specs_load_text(rv_specs_t *s, const char *file, const char *text, size_t len, rcx_err_t *err);

/** Checks references across files (saved names); call once after loading. */
int rv_specs_finish(rv_specs_t *s, rcx_err_t *err);

void rv_specs_free(rv_specs_t *s);

/** Whether s is an HTTP method token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~). */
bool rv_is_method(const char *s);

/** "int", "uuid", ... */
const char *rv_type_name(rv_type_t t);

/** The name of each operation as written in specs: inserted, updated, deleted. */
const char *rv_op_name(rv_op_t op);

#endif
