/*
 * text_write.c -- memcached's text protocol, the writer: replies for each
 * result code, STAT lines, END, error lines, and the text_proto table.
 * Calls only proto/ (out_*).  Values up to TEXT_COPY_MAX are copied into
 * the reply (one iovec is cheaper than three for small values); larger ones
 * are referenced, zero-copy.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/out.h"
#include "proto/text.h"

#define E_TOO_LARGE "SERVER_ERROR object too large for cache"

/* ---------------------------------------------------------------- writer */

static const char text_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

size_t
text_u64(char *dst, uint64_t v)
{
    char tmp[20];
    char *p = tmp + sizeof(tmp);
    size_t n;

    if (v < 10) {
        /* flags 0, small lengths: the common case, no staging copy */
        *dst = (char)('0' + v);
        return 1;
    }
    if (v < 1000) {
        if (v < 100) {
            memcpy(dst, text_digits + 2 * v, 2);
            return 2;
        }
        dst[0] = (char)('0' + v / 100);
        memcpy(dst + 1, text_digits + 2 * (v % 100), 2);
        return 3;
    }
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);

        v /= 100;
        p -= 2;
        memcpy(p, text_digits + 2 * r, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, text_digits + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, n);
    return n;
}

/* Append s (n bytes) and "\r\n" as one arena write. */
static void
text_line_out(struct out *o, const char *s, size_t n)
{
    char *w = out_reserve(o, n + 2);

    if (w == NULL) {
        return;
    }
    memcpy(w, s, n);
    w[n] = '\r';
    w[n + 1] = '\n';
    out_commit(o, n + 2);
}

#define TEXT_LINE(s) { s "\r\n", sizeof(s "\r\n") - 1 }

/* The fixed replies, by enum res_code; len 0 means no fixed text. */
static const struct {
    const char *s;
    uint32_t len;
} text_fixed[] = {
    [RES_OK] = TEXT_LINE("OK"),
    [RES_STORED] = TEXT_LINE("STORED"),
    [RES_NOT_STORED] = TEXT_LINE("NOT_STORED"),
    [RES_EXISTS] = TEXT_LINE("EXISTS"),
    [RES_NOT_FOUND] = TEXT_LINE("NOT_FOUND"),
    [RES_DELETED] = TEXT_LINE("DELETED"),
    [RES_TOUCHED] = TEXT_LINE("TOUCHED"),
    [RES_E_TOO_LARGE] = TEXT_LINE(E_TOO_LARGE),
    [RES_E_NOMEM] = TEXT_LINE("SERVER_ERROR out of memory storing object"),
    [RES_E_NON_NUMERIC] = TEXT_LINE("CLIENT_ERROR cannot increment or "
                                    "decrement non-numeric value"),
    [RES_E_UNKNOWN] = TEXT_LINE("ERROR"),
};

/* "VALUE <key> <flags> <bytes>[ <cas>]\r\n" <data> "\r\n" */
static void
text_value(struct out *o, const struct request *req, const struct result *res)
{
    /* "VALUE " key ' ' flags ' ' bytes ' ' cas "\r\n" at their longest */
    size_t head = (size_t)res->nkey + 6 + 1 + 10 + 1 + 10 + 1 + 20 + 2;
    size_t total = 0;
    bool copy;
    char *w, *p;
    uint32_t i;

    for (i = 0; i < res->nslices; i++) {
        total += res->slices[i].len;
    }
    copy = total <= TEXT_COPY_MAX || res->copy_value;
    p = out_reserve(o, head + (copy ? total + 2 : 0));
    if (p == NULL) {
        return;
    }
    w = p;
    memcpy(w, "VALUE ", 6);
    w += 6;
    memcpy(w, res->key, res->nkey);
    w += res->nkey;
    *w++ = ' ';
    w += text_u64(w, res->flags);
    *w++ = ' ';
    w += text_u64(w, res->vlen);
    if (req->want_cas) {
        *w++ = ' ';
        w += text_u64(w, res->cas);
    }
    *w++ = '\r';
    *w++ = '\n';
    if (copy) {
        for (i = 0; i < res->nslices; i++) {
            memcpy(w, res->slices[i].ptr, res->slices[i].len);
            w += res->slices[i].len;
        }
        *w++ = '\r';
        *w++ = '\n';
        out_commit(o, (size_t)(w - p));
        return;
    }
    out_commit(o, (size_t)(w - p));
    for (i = 0; i < res->nslices; i++) {
        out_ref(o, res->slices[i].ptr, res->slices[i].len);
    }
    out_bytes(o, "\r\n", 2);
}

void
text_reply(struct out *o, const struct request *req, const struct result *res)
{
    char *w;
    size_t n;

    /* memcached silences every reply of a noreply command, errors too,
     * and never answers quit */
    if (req->noreply || req->op == REQ_QUIT) {
        return;
    }
    switch (res->code) {
    case RES_VALUE:
        text_value(o, req, res);
        return;
    case RES_MISS:
    case RES_NOOP:
        return;
    case RES_NUMBER:
        w = out_reserve(o, 22);
        if (w != NULL) {
            n = text_u64(w, res->number);
            w[n] = '\r';
            w[n + 1] = '\n';
            out_commit(o, n + 2);
        }
        return;
    case RES_VERSION:
        n = res->msg != NULL ? strlen(res->msg) : 0;
        w = out_reserve(o, n + 10);
        if (w != NULL) {
            memcpy(w, "VERSION ", 8);
            if (n != 0) {
                memcpy(w + 8, res->msg, n);
            }
            w[n + 8] = '\r';
            w[n + 9] = '\n';
            out_commit(o, n + 10);
        }
        return;
    case RES_E_MSG:
        if (res->msg != NULL) {
            text_line_out(o, res->msg, strlen(res->msg));
        }
        return;
    case RES_E_NOMEM:
        if (req->op == REQ_ARITH) {
            /* incr/decr word it differently */
            text_line_out(o, "SERVER_ERROR out of memory", 26);
            return;
        }
        break;
    default:
        break;
    }
    if (res->code < sizeof(text_fixed) / sizeof(text_fixed[0]) &&
        text_fixed[res->code].len != 0) {
        out_bytes(o, text_fixed[res->code].s, text_fixed[res->code].len);
    } else {
        out_bytes(o, "SERVER_ERROR unhandled result\r\n", 31);
    }
}

void
text_stat(struct out *o, const struct request *req, const char *name,
          const char *value)
{
    size_t nn = strlen(name), nv = strlen(value);
    char *w = out_reserve(o, nn + nv + 8);

    (void)req;
    if (w == NULL) {
        return;
    }
    memcpy(w, "STAT ", 5);
    memcpy(w + 5, name, nn);
    w[5 + nn] = ' ';
    memcpy(w + 6 + nn, value, nv);
    w[6 + nn + nv] = '\r';
    w[7 + nn + nv] = '\n';
    out_commit(o, nn + nv + 8);
}

void
text_end(struct out *o, const struct request *req)
{
    char *w = out_reserve(o, 5);

    (void)req;
    if (w == NULL) {
        return;
    }
    /* after nearly every get: the inline reserve, no call to copy 5 bytes */
    memcpy(w, "END\r\n", 5);
    out_commit(o, 5);
}

void
text_error(struct out *o, const struct request *req, const char *line)
{
    if (line == NULL) {
        return;
    }
    /* meta errors are never silenced (meta q), text ones are */
    if (req != NULL && req->proto == PROTO_TEXT && req->noreply) {
        return;
    }
    text_line_out(o, line, strlen(line));
}

const struct proto_ops text_proto = {
    .parse = text_parse,
    .reply = text_reply,
    .stat = text_stat,
    .end = text_end,
    .error = text_error,
};
