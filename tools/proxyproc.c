/* tools/proxyproc.c: see proxyproc.h. */
#include "tools/proxyproc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    rcx_buf_append(arg, p, size * n);
    return size * n;
}

long rt_proxyproc_http(rt_proxyproc_t *p, const char *method, const char *url, void *headers,
                       const char *body, size_t blen, rcx_buf_t *out, rcx_buf_t *head)
{
    if (p->curl == NULL) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        p->curl = curl_easy_init();
    }
    CURL *c = p->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (head != NULL) {
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, head);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

long rt_proxyproc_control(rt_proxyproc_t *p, const char *method, const char *path)
{
    char url[256];
    snprintf(url, sizeof(url), "http://%s%s", p->control, path);
    rcx_buf_t ignore;
    rcx_buf_init(&ignore, 64 * 1024);
    long status =
        rt_proxyproc_http(p, method, url, NULL, strcmp(method, "POST") == 0 ? "" : NULL, 0, &ignore, NULL);
    rcx_buf_free(&ignore);
    return status;
}

/* "127.0.0.1:PORT" with a port the kernel says is free, or the address given. */
static int address(char *out, size_t n, const char *given, rcx_err_t *err)
{
    if (given != NULL) {
        snprintf(out, n, "%s", given);
        return 0;
    }
    int port = free_port();
    if (port < 0) {
        rcx_err_set(err, "no free port for the proxy");
        return -1;
    }
    snprintf(out, n, "127.0.0.1:%d", port);
    return 0;
}

/* Waits for /readyz; -1 with err when the child exits first or wait_ms pass. */
static int wait_ready(rt_proxyproc_t *p, uint64_t wait_ms, rcx_err_t *err)
{
    for (uint64_t waited = 0; waited <= wait_ms; waited += 100) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            rcx_err_set(err, "the proxy exited at start (status %d): its message is above",
                        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            return -1;
        }
        if (rt_proxyproc_control(p, "GET", "/readyz") == 200)
            return 0;
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    rcx_err_set(err, "the proxy did not become ready in %llu s (is the database set up? recap db setup)",
                (unsigned long long)(wait_ms / 1000));
    return -1;
}

int rt_proxyproc_start(rt_proxyproc_t *p, const char *self, const char *const *args, size_t nargs,
                       const char *listen, const char *control, uint64_t wait_ms, rcx_err_t *err)
{
    *p = (rt_proxyproc_t){0};
    if (address(p->listen, sizeof(p->listen), listen, err) != 0 ||
        address(p->control, sizeof(p->control), control, err) != 0)
        return -1;
    const char **argv = rcx_xcalloc(nargs + 8, sizeof(*argv));
    size_t n = 0;
    argv[n++] = "recap";
    argv[n++] = "proxy";
    for (size_t i = 0; i < nargs; i++)
        argv[n++] = args[i];
    argv[n++] = "--listen";
    argv[n++] = p->listen;
    argv[n++] = "--control-listen";
    argv[n++] = p->control;
    p->pid = fork();
    if (p->pid == 0) {
        execv(self, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    if (p->pid < 0) {
        p->pid = 0;
        rcx_err_set(err, "cannot start the proxy: %s", strerror(errno));
        return -1;
    }
    if (wait_ready(p, wait_ms, err) != 0) {
        rt_proxyproc_stop(p);
        return -1;
    }
    return 0;
}

int rt_proxyproc_stop(rt_proxyproc_t *p)
{
    int rc = -1;
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        int st = 0;
        waitpid(p->pid, &st, 0);
        rc = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
        p->pid = 0;
    }
    if (p->curl != NULL) {
        curl_easy_cleanup(p->curl);
        curl_global_cleanup();
        p->curl = NULL;
    }
    return rc;
}
