/*
 * admin.c -- dispatch of the administrative text commands (daemon/admin.h)
 * and the small argument readers their handlers share; refresh_certs,
 * one line over daemon/tls.h, is answered here.
 *
 * The table maps a command word to its family's handler; families live in
 * their own files and see the store only through slab/'s public API.
 */
#include "daemon/admin.h"

#include <string.h>

#include "daemon/admin_crawler.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/tls.h"
#include "proto/out.h"
#include "proto/request.h"

static enum process_rc admin_refresh_certs(struct process_ctx *px,
                                           struct request *req,
                                           const struct admin_args *a);

static const struct admin_cmd {
    const char *name;
    admin_fn fn;
} admin_cmds[] = {
    /* one line per family; a NULL handler answers ERROR */
    {"lru", admin_lru},
    {"lru_crawler", admin_crawler},
    {"slabs", admin_slabs},
    {"watch", admin_watch},
    {"refresh_certs", admin_refresh_certs},
};

/* refresh_certs: reload the TLS certificate and key files (-Z).  Replies
 * as memcached: OK, or why not. */
static enum process_rc
admin_refresh_certs(struct process_ctx *px, struct request *req,
                    const struct admin_args *a)
{
    struct tls *t = px->srv->tls;
    char err[512];

    (void)a;
    if (t == NULL) {
        admin_reply(px, req, "Error TLS not enabled");
    } else if (tls_refresh(t, err, sizeof(err)) != 0) {
        admin_reply(px, req, err);
    } else {
        log_info("TLS certificates reloaded");
        admin_reply(px, req, "OK");
    }
    return PROCESS_DONE;
}

/* Split the space-separated argument span of req into a; tokens past
 * ADMIN_ARGS_MAX are dropped, as memcached stops reading there. */
static void
admin_split(const struct request *req, struct admin_args *a)
{
    const char *p = req->keys;
    const char *end = req->keys + req->keys_len;

    a->n = 0;
    while (p < end && a->n < ADMIN_ARGS_MAX) {
        const char *t;

        while (p < end && *p == ' ') {
            p++;
        }
        if (p == end) {
            break;
        }
        t = p;
        while (p < end && *p != ' ') {
            p++;
        }
        a->tok[a->n] = t;
        a->len[a->n] = (uint32_t)(p - t);
        a->n++;
    }
}

enum process_rc
admin_process(struct process_ctx *px, struct request *req)
{
    struct admin_args a;
    size_t i;

    admin_split(req, &a);
    for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
        const struct admin_cmd *cmd = &admin_cmds[i];

        if (strlen(cmd->name) == req->nkey &&
            memcmp(cmd->name, req->key, req->nkey) == 0) {
            if (cmd->fn == NULL) {
                break;
            }
            return cmd->fn(px, req, &a);
        }
    }
    admin_reply(px, req, "ERROR");
    return PROCESS_DONE;
}

bool
admin_arg_is(const struct admin_args *a, uint32_t i, const char *w)
{
    size_t n = strlen(w);

    return i < a->n && a->len[i] == n && memcmp(a->tok[i], w, n) == 0;
}

bool
admin_arg_u64(const struct admin_args *a, uint32_t i, uint64_t max,
              uint64_t *out)
{
    uint64_t v = 0;

    if (i >= a->n || a->len[i] == 0) {
        return false;
    }
    for (uint32_t k = 0; k < a->len[i]; k++) {
        unsigned d = (unsigned)(a->tok[i][k] - '0');

        if (d > 9 || v > (max - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool
admin_arg_i64(const struct admin_args *a, uint32_t i, int64_t min,
              int64_t max, int64_t *out)
{
    struct admin_args one;
    uint64_t mag;
    bool neg;

    if (i >= a->n || a->len[i] == 0) {
        return false;
    }
    neg = a->tok[i][0] == '-';
    one.tok[0] = a->tok[i] + (neg ? 1 : 0);
    one.len[0] = a->len[i] - (neg ? 1 : 0);
    one.n = 1;
    if (!admin_arg_u64(&one, 0, (uint64_t)INT64_MAX, &mag)) {
        return false;
    }
    if ((neg && -(int64_t)mag < min) || (!neg && (int64_t)mag > max)) {
        return false;
    }
    *out = neg ? -(int64_t)mag : (int64_t)mag;
    return true;
}

void
admin_reply(struct process_ctx *px, const struct request *req,
            const char *line)
{
    if (req->noreply) {
        return;
    }
    out_str(px->out, line);
    out_bytes(px->out, "\r\n", 2);
}
