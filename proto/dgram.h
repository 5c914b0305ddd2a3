/*
 * dgram.h -- memcached's UDP frame: the 8-byte header in front of every
 * datagram, both ways.
 *
 *   0        2        4        6        8
 *   +--------+--------+--------+--------+---------------------------+
 *   | req id | seq no | total  |reserved| payload (text or binary)  |
 *   +--------+--------+--------+--------+---------------------------+
 *   all four big-endian 16-bit; a reply echoes the request id, numbers
 *   its datagrams 0..total-1 and sends reserved as 0.
 *
 * Pure byte handling, no sockets: the daemon (daemon/udp.c) reads and
 * sends, this decides what a datagram means and how a reply is cut.
 */
#ifndef STASHD_PROTO_DGRAM_H
#define STASHD_PROTO_DGRAM_H

#include <stddef.h>
#include <stdint.h>

#define DGRAM_HEADER_LEN 8
/* A reply datagram, header included, is at most this long (memcached's
 * UDP_MAX_PAYLOAD_SIZE): it fits an Ethernet MTU with room for the IP and
 * UDP headers, so no reply datagram is ever fragmented. */
#define DGRAM_MAX 1400
#define DGRAM_PAYLOAD_MAX (DGRAM_MAX - DGRAM_HEADER_LEN)

struct dgram_header {
    uint16_t id;
    uint16_t seq;
    uint16_t total;
    uint16_t reserved;
};

/* What to do with a received datagram. */
enum dgram_status {
    DGRAM_OK = 0,       /* a request: its payload follows the header */
    DGRAM_DROP = -1,    /* memcached ignores it: too short to carry a
                         * byte of payload, or part of a multi-datagram
                         * request (total != 1), which it never supports */
};

/* Parse the datagram p[0..n): DGRAM_OK with *h filled and the payload at
 * p + DGRAM_HEADER_LEN (n - DGRAM_HEADER_LEN bytes), or DGRAM_DROP. */
enum dgram_status dgram_parse(const void *p, size_t n, struct dgram_header *h);

/* How many datagrams carry a reply of n payload bytes (0 for 0). */
uint32_t dgram_count(size_t n);

/* Write the header of reply datagram seq of total for request id into
 * out[0..DGRAM_HEADER_LEN). */
void dgram_header_write(void *out, uint16_t id, uint16_t seq, uint16_t total);

#endif
