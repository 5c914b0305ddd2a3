/*
 * process_auth.c -- executing -Y ascii authentication and -S SASL PLAIN.
 *
 * A connection starts authenticated (px->authed) unless the server has a
 * password table (srv->auth, daemon/auth.h).  A text connection under -Y
 * sends only text_auth_parse()'s one request until it succeeds; a binary connection
 * under -S may send VERSION and the SASL commands, anything else is
 * answered "Auth failure." and closed, as memcached 1.6.18 does.
 *
 * SASL follows what memcached with Cyrus SASL answers (checked on
 * loopback): LIST_MECHS -> "PLAIN"; AUTH PLAIN with the credentials ->
 * "Authenticated" or 0x20 "Auth failure." (the connection stays open
 * and may try again); AUTH with no data -> 0x21 and the credentials come
 * in a STEP; a STEP with nothing started, an unknown mechanism, or a
 * second AUTH on an authenticated connection -> "Auth failure." and the
 * connection is no longer authenticated.  Every AUTH and STEP counts in
 * auth_cmds, every failure in auth_errors, as for -Y.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "daemon/auth.h"
#include "daemon/process.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "proto/proto.h"
#include "proto/request.h"

static void
process_auth_reply(struct process_ctx *px, const struct request *req,
                   uint8_t code, const char *msg)
{
    struct result res;

    memset(&res, 0, sizeof(res));
    res.code = code;
    res.msg = msg;
    proto_for(req)->reply(px->out, req, &res);
}

void
process_auth_count(struct process_ctx *px, bool ok)
{
    struct thread_stats *ts = px->ts;

    STAT_INC(ts, auth_cmds);
    if (!ok) {
        STAT_INC(ts, auth_errors);
    }
    px->authed = ok;
}

void
process_auth(struct process_ctx *px, struct request *req)
{
    struct auth *a = px->srv->auth;
    bool ok = a != NULL &&
              auth_check(a, req->key, req->nkey, req->value, req->vlen);

    process_auth_count(px, ok);
    if (ok) {
        process_auth_reply(px, req, RES_STORED, NULL);
    } else {
        process_auth_reply(px, req, RES_E_MSG,
                           "CLIENT_ERROR authentication failure");
    }
}

/* Check PLAIN credentials and answer. */
static void
process_sasl_check(struct process_ctx *px, struct request *req)
{
    bool ok = auth_check_plain(px->srv->auth, req->value, req->vlen);

    process_auth_count(px, ok);
    px->sasl_state = ok ? PROCESS_SASL_DONE : PROCESS_SASL_NONE;
    if (ok) {
        process_auth_reply(px, req, RES_AUTH_OK, "Authenticated");
    } else {
        process_auth_reply(px, req, RES_AUTH_ERROR, NULL);
    }
}

static void
process_sasl_fail(struct process_ctx *px, struct request *req)
{
    process_auth_count(px, false);
    px->sasl_state = PROCESS_SASL_NONE;
    process_auth_reply(px, req, RES_AUTH_ERROR, NULL);
}

void
process_sasl(struct process_ctx *px, struct request *req)
{
    if (px->srv->auth == NULL) {
        /* unreachable: the parser only makes REQ_SASL under -S */
        process_auth_reply(px, req, RES_E_UNKNOWN, NULL);
        return;
    }
    switch (req->mode) {
    case REQ_SASL_LIST:
        process_auth_reply(px, req, RES_AUTH_OK, "PLAIN");
        return;
    case REQ_SASL_AUTH:
        if (px->sasl_state == PROCESS_SASL_DONE || req->nkey != 5 ||
            strncasecmp(req->key, "PLAIN", 5) != 0) {
            process_sasl_fail(px, req);
        } else if (req->vlen == 0) {
            /* PLAIN with no initial response: the client steps */
            STAT_INC(px->ts, auth_cmds);
            px->authed = false;
            px->sasl_state = PROCESS_SASL_STEP;
            process_auth_reply(px, req, RES_AUTH_CONTINUE, NULL);
        } else {
            process_sasl_check(px, req);
        }
        return;
    default:
        if (px->sasl_state != PROCESS_SASL_STEP) {
            process_sasl_fail(px, req);
        } else {
            process_sasl_check(px, req);
        }
        return;
    }
}

bool
process_auth_refused(struct process_ctx *px, const struct request *req, int rc)
{
    if (req->proto != PROTO_BINARY || rc == PARSE_CLOSE ||
        rc == PARSE_AGAIN || req->op == REQ_SASL ||
        (rc == PARSE_OK && req->op == REQ_VERSION)) {
        return false;
    }
    process_auth_reply(px, req, RES_AUTH_ERROR, NULL);
    px->closing = true;
    return true;
}
