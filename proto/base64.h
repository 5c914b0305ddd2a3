/*
 * base64.h -- the base64 codec behind meta "b" keys.
 *
 * Standard alphabet (A-Z a-z 0-9 + /) with '=' padding.  The decoder is as
 * lenient as memcached's, because clients rely on what memcached accepts:
 * bytes outside the alphabet are skipped, the symbols that remain must come
 * in whole groups of four, and decoding stops after the first group that
 * carries padding.  Pure functions, no allocation; this is proto/.
 */
#ifndef STASHD_PROTO_BASE64_H
#define STASHD_PROTO_BASE64_H

#include <stddef.h>

/* Bytes base64_encode() writes for n input bytes (padding included). */
static inline size_t
base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Encode src[0..n) into dst, which must hold base64_encoded_len(n) bytes.
 * Returns the bytes written; no NUL is added. */
size_t base64_encode(const void *src, size_t n, char *dst);

/* Decode src[0..n) into dst (room for dstmax bytes).  Returns the decoded
 * length, or 0 if the input is not valid base64 (no symbols, a partial
 * group, more than two pad symbols in a group) or does not fit in dstmax. */
size_t base64_decode(const char *src, size_t n, void *dst, size_t dstmax);

#endif
