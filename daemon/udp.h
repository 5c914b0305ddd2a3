/*
 * udp.h -- memcached's UDP listener (-U): requests arrive one datagram
 * each, replies go back in datagrams of at most DGRAM_MAX bytes.
 *
 * Off unless -U is given (as in memcached 1.6.18), never with -s (a unix
 * socket replaces the network listeners).  Every worker reads every UDP
 * socket from its own event base and answers on its own thread.
 */
#ifndef STASHD_DAEMON_UDP_H
#define STASHD_DAEMON_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

struct server;
struct udp;
struct worker;

/*
 * A UDP request's whole reply, in payload bytes, is at most this: a
 * reply that would be longer is answered with UDP_TOO_LARGE instead.
 * memcached has no such bound (one "get" naming a 1 MB value thirty times
 * answers 30 MB to a 74-byte datagram, to whatever source address the
 * datagram claims), which is what makes an open UDP port an amplifier.
 * 64 KiB still carries any value up to 64 KiB in one reply.
 */
#define UDP_REPLY_MAX (64 * 1024)
#define UDP_TOO_LARGE "SERVER_ERROR reply too large for UDP\r\n"

/* Send one reply datagram (iov[0..n), header first); returns nothing:
 * UDP replies are best effort, as memcached's. */
typedef void (*udp_send_fn)(void *ctx, const struct iovec *iov, int n);

/* Bind the UDP sockets srv->settings asks for (-U, -l) and watch them on
 * every worker's base (the workers exist).  NULL with nothing to do (no
 * -U, or -s), or on failure with *failed set (the reason is logged). */
struct udp *udp_create(struct server *srv, int *failed);

/* Stop watching, close the sockets and free u (NULL is fine).  Call with
 * the workers stopped and before they are destroyed. */
void udp_destroy(struct udp *u);

/* Call fn with the bound port of every UDP socket (the kernel's pick for
 * -U -1), in the order they were opened: the "UDP INET: <port>" lines of
 * MEMCACHED_PORT_FILENAME's file. */
void udp_each_port(const struct udp *u,
                   void (*fn)(void *ctx, bool v6, unsigned port), void *ctx);

/*
 * Answer the datagram p[0..n) on w (w's thread): frame header checked,
 * its requests executed as on a connection, the reply cut into datagrams
 * handed to send(ctx, ...).  buf holds UDP_REPLY_MAX bytes of scratch.
 * Returns the datagrams sent (0 when memcached would stay silent too).
 */
int udp_answer(struct worker *w, const char *name, char *buf, const char *p,
               size_t n, udp_send_fn send, void *ctx);

#endif
