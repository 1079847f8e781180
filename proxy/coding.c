/* proxy/coding.c: see coding.h. zlib for gzip and deflate, Brotli's decoder for br. */
#include "proxy/coding.h"

#include <brotli/decode.h>
#include <strings.h>
#include <zlib.h>

typedef enum { CODING_NONE, CODING_GZIP, CODING_DEFLATE, CODING_BR } coding_t;

static coding_t coding_of(const char *v)
{
    if (v == NULL)
        return CODING_NONE;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strcspn(v, " \t");
    if (v[n + strspn(v + n, " \t")] != '\0') /* more than one token: a list of codings */
        return CODING_NONE;
    if ((n == 4 && strncasecmp(v, "gzip", 4) == 0) || (n == 6 && strncasecmp(v, "x-gzip", 6) == 0))
        return CODING_GZIP;
    if (n == 7 && strncasecmp(v, "deflate", 7) == 0)
        return CODING_DEFLATE;
    if (n == 2 && strncasecmp(v, "br", 2) == 0)
        return CODING_BR;
    return CODING_NONE;
}

bool recap_coding_known(const char *content_encoding)
{
    return coding_of(content_encoding) != CODING_NONE;
}

/* Whether out has reached its bound: decoding further would only count bytes. */
static bool full(const rcx_buf_t *out)
{
    return out->truncated;
}

/* windowBits: 16 + 15 gzip, 15 zlib (what "deflate" means), -15 raw deflate (what some servers send). */
static int inflate_with(int window_bits, const char *in, size_t n, bool cut_short, rcx_buf_t *out)
{
    z_stream z = {0};
    if (inflateInit2(&z, window_bits) != Z_OK)
        return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    unsigned char chunk[16384];
    int rc = Z_OK;
    while (rc == Z_OK && !full(out)) {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        rcx_buf_append(out, chunk, sizeof(chunk) - z.avail_out);
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && cut_short)
            rc = Z_STREAM_END; /* the rest was not recorded: what came is decoded */
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END || (rc == Z_OK && full(out)) ? 0 : -1;
}

static int brotli(const char *in, size_t n, bool cut_short, rcx_buf_t *out)
{
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (s == NULL)
        return -1;
    const uint8_t *next_in = (const uint8_t *)in;
    size_t avail_in = n;
    BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
    while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT && !full(out)) {
        uint8_t chunk[16384], *next_out = chunk;
        size_t avail_out = sizeof(chunk);
        rc = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
        rcx_buf_append(out, chunk, sizeof(chunk) - avail_out);
    }
    BrotliDecoderDestroyInstance(s);
    return rc == BROTLI_DECODER_RESULT_SUCCESS ||
                   (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT && cut_short) || full(out)
               ? 0
               : -1;
}

int recap_coding_decode(const char *content_encoding, const char *in, size_t n, bool cut_short,
                        rcx_buf_t *out)
{
    switch (coding_of(content_encoding)) {
    case CODING_GZIP:
        return inflate_with(16 + MAX_WBITS, in, n, cut_short, out);
    case CODING_DEFLATE:
        if (inflate_with(MAX_WBITS, in, n, cut_short, out) == 0)
            return 0;
        rcx_buf_reset(out);
        return inflate_with(-MAX_WBITS, in, n, cut_short, out);
    case CODING_BR:
        return brotli(in, n, cut_short, out);
    default:
        return -1;
    }
}
