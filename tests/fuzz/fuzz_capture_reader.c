/*
 * libFuzzer target: arbitrary bytes as a capture file. The reader must return
 * records or one-line errors with a position, never crash, and never return
 * a record after reporting a torn last line. Seeds: a small valid capture.
 */
#include "common/capture_reader.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fmemopen((void *)data, size, "r");
    if (fp == NULL)
        return 0;
    rcx_err_t err;
    rcx_reader_t *r = rcx_reader_from_stream(fp, "fuzz.jsonl", &err);
    if (r == NULL) {
        if (strncmp(err.msg, "fuzz.jsonl:", 11) != 0)
            abort(); /* every error says where */
    } else {
        json_t *rec;
        int rc, records = 0;
        while ((rc = rcx_reader_next(r, &rec, &err)) != 0 && records < 100000) {
            if (rc > 0) {
                if (rcx_reader_torn(r) || !json_is_string(json_object_get(rec, "type")))
                    abort();
                json_decref(rec);
                records++;
            } else if (strncmp(err.msg, "fuzz.jsonl:", 11) != 0) {
                abort();
            }
        }
        rcx_reader_close(r);
    }
    fclose(fp);
    return 0;
}
