/* verifier/diff_main.c: `recap diff A.jsonl B.jsonl`. See diff_main.h. */
#include "diff_main.h"

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/capture_reader.h"
#include "diff.h"
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs(
        "usage: recap diff A.jsonl B.jsonl [options]\n"
        "\n"
        "Compares two recorded runs call by call: status, content-type, response body and row changes.\n"
        "Timestamps, and ids and uuids that play the same role in both runs, are noise.\n"
        "\n"
        "  --noise FILE        more noise: one path per line (response.body.token, db.public.jobs.insert[].\n"
        "                      scheduled_at); # starts a comment\n"
        "  --learn X.jsonl Y.jsonl\n"
        "                      two runs of the same build: whatever differs between them is noise\n"
        "  --json FILE         also write the differences as JSON\n"
        "\n"
        "Exit status: 0 the runs are the same, 1 they differ, 2 usage or input error.\n",
        out);
}

void rv_calls_free(rv_calls_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->v[i]);
    free(c->v);
    *c = (rv_calls_t){0};
}

/* A diff of part of a run would mislead: any bad line is an error. */
int rv_load_calls(const char *path, const char *verb, rv_calls_t *out)
{
    rcx_err_t err;
    rcx_reader_t *r = rcx_reader_open(path, &err);
    if (r == NULL) {
        fprintf(stderr, "recap: %s: %s\n", verb, err.msg);
        return -1;
    }
    json_t *rec;
    int rc;
    while ((rc = rcx_reader_next(r, &rec, &err)) != 0) {
        if (rc < 0) {
            fprintf(stderr, "recap: %s: %s\n", verb, err.msg);
            rcx_reader_close(r);
            return -1;
        }
        if (strcmp(json_string_value(json_object_get(rec, "type")), "call") == 0) {
            out->v = rcx_xrealloc(out->v, sizeof(*out->v) * (out->n + 1));
            out->v[out->n++] = rec;
        } else {
            json_decref(rec);
        }
    }
    rcx_reader_close(r);
    return 0;
}

int rv_load_noise(const char *path, const char *verb, rv_noise_t *noise)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "recap: %s: %s: %s\n", verb, path, strerror(errno));
        return -1;
    }
    char line[4096];
    unsigned long n = 0;
    while (fgets(line, sizeof(line), f)) {
        n++;
        char *s = line + strspn(line, " \t");
        s[strcspn(s, "#\r\n")] = '\0';
        for (size_t l = strlen(s); l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'); l--)
            s[l - 1] = '\0';
        if (*s == '\0')
            continue;
        if (strncmp(s, "status", 6) != 0 && strncmp(s, "response.", 9) != 0 && strncmp(s, "db", 2) != 0 &&
            strcmp(s, "request.path") != 0) {
            fprintf(stderr,
                    "recap: %s: %s:%lu:1: '%s' is not a path (status, request.path, response.body..., "
                    "response.headers..., db...)\n",
                    verb, path, n, s);
            fclose(f);
            return -1;
        }
        rv_noise_add(noise, s);
    }
    fclose(f);
    return 0;
}

static void call_label(char *out, size_t n, const json_t *call)
{
    if (call == NULL) {
        snprintf(out, n, "-");
        return;
    }
    snprintf(out, n, "#%lld", (long long)json_integer_value(json_object_get(call, "seq")));
}

static const char *path_of(const json_t *call)
{
    return json_string_value(json_object_get(json_object_get(call, "request"), "path"));
}

static int dump_json(FILE *out, const void *doc)
{
    return json_dumpf(doc, out, JSON_INDENT(1)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
}

int rv_diff_write_json(const char *path, const char *verb, const rv_diff_t *d)
{
    json_t *root = json_pack("{s:b, s:I, s:I, s:I, s:I}", "same", d->differ + d->only_a + d->only_b == 0,
                             "calls", (json_int_t)d->n, "differ", (json_int_t)d->differ, "only_a",
                             (json_int_t)d->only_a, "only_b", (json_int_t)d->only_b);
    json_t *calls = json_array();
    for (size_t i = 0; i < d->n; i++) {
        const rv_diff_pair_t *p = &d->pairs[i];
        if (p->a && p->b && p->nd == 0)
            continue;
        json_t *c = json_pack(
            "{s:s, s:o, s:o}", "key", p->key, "a",
            p->a ? json_pack("{s:O, s:s?}", "seq", json_object_get(p->a, "seq"), "path", path_of(p->a))
                 : json_null(),
            "b",
            p->b ? json_pack("{s:O, s:s?}", "seq", json_object_get(p->b, "seq"), "path", path_of(p->b))
                 : json_null());
        json_t *ds = json_array();
        for (size_t k = 0; k < p->nd; k++)
            json_array_append_new(
                ds, json_pack("{s:s, s:s, s:s}", "where", p->d[k].where, "a", p->d[k].a, "b", p->d[k].b));
        json_object_set_new(c, "differences", ds);
        json_array_append_new(calls, c);
    }
    json_object_set_new(root, "calls_that_differ", calls);
    int rc = rv_write_file(path, verb, dump_json, root);
    json_decref(root);
    return rc;
}

bool rv_diff_print(FILE *out, const rv_diff_t *d, size_t na, size_t nb)
{
    for (size_t i = 0; i < d->n; i++) {
        const rv_diff_pair_t *p = &d->pairs[i];
        char la[32], lb[32];
        call_label(la, sizeof(la), p->a);
        call_label(lb, sizeof(lb), p->b);
        if (p->a == NULL || p->b == NULL) {
            fprintf(out, "%s/%s %s: only in %s (%s)\n", la, lb, p->key, p->a ? "A" : "B",
                    path_of(p->a ? p->a : p->b));
        } else if (p->nd > 0) {
            fprintf(out, "%s/%s %s (%s)\n", la, lb, p->key, path_of(p->a));
            for (size_t k = 0; k < p->nd; k++)
                fprintf(out, "    %s: %s -> %s\n", p->d[k].where, p->d[k].a, p->d[k].b);
        }
    }
    bool same = d->differ + d->only_a + d->only_b == 0;
    fprintf(out, "%s: %zu calls in A, %zu in B: %zu aligned differ, %zu only in A, %zu only in B\n",
            same ? "SAME" : "DIFFERENT", na, nb, d->differ, d->only_a, d->only_b);
    return same;
}

enum { OPT_NOISE = 1000, OPT_LEARN, OPT_JSON, OPT_HELP };

int rv_diff_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"noise", required_argument, NULL, OPT_NOISE},
        {"learn", required_argument, NULL, OPT_LEARN},
        {"json", required_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *json_out = NULL;
    const char *noise_files[16], *learn[2] = {NULL, NULL};
    size_t nnoise = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        const char *name = argv[optind - 1];
        switch (c) {
        case OPT_NOISE:
            if (nnoise == 16) {
                fprintf(stderr, "recap: diff: at most 16 --noise files\n");
                return 2;
            }
            noise_files[nnoise++] = optarg;
            break;
        case OPT_LEARN:
            if (optind >= argc) {
                fprintf(stderr, "recap: diff: --learn takes two captures of the same build\n");
                return 2;
            }
            learn[0] = optarg;
            learn[1] = argv[optind++];
            break;
        case OPT_JSON:
            json_out = optarg;
            break;
        case OPT_HELP:
            usage(stdout);
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return rcx_flag_error("diff", c, name);
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "recap: diff: give two capture files, A and B (see recap diff --help)\n");
        return 2;
    }
    rv_noise_t noise = {0};
    rv_calls_t a = {0}, b = {0};
    int code = 2;
    for (size_t i = 0; i < nnoise; i++)
        if (rv_load_noise(noise_files[i], "diff", &noise) != 0)
            goto out;
    if (learn[0] != NULL) {
        rv_calls_t x = {0}, y = {0};
        int bad = rv_load_calls(learn[0], "diff", &x) || rv_load_calls(learn[1], "diff", &y);
        if (!bad)
            rv_diff_learn(x.v, x.n, y.v, y.n, &noise);
        rv_calls_free(&x);
        rv_calls_free(&y);
        if (bad)
            goto out;
    }
    if (rv_load_calls(argv[optind], "diff", &a) != 0 || rv_load_calls(argv[optind + 1], "diff", &b) != 0)
        goto out;
    rv_diff_t d;
    rv_diff_run(a.v, a.n, b.v, b.n, &noise, &d);
    bool same = rv_diff_print(stdout, &d, a.n, b.n);
    code = same ? 0 : 1;
    if (json_out && rv_diff_write_json(json_out, "diff", &d) != 0)
        code = 2;
    rv_diff_free(&d);
out:
    rv_calls_free(&a);
    rv_calls_free(&b);
    rv_noise_free(&noise);
    return code;
}
