/*
 * admin.h -- the administrative text commands (REQ_ADMIN): lru,
 * lru_crawler, slabs, watch, refresh_certs.
 *
 * The parser hands the command word and its argument tokens over
 * unparsed; admin.c splits the arguments and dispatches on the command
 * word to one handler per command family, each in a file of its own
 * (daemon/admin_<family>.c).  A handler answers through px->out with
 * memcached's replies and may pause like any resumable request (a dump
 * that fills the output, daemon/process.h).
 */
#ifndef STASHD_DAEMON_ADMIN_H
#define STASHD_DAEMON_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/process.h"

struct process_ctx;
struct request;

/* memcached reads at most 24 tokens of a line, the command included. */
#define ADMIN_ARGS_MAX 23

/* The argument tokens after the command word, pointing into the request. */
struct admin_args {
    const char *tok[ADMIN_ARGS_MAX];
    uint32_t len[ADMIN_ARGS_MAX];
    uint32_t n;
};

/* One family's handler: answer req (arguments in a) through px. */
typedef enum process_rc (*admin_fn)(struct process_ctx *px, struct request *req,
                                    const struct admin_args *a);

/* Execute a REQ_ADMIN request through px; a command word without a handler
 * answers ERROR. */
enum process_rc admin_process(struct process_ctx *px, struct request *req);

/* Does argument i equal the NUL-terminated word w? */
bool admin_arg_is(const struct admin_args *a, uint32_t i, const char *w);

/* Argument i as an unsigned decimal that fills the token; false if it is
 * missing, not a number or above max. */
bool admin_arg_u64(const struct admin_args *a, uint32_t i, uint64_t max,
                   uint64_t *out);

/* Argument i as a signed decimal that fills the token, within [min, max]. */
bool admin_arg_i64(const struct admin_args *a, uint32_t i, int64_t min,
                   int64_t max, int64_t *out);

/* The "lru" family (daemon/admin_lru.c). */
enum process_rc admin_lru(struct process_ctx *px, struct request *req,
                          const struct admin_args *a);
/* "slabs reassign|automove" (daemon/admin_slabs.c). */
enum process_rc admin_slabs(struct process_ctx *px, struct request *req,
                            const struct admin_args *a);

/* "watch [stream ...]" (daemon/admin_watch.c). */
enum process_rc admin_watch(struct process_ctx *px, struct request *req,
                            const struct admin_args *a);

/* Reply one line (without "\r\n") unless the request is noreply. */
void admin_reply(struct process_ctx *px, const struct request *req,
                 const char *line);

#endif
