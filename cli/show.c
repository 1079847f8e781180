/* cli/show.c: `recap show CAPTURE... [--test PATTERN] [--call SEQ]`: a capture as a person reads it
 * (tools/show.h). */
#include "cli/cli.h"

#include "common/buf.h"
#include "common/capture_reader.h"
#include "common/codec.h"
#include "common/num.h"
#include "tools/show.h"

#include <fnmatch.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs(
        "usage: recap show CAPTURE... [options]\n"
        "\n"
        "Prints recorded calls as a table: seq, test, method, path, status, milliseconds, the start of the\n"
        "response body, and under each call the rows it inserted, updated or deleted (how they were\n"
        "attributed in brackets); orphan transactions likewise.\n"
        "\n"
        "  --test PATTERN   only calls whose test name matches (fnmatch: * ? [..])\n"
        "  --call SEQ       the whole record of one call, as JSON\n"
        "  --color WHEN     auto (default: on a terminal), always, never\n"
        "\n"
        "Exit status: 0, 1 when --call names no call, 2 usage or input error (a torn or foreign file).\n",
        out);
}

typedef struct opts {
    const char *test;
    uint64_t call;
    bool one_call, color;
} opts_t;

typedef struct tally {
    size_t calls, writes, orphans;
    bool found;
} tally_t;

/* One record: shown (a call its filter lets through, an orphan when no filter), or printed whole (--call). */
static void show(const opts_t *o, const json_t *rec, tally_t *t)
{
    rcx_rec_kind_t kind = rcx_rec_kind(rec);
    if (o->one_call) {
        if (kind == RCX_REC_CALL && (uint64_t)json_integer_value(json_object_get(rec, "seq")) == o->call) {
            json_dumpf(rec, stdout, JSON_INDENT(2));
            fputc('\n', stdout);
            t->found = true;
        }
        return;
    }
    if (kind == RCX_REC_CALL) {
        const char *test = json_string_value(json_object_get(rec, "test"));
        if (o->test != NULL && (test == NULL || fnmatch(o->test, test, 0) != 0))
            return;
        rt_show_call(stdout, rec, o->color);
        t->calls++;
        t->writes += json_array_size(rcx_rec_transactions(rec)) > 0;
    } else if (kind == RCX_REC_ORPHAN && o->test == NULL) {
        rt_show_orphan(stdout, rec, o->color);
        t->orphans++;
    }
}

/* Every record of one capture; 0, or 2 after the records before a bad line (said). */
static int show_file(const opts_t *o, rcx_reader_t *r, tally_t *t)
{
    rcx_err_t err;
    json_t *rec;
    int rc, code = 0;
    while ((rc = rcx_reader_next(r, &rec, &err)) != 0) {
        if (rc < 0) {
            fflush(stdout);
            code = cli_fail_err("show", &err);
            if (rcx_reader_torn(r))
                break;
            continue;
        }
        show(o, rec, t);
        json_decref(rec);
    }
    return code;
}

int cli_show_main(int argc, char **argv)
{
    static const struct option options[] = {{"test", required_argument, NULL, 't'},
                                            {"call", required_argument, NULL, 'c'},
                                            {"color", required_argument, NULL, 'C'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    opts_t o = {0};
    const char *color = "auto";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (c) {
        case 't':
            o.test = optarg;
            break;
        case 'c':
            if (rcx_parse_u64(optarg, &o.call) != 0)
                return cli_fail("show", "--call: '%s' is not a call's seq", optarg);
            o.one_call = true;
            break;
        case 'C':
            color = optarg;
            if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
                return cli_fail("show", "--color: '%s' is not auto, always or never", color);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return cli_flag_error("show", c, argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_fail("show", "give one or more capture files (see recap show --help)");
    o.color = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO));
    /* every capture opens (a foreign format is refused before anything is shown) */
    int n = argc - optind, code = 0;
    rcx_reader_t **readers = rcx_xcalloc((size_t)n, sizeof(*readers));
    rcx_err_t err;
    for (int i = 0; i < n && code == 0; i++)
        if ((readers[i] = rcx_reader_open(argv[optind + i], &err)) == NULL)
            code = cli_fail_err("show", &err);
    tally_t t = {0};
    if (code == 0 && !o.one_call)
        rt_show_header(stdout, o.color);
    for (int i = 0; i < n && readers[i] != NULL; i++)
        if (code == 0 && show_file(&o, readers[i], &t) != 0)
            code = 2;
    for (int i = 0; i < n; i++)
        rcx_reader_close(readers[i]);
    free(readers);
    if (code != 0 && t.calls + t.orphans == 0 && !o.one_call)
        return code;
    if (o.one_call && !t.found && code == 0) {
        fprintf(stderr, "recap: show: no call #%llu in the capture\n", (unsigned long long)o.call);
        return 1;
    }
    if (!o.one_call)
        printf("\n%zu calls shown, %zu of them changed rows; %zu orphan transactions\n", t.calls, t.writes,
               t.orphans);
    return code;
}
