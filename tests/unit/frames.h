/*
 * tests/unit/frames.h: reads tests/data/pgoutput/frames.txt ("label hex" per
 * line, made by make_frames.py) for the decoder's tests and bench/cdc_decode.
 * Aborts on a file it cannot read: a test without its data must not pass.
 */
#ifndef RECAP_TEST_FRAMES_H
#define RECAP_TEST_FRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_frame {
    char label[64];
    uint8_t *bytes;
    size_t len;
} test_frame_t;

/** Loads up to max frames; returns how many. Free each frame's bytes. */
static inline size_t test_frames_load(const char *path, test_frame_t *out, size_t max)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        abort();
    }
    static char line[200000];
    size_t n = 0;
    while (n < max && fgets(line, sizeof(line), f)) {
        char *sp = strchr(line, ' ');
        if (line[0] == '#' || sp == NULL)
            continue;
        size_t ll =
            (size_t)(sp - line) < sizeof(out[n].label) - 1 ? (size_t)(sp - line) : sizeof(out[n].label) - 1;
        memcpy(out[n].label, line, ll);
        out[n].label[ll] = '\0';
        const char *hex = sp + 1;
        out[n].len = strcspn(hex, "\n") / 2;
        out[n].bytes = malloc(out[n].len ? out[n].len : 1);
        for (size_t i = 0; i < out[n].len; i++)
            sscanf(hex + 2 * i, "%2hhx", &out[n].bytes[i]);
        n++;
    }
    fclose(f);
    return n;
}

#endif
