/*
 * text_auth.c -- the one request a text connection may send under -Y.
 *
 * Grammar (memcached 1.6.18's ascii authentication):
 *
 *   auth   = line data
 *   line   = "set" SP key SP flags SP exptime SP bytes *(SP token) LF
 *            (tokens split on single spaces; key, flags and exptime are
 *            not looked at; bytes is read as memcached's safe_strtoul:
 *            decimal, kept to 32 bits, ended by the token's end or a
 *            space character such as the line's "\r")
 *   data   = <bytes> octets CR LF, the first two space-separated tokens
 *            of which are the user name and the password
 *
 * Replies, memcached's: any other line, meta commands included, is
 * "CLIENT_ERROR unauthenticated"; data not ended by "\r\n" is "CLIENT_ERROR
 * bad command line termination"; data with fewer than two tokens is
 * "CLIENT_ERROR bad authentication token format".  The executor answers
 * the rest ("STORED" or "CLIENT_ERROR authentication failure").  "noreply"
 * changes nothing.  A line over TEXT_LINE_MAX bytes without newline
 * closes the connection, as memcached.
 * Deliberate difference: data longer than TEXT_AUTH_DATA_MAX is not
 * buffered (memcached waits for it all): it is a failed attempt, and
 * swallowed.  Only proto/ headers are used here.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "proto/request.h"
#include "proto/text.h"

#define TEXT_AUTH_TOKENS 5

/* Split [p, end) on single spaces into at most max tokens, skipping
 * empty ones; the number found. */
static size_t
text_auth_tokens(const char *p, const char *end, const char **tok,
                 size_t *ntok, size_t max)
{
    size_t n = 0;

    while (p < end && n < max) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *e = sp != NULL ? sp : end;

        if (e > p) {
            tok[n] = p;
            ntok[n] = (size_t)(e - p);
            n++;
        }
        p = e + 1;
    }
    return n;
}

/* memcached's safe_strtoul on a token: digits (an optional '+'), then the
 * token's end or a space character; the value kept to 32 bits. */
static bool
text_auth_bytes(const char *p, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    size_t i = 0;

    if (i < n && p[i] == '+') {
        i++;
    }
    if (i == n || p[i] < '0' || p[i] > '9') {
        return false;
    }
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(p[i] - '0');

        if (v > (UINT64_MAX - d) / 10) {
            return false; /* strtoul's ERANGE */
        }
        v = v * 10 + d;
    }
    if (i < n && !(p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r'))) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int
text_auth_fail(struct request *req, const char *err, size_t consumed)
{
    req->err = err;
    req->consumed = (uint32_t)consumed;
    return PARSE_ERROR;
}

int
text_auth_parse(struct request *req, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);
    const char *tok[TEXT_AUTH_TOKENS];
    size_t ntok[TEXT_AUTH_TOKENS];
    const char *data, *dend, *nul;
    size_t line, total;
    uint32_t bytes;

    req_reset(req, PROTO_TEXT);
    if (nl == NULL) {
        if (len > TEXT_LINE_MAX) {
            return PARSE_CLOSE;
        }
        req->need = 0;
        return PARSE_AGAIN;
    }
    line = (size_t)(nl - buf) + 1;
    if (text_auth_tokens(buf, nl, tok, ntok, TEXT_AUTH_TOKENS) <
            TEXT_AUTH_TOKENS ||
        ntok[0] != 3 || memcmp(tok[0], "set", 3) != 0 ||
        !text_auth_bytes(tok[4], ntok[4], &bytes)) {
        return text_auth_fail(req, "CLIENT_ERROR unauthenticated", line);
    }
    req->op = REQ_AUTH;
    if (bytes > TEXT_AUTH_DATA_MAX) {
        /* op stays REQ_AUTH: the executor counts a failed attempt */
        req->swallow = (uint64_t)bytes + 2;
        return text_auth_fail(req, "CLIENT_ERROR authentication failure",
                              line);
    }
    total = line + bytes + 2;
    if (len < total) {
        req->op = REQ_NONE;
        req->need = (uint32_t)total;
        return PARSE_AGAIN;
    }
    data = buf + line;
    if (memcmp(data + bytes, "\r\n", 2) != 0) {
        req->op = REQ_NONE;
        return text_auth_fail(req, "CLIENT_ERROR bad command line "
                                   "termination", total);
    }
    /* memcached reads the data as a C string: a NUL ends it */
    nul = memchr(data, '\0', bytes);
    dend = nul != NULL ? nul : data + bytes;
    if (text_auth_tokens(data, dend, tok, ntok, 2) < 2) {
        req->op = REQ_NONE;
        return text_auth_fail(req, "CLIENT_ERROR bad authentication token "
                                   "format", total);
    }
    req->key = tok[0];
    req->nkey = (uint32_t)ntok[0];
    req->value = tok[1];
    req->vlen = (uint32_t)ntok[1];
    req->consumed = (uint32_t)total;
    return PARSE_OK;
}
