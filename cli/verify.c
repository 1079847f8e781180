/* cli/verify.c: `recap verify CAPTURE... --specs PATH`: every call checked against the specs, reported. */
#include "cli/cli.h"

#include "common/codec.h"

#include "common/buf.h"
#include "common/capture_reader.h"
#include "common/err.h"
#include "common/file.h"
#include "common/num.h"
#include "verifier/report.h"
#include "verifier/leaks.h"
#include "verifier/order.h"
#include "verifier/serve.h"
#include "verifier/shard.h"
#include "verifier/spec.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs(
        "usage: recap verify CAPTURE... --specs DIR|FILE [options]\n"
        "       recap verify --serve --specs DIR|FILE [--require-spec]\n"
        "\n"
        "Checks every call in the capture files against the YAML specs (docs/spec-format.md).\n"
        "\n"
        "  --specs PATH        a spec file, or a directory of *.yaml / *.yml files (env RECAP_SPECS)\n"
        "  --junit FILE        also write JUnit XML (one testcase per call, grouped by test name)\n"
        "  --json FILE         also write the results as JSON\n"
        "  --html FILE         also write a self-contained HTML report (failures first)\n"
        "  --require-spec      a call that no spec matches fails\n"
        "  --require-used      a spec that no call matched fails\n"
        "  --color WHEN        auto (default: on a terminal), always, never\n"
        "  --quiet             print only failures and the summary line\n"
        "  --jobs N            threads (default: one per core, at most 8, for 16 MiB of captures or more);\n"
        "                      used only when no spec saves values and without --leaks; the same report\n"
        "  --leaks             also report rows a test left behind, and tests that updated or deleted rows\n"
        "                      another test made (verifier/leaks.h); --fail-on-leaks: and fail on them\n"
        "  --serve             stay up: read batches of records from stdin (each ended by an empty line),\n"
        "                      answer each with one JSON line on stdout (verifier/serve.h; the pytest "
        "plugin)\n"
        "\n"
        "Exit status: 0 all passed, 1 a check failed, 2 usage or input error.\n",
        out);
}

typedef struct opts {
    const char *specs, *junit, *json, *html, *color;
    bool require, require_used, quiet, serve, leaks, fail_on_leaks;
    int jobs; /* 0: one per core */
    char **captures;
    int ncap;
} opts_t;

enum {
    OPT_SPECS = 1000,
    OPT_JUNIT,
    OPT_JSON,
    OPT_HTML,
    OPT_REQUIRE,
    OPT_REQUIRE_USED,
    OPT_COLOR,
    OPT_QUIET,
    OPT_JOBS,
    OPT_SERVE,
    OPT_LEAKS,
    OPT_FAIL_ON_LEAKS,
    OPT_HELP
};

/* 0 go on, 1 help printed, 2 a usage error (printed). */
static int parse(opts_t *o, int argc, char **argv)
{
    static const struct option options[] = {
        {"specs", required_argument, NULL, OPT_SPECS},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"json", required_argument, NULL, OPT_JSON},
        {"html", required_argument, NULL, OPT_HTML},
        {"require-spec", no_argument, NULL, OPT_REQUIRE},
        {"require-used", no_argument, NULL, OPT_REQUIRE_USED},
        {"color", required_argument, NULL, OPT_COLOR},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"serve", no_argument, NULL, OPT_SERVE},
        {"leaks", no_argument, NULL, OPT_LEAKS},
        {"fail-on-leaks", no_argument, NULL, OPT_FAIL_ON_LEAKS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    *o = (opts_t){.specs = getenv("RECAP_SPECS"), .color = "auto"};
    optind = 1;
    opterr = 0;
    int c;
    uint64_t jobs;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (c) {
        case OPT_SPECS:
            o->specs = optarg;
            break;
        case OPT_JUNIT:
            o->junit = optarg;
            break;
        case OPT_JSON:
            o->json = optarg;
            break;
        case OPT_HTML:
            o->html = optarg;
            break;
        case OPT_REQUIRE:
            o->require = true;
            break;
        case OPT_REQUIRE_USED:
            o->require_used = true;
            break;
        case OPT_COLOR:
            o->color = optarg;
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
                return cli_fail("verify", "--color: '%s' is not auto, always or never", optarg);
            break;
        case OPT_QUIET:
            o->quiet = true;
            break;
        case OPT_JOBS:
            if (rcx_parse_u64(optarg, &jobs) != 0 || jobs < 1 || jobs > 64)
                return cli_fail("verify", "--jobs: '%s' is not a thread count (1-64)", optarg);
            o->jobs = (int)jobs;
            break;
        case OPT_SERVE:
            o->serve = true;
            break;
        case OPT_LEAKS:
            o->leaks = true;
            break;
        case OPT_FAIL_ON_LEAKS:
            o->leaks = o->fail_on_leaks = true;
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        default: /* ':' (a missing value) or an unknown flag */
            return cli_flag_error("verify", c, argv[optind - 1]);
        }
    }
    if (o->serve && optind < argc)
        return cli_fail("verify", "--serve reads its records from stdin: give no capture file");
    if (optind >= argc && !o->serve)
        return cli_fail("verify", "no capture file given (see recap verify --help)");
    if (o->specs == NULL)
        return cli_fail("verify", "no specs: give --specs DIR or set RECAP_SPECS");
    o->captures = argv + optind;
    o->ncap = argc - optind;
    return 0;
}

/* The next record in arrival order checked (false when none is held), and handed to the leak finder when
 * there is one. */
static bool check_next(const opts_t *o, int cap, const rv_specs_t *specs, rv_report_t *report, json_t *saved,
                       rv_leaks_t *leaks, rv_order_t *q)
{
    json_t *rec;
    unsigned long line;
    if (!rv_order_pop(q, &rec, &line))
        return false;
    rv_report_record(report, specs, o->captures[cap], line, rec, saved, o->html != NULL);
    if (leaks != NULL && rcx_rec_kind(rec) == RCX_REC_CALL)
        rv_leaks_add(leaks, rec);
    json_decref(rec);
    return true;
}

/* Every capture, one record at a time, on this thread, in arrival order (specs that save values and the leak
 * finder need it; leaks may be NULL). */
static bool check_serially(const opts_t *o, rcx_reader_t **readers, const rv_specs_t *specs,
                           rv_report_t *report, rv_leaks_t *leaks)
{
    bool input_error = false;
    json_t *saved = json_object();
    rcx_err_t err;
    rv_order_t *q = rv_order_new();
    for (int i = 0; i < o->ncap; i++) {
        json_t *rec;
        int rc;
        while ((rc = rcx_reader_next(readers[i], &rec, &err)) != 0) {
            if (rc < 0) {
                cli_fail_err("verify", &err);
                rv_report_note(report, err.msg);
                input_error = true;
                if (rcx_reader_torn(readers[i]))
                    break;
                continue;
            }
            rv_order_push(q, rec, rcx_reader_line(readers[i]));
            if (rv_order_full(q))
                check_next(o, i, specs, report, saved, leaks, q);
        }
        /* drained: a capture's calls are not mixed with the next one's */
        while (check_next(o, i, specs, report, saved, leaks, q))
            ;
    }
    rv_order_free(q);
    json_decref(saved);
    return input_error;
}

static int report_junit(FILE *out, const void *r)
{
    return rv_report_junit(out, r);
}

static int report_json(FILE *out, const void *r)
{
    return rv_report_json(out, r);
}

static int report_html(FILE *out, const void *r)
{
    return rv_report_html(out, r);
}

/* The terminal report, then the files asked for; -1 when one could not be written (said). */
static int write_reports(const opts_t *o, const rv_report_t *report)
{
    bool tty = strcmp(o->color, "always") == 0 || (strcmp(o->color, "auto") == 0 && isatty(STDOUT_FILENO));
    rv_report_term(stdout, report, tty, o->quiet);
    fflush(stdout);
    const struct {
        const char *path;
        int (*fn)(FILE *, const void *);
    } files[] = {{o->junit, report_junit}, {o->json, report_json}, {o->html, report_html}};
    int rc = 0;
    rcx_err_t err;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (files[i].path != NULL && rcx_write_file(files[i].path, files[i].fn, report, &err) != 0) {
            cli_fail_err("verify", &err);
            rc = -1;
        }
    if (o->html != NULL && rc == 0)
        printf("HTML report: %s\n", o->html);
    return rc;
}

static void print_leak(void *arg, const char *kind, const char *test, const char *text)
{
    (void)arg;
    printf("%s %s %s\n", kind, test, text);
}

static void print_leaks(const json_t *leaks)
{
    rv_leaks_lines(leaks, print_leak, NULL);
    json_int_t tests = json_integer_value(json_object_get(leaks, "tests_leaking"));
    size_t calls = json_array_size(json_object_get(leaks, "depends"));
    printf("leaks: %lld test%s left rows behind, %zu call%s changed rows another test made\n",
           (long long)tests, tests == 1 ? "" : "s", calls, calls == 1 ? "" : "s");
}

static int verify(const opts_t *o, rcx_reader_t **readers, const rv_specs_t *specs)
{
    rv_report_t report = {
        .require_spec = o->require, .require_used = o->require_used, .orphans_pos = specs->orphans_pos};
    int jobs = o->jobs;
    size_t min_bytes = jobs > 0 ? 0 : 16u * 1024 * 1024; /* --jobs given: whatever the size */
    if (jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    bool input_error = false;
    rv_leaks_t leaks;
    if (o->leaks)
        rv_leaks_init(&leaks);
    if (jobs > 1 && !o->leaks && rv_shard_worthwhile(specs, o->captures, o->ncap, min_bytes)) {
        rcx_err_t err = {{0}};
        input_error = rv_shard_verify(specs, o->captures, o->ncap, jobs, o->html != NULL, &report, &err) != 0;
        for (size_t i = 0; i < report.nnotes; i++)
            cli_fail("verify", "%s", report.notes[i]);
        if (err.msg[0] != '\0')
            cli_fail_err("verify", &err);
    } else {
        input_error = check_serially(o, readers, specs, &report, o->leaks ? &leaks : NULL);
    }
    rv_coverage_finish(&report, specs);
    if (o->leaks) {
        if (!input_error) {
            report.leaks = rv_leaks_json(&leaks);
            report.fail_on_leaks = o->fail_on_leaks;
        }
        rv_leaks_free(&leaks);
    }
    int wrc = write_reports(o, &report);
    if (report.leaks != NULL)
        print_leaks(report.leaks);
    bool leaky = o->fail_on_leaks && report.leaks != NULL && rv_leaks_count(report.leaks) > 0;
    int code = (input_error || wrc) ? 2 : rv_report_ok(&report) && !leaky ? 0 : 1;
    rv_report_free(&report);
    return code;
}

int cli_verify_main(int argc, char **argv)
{
    opts_t o;
    int rc = parse(&o, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    rv_specs_t specs = {0};
    rcx_err_t err = {{0}};
    if (rv_specs_load(&specs, o.specs, &err) != 0 || rv_specs_finish(&specs, &err) != 0) {
        rv_specs_free(&specs);
        return cli_fail_err("verify", &err);
    }
    if (o.serve) {
        int served = rv_serve(&specs, o.require, stdin, stdout) == 0 ? 0 : 2;
        rv_specs_free(&specs);
        return served;
    }
    /* every capture opens (a foreign format is an error before anything is checked) */
    rcx_reader_t **readers = rcx_xcalloc((size_t)o.ncap, sizeof(*readers));
    int code = 0;
    for (int i = 0; i < o.ncap && code == 0; i++)
        if ((readers[i] = rcx_reader_open(o.captures[i], &err)) == NULL)
            code = cli_fail_err("verify", &err);
    if (code == 0)
        code = verify(&o, readers, &specs);
    for (int i = 0; i < o.ncap; i++)
        rcx_reader_close(readers[i]);
    free(readers);
    rv_specs_free(&specs);
    return code;
}
