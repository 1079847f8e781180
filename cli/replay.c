/* cli/replay.c: `recap replay BASELINE.jsonl --target URL`: tools/replay.h sends it, tools/diff.h compares.
 */
#include "cli/cli.h"

#include "common/buf.h"

#include "tools/diff.h"
#include "tools/replay.h"
#include "tools/runs.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs(
        "usage: recap replay BASELINE.jsonl --target URL [options]\n"
        "\n"
        "Sends a recorded run again to the target through a recap proxy of its own, records it, and\n"
        "diffs the new run against the baseline (as recap diff does).\n"
        "\n"
        "  --target URL          the API to replay against, http://host:port\n"
        "  --database-url URL    its PostgreSQL, to record and compare row changes (env RECAP_DATABASE_URL;\n"
        "                        run recap db setup first)\n"
        "  --capture FILE        where the new run is recorded (default BASELINE.replay.jsonl)\n"
        "  --header 'Name: v'    a credential from outside the run, sent on the calls that carried that\n"
        "                        header (redacted) in the baseline; repeatable. Or the environment's\n"
        "                        RECAP_REPLAY_HEADER_NAME (upper case, '-' as '_'). Credentials the\n"
        "                        baseline's own responses handed out (a login's token, a session\n"
        "                        cookie) are rebuilt from the new run without it\n"
        "  --listen HOST:PORT    the replay proxy's address (default: a free loopback port)\n"
        "  --control-listen HOST:PORT  its control API's address (default: a free loopback port)\n"
        "  --via URL             go through a recap proxy that is already running: URL is its control API,\n"
        "                        --target its listener (the compose setup); the new run is read from it\n"
        "  --noise FILE          more noise paths for the diff (see recap diff --help)\n"
        "  --json FILE           also write the diff as JSON\n"
        "\n"
        "Exit status: 0 the new run is the same, 1 it differs, 2 usage or input error.\n",
        out);
}

typedef struct opts {
    rt_replay_opts_t run;
    const char *baseline, *noise_file, *json_out;
    const char *headers[32];
    char capture[4096];
} opts_t;

enum {
    OPT_TARGET = 1000,
    OPT_DB,
    OPT_CAPTURE,
    OPT_HEADER,
    OPT_NOISE,
    OPT_JSON,
    OPT_LISTEN,
    OPT_CONTROL,
    OPT_VIA,
    OPT_HELP
};

/* 0 go on, 1 help printed, 2 a usage error (printed). */
static int parse(opts_t *o, int argc, char **argv)
{
    static const struct option options[] = {
        {"target", required_argument, NULL, OPT_TARGET},
        {"database-url", required_argument, NULL, OPT_DB},
        {"capture", required_argument, NULL, OPT_CAPTURE},
        {"header", required_argument, NULL, OPT_HEADER},
        {"noise", required_argument, NULL, OPT_NOISE},
        {"json", required_argument, NULL, OPT_JSON},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"control-listen", required_argument, NULL, OPT_CONTROL},
        {"via", required_argument, NULL, OPT_VIA},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    o->run = (rt_replay_opts_t){.database_url = getenv("RECAP_DATABASE_URL"), .self = "/proc/self/exe"};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (c) {
        case OPT_TARGET:
            o->run.target = optarg;
            break;
        case OPT_DB:
            o->run.database_url = optarg;
            break;
        case OPT_CAPTURE:
            o->run.capture = optarg;
            break;
        case OPT_HEADER:
            if (o->run.nextra == 32 || strchr(optarg, ':') == NULL)
                return cli_fail("replay", "--header takes 'Name: value' (at most 32)");
            o->headers[o->run.nextra++] = optarg;
            break;
        case OPT_NOISE:
            o->noise_file = optarg;
            break;
        case OPT_JSON:
            o->json_out = optarg;
            break;
        case OPT_LISTEN:
            o->run.listen = optarg;
            break;
        case OPT_CONTROL:
            o->run.control_listen = optarg;
            break;
        case OPT_VIA:
            o->run.via = optarg;
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        default: /* ':' (a missing value) or an unknown flag */
            return cli_flag_error("replay", c, argv[optind - 1]);
        }
    }
    o->run.extra_headers = o->headers;
    if (argc - optind != 1 || o->run.target == NULL)
        return cli_fail("replay", "give one baseline capture and --target URL (see recap replay --help)");
    o->baseline = argv[optind];
    if (o->run.capture == NULL) { /* BASELINE.replay.jsonl */
        size_t n = strlen(o->baseline);
        if (n > 6 && strcmp(o->baseline + n - 6, ".jsonl") == 0)
            n -= 6;
        snprintf(o->capture, sizeof(o->capture), "%.*s.replay.jsonl", (int)n, o->baseline);
        o->run.capture = o->capture;
    }
    return 0;
}

static void print_summary(const opts_t *o, rt_replay_result_t *res, size_t orphans)
{
    double s = res->seconds;
    printf("replayed %zu calls in %.2f s (%.0f calls/s) into %s\n", res->calls, s,
           s > 0 ? (double)res->calls / s : 0.0, o->run.capture);
    if (res->rebuilt || res->given)
        printf("credentials: %zu rebuilt from the new run's responses, %zu given from outside\n",
               res->rebuilt, res->given);
    if (res->unauthenticated)
        printf("%zu redacted header values not sent (the baseline does not say where they came from): %s%s; "
               "give "
               "them with --header 'Name: value' or RECAP_REPLAY_HEADER_NAME\n",
               res->unauthenticated, rcx_buf_cstr(&res->unauth_list),
               res->unauthenticated > 10 ? ", ..." : "");
    if (orphans)
        printf("the baseline holds %zu orphan transactions (fixtures, background jobs): not replayed\n",
               orphans);
}

int cli_replay_main(int argc, char **argv)
{
    opts_t o = {0};
    int code = parse(&o, argc, argv);
    if (code != 0)
        return code == 1 ? 0 : code;
    rt_calls_t base = {0}, now = {0};
    rt_noise_t noise = {0};
    rt_replay_result_t res = {0};
    rcx_err_t err;
    size_t orphans = 0;
    if (rt_load_calls(o.baseline, &base, &err) != 0 ||
        (o.noise_file && rt_load_noise(o.noise_file, &noise, &err) != 0) ||
        rt_count_orphans(o.baseline, &orphans, &err) != 0 || rt_replay_check(&base, o.baseline, &err) != 0 ||
        rt_replay_run(&o.run, &base, &res, &err) != 0) {
        code = cli_fail_err("replay", &err);
    } else {
        print_summary(&o, &res, orphans);
        if (rt_load_calls_to_compare(o.run.capture, &now, &err) != 0) {
            code = cli_fail_err("replay", &err);
        } else {
            rt_diff_t d;
            rt_diff_run(base.v, base.n, now.v, now.n, &noise, &d);
            code = rt_diff_print(stdout, &d, base.n, now.n) ? 0 : 1;
            if (o.json_out && rt_diff_write_json(o.json_out, &d, &err) != 0)
                code = cli_fail_err("replay", &err);
            rt_diff_free(&d);
        }
    }
    rt_replay_result_free(&res);
    rt_calls_free(&base);
    rt_calls_free(&now);
    rt_noise_free(&noise);
    return code;
}
