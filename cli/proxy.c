/*
 * cli/proxy.c: `recap proxy`: flags, with environment fallbacks for compose
 * (flags win), into a proxy/config.h, then proxy/proxy.h runs it.
 */
#include "cli/proxy.h"

#include "cli/cli.h"
#include "common/log.h"
#include "common/num.h"
#include "proxy/proxy.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a flag's value is read, and the words that say so when it cannot be. */
typedef enum {
    V_STR,
    V_SIZE,
    V_SIZE_POS,
    V_COUNT64,
    V_DUR,
    V_DUR_POS,
    V_HEADER,
    V_FIELD,
    V_ON,
    V_HELP
} vkind_t;

typedef struct flag {
    const char *name;
    vkind_t kind;
    size_t off;       /* offset of the field in recap_proxy_config_t */
    const char *what; /* "a size (e.g. 1MiB)" */
    size_t max;       /* V_SIZE*: the largest value taken (0: any) */
} flag_t;

#define F(field) offsetof(recap_proxy_config_t, field)
static const flag_t flags[] = {
    {"listen", V_STR, F(listen), NULL, 0},
    {"upstream", V_STR, F(upstream), NULL, 0},
    {"capture", V_STR, F(capture), NULL, 0},
    {"control-listen", V_STR, F(control_listen), NULL, 0},
    {"control-token", V_STR, F(control_token), NULL, 0},
    {"tls-cert", V_STR, F(tls_cert), NULL, 0},
    {"tls-key", V_STR, F(tls_key), NULL, 0},
    {"max-body", V_SIZE, F(max_body), "a size (e.g. 1MiB)", 0},
    {"max-request-size", V_SIZE_POS, F(max_request_size), "a size (e.g. 64MiB)", 0},
    {"upstream-timeout", V_DUR_POS, F(upstream_timeout_ms), "a duration (e.g. 30s, 500ms)", 0},
    {"shutdown-timeout", V_DUR, F(shutdown_timeout_ms), "a duration (e.g. 10s)", 0},
    {"ring-size", V_SIZE_POS, F(ring_size), "a count from 1 to 10000000", 10000000},
    {"queue-bytes", V_SIZE_POS, F(queue_bytes), "a size above 0 (e.g. 256MiB)", 0},
    {"response-buffer", V_SIZE_POS, F(response_buffer), "a size above 0 (e.g. 1MiB)", 0},
    {"response-buffer-total", V_SIZE_POS, F(response_buffer_total), "a size above 0 (e.g. 64MiB)", 0},
    {"redact-header", V_HEADER, 0, NULL, 0},
    {"redact-field", V_FIELD, 0, NULL, 0},
    {"keep-test-header", V_ON, F(keep_test_header), NULL, 0},
    {"no-default-redaction", V_ON, F(no_default_redaction), NULL, 0},
    {"serialize", V_ON, F(serialize), NULL, 0},
    {"trust-upstream", V_ON, F(trust_upstream), NULL, 0},
    {"log-level", V_STR, F(log_level), NULL, 0},
    {"database-url", V_STR, F(database_url), NULL, 0},
    {"slot", V_STR, F(slot), NULL, 0},
    {"publication", V_STR, F(publication), NULL, 0},
    {"max-tx-rows", V_COUNT64, F(max_tx_rows), "a count", 0},
    {"max-tx-bytes", V_SIZE, F(max_tx_bytes), "a size", 0},
    {"settle", V_DUR, F(settle_ms), "a duration (e.g. 50ms)", 0},
    {"help", V_HELP, 0, NULL, 0},
};
#undef F
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static void usage(FILE *out)
{
    fputs("usage: recap proxy --upstream URL [options]\n"
          "\n"
          "Forwards every HTTP/1.1 and HTTP/2 call to the upstream unchanged and records it.\n"
          "\n"
          "  --upstream URL          API to forward to, http://host:port (env RECAP_UPSTREAM)\n"
          "  --listen ADDR           where clients connect, [host]:port (env RECAP_LISTEN; default :8080)\n"
          "  --capture FILE          JSONL capture file, created 0600, appended to (env RECAP_CAPTURE;\n"
          "                          default recap.jsonl)\n"
          "  --control-listen ADDR   control API (env RECAP_CONTROL_LISTEN; default 127.0.0.1:9090)\n"
          "  --control-token TOKEN   bearer token the control API requires (env RECAP_CONTROL_TOKEN)\n"
          "  --tls-cert FILE         serve TLS (h2 and http/1.1 by ALPN) with this certificate chain\n"
          "  --tls-key FILE          and this private key\n"
          "  --max-body SIZE         bytes of each body kept in a record, the rest counted (default 1MiB)\n"
          "  --max-request-size SIZE larger requests are refused with 413 (default 64MiB)\n"
          "  --upstream-timeout DUR  upstream I/O timeout, answered 504 (default 30s)\n"
          "  --trust-upstream        pass the upstream's responses to h2o unchecked: more calls/s at\n"
          "                          saturation, but h2o 2.2.5 aborts on a bad Content-Length or\n"
          "                          Transfer-Encoding (docs/operations.md)\n"
          "  --response-buffer SIZE  what recap holds of a response its client has not read yet: the\n"
          "                          upstream is read no further until the client takes half of it\n"
          "                          (default 1MiB; memory per response is at most about twice this)\n"
          "  --response-buffer-total SIZE\n"
          "                          past this, held by all responses together, each holds 64KiB at most\n"
          "                          (default 64MiB; docs/operations.md)\n"
          "  --shutdown-timeout DUR  on SIGTERM, how long in-flight calls may finish (default 10s)\n"
          "  --ring-size N           recent records kept for GET /calls (default 10000)\n"
          "  --queue-bytes SIZE      records waiting for the writer; past it they are dropped and\n"
          "                          counted (default 256MiB)\n"
          "  --redact-header NAME    also redact this header (Authorization, Cookie, Set-Cookie and\n"
          "                          Proxy-Authorization always are); repeatable\n"
          "  --redact-field NAME     also redact this JSON field, query or form parameter and row column\n"
          "                          (any case); repeatable. By default every one whose name says secret\n"
          "                          is (password, token, secret, api key, salt, hash, session...:\n"
          "                          docs/operations.md)\n"
          "  --no-default-redaction  redact only the names given with --redact-field\n"
          "  --keep-test-header      forward X-Recap-Test to the upstream instead of removing it\n"
          "  --log-level LEVEL       error, warn, info (default) or debug (env RECAP_LOG_LEVEL)\n"
          "\n"
          "Row changes (logical replication; run `recap db setup` first):\n"
          "  --database-url URL      PostgreSQL the upstream writes to (env RECAP_DATABASE_URL)\n"
          "  --slot NAME             persistent replication slot (default: one of the run's own, dropped\n"
          "                          on a clean stop, taken over by a restart on the same capture)\n"
          "  --publication NAME      publication to stream (default recap)\n"
          "  --serialize             one call through to the upstream at a time: exact attribution\n"
          "                          without app changes (env RECAP_SERIALIZE=1)\n"
          "  --settle DUR            wait this long after a response before closing its window, for\n"
          "                          apps that commit after responding (env RECAP_SETTLE; default 0)\n"
          "  --max-tx-rows N         row images kept per transaction; counts stay exact (default 10000)\n"
          "  --max-tx-bytes SIZE     JSON bytes of row images kept per transaction (default 64MiB)\n"
          "\n"
          "SIZE takes a plain byte count or k, KiB, M, MiB, G, GiB; DUR takes ms, s or m (plain = ms).\n"
          "Control API: GET /healthz /readyz /calls?after=SEQ&test=NAME /metrics, POST /barrier, PUT /test,\n"
          "POST /tests/begin?test=NAME /tests/end?test=NAME /rewind?test=NAME (docs/operations.md).\n",
          out);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : fallback;
}

/* The environment under the flags (RECAP_*). */
static int from_env(recap_proxy_config_t *cfg, rcx_err_t *err)
{
    cfg->listen = env_or("RECAP_LISTEN", cfg->listen);
    cfg->upstream = env_or("RECAP_UPSTREAM", NULL);
    cfg->capture = env_or("RECAP_CAPTURE", cfg->capture);
    cfg->control_listen = env_or("RECAP_CONTROL_LISTEN", cfg->control_listen);
    cfg->control_token = env_or("RECAP_CONTROL_TOKEN", NULL);
    cfg->log_level = env_or("RECAP_LOG_LEVEL", cfg->log_level);
    cfg->database_url = env_or("RECAP_DATABASE_URL", NULL);
    const char *serialize = env_or("RECAP_SERIALIZE", "0");
    cfg->serialize = strcmp(serialize, "0") != 0 && strcmp(serialize, "false") != 0;
    const char *settle = env_or("RECAP_SETTLE", NULL);
    if (settle != NULL && rcx_parse_duration_ms(settle, &cfg->settle_ms) != 0) {
        rcx_err_set(err, "RECAP_SETTLE: '%s' is not a duration (e.g. 50ms)", settle);
        return -1;
    }
    return 0;
}

/* One flag's value into the config. 0, or -1 with err. */
static int apply(recap_proxy_config_t *cfg, const flag_t *f, const char *v, rcx_err_t *err)
{
    char *field = (char *)cfg + f->off;
    size_t size;
    uint64_t ms;
    bool ok = true;
    switch (f->kind) {
    case V_STR:
        memcpy(field, &v, sizeof(v));
        break;
    case V_SIZE:
    case V_SIZE_POS:
        ok = rcx_parse_size(v, &size) == 0 && (f->kind == V_SIZE || size > 0) &&
             (f->max == 0 || size <= f->max);
        if (ok)
            memcpy(field, &size, sizeof(size));
        break;
    case V_COUNT64: /* sizes' suffixes too: 10k rows */
        ok = rcx_parse_size(v, &size) == 0;
        ms = size;
        if (ok)
            memcpy(field, &ms, sizeof(ms));
        break;
    case V_DUR:
    case V_DUR_POS:
        ok = rcx_parse_duration_ms(v, &ms) == 0 && (f->kind == V_DUR || ms > 0);
        if (ok)
            memcpy(field, &ms, sizeof(ms));
        break;
    case V_HEADER:
        recap_proxy_config_push(&cfg->redact_headers, &cfg->n_redact_headers, v);
        break;
    case V_FIELD:
        recap_proxy_config_push(&cfg->redact_fields, &cfg->n_redact_fields, v);
        break;
    case V_ON:
        *(int *)(void *)field = 1;
        break;
    case V_HELP:
        break;
    }
    if (!ok)
        rcx_err_set(err, "--%s: '%s' is not %s", f->name, v, f->what);
    return ok ? 0 : -1;
}

static bool slot_name_ok(const char *s)
{
    return strlen(s) < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

/* What no single flag can say alone. */
static int check(const recap_proxy_config_t *cfg, rcx_err_t *err)
{
    char host[256];
    unsigned short port;
    if (cfg->upstream == NULL)
        rcx_err_set(err, "no upstream: give --upstream http://host:port or set RECAP_UPSTREAM");
    else if (strncmp(cfg->upstream, "http://", 7) != 0 && strncmp(cfg->upstream, "https://", 8) != 0)
        rcx_err_set(err, "--upstream: '%s' is not an http:// or https:// URL", cfg->upstream);
    else if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        rcx_err_set(err, "--tls-cert and --tls-key go together");
    else if (cfg->slot != NULL && !slot_name_ok(cfg->slot))
        rcx_err_set(err, "--slot: '%s' is not a slot name (lower-case letters, digits, _; under 64)",
                    cfg->slot);
    else if (recap_parse_hostport(cfg->listen, host, sizeof(host), &port) != 0)
        rcx_err_set(err, "--listen: '%s' is not [host]:port", cfg->listen);
    else if (recap_parse_hostport(cfg->control_listen, host, sizeof(host), &port) != 0)
        rcx_err_set(err, "--control-listen: '%s' is not [host]:port", cfg->control_listen);
    else
        return 0;
    return -1;
}

int cli_proxy_parse(recap_proxy_config_t *cfg, int argc, char **argv, rcx_err_t *err)
{
    struct option options[NFLAGS + 1];
    for (size_t i = 0; i < NFLAGS; i++)
        options[i] = (struct option){flags[i].name, flags[i].kind >= V_ON ? no_argument : required_argument,
                                     NULL, (int)(256 + i)};
    options[NFLAGS] = (struct option){NULL, 0, NULL, 0};
    recap_proxy_config_defaults(cfg);
    if (from_env(cfg, err) != 0)
        return -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        if (c < 256 || c >= 256 + (int)NFLAGS) { /* ':' (a missing value) or an unknown flag */
            rcx_err_flag(err, "proxy", c, argv[optind - 1]);
            return -1;
        }
        const flag_t *f = &flags[c - 256];
        if (f->kind == V_HELP) {
            usage(stdout);
            return 1;
        }
        if (apply(cfg, f, optarg, err) != 0)
            return -1;
    }
    if (optind < argc) {
        rcx_err_set(err, "unexpected argument '%s' (see recap proxy --help)", argv[optind]);
        return -1;
    }
    return check(cfg, err);
}

int cli_proxy_main(int argc, char **argv)
{
    recap_proxy_config_t cfg;
    rcx_err_t err;
    int rc = cli_proxy_parse(&cfg, argc, argv, &err);
    rcx_log_level_t level;
    if (rc == 0 && rcx_log_parse_level(cfg.log_level, &level) != 0) {
        rcx_err_set(&err, "--log-level: '%s' is not error, warn, info or debug", cfg.log_level);
        rc = -1;
    }
    if (rc == 0) {
        rcx_log_set_level(level);
        rc = recap_proxy_run(&cfg, &err);
    }
    if (rc < 0)
        cli_fail_err("proxy", &err);
    recap_proxy_config_free(&cfg);
    return rc < 0 ? 2 : 0;
}
