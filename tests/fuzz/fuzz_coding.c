/*
 * libFuzzer target: arbitrary bytes as a response body in each Content-Encoding
 * recap decodes (proxy/coding.h). The first byte picks the coding and whether
 * the body was cut short; decoding must return 0 or -1 and never keep more
 * than the buffer's bound, however much the input expands.
 */
#include "proxy/coding.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const codings[] = {"gzip", "deflate", "br", "x-gzip"};
    if (size < 1)
        return 0;
    rcx_buf_t out;
    rcx_buf_init(&out, 65536);
    int rc =
        recap_coding_decode(codings[data[0] & 3], (const char *)data + 1, size - 1, (data[0] & 4) != 0, &out);
    if ((rc != 0 && rc != -1) || out.len > 65536)
        abort();
    rcx_buf_free(&out);
    return 0;
}
