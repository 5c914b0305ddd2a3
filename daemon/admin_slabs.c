/*
 * admin_slabs.c -- the "slabs" command family, answered as memcached
 * 1.6.18 answers it:
 *
 *   slabs reassign <src> <dst>     exactly these tokens, else ERROR;
 *                                  no noreply (memcached has none here)
 *   slabs automove <0|1|2> [...]   extra tokens ignored; a last token
 *                                  "noreply" silences every reply
 *
 * The page itself moves in the store's mover thread (slab/mover.c); the
 * command only queues the request.
 */
#include <stdint.h>

#include "daemon/admin.h"
#include "daemon/server.h"
#include "proto/request.h"
#include "slab/store.h"

static const char *const admin_slabs_reassign_msg[] = {
    [STORE_REASSIGN_OK] = "OK",
    [STORE_REASSIGN_RUNNING] = "BUSY currently processing reassign request",
    [STORE_REASSIGN_BADCLASS] = "BADCLASS invalid src or dst class id",
    [STORE_REASSIGN_NOSPARE] = "NOSPARE source class has no spare pages",
    [STORE_REASSIGN_SAME] = "SAME src and dst class are identical",
};

/* An id as an int, far out of range when it does not fit. */
static int
admin_slabs_clamp(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int)v;
}

static void
admin_slabs_reassign(struct process_ctx *px, struct request *req,
                     const struct admin_args *a)
{
    struct store *st = px->store;
    int64_t src, dst;
    int rc;

    if (!store_config(st)->slab_reassign) {
        admin_reply(px, req, "CLIENT_ERROR slab reassignment disabled");
        return;
    }
    if (!admin_arg_i64(a, 1, INT64_MIN + 1, INT64_MAX, &src) ||
        !admin_arg_i64(a, 2, INT64_MIN + 1, INT64_MAX, &dst)) {
        admin_reply(px, req, "CLIENT_ERROR bad command line format");
        return;
    }
    /* memcached reads a long: a huge id is a bad class, not a bad line */
    rc = store_slabs_reassign(st, admin_slabs_clamp(src),
                              admin_slabs_clamp(dst));
    admin_reply(px, req, admin_slabs_reassign_msg[rc]);
}

static void
admin_slabs_automove(struct process_ctx *px, struct request *req,
                     const struct admin_args *a)
{
    uint64_t mode;

    if (admin_arg_is(a, a->n - 1, "noreply")) {
        req->noreply = true;
    }
    if (!admin_arg_u64(a, 1, UINT32_MAX, &mode)) {
        admin_reply(px, req, "CLIENT_ERROR bad command line format");
        return;
    }
    if (mode > 2) {
        admin_reply(px, req, "ERROR");
        return;
    }
    store_slabs_automove(px->store, (unsigned)mode);
    admin_reply(px, req, "OK");
}

enum process_rc
admin_slabs(struct process_ctx *px, struct request *req,
            const struct admin_args *a)
{
    if (a->n == 3 && admin_arg_is(a, 0, "reassign")) {
        admin_slabs_reassign(px, req, a);
    } else if (a->n >= 2 && admin_arg_is(a, 0, "automove")) {
        admin_slabs_automove(px, req, a);
    } else {
        admin_reply(px, req, "ERROR");
    }
    return PROCESS_DONE;
}
