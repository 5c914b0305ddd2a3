/*
 * meta_write.c -- the meta protocol writer: meta_proto.
 *
 * Reply lines, byte for byte as memcached 1.6.18 writes them:
 *
 *   mg  hit   VA <vlen> <flags>\r\n<data>\r\n     (v asked)
 *             HD <flags>\r\n                      (no v)
 *       miss  EN <O k>\r\n                        (nothing under q)
 *   ms        HD|NS|EX|NF <O k c>\r\n             (HD hidden under q)
 *   md        HD|NF|EX <O k>\r\n                  (HD hidden under q)
 *   ma  ok    VA <len> <c t O k>\r\n<number>\r\n  (v asked)
 *             HD <c t O k>\r\n                    (both hidden under q
 *                                                  unless the key was made)
 *       else  NF|EX|NS <O k>\r\n
 *   mn        MN\r\n
 *   me  hit   ME <key> exp=.. la=.. cas=.. fetch=yes|no cls=.. size=..\r\n
 *       miss  EN\r\n
 *
 * Return flags are written in the order the client sent them, by walking
 * req->mtokens again; an mg hit then gets Z (win token already out), X
 * (stale) and W (you won), in that order.  k writes the key, base64 with a
 * following " b" when it is binary.  Errors always reach the client.
 * Numbers are formatted here, without stdio, into one reserved arena block.
 */
#include "proto/meta.h"

#include <stdint.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/text.h"

#define META_CRLF "\r\n"

/* Write v in decimal at p; returns the end. */
static char *
meta_put_u64(char *p, uint64_t v)
{
    return p + text_u64(p, v);
}

static char *
meta_put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return meta_put_u64(p, 0 - (uint64_t)v);
    }
    return meta_put_u64(p, (uint64_t)v);
}

static char *
meta_put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* The key a reply echoes: the stored one for hits, else the request's. */
struct meta_key {
    const char *p;
    uint32_t n;
    bool binary;
};

static char *
meta_put_key(char *p, const struct meta_key *k)
{
    if (k->binary) {
        return p + base64_encode(k->p, k->n, p);
    }
    return meta_put(p, k->p, k->n);
}

/*
 * Append " <flag><value>" for each request flag token whose letter is in
 * `want` (a META_BIT set), in request order.
 */
static char *
meta_put_flags(char *p, const struct request *req, const struct result *res,
               const struct meta_key *key, uint64_t want)
{
    const char *s = req->mtokens;
    const char *end;

    if (s == NULL) {
        return p;
    }
    end = s + req->mtokens_len;
    while (s < end) {
        const char *tok;
        unsigned char c;

        if (*s == ' ') {
            s++;
            continue;
        }
        tok = s;
        while (s < end && *s != ' ') {
            s++;
        }
        c = (unsigned char)tok[0];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            || !(want & META_BIT(c))) {
            continue;
        }
        *p++ = ' ';
        switch (c) {
        case 'O':
            p = meta_put(p, tok, (size_t)(s - tok));
            break;
        case 'k':
            *p++ = 'k';
            p = meta_put_key(p, key);
            if (key->binary) {
                p = meta_put(p, " b", 2);
            }
            break;
        case 'c':
            *p++ = 'c';
            p = meta_put_u64(p, res->cas);
            break;
        case 's':
            *p++ = 's';
            p = meta_put_u64(p, res->vlen);
            break;
        case 't':
            *p++ = 't';
            p = meta_put_i64(p, res->ttl_left);
            break;
        case 'f':
            *p++ = 'f';
            p = meta_put_u64(p, res->flags);
            break;
        case 'l':
            *p++ = 'l';
            p = meta_put_u64(p, res->last_access);
            break;
        case 'h':
            *p++ = 'h';
            *p++ = res->fetched ? '1' : '0';
            break;
        default:
            p--;
            break;
        }
    }
    return p;
}

/* Upper bound of a reply line: status, up to seven numeric flags, the
 * echoed opaque (part of mtokens), the key (base64 at worst) and W/X/Z. */
static size_t
meta_line_bound(const struct request *req, const struct meta_key *key)
{
    return 64 + req->mtokens_len + base64_encoded_len(key->n) + 7 * 24;
}

/* The error line for an executor error code. */
static const char *
meta_error_text(const struct request *req, const struct result *res)
{
    switch (res->code) {
    case RES_E_TOO_LARGE:
        return "SERVER_ERROR object too large for cache";
    case RES_E_NOMEM:
        return req->op == REQ_STORE
                   ? "SERVER_ERROR out of memory storing object"
                   : "SERVER_ERROR out of memory";
    case RES_E_NON_NUMERIC:
        return "CLIENT_ERROR cannot increment or decrement non-numeric value";
    case RES_E_MSG:
        return res->msg != NULL ? res->msg : "SERVER_ERROR";
    default:
        return "ERROR";
    }
}

static void
meta_line(struct out *o, const char *s)
{
    out_str(o, s);
    out_bytes(o, META_CRLF, 2);
}

/* Two-letter status for a non-value outcome. */
static const char *
meta_status(uint8_t code)
{
    switch (code) {
    case RES_NOT_STORED:
        return "NS";
    case RES_EXISTS:
        return "EX";
    case RES_NOT_FOUND:
        return "NF";
    case RES_MISS:
        return "EN";
    default:
        return "HD";
    }
}

/* q hides the nominal outcome of each command, never an error. */
static bool
meta_quiet(const struct request *req, const struct result *res)
{
    if (!req->noreply) {
        return false;
    }
    switch (req->op) {
    case REQ_GET:
        return res->code == RES_MISS;
    case REQ_STORE:
        return res->code == RES_STORED;
    case REQ_DELETE:
        return res->code == RES_DELETED || res->code == RES_OK;
    case REQ_ARITH:
        return res->code == RES_NUMBER && !res->created;
    default:
        return false;
    }
}

static void
meta_reply_debug(struct out *o, const struct request *req,
                 const struct result *res)
{
    struct meta_key key = {res->key, res->nkey, res->key_binary};
    char *start, *p;

    if (res->code != RES_VALUE) {
        meta_line(o, "EN");
        return;
    }
    if (key.p == NULL) {
        /* no stored key given: echo the request's, base64 if it came so */
        key.p = req->key;
        key.n = req->nkey;
        key.binary = req->key_binary;
    }
    p = start = out_reserve(o, 160 + base64_encoded_len(key.n));
    if (p == NULL) {
        return;
    }
    p = meta_put(p, "ME ", 3);
    p = meta_put_key(p, &key);
    /* memcached prints exp as now - expiry: minus the TTL left */
    p = meta_put(p, " exp=", 5);
    p = meta_put_i64(p, res->ttl_left == -1 ? -1 : -res->ttl_left);
    p = meta_put(p, " la=", 4);
    p = meta_put_u64(p, res->last_access);
    p = meta_put(p, " cas=", 5);
    p = meta_put_u64(p, res->cas);
    p = res->fetched ? meta_put(p, " fetch=yes", 10)
                     : meta_put(p, " fetch=no", 9);
    p = meta_put(p, " cls=", 5);
    p = meta_put_u64(p, res->slab_class);
    p = meta_put(p, " size=", 6);
    p = meta_put_u64(p, res->item_size);
    p = meta_put(p, META_CRLF, 2);
    out_commit(o, (size_t)(p - start));
}

static void
meta_reply_get(struct out *o, const struct request *req,
               const struct result *res)
{
    struct meta_key key = {req->key, req->nkey, req->key_binary};
    bool value = (req->mflags & META_BIT('v')) != 0;
    uint64_t want;
    char *start, *p;

    if (res->code == RES_VALUE && res->key != NULL) {
        key.p = res->key;
        key.n = res->nkey;
        key.binary = res->key_binary;
    }
    p = start = out_reserve(o, meta_line_bound(req, &key));
    if (p == NULL) {
        return;
    }
    if (res->code != RES_VALUE) {
        p = meta_put(p, "EN", 2);
        want = META_BIT('O') | META_BIT('k');
        p = meta_put_flags(p, req, res, &key, want);
        p = meta_put(p, META_CRLF, 2);
        out_commit(o, (size_t)(p - start));
        return;
    }

    if (value) {
        p = meta_put(p, "VA ", 3);
        p = meta_put_u64(p, res->vlen);
    } else {
        p = meta_put(p, "HD", 2);
    }
    want = META_BIT('s') | META_BIT('t') | META_BIT('c') | META_BIT('f')
           | META_BIT('l') | META_BIT('h') | META_BIT('O') | META_BIT('k');
    p = meta_put_flags(p, req, res, &key, want);
    if (res->lease_lost) {
        p = meta_put(p, " Z", 2);
    }
    if (res->stale) {
        p = meta_put(p, " X", 2);
    }
    if (res->win) {
        p = meta_put(p, " W", 2);
    }
    p = meta_put(p, META_CRLF, 2);
    out_commit(o, (size_t)(p - start));

    if (value) {
        for (uint32_t i = 0; i < res->nslices; i++) {
            if (res->copy_value) {
                out_bytes(o, res->slices[i].ptr, res->slices[i].len);
            } else {
                out_ref(o, res->slices[i].ptr, res->slices[i].len);
            }
        }
        out_bytes(o, META_CRLF, 2);
    }
}

/* ms, md and ma: a status line echoing some flags, plus ma's number. */
static void
meta_reply_status(struct out *o, const struct request *req,
                  const struct result *res)
{
    struct meta_key key = {req->key, req->nkey, req->key_binary};
    struct result shown = *res;
    uint64_t want = META_BIT('O') | META_BIT('k');
    bool number = false, value = false;
    char *start, *p;

    switch (req->op) {
    case REQ_STORE:
        want |= META_BIT('c');
        /* memcached reports c0 when nothing was stored */
        if (res->code != RES_STORED) {
            shown.cas = 0;
        }
        break;
    case REQ_ARITH:
        if (res->code == RES_NUMBER) {
            want |= META_BIT('c') | META_BIT('t');
            number = true;
            value = (req->mflags & META_BIT('v')) != 0;
        }
        break;
    default:
        break;
    }

    p = start = out_reserve(o, meta_line_bound(req, &key) + 48);
    if (p == NULL) {
        return;
    }
    if (value) {
        char digits[20];
        char *d = meta_put_u64(digits, res->number);

        p = meta_put(p, "VA ", 3);
        p = meta_put_u64(p, (uint64_t)(d - digits));
        p = meta_put_flags(p, req, &shown, &key, want);
        p = meta_put(p, META_CRLF, 2);
        p = meta_put(p, digits, (size_t)(d - digits));
    } else {
        p = meta_put(p, number ? "HD" : meta_status(res->code), 2);
        p = meta_put_flags(p, req, &shown, &key, want);
    }
    p = meta_put(p, META_CRLF, 2);
    out_commit(o, (size_t)(p - start));
}

static void
meta_reply(struct out *o, const struct request *req, const struct result *res)
{
    if (res->code >= RES_E_TOO_LARGE) {
        meta_line(o, meta_error_text(req, res));
        return;
    }
    if (res->code == RES_NOOP || req->op == REQ_NOOP) {
        out_bytes(o, "MN" META_CRLF, 4);
        return;
    }
    if (req->op == REQ_META_DEBUG) {
        meta_reply_debug(o, req, res);
        return;
    }
    /* mg and ma look at the opaque only when they answer, after running */
    if ((req->op == REQ_GET || req->op == REQ_ARITH)
        && req->opaque_len > REQ_OPAQUE_MAX) {
        meta_line(o, "CLIENT_ERROR opaque token too long");
        return;
    }
    if (meta_quiet(req, res)) {
        return;
    }
    if (req->op == REQ_GET) {
        meta_reply_get(o, req, res);
    } else {
        meta_reply_status(o, req, res);
    }
}

static void
meta_end(struct out *o, const struct request *req)
{
    (void)o;
    (void)req;
}

/* STAT and error lines are the text protocol's bytes; text_error silences
 * only text noreply requests, never meta ones. */
const struct proto_ops meta_proto = {
    .parse = meta_parse,
    .reply = meta_reply,
    .stat = text_stat,
    .end = meta_end,
    .error = text_error,
};
