/*
 * process.h -- the executor: the one place that sees both a parsed request
 * (proto/) and the store (slab/), and maps one onto the other.
 */
#ifndef STASHD_DAEMON_PROCESS_H
#define STASHD_DAEMON_PROCESS_H

struct conn;
struct request;

/* Execute req on c's worker and append its reply to c->out (items it
 * references are pinned on c).  May set c->closing. */
void process_request(struct conn *c, struct request *req);

/* Execute a meta request (req->proto == PROTO_META: mg ms md ma mn me)
 * on c's worker, as process_request does; daemon/process_meta.c. */
void process_meta(struct conn *c, struct request *req);

/* Answer a request the parser refused (PARSE_ERROR) with req->err, doing
 * what memcached does besides answering (a too-large set drops the key). */
void process_parse_error(struct conn *c, struct request *req);

#endif
