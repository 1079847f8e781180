/* tests/unit/squeeze.h: compressing test bodies with zlib (include after test.h, which brings cmocka). */
#ifndef RECAP_UNIT_SQUEEZE_H
#define RECAP_UNIT_SQUEEZE_H

#include <zlib.h>

/* p compressed into out (cap bytes): gzip with window_bits 16 + 15, zlib with 15, raw deflate with -15.
 * Returns the compressed length. */
static inline size_t test_squeeze(const void *p, size_t n, int window_bits, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

#endif
