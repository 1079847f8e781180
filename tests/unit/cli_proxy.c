/* Unit tests for cli/proxy.c: flags, environment fallbacks and their errors. */
#include "test.h"

#include "cli/proxy.h"

static int parse(recap_proxy_config_t *cfg, rcx_err_t *err, int argc, const char **argv)
{
    return cli_proxy_parse(cfg, argc, (char **)argv, err);
}

static void clear_env(void)
{
    unsetenv("RECAP_LISTEN");
    unsetenv("RECAP_UPSTREAM");
    unsetenv("RECAP_CAPTURE");
    unsetenv("RECAP_CONTROL_LISTEN");
    unsetenv("RECAP_CONTROL_TOKEN");
}

static void defaults(void **state)
{
    (void)state;
    clear_env();
    recap_proxy_config_t cfg;
    rcx_err_t err;
    const char *argv[] = {"proxy", "--upstream", "http://api:8000"};
    assert_int_equal(parse(&cfg, &err, 3, argv), 0);
    assert_string_equal(cfg.listen, ":8080");
    assert_string_equal(cfg.control_listen, "127.0.0.1:9090");
    assert_string_equal(cfg.capture, "recap.jsonl");
    assert_null(cfg.control_token);
    assert_int_equal(cfg.max_body, 1024 * 1024);
    assert_int_equal(cfg.upstream_timeout_ms, 30000);
    assert_int_equal(cfg.n_redact_headers, 4);
    assert_string_equal(cfg.redact_headers[0], "authorization");
    assert_null(cfg.redact_fields[0]);
    recap_proxy_config_free(&cfg);
}

static void environment_then_flags(void **state)
{
    (void)state;
    clear_env();
    setenv("RECAP_UPSTREAM", "http://env:1", 1);
    setenv("RECAP_LISTEN", "0.0.0.0:7000", 1);
    setenv("RECAP_CAPTURE", "/data/c.jsonl", 1);
    setenv("RECAP_CONTROL_TOKEN", "t0k", 1);
    recap_proxy_config_t cfg;
    rcx_err_t err;
    const char *argv1[] = {"proxy"};
    assert_int_equal(parse(&cfg, &err, 1, argv1), 0);
    assert_string_equal(cfg.upstream, "http://env:1");
    assert_string_equal(cfg.listen, "0.0.0.0:7000");
    assert_string_equal(cfg.capture, "/data/c.jsonl");
    assert_string_equal(cfg.control_token, "t0k");
    recap_proxy_config_free(&cfg);
    const char *argv2[] = {"proxy", "--upstream",       "http://flag:2", "--max-body",
                           "64KiB", "--redact-field",   "password",      "--upstream-timeout",
                           "2s",    "--listen=[::1]:81"};
    assert_int_equal(parse(&cfg, &err, 10, argv2), 0);
    assert_string_equal(cfg.upstream, "http://flag:2");
    assert_int_equal(cfg.max_body, 65536);
    assert_int_equal(cfg.upstream_timeout_ms, 2000);
    assert_string_equal(cfg.redact_fields[0], "password");
    assert_null(cfg.redact_fields[1]);
    assert_string_equal(cfg.listen, "[::1]:81");
    recap_proxy_config_free(&cfg);
    clear_env();
}

static void expect_error(const char *msg, int argc, const char **argv)
{
    recap_proxy_config_t cfg;
    rcx_err_t err;
    assert_int_equal(parse(&cfg, &err, argc, argv), -1);
    assert_string_equal(err.msg, msg);
    recap_proxy_config_free(&cfg);
}

static void errors_say_what_is_wrong(void **state)
{
    (void)state;
    clear_env();
    expect_error("unknown flag '--nope' (see recap proxy --help)", 2, (const char *[]){"proxy", "--nope"});
    expect_error("--capture needs a value (see recap proxy --help)", 4,
                 (const char *[]){"proxy", "--upstream", "http://a:1", "--capture"});
    expect_error("no upstream: give --upstream http://host:port or set RECAP_UPSTREAM", 1,
                 (const char *[]){"proxy"});
    expect_error("--upstream: 'api:8000' is not an http:// or https:// URL", 3,
                 (const char *[]){"proxy", "--upstream", "api:8000"});
    expect_error("--max-body: '12parsecs' is not a size (e.g. 1MiB)", 5,
                 (const char *[]){"proxy", "--upstream", "http://a:1", "--max-body", "12parsecs"});
    expect_error("--upstream-timeout: '0' is not a duration (e.g. 30s, 500ms)", 5,
                 (const char *[]){"proxy", "--upstream", "http://a:1", "--upstream-timeout", "0"});
    expect_error("--control-listen: 'x:99999' is not [host]:port", 5,
                 (const char *[]){"proxy", "--upstream", "http://a:1", "--control-listen", "x:99999"});
    expect_error("--tls-cert and --tls-key go together", 5,
                 (const char *[]){"proxy", "--upstream", "http://a:1", "--tls-key", "k.pem"});
    expect_error("unexpected argument 'extra' (see recap proxy --help)", 4,
                 (const char *[]){"proxy", "--upstream", "http://a:1", "extra"});
}

static void hostport_forms(void **state)
{
    (void)state;
    char host[64];
    unsigned short port;
    assert_int_equal(recap_parse_hostport(":8080", host, sizeof(host), &port), 0);
    assert_string_equal(host, "");
    assert_int_equal(port, 8080);
    assert_int_equal(recap_parse_hostport("9090", host, sizeof(host), &port), 0);
    assert_int_equal(port, 9090);
    assert_int_equal(recap_parse_hostport("127.0.0.1:1", host, sizeof(host), &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(recap_parse_hostport("[::1]:443", host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 443);
    assert_int_equal(recap_parse_hostport("[::1]443", host, sizeof(host), &port), -1);
    assert_int_equal(recap_parse_hostport("host:", host, sizeof(host), &port), -1);
    assert_int_equal(recap_parse_hostport("host:65536", host, sizeof(host), &port), -1);
    assert_int_equal(recap_parse_hostport("host:12ab", host, sizeof(host), &port), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(environment_then_flags),
        cmocka_unit_test(errors_say_what_is_wrong),
        cmocka_unit_test(hostport_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
