/*
 * proto.c -- picking the writer for a request.
 */
#include "proto/proto.h"

const struct proto_ops *
proto_for(const struct request *req)
{
    switch (req->proto) {
    case PROTO_META:
        return &meta_proto;
    case PROTO_BINARY:
        return &bin_proto;
    default:
        return &text_proto;
    }
}
