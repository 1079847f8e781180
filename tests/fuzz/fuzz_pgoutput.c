/*
 * libFuzzer target: arbitrary bytes as a CopyData frame and as a pgoutput
 * message. The decoder must return 0 or -1, never crash or read out of bounds
 * (ASan and UBSan are on). Seeds: tests/data/pgoutput/frames.txt.
 */
#include "core/pgoutput.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static core_pgo_decoder_t dec; /* reused across inputs, as on a stream */
    rcx_err_t err;
    core_pgo_msg_t msg;
    if (core_pgo_decode(&dec, data, size, &msg, &err) == 0) {
        /* touch what a consumer reads, so a bad pointer shows up here */
        if (msg.type == 'I' || msg.type == 'U' || msg.type == 'D') {
            const core_pgo_tuple_t *t[2] = {&msg.u.change.old_tuple, &msg.u.change.new_tuple};
            volatile uint8_t sink = 0;
            for (int k = 0; k < 2; k++)
                for (uint16_t i = 0; i < t[k]->ncols; i++)
                    if (t[k]->cols[i].len > 0)
                        sink ^= t[k]->cols[i].data[t[k]->cols[i].len - 1];
            (void)sink;
        } else if (msg.type == 'T') {
            for (uint32_t i = 0; i < msg.u.truncate.nrels; i++)
                (void)core_pgo_truncate_relid(&msg, i);
        } else if (msg.type == 'R') {
            for (uint16_t i = 0; i < msg.u.relation.ncols; i++)
                (void)strlen(msg.u.relation.cols[i].name);
        }
    } else if (err.msg[0] == '\0') {
        abort(); /* a failure must say why */
    }
    core_pgo_copydata_t cd;
    if (core_pgo_parse_copydata(data, size, &cd, &err) == 0 && cd.type == 'w' && cd.len > 0)
        (void)core_pgo_decode(&dec, cd.payload, cd.len, &msg, &err);
    return 0;
}
