/*
 * request.c -- helpers over the protocol-neutral request type.
 *
 * Only the iteration over a text multi-key request lives here: the key
 * tokens stay in the read buffer as the client sent them (separated by one
 * or more spaces) and are walked lazily by the executor, so parsing a
 * 100-key "get" costs no array and no allocation.  Pure functions, no I/O.
 */
#include "proto/request.h"

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
