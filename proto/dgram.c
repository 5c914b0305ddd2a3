/*
 * dgram.c -- memcached's UDP frame header (see dgram.h for the layout).
 *
 * memcached 1.6.18, checked live: a datagram of 8 bytes or fewer gets no
 * answer; a request whose total is not 1 gets none either (it never
 * reassembles requests); the sequence number and reserved field of a
 * request are not looked at.
 */
#include "proto/dgram.h"

static uint16_t
dgram_be16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void
dgram_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

enum dgram_status
dgram_parse(const void *p, size_t n, struct dgram_header *h)
{
    const unsigned char *b = p;

    if (n <= DGRAM_HEADER_LEN) {
        return DGRAM_DROP;
    }
    h->id = dgram_be16(b);
    h->seq = dgram_be16(b + 2);
    h->total = dgram_be16(b + 4);
    h->reserved = dgram_be16(b + 6);
    return h->total == 1 ? DGRAM_OK : DGRAM_DROP;
}

uint32_t
dgram_count(size_t n)
{
    return (uint32_t)((n + DGRAM_PAYLOAD_MAX - 1) / DGRAM_PAYLOAD_MAX);
}

void
dgram_header_write(void *out, uint16_t id, uint16_t seq, uint16_t total)
{
    unsigned char *b = out;

    dgram_put16(b, id);
    dgram_put16(b + 2, seq);
    dgram_put16(b + 4, total);
    dgram_put16(b + 6, 0);
}
