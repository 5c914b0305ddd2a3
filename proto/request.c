/*
 * request.c -- helpers over the protocol-neutral request type.
 *
 * Only the iteration over a text multi-key request lives here: the key
 * tokens stay in the read buffer as the client sent them (separated by one
 * or more spaces) and are walked lazily by the executor, so parsing a
 * 100-key "get" costs no array and no allocation.  Pure functions, no I/O.
 * req_move() lets a caller keep a parsed header past its read buffer (a
 * value streamed into its item, PARSE_VALUE).
 */
#include "proto/request.h"

#include <string.h>

bool
req_next_key(const struct request *req, uint32_t *pos, const char **key,
             uint32_t *nkey)
{
    const char *s = req->keys;
    uint32_t i = *pos;
    uint32_t n = req->keys_len;
    uint32_t start;

    if (s == NULL) {
        return false;
    }
    while (i < n && s[i] == ' ') {
        i++;
    }
    if (i >= n) {
        *pos = n;
        return false;
    }
    start = i;
    while (i < n && s[i] != ' ') {
        i++;
    }
    *key = s + start;
    *nkey = i - start;
    *pos = i;
    return true;
}

/* p moved from old[0..n) to to[0..n), or p itself when outside. */
static const char *
req_rebase(const char *p, const char *old, size_t n, const char *to)
{
    if (p == NULL || p < old || p > old + n) {
        return p;
    }
    return to + (p - old);
}

void
req_move(struct request *dst, const struct request *src, const char *old,
         size_t n, const char *to)
{
    memcpy(dst, src, sizeof(*dst));
    if (src->key == src->keybuf) {
        dst->key = dst->keybuf;
    } else {
        dst->key = req_rebase(src->key, old, n, to);
    }
    dst->keys = req_rebase(src->keys, old, n, to);
    dst->value = req_rebase(src->value, old, n, to);
    dst->mtokens = req_rebase(src->mtokens, old, n, to);
    dst->opaque = req_rebase(src->opaque, old, n, to);
}
