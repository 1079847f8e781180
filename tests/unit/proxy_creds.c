/*
 * Unit tests for proxy/creds.c: a credential a later request carries is
 * traced to the response that handed it out (a token in a JSON body, a
 * cookie), never written itself; credentials from elsewhere are not traced.
 */
#include "test.h"

#include "squeeze.h"

#include "proxy/creds.h"

static const char *const headers[] = {"authorization", "cookie", "set-cookie", "x-auth", NULL};
static const char *const none[] = {NULL};
static const recap_redact_t r = {.headers = headers, .fields = none, .defaults = true};

static rcx_call_t *call(uint64_t arrival)
{
    rcx_call_t *c = rcx_call_new(4096);
    c->arrival = arrival;
    c->status = 200;
    return c;
}

static void header(rcx_msg_t *m, const char *name, const char *value)
{
    rcx_msg_add_header(m, name, strlen(name), value, strlen(value));
}

#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbmF0dXJl"

static void tokens_and_cookies_are_traced_to_their_response(void **state)
{
    (void)state;
    recap_creds_t creds;
    recap_creds_init(&creds, 42);
    rcx_call_t *login = call(3);
    header(&login->res, "content-type", "application/json; charset=utf-8");
    header(&login->res, "set-cookie", "sid=s3ss10n-k3y-abcdef; Path=/; HttpOnly");
    header(&login->res, "x-auth", "header-secret-123456");
    const char *body =
        "{\"user\":{\"name\":\"a\",\"token\":\"" JWT "\"},\"list\":[{\"apiKey\":\"k-0123456789\"}]}";
    rcx_buf_append(&login->res.body, body, strlen(body));
    recap_creds_learn(&creds, &r, login);

    rcx_call_t *next = call(4);
    header(&next->req, "Authorization", "Token " JWT);
    header(&next->req, "cookie", "theme=dark; sid=s3ss10n-k3y-abcdef");
    header(&next->req, "x-auth", "header-secret-123456");
    recap_creds_derive(&creds, &r, next);
    assert_non_null(next->derived);
    assert_string_equal(
        next->derived,
        "{\"authorization\":{\"call\":3,\"from\":\"response.body.user.token\",\"prefix\":\"Token \"},"
        "\"cookie.sid\":{\"call\":3,\"from\":\"response.cookie.sid\"},"
        "\"x-auth\":{\"call\":3,\"from\":\"response.headers.x-auth\"}}");
    assert_null(strstr(next->derived, JWT)); /* where it came from, never what it is */

    rcx_call_t *listed = call(5);
    header(&listed->req, "authorization", "Bearer k-0123456789");
    recap_creds_derive(&creds, &r, listed);
    assert_string_equal(
        listed->derived,
        "{\"authorization\":{\"call\":3,\"from\":\"response.body.list[0].apiKey\",\"prefix\":\"Bearer \"}}");

    rcx_call_t *outside = call(6); /* a key from the environment, and a short value met by chance */
    header(&outside->req, "authorization", "Bearer some-static-key-from-ci");
    header(&outside->req, "cookie", "theme=dark");
    recap_creds_derive(&creds, &r, outside);
    assert_null(outside->derived);
    rcx_call_free(login);
    rcx_call_free(next);
    rcx_call_free(listed);
    rcx_call_free(outside);
}

/* A login answered compressed (Django's GZipMiddleware compresses from 200 bytes): its token is traced too.
 */
static void a_compressed_token_is_traced(void **state)
{
    (void)state;
    recap_creds_t creds;
    recap_creds_init(&creds, 42);
    rcx_call_t *login = call(3);
    header(&login->res, "content-type", "application/json");
    header(&login->res, "content-encoding", "gzip");
    const char *body = "{\"token\":\"" JWT "\"}";
    unsigned char z[256];
    rcx_buf_append(&login->res.body, z, test_squeeze(body, strlen(body), 16 + 15, z, sizeof(z)));
    recap_creds_learn(&creds, &r, login);
    rcx_call_t *next = call(4);
    header(&next->req, "authorization", "Bearer " JWT);
    recap_creds_derive(&creds, &r, next);
    assert_string_equal(
        next->derived,
        "{\"authorization\":{\"call\":3,\"from\":\"response.body.token\",\"prefix\":\"Bearer \"}}");
    rcx_call_free(login);
    rcx_call_free(next);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_and_cookies_are_traced_to_their_response),
        cmocka_unit_test(a_compressed_token_is_traced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
