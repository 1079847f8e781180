/*
 * libFuzzer target: arbitrary bytes as a sequence of pgoutput messages (each
 * prefixed by a 2-byte length) run through the decoder, the relation cache
 * and the transaction builder, as the CDC thread does with what the server
 * sends. Out-of-order, unknown or contradictory messages must give errors,
 * never a crash; every "tx" line produced must be valid JSON on one line.
 */
#include "../../proxy/cdc/txbuild.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    recap_pgo_decoder_t dec;
    recap_relcache_t rc;
    recap_txbuild_t tb;
    recap_txbuild_opts_t opts = {.max_rows = 8, .max_bytes = 4096};
    recap_pgo_decoder_init(&dec);
    recap_relcache_init(&rc);
    recap_txbuild_init(&tb, &opts);
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    while (size >= 2) {
        size_t n = (size_t)(data[0] << 8 | data[1]);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        recap_pgo_msg_t m;
        rcx_err_t err;
        if (recap_pgo_decode(&dec, data, n, &m, &err) == 0) {
            out.len = 0;
            if (recap_txbuild_apply(&tb, &rc, &m, &out, &err) == 1) {
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
    recap_txbuild_dispose(&tb);
    recap_relcache_dispose(&rc);
    recap_pgo_decoder_dispose(&dec);
    return 0;
}
