/*
 * meta_parse.c -- the meta protocol parser (memcached 1.6.18 behaviour).
 *
 * Grammar (tokens are separated by one or more spaces, and only spaces; the
 * line ends with "\n", an "\r" before it is dropped):
 *
 *   mg <key> <flag>*                 meta get
 *   ms <key> <datalen> <flag>*       meta set, then <data block>\r\n
 *   md <key> <flag>*                 meta delete
 *   ma <key> <flag>*                 meta arithmetic
 *   mn [anything]                    meta no-op
 *   me <key> [b]                     meta debug
 *
 *   flag  = letter [argument]      (one token; the letter decides)
 *   letters taking a number: N T R (32-bit signed TTL), F (32-bit unsigned),
 *           C E J D (64-bit unsigned);  M takes one mode character;
 *           O echoes its token (at most 32 bytes with the O);  P and L are
 *           proxy hints, ignored;  b k s t c f v h u l q I x take nothing;
 *           w (mg only, stashd's own) takes a non-negative 32-bit number.
 *
 * Errors are memcached's, checked in memcached's order: too few tokens
 * ("ERROR"), key over 250 bytes, too many tokens, then the flags left to
 * right (a repeated letter or a byte >= 127 is a "duplicate flag", an
 * unknown letter an "invalid flag" at once; a bad argument is remembered and
 * the walk goes on, the last message winning).  md and ma report any flag
 * problem as "invalid or duplicate flag".  An ms rejected after its data
 * length was read swallows the data block.  An over-long opaque on mg or ma
 * is reported by the writer, after the command ran, as memcached does.
 *
 * Nothing here allocates or looks at the store; keys and values point into
 * the caller's buffer (base64 keys are decoded into req->keybuf).
 */
#include "proto/meta.h"

#include <stdint.h>
#include <string.h>

#include "proto/base64.h"

#define META_ERR_FORMAT "CLIENT_ERROR bad command line format"
#define META_ERR_TOKEN "CLIENT_ERROR bad token in command line format"
#define META_ERR_FLAGS_MD_MA "CLIENT_ERROR invalid or duplicate flag"
#define META_ERR_TOO_LARGE "SERVER_ERROR object too large for cache"

/* -I: an ms data block larger than this is refused from its line alone
 * and swallowed, never buffered.  Read-only after meta_setup(). */
static uint32_t meta_item_size_max = META_ITEM_SIZE_MAX_DEFAULT;

void
meta_setup(uint32_t item_size_max)
{
    meta_item_size_max =
        item_size_max != 0 ? item_size_max : META_ITEM_SIZE_MAX_DEFAULT;
}

struct meta_tok {
    const char *p;
    uint32_t n;
};

/* Bytes C's isspace() accepts; only these may end a number inside a token
 * (a token never holds ' ' or '\n'). */
static inline bool
meta_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Scan a decimal number the way strtol/strtoull do: optional white space,
 * optional sign, digits.  The number must be followed by the token's end
 * or white space.  *mag gets the magnitude, *over whether it passed 2^64.
 */
static bool
meta_scan(const char *p, uint32_t n, bool *neg, uint64_t *mag, bool *over)
{
    uint32_t i = 0, start;
    uint64_t v = 0;

    *neg = false;
    *over = false;
    while (i < n && meta_space(p[i])) {
        i++;
    }
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        *neg = p[i] == '-';
        i++;
    }
    start = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *over = true;
        } else {
            v = v * 10 + d;
        }
    }
    if (i == start || (i < n && !meta_space(p[i]))) {
        return false;
    }
    *mag = v;
    return true;
}

/* A 32-bit signed number as memcached reads TTLs and lengths: strtol()
 * into a long, then truncated to 32 bits. */
static bool
meta_i32(const char *p, uint32_t n, int64_t *out)
{
    bool neg, over;
    uint64_t mag, u;
    uint32_t w;

    if (!meta_scan(p, n, &neg, &mag, &over) || over) {
        return false;
    }
    if (neg ? mag > (UINT64_C(1) << 63) : mag > (uint64_t)INT64_MAX) {
        return false;
    }
    u = neg ? 0 - mag : mag;
    w = (uint32_t)u;
    *out = w >= UINT32_C(0x80000000) ? (int64_t)w - INT64_C(0x100000000)
                                     : (int64_t)w;
    return true;
}

/* A 64-bit unsigned number as strtoull() reads it, refusing a negative
 * sign when the result would look negative as a signed number. */
static bool
meta_u64(const char *p, uint32_t n, uint64_t *out)
{
    bool neg, over;
    uint64_t mag, u;

    if (!meta_scan(p, n, &neg, &mag, &over) || over) {
        return false;
    }
    u = neg ? 0 - mag : mag;
    if ((int64_t)u < 0 && memchr(p, '-', n) != NULL) {
        return false;
    }
    *out = u;
    return true;
}

/* A 32-bit unsigned number: strtoul() on a 64-bit long, truncated. */
static bool
meta_u32(const char *p, uint32_t n, uint32_t *out)
{
    uint64_t v;

    if (!meta_u64(p, n, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* Split [p, end) on spaces.  Stores up to max tokens and returns how many
 * there are, counting at most max + 1. */
static unsigned
meta_tokenize(const char *p, const char *end, struct meta_tok *t,
              unsigned max)
{
    unsigned nt = 0;

    while (p < end) {
        const char *s;

        if (*p == ' ') {
            p++;
            continue;
        }
        if (nt == max) {
            return max + 1;
        }
        s = p;
        while (p < end && *p != ' ') {
            p++;
        }
        t[nt].p = s;
        t[nt].n = (uint32_t)(p - s);
        nt++;
    }
    return nt;
}

static int
meta_fail(struct request *req, const char *msg)
{
    req->err = msg;
    return PARSE_ERROR;
}

/*
 * Walk the flag tokens t[first..nt): fill the request, or return -1 with
 * *errstr set.  A repeated or unknown flag stops the walk; a bad argument
 * does not, so a later one may replace the message (memcached's order).
 */
static int
meta_flags(struct request *req, const struct meta_tok *t, unsigned first,
           unsigned nt, const char **errstr)
{
    bool bad = false;
    int64_t wait;

    for (unsigned i = first; i < nt; i++) {
        unsigned char c = (unsigned char)t[i].p[0];
        const char *arg = t[i].p + 1;
        uint32_t alen = t[i].n - 1;
        uint64_t bit;
        size_t dlen;

        if (c >= 127) {
            *errstr = "CLIENT_ERROR duplicate flag";
            return -1;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            *errstr = "CLIENT_ERROR invalid flag";
            return -1;
        }
        bit = META_BIT(c);
        if (req->mflags & bit) {
            *errstr = "CLIENT_ERROR duplicate flag";
            return -1;
        }
        req->mflags |= bit;

        switch (c) {
        case 'b':
            dlen = base64_decode(req->key, req->nkey, req->keybuf,
                                 REQ_KEY_MAX);
            if (dlen == 0) {
                *errstr = "CLIENT_ERROR error decoding key";
                bad = true;
            } else {
                req->keybuf[dlen] = '\0';
                req->key = req->keybuf;
                req->nkey = (uint32_t)dlen;
                req->key_binary = true;
            }
            break;
        case 'N':
            if (!meta_i32(arg, alen, &req->vivify_ttl)) {
                *errstr = META_ERR_TOKEN;
                bad = true;
            }
            break;
        case 'T':
            if (!meta_i32(arg, alen, &req->meta_ttl)) {
                *errstr = META_ERR_TOKEN;
                bad = true;
            }
            break;
        case 'R':
            if (!meta_i32(arg, alen, &req->recache_ttl)) {
                *errstr = META_ERR_TOKEN;
                bad = true;
            }
            break;
        case 'E':
            /* flush_all invalidates by CAS order, so an explicit CAS must
             * leave the counter room: above META_NEW_CAS_MAX it could
             * wrap it (memcached 1.6.18 has no E at all) */
            if (!meta_u64(arg, alen, &req->new_cas) ||
                req->new_cas > META_NEW_CAS_MAX) {
                *errstr = META_ERR_TOKEN;
                bad = true;
            }
            break;
        case 'C':
            if (!meta_u64(arg, alen, &req->cas)) {
                *errstr = META_ERR_TOKEN;
                bad = true;
            }
            break;
        case 'F':
            /* memcached keeps the previous message for a bad F */
            if (!meta_u32(arg, alen, &req->flags)) {
                bad = true;
            }
            break;
        case 'J':
            if (!meta_u64(arg, alen, &req->initial)) {
                *errstr = "CLIENT_ERROR invalid numeric initial value";
                bad = true;
            }
            break;
        case 'D':
            if (!meta_u64(arg, alen, &req->delta)) {
                *errstr = "CLIENT_ERROR invalid numeric delta value";
                bad = true;
            }
            break;
        case 'M':
            if (t[i].n != 2) {
                *errstr = "CLIENT_ERROR incorrect length for M token";
                bad = true;
            } else {
                req->mmode = arg[0];
            }
            break;
        case 'O':
            req->opaque = t[i].p;
            req->opaque_len = (uint8_t)(t[i].n > 255 ? 255 : t[i].n);
            break;
        case 'q':
            req->noreply = true;
            break;
        case 'w':
            /* stashd's server-side wait, mg only (t[0] is the command);
             * memcached knows no w, so elsewhere it stays invalid */
            if (t[0].p[1] != 'g') {
                *errstr = "CLIENT_ERROR invalid flag";
                return -1;
            }
            if (!meta_i32(arg, alen, &wait) || wait < 0) {
                *errstr = META_ERR_TOKEN;
                bad = true;
            } else {
                req->wait_ms = (uint32_t)wait;
            }
            break;
        case 'P': case 'L':             /* proxy hints */
        case 'k': case 's': case 't': case 'c': case 'f':
        case 'v': case 'h': case 'u': case 'l':
        case 'I': case 'x':
            break;
        default:
            *errstr = "CLIENT_ERROR invalid flag";
            return -1;
        }
    }
    return bad ? -1 : 0;
}

/* Record the flag tokens t[first..nt) for the writer to echo. */
static void
meta_keep_tokens(struct request *req, const struct meta_tok *t,
                 unsigned first, unsigned nt, const char *line_end)
{
    if (first < nt) {
        req->mtokens = t[first].p;
        req->mtokens_len = (uint32_t)(line_end - t[first].p);
    }
}

static int
meta_parse_get(struct request *req, const struct meta_tok *t, unsigned nt,
               const char *line_end)
{
    const char *errstr = META_ERR_FORMAT;

    if (nt > META_TOKENS_MAX) {
        return meta_fail(req, "CLIENT_ERROR options flags are too long");
    }
    if (meta_flags(req, t, 2, nt, &errstr) != 0) {
        return meta_fail(req, errstr);
    }
    meta_keep_tokens(req, t, 2, nt, line_end);
    req->op = REQ_GET;
    if (req->mflags & META_BIT('T')) {
        req->touch = true;
        req->exptime = req->meta_ttl;
    }
    return PARSE_OK;
}

static int
meta_parse_delete(struct request *req, const struct meta_tok *t,
                  unsigned nt, const char *line_end)
{
    const char *errstr = META_ERR_FORMAT;

    if (nt > META_TOKENS_MAX) {
        return meta_fail(req, "CLIENT_ERROR options flags too long");
    }
    if (meta_flags(req, t, 2, nt, &errstr) != 0) {
        return meta_fail(req, META_ERR_FLAGS_MD_MA);
    }
    if (req->opaque_len > REQ_OPAQUE_MAX) {
        return meta_fail(req, "CLIENT_ERROR opaque token too long");
    }
    meta_keep_tokens(req, t, 2, nt, line_end);
    req->op = REQ_DELETE;
    req->exptime = req->meta_ttl;
    return PARSE_OK;
}

static int
meta_parse_arith(struct request *req, const struct meta_tok *t, unsigned nt,
                 const char *line_end)
{
    const char *errstr = META_ERR_FORMAT;

    if (nt > META_TOKENS_MAX) {
        return meta_fail(req, "CLIENT_ERROR options flags too long");
    }
    if (meta_flags(req, t, 2, nt, &errstr) != 0) {
        return meta_fail(req, META_ERR_FLAGS_MD_MA);
    }
    switch (req->mmode) {
    case 0:
    case 'I':
    case '+':
        req->mode = REQ_INCR;
        break;
    case 'D':
    case '-':
        req->mode = REQ_DECR;
        break;
    default:
        return meta_fail(req, "CLIENT_ERROR invalid mode for ma M token");
    }
    meta_keep_tokens(req, t, 2, nt, line_end);
    req->op = REQ_ARITH;
    if (!(req->mflags & META_BIT('D'))) {
        req->delta = 1;
    }
    if (req->mflags & META_BIT('N')) {
        req->create = true;
        req->exptime = req->vivify_ttl;
    }
    return PARSE_OK;
}

/*
 * ms: the line has been split; buf/len is the whole input, line_len the
 * bytes up to and including the '\n'.
 */
static int
meta_parse_set(struct request *req, const struct meta_tok *t, unsigned nt,
               const char *line_end, const char *buf, size_t len,
               size_t line_len)
{
    const char *errstr = META_ERR_FORMAT;
    bool bad = false, stream;
    int64_t dlen;
    size_t total;

    if (nt == 2) {
        return meta_fail(req, META_ERR_FORMAT);
    }
    if (nt > META_TOKENS_MAX) {
        return meta_fail(req, "CLIENT_ERROR options flags too long");
    }
    if (!meta_i32(t[2].p, t[2].n, &dlen) || dlen < 0
        || dlen > INT32_MAX - 2) {
        return meta_fail(req, META_ERR_FORMAT);
    }

    /* From here on an error also discards the data block.  A bad opaque
     * is reported only if the mode is fine (memcached's order). */
    req->swallow = (uint64_t)dlen + 2;
    if (meta_flags(req, t, 3, nt, &errstr) != 0) {
        return meta_fail(req, errstr);
    }
    if (req->opaque_len > REQ_OPAQUE_MAX) {
        errstr = "CLIENT_ERROR opaque token too long";
        bad = true;
    }
    switch (req->mmode) {
    case 0:
    case 'S':
        req->mode = REQ_SET;
        break;
    case 'E':
        req->mode = REQ_ADD;
        break;
    case 'A':
        req->mode = REQ_APPEND;
        break;
    case 'P':
        req->mode = REQ_PREPEND;
        break;
    case 'R':
        req->mode = REQ_REPLACE;
        break;
    default:
        return meta_fail(req, "CLIENT_ERROR invalid mode for ms M token");
    }
    if (bad) {
        return meta_fail(req, errstr);
    }
    if ((uint64_t)dlen + 2 > meta_item_size_max) {
        /* as memcached: refused, the block swallowed, and (op, mode, key
         * kept) the executor unlinks the key whatever the mode */
        req->op = REQ_STORE;
        return meta_fail(req, META_ERR_TOO_LARGE);
    }
    req->swallow = 0;

    total = line_len + (size_t)dlen + 2;
    stream = len < total && dlen >= REQ_STREAM_MIN;
    if (len < total && !stream) {
        req->consumed = 0;
        req->need = (uint32_t)total;
        return PARSE_AGAIN;
    }
    if (stream) {
        /* too big to buffer: the caller reads it into the item */
        req->consumed = (uint32_t)line_len;
        req->vtrail = 2;
    } else {
        req->consumed = (uint32_t)total;
        if (buf[total - 2] != '\r' || buf[total - 1] != '\n') {
            /* op and key stay set (see bad_chunk in request.h) */
            req->op = REQ_STORE;
            req->vlen = (uint32_t)dlen;
            req->bad_chunk = true;
            return meta_fail(req, "CLIENT_ERROR bad data chunk");
        }
        req->value = buf + line_len;
    }

    meta_keep_tokens(req, t, 3, nt, line_end);
    req->op = REQ_STORE;
    req->vlen = (uint32_t)dlen;
    req->exptime = req->meta_ttl;
    if (req->mflags & META_BIT('C')) {
        if (req->mode == REQ_SET || req->mode == REQ_REPLACE) {
            req->mode = REQ_CAS;
        } else if (req->mode == REQ_ADD) {
            req->cas = 0;
        }
    }
    return stream ? PARSE_VALUE : PARSE_OK;
}

static int
meta_parse_debug(struct request *req, const struct meta_tok *t, unsigned nt)
{
    size_t dlen;

    if (nt < 2 || t[1].n > REQ_KEY_MAX) {
        return meta_fail(req, META_ERR_FORMAT);
    }
    req->op = REQ_META_DEBUG;
    if (nt > 2 && t[2].n == 1 && t[2].p[0] == 'b') {
        dlen = base64_decode(req->key, req->nkey, req->keybuf, REQ_KEY_MAX);
        if (dlen == 0) {
            return meta_fail(req, META_ERR_FORMAT);
        }
        req->keybuf[dlen] = '\0';
        req->key = req->keybuf;
        req->nkey = (uint32_t)dlen;
        req->key_binary = true;
        req->mflags = META_BIT('b');
    }
    return PARSE_OK;
}

bool
meta_is_command(const char *buf, size_t len)
{
    if (len < 3 || buf[0] != 'm') {
        return false;
    }
    switch (buf[1]) {
    case 'g': case 's': case 'd': case 'a': case 'n': case 'e':
        break;
    default:
        return false;
    }
    return buf[2] == ' ' || buf[2] == '\r' || buf[2] == '\n';
}

int
meta_parse(struct request *req, const char *buf, size_t len)
{
    struct meta_tok t[META_TOKENS_MAX];
    const char *nl, *end, *nul;
    size_t line_len;
    unsigned nt;
    char cmd;

    req_reset(req, PROTO_META);

    nl = memchr(buf, '\n', len);
    if (nl == NULL) {
        if (len > META_LINE_MAX) {
            return PARSE_CLOSE;
        }
        return PARSE_AGAIN;
    }
    line_len = (size_t)(nl - buf) + 1;
    end = nl;
    if (end - buf > 1 && end[-1] == '\r') {
        end--;
    }
    /* as memcached (and the text parser): a NUL byte ends the line */
    nul = memchr(buf, '\0', (size_t)(end - buf));
    if (nul != NULL) {
        end = nul;
    }
    req->consumed = (uint32_t)line_len;

    nt = meta_tokenize(buf, end, t, META_TOKENS_MAX);
    if (nt == 0 || t[0].n != 2 || t[0].p[0] != 'm') {
        return meta_fail(req, "ERROR");
    }
    cmd = t[0].p[1];

    switch (cmd) {
    case 'n':
        req->op = REQ_NOOP;
        return PARSE_OK;
    case 'e':
        if (nt >= 2) {
            req->key = t[1].p;
            req->nkey = t[1].n;
        }
        return meta_parse_debug(req, t, nt);
    case 'g': case 's': case 'd': case 'a':
        break;
    default:
        return meta_fail(req, "ERROR");
    }

    if (nt < 2) {
        return meta_fail(req, "ERROR");
    }
    if (t[1].n > REQ_KEY_MAX) {
        return meta_fail(req, META_ERR_FORMAT);
    }
    req->key = t[1].p;
    req->nkey = t[1].n;

    switch (cmd) {
    case 'g':
        return meta_parse_get(req, t, nt, end);
    case 'd':
        return meta_parse_delete(req, t, nt, end);
    case 'a':
        return meta_parse_arith(req, t, nt, end);
    default:
        return meta_parse_set(req, t, nt, end, buf, len, line_len);
    }
}
