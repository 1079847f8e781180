/* cli/specgen.c: `recap specgen CAPTURE... -o DIR`: tools/specgen.h drafts, this writes the files. */
#include "cli/cli.h"

#include "common/file.h"
#include "tools/runs.h"
#include "tools/specgen.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int write_text(FILE *out, const void *text)
{
    return fputs(text, out) >= 0 ? 0 : -1;
}

/* Writes every draft into dir; nothing is written if anything would be lost (without force). 0, or 2. */
static int write_drafts(const rt_specgen_t *g, const char *dir, bool force)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cli_fail("specgen", "cannot create %s: %s", dir, strerror(errno));
    char path[4096];
    for (size_t i = 0; i < g->n && !force; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, g->files[i].name);
        struct stat st;
        if (stat(path, &st) == 0)
            return cli_fail("specgen", "%s exists: edit it, or give --force to replace it", path);
    }
    rcx_err_t err;
    for (size_t i = 0; i < g->n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, g->files[i].name);
        if (rcx_write_file(path, write_text, g->files[i].text, &err) != 0)
            return cli_fail_err("specgen", &err);
    }
    return 0;
}

int cli_specgen_main(int argc, char **argv)
{
    static const struct option options[] = {{"out", required_argument, NULL, 'o'},
                                            {"force", no_argument, NULL, 'f'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    bool force = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:", options, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            puts("usage: recap specgen CAPTURE... -o DIR [--force]\n"
                 "\n"
                 "Drafts specs (docs/spec-format.md) from recorded calls, one file per resource in DIR:\n"
                 "path templates, statuses, body shapes with type matchers and references, row changes.\n"
                 "Existing files are left alone unless --force. Exit 0, or 2 for a usage or input error.");
            return 0;
        default: /* ':' (a missing value) or an unknown flag */
            return cli_flag_error("specgen", c, argv[optind - 1]);
        }
    }
    if (dir == NULL || optind >= argc)
        return cli_fail("specgen", "give capture files and -o DIR (see recap specgen --help)");
    rt_calls_t calls = {0};
    rcx_err_t err;
    int code = 0;
    for (int i = optind; i < argc && code == 0; i++)
        if (rt_load_calls(argv[i], &calls, &err) != 0)
            code = cli_fail_err("specgen", &err);
    if (code == 0 && calls.n == 0)
        code = cli_fail("specgen", "no calls in the capture");
    if (code == 0) {
        rt_specgen_t g = {0};
        rt_specgen_run(calls.v, calls.n, &g);
        code = write_drafts(&g, dir, force);
        if (code == 0)
            printf("%zu specs for %zu calls in %zu files under %s: drafts, read and edit them\n", g.specs,
                   calls.n, g.n, dir);
        rt_specgen_free(&g);
    }
    rt_calls_free(&calls);
    return code;
}
