/* proxy/config.c: the proxy's settings and their defaults. See config.h. */
#include "proxy/config.h"

#include "common/buf.h"
#include "common/num.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    uint64_t p;
    if (rcx_parse_u64(portstr, &p) != 0 || p > 65535)
        return -1;
    *port = (unsigned short)p;
    return 0;
}

void recap_proxy_config_defaults(recap_proxy_config_t *cfg)
{
    *cfg = (recap_proxy_config_t){
        .listen = ":8080",
        .capture = "recap.jsonl",
        .control_listen = "127.0.0.1:9090",
        .max_body = 1024 * 1024,
        .max_request_size = 64 * 1024 * 1024,
        .upstream_timeout_ms = 30000,
        .shutdown_timeout_ms = 10000,
        .ring_size = 10000,
        .queue_bytes = 256u * 1024 * 1024,
        .response_buffer = 1024 * 1024,
        .response_buffer_total = 64u * 1024 * 1024,
        .log_level = "info",
        .publication = "recap",
        .max_tx_rows = 10000,
        .max_tx_bytes = 64u * 1024 * 1024,
    };
    static const char *const always[] = {"authorization", "cookie", "set-cookie", "proxy-authorization"};
    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        recap_proxy_config_push(&cfg->redact_headers, &cfg->n_redact_headers, always[i]);
    recap_proxy_config_push(&cfg->redact_fields, &cfg->n_redact_fields, NULL);
    cfg->n_redact_fields = 0;
}

void recap_proxy_config_push(const char ***list, size_t *n, const char *v)
{
    *list = rcx_xrealloc((void *)*list, sizeof(**list) * (*n + 2));
    (*list)[(*n)++] = v;
    (*list)[*n] = NULL;
}

void recap_proxy_config_free(recap_proxy_config_t *cfg)
{
    free((void *)cfg->redact_headers);
    free((void *)cfg->redact_fields);
    cfg->redact_headers = cfg->redact_fields = NULL;
}
