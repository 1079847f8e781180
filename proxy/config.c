/* proxy/config.c: flags and environment for `recap proxy`. See config.h. */
#include "config.h"

#include "../common/buf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    OPT_LISTEN = 256,
    OPT_UPSTREAM,
    OPT_CAPTURE,
    OPT_CONTROL_LISTEN,
    OPT_CONTROL_TOKEN,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_MAX_BODY,
    OPT_MAX_REQUEST_SIZE,
    OPT_UPSTREAM_TIMEOUT,
    OPT_SHUTDOWN_TIMEOUT,
    OPT_RING_SIZE,
    OPT_QUEUE_BYTES,
    OPT_REDACT_HEADER,
    OPT_REDACT_FIELD,
    OPT_KEEP_TEST_HEADER,
    OPT_SERIALIZE,
    OPT_LOG_LEVEL,
    OPT_DATABASE_URL,
    OPT_SLOT,
    OPT_PUBLICATION,
    OPT_MAX_TX_ROWS,
    OPT_MAX_TX_BYTES,
    OPT_SETTLE,
    OPT_HELP,
};

static const struct option options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"capture", required_argument, NULL, OPT_CAPTURE},
    {"control-listen", required_argument, NULL, OPT_CONTROL_LISTEN},
    {"control-token", required_argument, NULL, OPT_CONTROL_TOKEN},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-request-size", required_argument, NULL, OPT_MAX_REQUEST_SIZE},
    {"upstream-timeout", required_argument, NULL, OPT_UPSTREAM_TIMEOUT},
    {"shutdown-timeout", required_argument, NULL, OPT_SHUTDOWN_TIMEOUT},
    {"ring-size", required_argument, NULL, OPT_RING_SIZE},
    {"queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES},
    {"redact-header", required_argument, NULL, OPT_REDACT_HEADER},
    {"redact-field", required_argument, NULL, OPT_REDACT_FIELD},
    {"keep-test-header", no_argument, NULL, OPT_KEEP_TEST_HEADER},
    {"serialize", no_argument, NULL, OPT_SERIALIZE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"database-url", required_argument, NULL, OPT_DATABASE_URL},
    {"slot", required_argument, NULL, OPT_SLOT},
    {"publication", required_argument, NULL, OPT_PUBLICATION},
    {"max-tx-rows", required_argument, NULL, OPT_MAX_TX_ROWS},
    {"max-tx-bytes", required_argument, NULL, OPT_MAX_TX_BYTES},
    {"settle", required_argument, NULL, OPT_SETTLE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void recap_proxy_config_usage(FILE *out)
{
    fputs(
        "usage: recap proxy --upstream URL [options]\n"
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
        "  --shutdown-timeout DUR  on SIGTERM, how long in-flight calls may finish (default 10s)\n"
        "  --ring-size N           recent records kept for GET /calls (default 10000)\n"
        "  --queue-bytes SIZE      records waiting for the writer; past it they are dropped and\n"
        "                          counted (default 256MiB)\n"
        "  --redact-header NAME    also redact this header (Authorization, Cookie, Set-Cookie and\n"
        "                          Proxy-Authorization always are); repeatable\n"
        "  --redact-field NAME     redact this JSON field and query parameter; repeatable\n"
        "  --keep-test-header      forward X-Recap-Test to the upstream instead of removing it\n"
        "  --log-level LEVEL       error, warn, info (default) or debug (env RECAP_LOG_LEVEL)\n"
        "\n"
        "Row changes (logical replication; run `recap db setup` first):\n"
        "  --database-url URL      PostgreSQL the upstream writes to (env RECAP_DATABASE_URL)\n"
        "  --slot NAME             persistent replication slot (default: a temporary one per run)\n"
        "  --publication NAME      publication to stream (default recap)\n"
        "  --serialize             one call through to the upstream at a time: exact attribution\n"
        "                          without app changes (env RECAP_SERIALIZE=1)\n"
        "  --settle DUR            wait this long after a response before closing its window, for\n"
        "                          apps that commit after responding (env RECAP_SETTLE; default 0)\n"
        "  --max-tx-rows N         row images kept per transaction; counts stay exact (default 10000)\n"
        "  --max-tx-bytes SIZE     JSON bytes of row images kept per transaction (default 64MiB)\n"
        "\n"
        "SIZE takes a plain byte count or k, KiB, M, MiB, G, GiB; DUR takes ms, s or m (plain = ms).\n"
        "Control API: GET /healthz /readyz /calls?after=SEQ&test=NAME /metrics, POST /barrier, PUT /test.\n",
        out);
}

int recap_parse_hostport(const char *s, char *host, size_t hostsz, unsigned short *port)
{
    const char *portstr;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        hlen = (size_t)(close - s - 1);
        if (hlen >= hostsz)
            return -1;
        memcpy(host, s + 1, hlen);
        portstr = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL) {
            hlen = 0;
            portstr = s;
        } else {
            hlen = (size_t)(colon - s);
            if (hlen >= hostsz)
                return -1;
            memcpy(host, s, hlen);
            portstr = colon + 1;
        }
    }
    host[hlen] = '\0';
    char *end;
    errno = 0;
    unsigned long p = strtoul(portstr, &end, 10);
    if (*portstr == '\0' || *end != '\0' || errno || p > 65535)
        return -1;
    *port = (unsigned short)p;
    return 0;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
        return -1;
    unsigned long long mul = 1;
    if (*end == '\0' || strcasecmp(end, "b") == 0)
        mul = 1;
    else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kib") == 0 || strcasecmp(end, "kb") == 0)
        mul = 1024;
    else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mib") == 0 || strcasecmp(end, "mb") == 0)
        mul = 1024 * 1024;
    else if (strcasecmp(end, "g") == 0 || strcasecmp(end, "gib") == 0 || strcasecmp(end, "gb") == 0)
        mul = 1024ull * 1024 * 1024;
    else
        return -1;
    if (v > SIZE_MAX / mul)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

static int parse_duration_ms(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
        return -1;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        *out = v;
    else if (strcmp(end, "s") == 0)
        *out = v * 1000;
    else if (strcmp(end, "m") == 0)
        *out = v * 60000;
    else
        return -1;
    return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : fallback;
}

static void push(const char ***list, size_t *n, const char *v)
{
    *list = rcx_xrealloc((void *)*list, sizeof(**list) * (*n + 2));
    (*list)[(*n)++] = v;
    (*list)[*n] = NULL;
}

int recap_proxy_config_parse(recap_proxy_config_t *cfg, int argc, char **argv, rcx_err_t *err)
{
    *cfg = (recap_proxy_config_t){
        .listen = env_or("RECAP_LISTEN", ":8080"),
        .upstream = env_or("RECAP_UPSTREAM", NULL),
        .capture = env_or("RECAP_CAPTURE", "recap.jsonl"),
        .control_listen = env_or("RECAP_CONTROL_LISTEN", "127.0.0.1:9090"),
        .control_token = env_or("RECAP_CONTROL_TOKEN", NULL),
        .max_body = 1024 * 1024,
        .max_request_size = 64 * 1024 * 1024,
        .upstream_timeout_ms = 30000,
        .shutdown_timeout_ms = 10000,
        .ring_size = 10000,
        .queue_bytes = 256u * 1024 * 1024,
        .log_level = env_or("RECAP_LOG_LEVEL", "info"),
        .database_url = env_or("RECAP_DATABASE_URL", NULL),
        .publication = "recap",
        .max_tx_rows = 10000,
        .max_tx_bytes = 64u * 1024 * 1024,
    };
    const char *serialize = env_or("RECAP_SERIALIZE", "0");
    cfg->serialize = strcmp(serialize, "0") != 0 && strcmp(serialize, "false") != 0;
    const char *settle = env_or("RECAP_SETTLE", NULL);
    if (settle != NULL && parse_duration_ms(settle, &cfg->settle_ms) != 0) {
        rcx_err_set(err, "RECAP_SETTLE: '%s' is not a duration (e.g. 50ms)", settle);
        return -1;
    }
    push(&cfg->redact_headers, &cfg->n_redact_headers, "authorization");
    push(&cfg->redact_headers, &cfg->n_redact_headers, "cookie");
    push(&cfg->redact_headers, &cfg->n_redact_headers, "set-cookie");
    push(&cfg->redact_headers, &cfg->n_redact_headers, "proxy-authorization");
    push(&cfg->redact_fields, &cfg->n_redact_fields, NULL);
    cfg->n_redact_fields = 0;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        const char *name = argv[optind - 1];
        switch (c) {
        case OPT_LISTEN:
            cfg->listen = optarg;
            break;
        case OPT_UPSTREAM:
            cfg->upstream = optarg;
            break;
        case OPT_CAPTURE:
            cfg->capture = optarg;
            break;
        case OPT_CONTROL_LISTEN:
            cfg->control_listen = optarg;
            break;
        case OPT_CONTROL_TOKEN:
            cfg->control_token = optarg;
            break;
        case OPT_TLS_CERT:
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls_key = optarg;
            break;
        case OPT_MAX_BODY:
            if (parse_size(optarg, &cfg->max_body) != 0) {
                rcx_err_set(err, "--max-body: '%s' is not a size (e.g. 1MiB)", optarg);
                return -1;
            }
            break;
        case OPT_MAX_REQUEST_SIZE:
            if (parse_size(optarg, &cfg->max_request_size) != 0 || cfg->max_request_size == 0) {
                rcx_err_set(err, "--max-request-size: '%s' is not a size (e.g. 64MiB)", optarg);
                return -1;
            }
            break;
        case OPT_UPSTREAM_TIMEOUT:
            if (parse_duration_ms(optarg, &cfg->upstream_timeout_ms) != 0 || cfg->upstream_timeout_ms == 0) {
                rcx_err_set(err, "--upstream-timeout: '%s' is not a duration (e.g. 30s, 500ms)", optarg);
                return -1;
            }
            break;
        case OPT_SHUTDOWN_TIMEOUT:
            if (parse_duration_ms(optarg, &cfg->shutdown_timeout_ms) != 0) {
                rcx_err_set(err, "--shutdown-timeout: '%s' is not a duration (e.g. 10s)", optarg);
                return -1;
            }
            break;
        case OPT_RING_SIZE:
            if (parse_size(optarg, &cfg->ring_size) != 0 || cfg->ring_size == 0) {
                rcx_err_set(err, "--ring-size: '%s' is not a positive count", optarg);
                return -1;
            }
            break;
        case OPT_QUEUE_BYTES:
            if (parse_size(optarg, &cfg->queue_bytes) != 0) {
                rcx_err_set(err, "--queue-bytes: '%s' is not a size", optarg);
                return -1;
            }
            break;
        case OPT_REDACT_HEADER:
            push(&cfg->redact_headers, &cfg->n_redact_headers, optarg);
            break;
        case OPT_REDACT_FIELD:
            push(&cfg->redact_fields, &cfg->n_redact_fields, optarg);
            break;
        case OPT_KEEP_TEST_HEADER:
            cfg->keep_test_header = 1;
            break;
        case OPT_SERIALIZE:
            cfg->serialize = 1;
            break;
        case OPT_LOG_LEVEL:
            cfg->log_level = optarg;
            break;
        case OPT_DATABASE_URL:
            cfg->database_url = optarg;
            break;
        case OPT_SLOT:
            cfg->slot = optarg;
            break;
        case OPT_PUBLICATION:
            cfg->publication = optarg;
            break;
        case OPT_MAX_TX_ROWS: {
            size_t v;
            if (parse_size(optarg, &v) != 0) {
                rcx_err_set(err, "--max-tx-rows: '%s' is not a count", optarg);
                return -1;
            }
            cfg->max_tx_rows = v;
            break;
        }
        case OPT_MAX_TX_BYTES:
            if (parse_size(optarg, &cfg->max_tx_bytes) != 0) {
                rcx_err_set(err, "--max-tx-bytes: '%s' is not a size", optarg);
                return -1;
            }
            break;
        case OPT_SETTLE:
            if (parse_duration_ms(optarg, &cfg->settle_ms) != 0) {
                rcx_err_set(err, "--settle: '%s' is not a duration (e.g. 50ms)", optarg);
                return -1;
            }
            break;
        case OPT_HELP:
            recap_proxy_config_usage(stdout);
            return 1;
        default: /* ':' (a missing value) or an unknown flag */
            rcx_err_flag(err, "proxy", c, name);
            return -1;
        }
    }
    if (optind < argc) {
        rcx_err_set(err, "unexpected argument '%s' (see recap proxy --help)", argv[optind]);
        return -1;
    }
    if (cfg->upstream == NULL) {
        rcx_err_set(err, "no upstream: give --upstream http://host:port or set RECAP_UPSTREAM");
        return -1;
    }
    if (strncmp(cfg->upstream, "http://", 7) != 0 && strncmp(cfg->upstream, "https://", 8) != 0) {
        rcx_err_set(err, "--upstream: '%s' is not an http:// or https:// URL", cfg->upstream);
        return -1;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        rcx_err_set(err, "--tls-cert and --tls-key go together");
        return -1;
    }
    if (cfg->slot != NULL &&
        (strlen(cfg->slot) >= 64 ||
         strspn(cfg->slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(cfg->slot))) {
        rcx_err_set(err, "--slot: '%s' is not a slot name (lower-case letters, digits, _; under 64)",
                    cfg->slot);
        return -1;
    }
    char host[256];
    unsigned short port;
    if (recap_parse_hostport(cfg->listen, host, sizeof(host), &port) != 0) {
        rcx_err_set(err, "--listen: '%s' is not [host]:port", cfg->listen);
        return -1;
    }
    if (recap_parse_hostport(cfg->control_listen, host, sizeof(host), &port) != 0) {
        rcx_err_set(err, "--control-listen: '%s' is not [host]:port", cfg->control_listen);
        return -1;
    }
    return 0;
}

void recap_proxy_config_free(recap_proxy_config_t *cfg)
{
    free((void *)cfg->redact_headers);
    free((void *)cfg->redact_fields);
    cfg->redact_headers = cfg->redact_fields = NULL;
}
