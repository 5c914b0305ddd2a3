/*
 * proto.h -- the table a connection uses to speak one wire protocol.
 *
 * A connection negotiates ascii or binary by its first byte (-B auto) and
 * then uses one parser.  The text parser hands meta commands ("mg", "ms",
 * ...) to the meta parser and marks them req->proto = PROTO_META, so replies
 * are written by the writer named by req->proto, not by the connection.
 */
#ifndef STASHD_PROTO_PROTO_H
#define STASHD_PROTO_PROTO_H

#include "proto/out.h"
#include "proto/request.h"

struct proto_ops {
    /* Parse one request from buf[0..len): enum parse_status. */
    int (*parse)(struct request *req, const char *buf, size_t len);
    /* Write the reply for one result (one key of a multi-get). */
    void (*reply)(struct out *o, const struct request *req,
                  const struct result *res);
    /* Write one statistic line/packet. */
    void (*stat)(struct out *o, const struct request *req, const char *name,
                 const char *value);
    /* Close a multi-part reply: "END" after get/stats, the empty binary
     * stat packet.  A no-op where the protocol has no terminator. */
    void (*end)(struct out *o, const struct request *req);
    /* Write an error line/packet for a request that failed to parse. */
    void (*error)(struct out *o, const struct request *req, const char *line);
};

extern const struct proto_ops text_proto;
extern const struct proto_ops meta_proto;
extern const struct proto_ops bin_proto;

/* The writer table for a parsed request. */
const struct proto_ops *proto_for(const struct request *req);

#endif
