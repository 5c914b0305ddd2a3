/*
 * conn.h -- one client connection: its buffers and its state machine.
 *
 * A connection belongs to exactly one worker for its whole life and is only
 * touched by that worker's thread (stats conns reads a few fields under the
 * worker's conns lock).  Bytes are read into rbuf, parsed by the protocol
 * table picked from the first byte, executed by process_request(), and the
 * replies gathered in out are sent with sendmsg.  Items referenced by out
 * are pinned (one reference each) until out is empty.
 */
#ifndef STASHD_DAEMON_CONN_H
#define STASHD_DAEMON_CONN_H

#include <event2/event_struct.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/process.h"
#include "daemon/wait.h"
#include "proto/out.h"

struct conn_stream;
struct item;
struct proto_ops;
struct tls;
struct tls_sock;
struct worker;

/*
 * What a connection is doing, in memcached's words for "stats conns".
 * Written by the owning worker only (relaxed atomic stores), read by any
 * thread.  A connection that has run a request and waits for the next
 * reads conn_read, as in memcached 1.6; one that never sent a byte
 * conn_new_cmd.
 */
enum conn_state {
    CONN_NEW_CMD = 0,   /* accepted, nothing received yet */
    CONN_READ,          /* waiting for (the rest of) a command line */
    CONN_PARSE_CMD,     /* executing requests now */
    CONN_NREAD,         /* reading a value into its item */
    CONN_SWALLOW,       /* discarding a refused value */
    CONN_MWRITE,        /* output waits for the socket to drain */
    CONN_WAITING,       /* a request parked on a lease (daemon/wait.h) */
    CONN_CLOSING,       /* closing once the output is sent */
};

/* memcached's name of state s ("conn_read", ...). */
const char *conn_state_name(enum conn_state s);

struct conn {
    int fd;
    struct worker *w;
    struct event ev;
    short ev_flags;         /* what ev is registered for */
    const struct proto_ops *ops;  /* NULL until the first byte is seen */

    char *rbuf;             /* unparsed bytes: rbuf[rpos..rlen) */
    uint32_t rsize;
    uint32_t rpos;
    uint32_t rlen;
    uint32_t rneed;         /* the parser wants this many bytes, 0 if unknown */
    uint32_t rscan;         /* rbuf[rpos..rpos+rscan) is a text line past
                             * TEXT_LINE_MAX with no newline yet: not parsed
                             * again until a newline arrives */
    uint64_t swallow;       /* bytes still to discard (rejected data block) */
    bool skipline;          /* discard up to and past the next newline (a
                             * long get line refused after its head ran) */
    struct conn_stream *stream; /* a storage request whose value is being
                             * read straight into its item (PARSE_VALUE):
                             * the bytes at rpos are its value, then its
                             * "\r\n"; NULL otherwise */
    bool want_more;         /* the buffered bytes are an incomplete request */
    bool read_full;         /* the last read filled rbuf: more may wait */

    struct out out;
    struct item **pins;
    uint32_t npins;
    uint32_t cap_pins;

    struct process_ctx px;  /* the executor's view of this connection: its
                             * closing flag and resume state live there */
    struct tls_sock *tls;   /* NULL on a plaintext connection */
    bool is_unix;
    uint8_t state;          /* enum conn_state, atomic */
    uint32_t last_cmd;      /* rel time of the last request (idle timeout) */
    char addr[64];          /* peer, for stats conns */
    char listen_addr[64];

    struct conn *prev;      /* the worker's list, under its conns lock */
    struct conn *next;

    /* server-side wait (daemon/wait.h), this worker's thread only.  While
     * ws.waiter is set the request at rpos is parked: nothing executes,
     * the socket is only read into rbuf (which does not grow) to notice
     * EOF. */
    struct wait_slot ws;

};

/* Output bytes queued on a connection before it stops executing and sends:
 * the executor's resumable requests pause at the same mark. */
#define CONN_OUT_HIGH PROCESS_OUT_HIGH

/* A get/gets line this long with no newline yet runs the keys it holds
 * and keeps only its tail (conn.c), so a multiget line of any length is
 * read through the resting read buffer (WORKER_RBUF_SIZE) and never grows
 * it. */
#ifndef CONN_GET_CUT /* (scripts/fuzz lowers it to fit small inputs) */
#define CONN_GET_CUT (WORKER_RBUF_SIZE / 2)
#endif

/* Emit c's "stats conns" lines (addr, listen_addr, state,
 * secs_since_last_cmd; now is the current rel time).  Any thread, with
 * c's worker's conns lock held so that c stays alive. */
void conn_stats(const struct conn *c, uint32_t now,
                void (*emit)(void *ctx, const char *name, const char *value),
                void *ctx);

/* Create a connection on an accepted, non-blocking fd and start reading.
 * Runs on w's thread.  NULL on failure (the fd is closed). */
struct conn *conn_create(struct worker *w, int fd, bool is_unix,
                         const char *listen_addr);

/* Speak TLS on c from its first byte (a -Z listener's connection; before
 * any event of c has run).  0, or -1 (the caller destroys c). */
int conn_start_tls(struct conn *c, struct tls *t);

/* c is a TLS connection whose handshake has not completed. */
bool conn_tls_handshaking(const struct conn *c);

/* Close the fd, release pinned items and buffers, free c. */
void conn_destroy(struct conn *c);

/* Keep a reference to it until everything queued so far is sent. */
void conn_pin(struct conn *c, struct item *it);

/* Resume a parked connection (its waiter already gone): run the parked
 * request again, then what follows it.  c's worker thread (wait.c). */
void conn_unpark(struct conn *c);

/*
 * In-process feeding: UDP (daemon/udp.c, one detached connection per
 * datagram), the fuzzers (t/fuzz) and tests.  A detached connection has
 * fd -1 and no event; it is linked in w's list like any other (name shows
 * in stats conns).  NULL on OOM.
 */
struct conn *conn_create_detached(struct worker *w, const char *name);

/* Execute what c has buffered, then append n bytes to its read buffer as
 * read() would and execute every complete request, without a budget.
 * Returns the bytes taken: n, or fewer where a live connection stops
 * reading: its output reached the high-water mark (conn_drain() first) or
 * a request is parked (daemon/wait.h) and the buffer is full.  -1 if the
 * connection would close now (quit, protocol error that closes, OOM): the
 * caller destroys it. */
long conn_feed(struct conn *c, const char *p, size_t n);

/* Mark all queued output as sent and release the pins, as a sendmsg that
 * sent everything would. */
void conn_drain(struct conn *c);

#endif
