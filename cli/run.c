/*
 * cli/run.c: `recap run [options] [proxy flags] -- COMMAND...`: one command from nothing to a verified
 * report on a developer's machine: recap proxy in front of the API (tools/proxyproc.h), the suite run against
 * it, every call written, then recap verify.
 */
#include "cli/cli.h"

#include "common/buf.h"
#include "proxy/cdc/dbadmin.h"
#include "tools/proxyproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fputs(
        "usage: recap run [options] [recap proxy flags] -- COMMAND [ARG...]\n"
        "\n"
        "Starts recap proxy (every flag not listed here goes to it: --upstream, --database-url, "
        "--serialize...),\n"
        "waits until it is ready, runs COMMAND with the proxy's URL in its environment, lets every call be\n"
        "written, stops the proxy and, with --specs, runs recap verify on the capture.\n"
        "\n"
        "  --specs PATH          verify the capture against these specs afterwards\n"
        "  --junit FILE, --json FILE, --html FILE, --require-spec, --require-used\n"
        "                        as recap verify\n"
        "  --capture FILE        the capture (env RECAP_CAPTURE; default recap.jsonl)\n"
        "  --listen ADDR         where the suite connects (default 127.0.0.1 and a free port)\n"
        "  --control-listen ADDR the control API (default 127.0.0.1 and a free port)\n"
        "  --base-url-env NAME   also put the proxy's URL in this variable (default API_BASE_URL)\n"
        "  --no-setup            with a database, do not run `recap db setup` first\n"
        "\n"
        "COMMAND's environment: RECAP_PROXY_URL (http://host:port), RECAP_CONTROL_URL, and the "
        "--base-url-env\n"
        "variable. Exit status: 0 the suite and the verification passed, 1 either failed, 2 usage or "
        "start-up\n"
        "error (a port taken, a command that cannot run: nothing is left running).\n",
        out);
}

typedef struct opts {
    const char *capture, *listen, *control, *base_env, *database_url, *specs;
    const char *verify_args[8]; /* report flags for recap verify */
    size_t nverify;
    bool setup;
    const char **proxy; /* flags for recap proxy, in the order given */
    size_t nproxy;
    char **command;
} opts_t;

/* A flag of run's own that takes a value: its slot, or NULL. */
static const char **own_value(opts_t *o, const char *flag)
{
    static const char *const report[] = {"--junit", "--json", "--html"};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(flag, report[i]) == 0 && o->nverify + 2 <= 8) {
            o->verify_args[o->nverify++] = report[i];
            return &o->verify_args[o->nverify++];
        }
    return strcmp(flag, "--capture") == 0          ? &o->capture
           : strcmp(flag, "--listen") == 0         ? &o->listen
           : strcmp(flag, "--control-listen") == 0 ? &o->control
           : strcmp(flag, "--base-url-env") == 0   ? &o->base_env
           : strcmp(flag, "--specs") == 0          ? &o->specs
                                                   : NULL;
}

/* 0 go on, 1 help printed, 2 a usage error (printed). */
static int parse(opts_t *o, int argc, char **argv)
{
    const char *env_capture = getenv("RECAP_CAPTURE");
    *o = (opts_t){.capture = env_capture && *env_capture ? env_capture : "recap.jsonl",
                  .base_env = "API_BASE_URL",
                  .database_url = getenv("RECAP_DATABASE_URL"),
                  .setup = true,
                  .proxy = rcx_xcalloc((size_t)argc + 1, sizeof(char *))};
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        const char **slot = own_value(o, a);
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if (slot != NULL) {
            if (i + 1 >= argc || strcmp(argv[i + 1], "--") == 0)
                return cli_fail("run", "%s needs a value (see recap run --help)", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--no-setup") == 0) {
            o->setup = false;
        } else if (strcmp(a, "--require-spec") == 0 || strcmp(a, "--require-used") == 0) {
            if (o->nverify < 8)
                o->verify_args[o->nverify++] = a;
        } else {
            if (strcmp(a, "--database-url") == 0 && i + 1 < argc)
                o->database_url = argv[i + 1];
            o->proxy[o->nproxy++] = a;
        }
    }
    if (i >= argc - 1)
        return cli_fail("run", "give the command to run after -- (see recap run --help)");
    o->command = argv + i + 1;
    return 0;
}

/* Runs the suite with the proxy's addresses in its environment; its exit status, or -1 (said) when it could
 * not be started at all. Ctrl-C goes to the suite (same terminal), and recap waits for it to end. */
static int run_command(const opts_t *o, const rt_proxyproc_t *p)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return cli_fail("run", "pipe: %s", strerror(errno)), -1;
    char url[96], control[96];
    snprintf(url, sizeof(url), "http://%s", p->listen);
    snprintf(control, sizeof(control), "http://%s", p->control);
    fflush(stdout); /* what setup said comes before what the suite says */
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("RECAP_PROXY_URL", url, 1);
        setenv("RECAP_CONTROL_URL", control, 1);
        setenv(o->base_env, url, 1);
        execvp(o->command[0], o->command);
        int e = errno;
        ssize_t w = write(pipefd[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    close(pipefd[1]);
    void (*was)(int) = signal(SIGINT, SIG_IGN);
    int e = 0, st = 0;
    bool failed_exec = pid > 0 && read(pipefd[0], &e, sizeof(e)) == (ssize_t)sizeof(e);
    close(pipefd[0]);
    if (pid > 0)
        waitpid(pid, &st, 0);
    signal(SIGINT, was);
    if (pid < 0 || failed_exec) {
        cli_fail("run", "cannot run '%s': %s", o->command[0], strerror(pid < 0 ? errno : e));
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int verify(const opts_t *o)
{
    const char *argv[16] = {"verify", o->capture, "--specs", o->specs};
    int n = 4;
    for (size_t i = 0; i < o->nverify; i++)
        argv[n++] = o->verify_args[i];
    argv[n] = NULL;
    fflush(stdout);
    return cli_verify_main(n, (char **)argv);
}

static int setup(const opts_t *o)
{
    recap_db_opts_t db = {.url = o->database_url, .publication = "recap", .wait_ms = 30000};
    rcx_err_t err;
    return recap_db_setup(&db, stdout, &err) == 0 ? 0 : cli_fail_err("run", &err);
}

int cli_run_main(int argc, char **argv)
{
    opts_t o;
    int code = parse(&o, argc, argv);
    if (code != 0) {
        free(o.proxy);
        return code == 1 ? 0 : code;
    }
    if (o.setup && o.database_url != NULL && (code = setup(&o)) != 0) {
        free(o.proxy);
        return code;
    }
    o.proxy[o.nproxy++] = "--capture";
    o.proxy[o.nproxy++] = o.capture;
    rt_proxyproc_t p;
    rcx_err_t err;
    if (rt_proxyproc_start(&p, "/proc/self/exe", o.proxy, o.nproxy, o.listen, o.control, 30000, &err) != 0) {
        free(o.proxy);
        return cli_fail_err("run", &err);
    }
    int suite = run_command(&o, &p);
    long barrier = rt_proxyproc_control(&p, "POST", "/barrier?timeout_ms=60000");
    int stopped = rt_proxyproc_stop(&p);
    free(o.proxy);
    if (suite < 0)
        return 2;
    if (barrier != 200 || stopped != 0)
        return cli_fail("run", "the proxy did not stop cleanly: the capture may lack the last calls");
    fprintf(stderr, "recap: run: the suite exited %d; calls in %s\n", suite, o.capture);
    int verified = o.specs != NULL ? verify(&o) : 0;
    return verified == 2 ? 2 : (suite != 0 || verified != 0) ? 1 : 0;
}
