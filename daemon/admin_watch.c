/*
 * admin_watch.c -- "watch [stream ...]": turn the connection into a log
 * watcher (daemon/watch.h), with memcached 1.6.18's replies.
 *
 * The socket is handed to the watch thread (a dup of it) and the
 * connection closes its own descriptor once its output is sent; the watch
 * thread sends the "OK", so no line can overtake it.  Replies pipelined
 * before the watch in the same read may still be queued on the
 * connection when the OK goes out.
 */
#include "daemon/admin.h"

#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/watch.h"

enum process_rc
admin_watch(struct process_ctx *px, struct request *req,
            const struct admin_args *a)
{
    struct server *srv = px->srv;
    unsigned mask = 0;

    if (srv->settings->watch_disabled) {
        admin_reply(px, req, "CLIENT_ERROR watch commands not allowed");
        return PROCESS_DONE;
    }
    for (uint32_t i = 0; i < a->n; i++) {
        unsigned bit = watch_stream_bit(a->tok[i], a->len[i]);

        if (bit == 0) {
            admin_reply(px, req, "ERROR");
            return PROCESS_DONE;
        }
        mask |= bit;
    }
    if (a->n == 0) {
        mask = WATCH_FETCHERS;  /* memcached's default stream */
    }
    if (srv->watch == NULL || px->fd < 0) {
        admin_reply(px, req, "WATCHER_FAILED failed to add log watcher");
        return PROCESS_DONE;
    }
    switch (watch_add(srv->watch, px->fd, mask)) {
    case WATCH_ADD_OK:
        px->closing = true;
        break;
    case WATCH_ADD_TOO_MANY:
        admin_reply(px, req, "WATCHER_TOO_MANY log watcher limit reached");
        break;
    default:
        admin_reply(px, req, "WATCHER_FAILED failed to add log watcher");
        break;
    }
    return PROCESS_DONE;
}
