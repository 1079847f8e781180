/*
 * libFuzzer target: arbitrary bytes as a multipart/form-data body to redact
 * (proxy/redact.h). Every byte that is not a redacted part's content must come
 * out as it went in, and nothing may be read out of bounds.
 */
#include "proxy/redact.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const headers[] = {"authorization", NULL}, *const fields[] = {"password", NULL};
    static const recap_redact_t r = {.headers = headers, .fields = fields, .defaults = true};
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    size_t n =
        recap_redact_multipart(&r, "multipart/form-data; boundary=XyZ", (const char *)data, size, &out);
    if (n == 0 && (out.len != size || (size > 0 && memcmp(out.base, data, size) != 0)))
        abort(); /* nothing redacted: the body unchanged */
    rcx_buf_free(&out);
    return 0;
}
