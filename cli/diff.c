/* cli/diff.c: `recap diff A.jsonl B.jsonl`: tools/diff.h compares, tools/runs.h reports. */
#include "cli/cli.h"

#include "tools/diff.h"
#include "tools/runs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Two captures, each read again call by call (tools/runs.h: rt_run_t), and what f does with them; 0, or 2
 * (said). */
static int with_runs(const char *pa, const char *pb,
                     int (*f)(const rt_source_t *, const rt_source_t *, void *), void *arg)
{
    rcx_err_t err;
    rt_run_t *a = rt_run_open(pa, &err), *b = a != NULL ? rt_run_open(pb, &err) : NULL;
    int code = 0;
    if (b == NULL) {
        code = cli_fail_err("diff", &err);
    } else {
        rt_source_t sa = rt_run_source(a), sb = rt_run_source(b);
        if (f(&sa, &sb, arg) != 0) /* only a source fails here: a capture changed while it was read */
            code = cli_fail_err("diff", rt_run_error(rt_run_error(a)->msg[0] != '\0' ? a : b));
    }
    rt_run_close(a);
    rt_run_close(b);
    return code;
}

static int learn_from(const rt_source_t *x, const rt_source_t *y, void *noise)
{
    return rt_diff_learn_sources(x, y, noise);
}

/* The noise files and --learn's two runs into one noise set; 0, or 2 (said). */
static int load_noise(const char *const *files, size_t n, const char *const learn[2], rt_noise_t *noise)
{
    rcx_err_t err;
    for (size_t i = 0; i < n; i++)
        if (rt_load_noise(files[i], noise, &err) != 0)
            return cli_fail_err("diff", &err);
    return learn[0] != NULL ? with_runs(learn[0], learn[1], learn_from, noise) : 0;
}

typedef struct report {
    const rt_noise_t *noise;
    const char *json_out;
    int code; /* 0 the same, 1 different, 2 the JSON report could not be written (said) */
} report_t;

static int compare(const rt_source_t *a, const rt_source_t *b, void *arg)
{
    report_t *r = arg;
    rt_diff_t d;
    if (rt_diff_sources(a, b, r->noise, &d) != 0)
        return -1;
    r->code = rt_diff_print(stdout, &d, a->n, b->n) ? 0 : 1;
    rcx_err_t err;
    if (r->json_out && rt_diff_write_json(r->json_out, &d, &err) != 0)
        r->code = cli_fail_err("diff", &err);
    rt_diff_free(&d);
    return 0;
}

static int run(const char *const *noise_files, size_t nnoise, const char *const learn[2], const char *pa,
               const char *pb, const char *json_out)
{
    rt_noise_t noise = {0};
    int code = load_noise(noise_files, nnoise, learn, &noise);
    report_t r = {&noise, json_out, 0};
    if (code == 0 && (code = with_runs(pa, pb, compare, &r)) == 0)
        code = r.code;
    rt_noise_free(&noise);
    return code;
}

enum { OPT_NOISE = 1000, OPT_LEARN, OPT_JSON, OPT_HELP };

int cli_diff_main(int argc, char **argv)
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
        switch (c) {
        case OPT_NOISE:
            if (nnoise == 16)
                return cli_fail("diff", "at most 16 --noise files");
            noise_files[nnoise++] = optarg;
            break;
        case OPT_LEARN:
            if (optind >= argc)
                return cli_fail("diff", "--learn takes two captures of the same build");
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
            return cli_flag_error("diff", c, argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_fail("diff", "give two capture files, A and B (see recap diff --help)");
    return run(noise_files, nnoise, learn, argv[optind], argv[optind + 1], json_out);
}
