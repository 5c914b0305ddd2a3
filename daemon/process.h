/*
 * process.h -- the executor: the one place that sees both a parsed request
 * (proto/) and the store (slab/), and maps one onto the other.
 */
#ifndef STASHD_DAEMON_PROCESS_H
#define STASHD_DAEMON_PROCESS_H

#include <stdint.h>

#include "slab/store.h"

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

/* The store's mode for a request's enum req_store_mode. */
enum store_mode process_store_mode(uint8_t req_mode);

/* The reply code for a store_put/lease_put status rc on req; counts
 * cmd_set and the cas_* / store_* stats, and on success wakes requests
 * parked on the key (mg w).  Shared by every protocol's store path. */
uint8_t process_stored(struct conn *c, const struct request *req, int rc);

#endif
