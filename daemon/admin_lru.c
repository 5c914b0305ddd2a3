/*
 * admin_lru.c -- the "lru" command, as memcached 1.6 answers it:
 *
 *   lru tune <hot_pct> <warm_pct> <hot_max_factor> <warm_max_factor>
 *   lru mode flat|segmented
 *   lru temp_ttl <ttl>          (negative: TEMP off)
 *
 * OK on success; ERROR for a missing or malformed argument or an unknown
 * subcommand; "ERROR hot and warm pcts must not exceed 80" and "ERROR
 * hot/warm age factors must be greater than 0" for out-of-range tunings.
 * mode and temp_ttl need the maintainer thread (ERROR without it), as in
 * memcached.  The new values reach the store (slab/store.h
 * store_lru_tune_set) and show in "stats settings".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "daemon/server.h"
#include "daemon/settings.h"
#include "proto/request.h"
#include "slab/store.h"

/* Argument i as a decimal fraction that fills the token (strtod). */
static bool
admin_lru_double(const struct admin_args *a, uint32_t i, double *out)
{
    char buf[64];
    char *end;

    if (i >= a->n || a->len[i] == 0 || a->len[i] >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, a->tok[i], a->len[i]);
    buf[a->len[i]] = '\0';
    *out = strtod(buf, &end);
    return end != buf && *end == '\0';
}

/* "lru tune": the reply line. */
static const char *
admin_lru_tune(struct store *st, const struct admin_args *a)
{
    struct store_lru_tune t;
    uint64_t hot, warm;
    double hf, wf;

    if (a->n < 5 || !admin_arg_u64(a, 1, UINT32_MAX, &hot) ||
        !admin_arg_u64(a, 2, UINT32_MAX, &warm) ||
        !admin_lru_double(a, 3, &hf) || !admin_lru_double(a, 4, &wf)) {
        return "ERROR";
    }
    if (hot + warm > 80) {
        return "ERROR hot and warm pcts must not exceed 80";
    }
    if (!(hf > 0) || !(wf > 0)) {
        return "ERROR hot/warm age factors must be greater than 0";
    }
    store_lru_tune_get(st, &t);
    t.hot_pct = (unsigned)hot;
    t.warm_pct = (unsigned)warm;
    t.hot_max_factor = hf;
    t.warm_max_factor = wf;
    store_lru_tune_set(st, &t);
    return "OK";
}

enum process_rc
admin_lru(struct process_ctx *px, struct request *req,
          const struct admin_args *a)
{
    struct server *srv = px->srv;
    bool maint = srv->settings->lru_maintainer;
    struct store_lru_tune t;
    const char *reply = "ERROR";
    int64_t ttl;

    store_lru_tune_get(srv->store, &t);
    if (admin_arg_is(a, 0, "tune")) {
        reply = admin_lru_tune(srv->store, a);
    } else if (admin_arg_is(a, 0, "mode") && a->n >= 2 && maint) {
        if (admin_arg_is(a, 1, "flat") || admin_arg_is(a, 1, "segmented")) {
            t.segmented = admin_arg_is(a, 1, "segmented");
            store_lru_tune_set(srv->store, &t);
            reply = "OK";
        }
    } else if (admin_arg_is(a, 0, "temp_ttl") && a->n >= 2 && maint) {
        if (admin_arg_i64(a, 1, INT32_MIN, INT32_MAX, &ttl)) {
            t.temp_lru = ttl >= 0;
            if (ttl >= 0) {
                t.temp_ttl = (unsigned)ttl;
            }
            store_lru_tune_set(srv->store, &t);
            reply = "OK";
        }
    }
    admin_reply(px, req, reply);
    return PROCESS_DONE;
}
