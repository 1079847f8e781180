/*
 * bench/cdc_decode.c: the pgoutput decoder's throughput on one core.
 *
 * Replays the real frames of tests/data/pgoutput/frames.txt (made by
 * PostgreSQL 15) through (a) the decoder alone and (b) the decoder plus the
 * transaction builder that writes the JSON of every row, and prints row
 * changes per second for each. Usage: cdc_decode FRAMES.txt [SECONDS]
 */
#include "core/txbuild.h"
#include "tests/unit/frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef test_frame_t frame_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cdc_decode FRAMES.txt [SECONDS]\n");
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 3.0;
    static test_frame_t frames[256];
    size_t n = test_frames_load(argv[1], frames, 256);
    /* the small-row changes (the 40 kB TOAST rows would measure memcpy, not decoding) */
    frame_t changes[256], rels[256];
    size_t nc = 0, nr = 0;
    for (size_t i = 0; i < n; i++) {
        if (strchr("IUD", frames[i].bytes[0]) && frames[i].len < 1000)
            changes[nc++] = frames[i];
        if (frames[i].bytes[0] == 'R')
            rels[nr++] = frames[i];
    }

    core_pgo_decoder_t dec;
    core_pgo_decoder_init(&dec);
    core_pgo_msg_t m;
    rcx_err_t err;
    uint64_t count = 0;
    double t0 = now(), t;
    do {
        for (int rep = 0; rep < 1000; rep++)
            for (size_t i = 0; i < nc; i++)
                count += core_pgo_decode(&dec, changes[i].bytes, changes[i].len, &m, &err) == 0;
    } while ((t = now()) - t0 < secs);
    double decode_rate = (double)count / (t - t0);

    core_relcache_t rc;
    core_relcache_init(&rc);
    for (size_t i = 0; i < nr; i++) {
        core_pgo_decode(&dec, rels[i].bytes, rels[i].len, &m, &err);
        core_relcache_put(&rc, &m);
    }
    core_txbuild_opts_t opts = {.max_rows = UINT64_MAX, .max_bytes = SIZE_MAX};
    core_txbuild_t tb;
    core_txbuild_init(&tb, &opts);
    core_pgo_msg_t begin = {.type = 'B', .u.begin = {.final_lsn = 1, .xid = 1}};
    core_pgo_msg_t commit = {.type = 'C', .u.commit = {.commit_lsn = 1, .end_lsn = 2}};
    rcx_buf_t out;
    rcx_buf_init(&out, SIZE_MAX);
    count = 0;
    size_t bytes = 0;
    t0 = now();
    do {
        core_txbuild_begin(&tb, &begin, &err);
        for (int rep = 0; rep < 100; rep++)
            for (size_t i = 0; i < nc; i++) {
                core_pgo_decode(&dec, changes[i].bytes, changes[i].len, &m, &err);
                count += core_txbuild_change(&tb, core_relcache_get(&rc, m.u.change.relid), &m, &err) == 0;
            }
        rcx_buf_reset(&out);
        core_txbuild_commit(&tb, &commit, &out, &err);
        bytes += out.len;
    } while ((t = now()) - t0 < secs);
    double json_rate = (double)count / (t - t0);
    printf("decoder: %zu distinct change frames from PostgreSQL 15, replayed for %.0f s each\n", nc, secs);
    printf("decode only:          %12.0f changes/s  (target >= 1,000,000)\n", decode_rate);
    printf("decode + JSON rows:   %12.0f changes/s  (%.0f MB/s of tx lines)\n", json_rate,
           (double)bytes / (t - t0) / 1e6);
    rcx_buf_free(&out);
    core_txbuild_dispose(&tb);
    core_relcache_dispose(&rc);
    core_pgo_decoder_dispose(&dec);
    for (size_t i = 0; i < n; i++)
        free(frames[i].bytes);
    return 0;
}
