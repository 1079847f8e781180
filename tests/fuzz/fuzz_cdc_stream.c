/*
 * libFuzzer target: arbitrary bytes as a sequence of pgoutput messages (each
 * prefixed by a 2-byte length) run through the decoder, the relation cache
 * and the transaction builder, as the CDC thread does with what the server
 * sends. Out-of-order, unknown or contradictory messages must give errors,
 * never a crash; every "tx" line produced must be valid JSON on one line.
 */
#include "core/txbuild.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    core_pgo_decoder_t dec;
    core_relcache_t rc;
    core_txbuild_t tb;
    core_txbuild_opts_t opts = {.max_rows = 8, .max_bytes = 4096};
    core_pgo_decoder_init(&dec);
    core_relcache_init(&rc);
    core_txbuild_init(&tb, &opts);
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    while (size >= 2) {
        size_t n = (size_t)(data[0] << 8 | data[1]);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        core_pgo_msg_t m;
        rcx_err_t err;
        if (core_pgo_decode(&dec, data, n, &m, &err) == 0) {
            out.len = 0;
            if (core_txbuild_apply(&tb, &rc, &m, &out, &err) == 1) {
                if (memchr(out.base, '\n', out.len) != NULL)
                    abort();
                json_error_t je;
                json_t *v = json_loadb(out.base, out.len, JSON_ALLOW_NUL, &je);
                if (v == NULL) { /* the builder wrote something that is not JSON */
                    fprintf(stderr, "not JSON (%s at %d): %.*s\n", je.text, je.position, (int)out.len,
                            out.base);
                    abort();
                }
                json_decref(v);
            }
        }
        data += n;
        size -= n;
    }
    rcx_buf_free(&out);
    core_txbuild_dispose(&tb);
    core_relcache_dispose(&rc);
    core_pgo_decoder_dispose(&dec);
    return 0;
}
