/* verifier/verify.c: see verify.h. */
#include "verify.h"

#include "../common/capture_reader.h"
#include "../common/err.h"
#include "report.h"
#include "shard.h"
#include "spec.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs(
        "usage: recap verify CAPTURE... --specs DIR|FILE [options]\n"
        "\n"
        "Checks every call in the capture files against the YAML specs (docs/spec-format.md).\n"
        "\n"
        "  --specs PATH        a spec file, or a directory of *.yaml / *.yml files (env RECAP_SPECS)\n"
        "  --junit FILE        also write JUnit XML (one testcase per call, grouped by test name)\n"
        "  --json FILE         also write the results as JSON\n"
        "  --html FILE         also write a self-contained HTML report (failures first)\n"
        "  --require-spec      a call that no spec matches fails\n"
        "  --color WHEN        auto (default: on a terminal), always, never\n"
        "  --quiet             print only failures and the summary line\n"
        "  --jobs N            threads (default: one per core, at most 8, for 16 MiB of captures or more);\n"
        "                      used only when no spec saves values; the report is the same either way\n"
        "\n"
        "Exit status: 0 all passed, 1 a check failed, 2 usage or input error.\n",
        out);
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

enum {
    OPT_SPECS = 1000,
    OPT_JUNIT,
    OPT_JSON,
    OPT_HTML,
    OPT_REQUIRE,
    OPT_COLOR,
    OPT_QUIET,
    OPT_JOBS,
    OPT_HELP
};

int rv_verify_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"specs", required_argument, NULL, OPT_SPECS},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"json", required_argument, NULL, OPT_JSON},
        {"html", required_argument, NULL, OPT_HTML},
        {"require-spec", no_argument, NULL, OPT_REQUIRE},
        {"color", required_argument, NULL, OPT_COLOR},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *specs_path = getenv("RECAP_SPECS"), *junit = NULL, *json = NULL, *html = NULL,
               *color = "auto";
    bool require = false, quiet = false;
    int jobs = 0; /* 0: one per core */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        const char *name = argv[optind - 1];
        switch (c) {
        case OPT_SPECS:
            specs_path = optarg;
            break;
        case OPT_JUNIT:
            junit = optarg;
            break;
        case OPT_JSON:
            json = optarg;
            break;
        case OPT_HTML:
            html = optarg;
            break;
        case OPT_REQUIRE:
            require = true;
            break;
        case OPT_COLOR:
            color = optarg;
            if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never")) {
                fprintf(stderr, "recap: verify: --color: '%s' is not auto, always or never\n", color);
                return 2;
            }
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        case OPT_JOBS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || v < 1 || v > 64) {
                fprintf(stderr, "recap: verify: --jobs: '%s' is not a thread count (1-64)\n", optarg);
                return 2;
            }
            jobs = (int)v;
            break;
        }
        case OPT_HELP:
            usage(stdout);
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return rcx_flag_error("verify", c, name);
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "recap: verify: no capture file given (see recap verify --help)\n");
        return 2;
    }
    if (specs_path == NULL) {
        fprintf(stderr, "recap: verify: no specs: give --specs DIR or set RECAP_SPECS\n");
        return 2;
    }
    rv_specs_t specs = {0};
    rcx_err_t err = {{0}};
    if (rv_specs_load(&specs, specs_path, &err) != 0 || rv_specs_finish(&specs, &err) != 0) {
        fprintf(stderr, "recap: verify: %s\n", err.msg);
        rv_specs_free(&specs);
        return 2;
    }
    /* every capture opens (a foreign format is an error before anything is checked) */
    int ncap = argc - optind;
    rcx_reader_t **readers = calloc((size_t)ncap, sizeof(*readers));
    for (int i = 0; i < ncap; i++)
        if ((readers[i] = rcx_reader_open(argv[optind + i], &err)) == NULL) {
            fprintf(stderr, "recap: verify: %s\n", err.msg);
            for (int k = 0; k < i; k++)
                rcx_reader_close(readers[k]);
            free(readers);
            rv_specs_free(&specs);
            return 2;
        }
    rv_report_t report = {.require_spec = require, .orphans_pos = specs.orphans_pos};
    json_t *saved = json_object();
    bool input_error = false;
    size_t min_bytes = jobs > 0 ? 0 : 16u * 1024 * 1024; /* --jobs given: whatever the size */
    if (jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    }
    bool sharded = jobs > 1 && rv_shard_worthwhile(&specs, argv + optind, ncap, min_bytes);
    if (sharded && rv_shard_verify(&specs, argv + optind, ncap, jobs, html != NULL, &report) != 0)
        input_error = true;
    for (int i = 0; i < ncap && !sharded; i++) {
        const char *name = argv[optind + i];
        json_t *rec;
        int rc;
        while ((rc = rcx_reader_next(readers[i], &rec, &err)) != 0) {
            if (rc < 0) {
                fprintf(stderr, "recap: verify: %s\n", err.msg);
                rv_report_note(&report, err.msg);
                input_error = true;
                if (rcx_reader_torn(readers[i]))
                    break;
                continue;
            }
            rv_report_record(&report, &specs, name, rcx_reader_line(readers[i]), rec, saved, html != NULL);
            json_decref(rec);
        }
    }
    bool tty = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO));
    rv_report_term(stdout, &report, tty, quiet);
    fflush(stdout);
    int wrc = 0;
    if (junit)
        wrc |= rv_write_file(junit, "verify", report_junit, &report);
    if (json)
        wrc |= rv_write_file(json, "verify", report_json, &report);
    if (html) {
        wrc |= rv_write_file(html, "verify", report_html, &report);
        if (wrc == 0)
            printf("HTML report: %s\n", html);
    }
    int code = (input_error || wrc) ? 2 : rv_report_ok(&report) ? 0 : 1;
    for (int i = 0; i < ncap; i++)
        rcx_reader_close(readers[i]);
    free(readers);
    json_decref(saved);
    rv_report_free(&report);
    rv_specs_free(&specs);
    return code;
}
