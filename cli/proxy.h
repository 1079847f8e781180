/*
 * cli/proxy.h: `recap proxy`'s flags, parsed apart from running it so the
 * unit tests can check them.
 *
 * Contract: cli_proxy_parse() fills cfg from the defaults, then the
 * environment (RECAP_*), then argv (argv[0] is "proxy"): 0 ok, 1 --help was
 * printed, -1 with one line in err. Strings are borrowed from argv and
 * environ; recap_proxy_config_free() frees the lists, whatever it returned.
 */
#ifndef CLI_PROXY_H
#define CLI_PROXY_H

#include "common/err.h"
#include "proxy/config.h"

int cli_proxy_parse(recap_proxy_config_t *cfg, int argc, char **argv, rcx_err_t *err);

#endif
