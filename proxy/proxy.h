/*
 * proxy/proxy.h: the recording reverse proxy, run.
 *
 * Contract: recap_proxy_run() blocks SIGTERM, SIGINT and SIGHUP on the calling thread
 * (they go to the loop's signalfd), runs the h2o event loop on it until one
 * arrives, then stops accepting, lets in-flight calls finish (bounded by
 * shutdown_timeout_ms), writes every record and returns 0. A start-up
 * failure (a URL that cannot be parsed, a port in use, a capture that cannot
 * be opened, a database that refuses) returns -1 with one line in err. Call
 * it once per process: h2o's context lives until exit. Logs through
 * common/log.h.
 */
#ifndef RECAP_PROXY_H
#define RECAP_PROXY_H

#include "common/err.h"
#include "proxy/config.h"

int recap_proxy_run(const recap_proxy_config_t *cfg, rcx_err_t *err);

#endif
