/*
 * text_parse.c -- memcached's text protocol, the parser (text_parse).  The
 * writer is text_write.c.  Calls only proto/ (meta_parse for meta lines).
 *
 * Grammar, as memcached 1.6.18 reads it.  A line ends at "\n"; a "\r" right
 * before it is dropped; a NUL byte ends the line early.  Tokens are
 * separated by one or more ' ' (a tab is part of a token).  Numbers are
 * read like strtoul/strtol (leading white space, a sign, then digits that
 * may be followed by white space inside the token) and then truncated to
 * 32 bits where memcached keeps 32 bits.
 *
 *   get-line   = ("get" | "bget" | "gets") 1*(SP key) EOL
 *              | ("gat" | "gats") SP exptime *(SP key) EOL
 *   store-line = ("set" | "add" | "replace" | "append" | "prepend")
 *                SP key SP flags SP exptime SP bytes [SP last] EOL
 *              | "cas" SP key SP flags SP exptime SP bytes SP cas [SP last] EOL
 *   request    = store-line data-block "\r\n"     ; data-block = <bytes>
 *              | ("incr" | "decr") SP key SP delta [SP last] EOL
 *              | "delete" SP key [SP "0"] [SP "noreply"] EOL
 *              | "touch" SP key SP exptime [SP last] EOL
 *              | "flush_all" [SP delay] [SP "noreply"] EOL
 *              | "verbosity" SP level [SP last] EOL
 *              | "cache_memlimit" SP mib [SP last] EOL
 *              | "stats" *(SP arg) EOL | "version" *(SP any) EOL
 *              | ("lru" | "lru_crawler" | "slabs" | "watch" | "refresh_certs")
 *                *(SP arg) EOL
 *                  ; REQ_ADMIN, arguments read by the executor
 *              | "quit" *(SP any) EOL | "shutdown" [SP "graceful"] EOL
 *              | "debugtime" SP (seconds | "p" | "r") EOL
 *              | ("mg" | "ms" | "md" | "ma" | "mn" | "me") ...  -> meta.c
 *   last       = "noreply" silences the reply; any other optional last
 *                token is ignored, as memcached ignores it
 *
 * Hot path: one memchr for the line end, then one pass over the bytes of
 * the line for the tokens (which also finds a NUL); no allocation, no
 * copies.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/meta.h"
#include "proto/text.h"

#define TEXT_ARGS 8           /* stored argument tokens; "cas" needs 6 */
#define TEXT_LEAD_MAX 100     /* leading spaces memcached tolerates */
#define TEXT_MEMCACHED_TOKENS 24 /* memcached's MAX_TOKENS */

#define E_ERROR "ERROR"
#define E_FORMAT "CLIENT_ERROR bad command line format"
#define E_CHUNK "CLIENT_ERROR bad data chunk"
#define E_EXPTIME "CLIENT_ERROR invalid exptime argument"
#define E_DELTA "CLIENT_ERROR invalid numeric delta argument"
#define E_DELETE                                                             \
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
#define E_TOO_LARGE "SERVER_ERROR object too large for cache"
#define E_MEM_SMALL "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m"
#define E_MEM_BYTES "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes"

/* Read-only after text_setup(). */
static uint32_t text_item_size_max = TEXT_ITEM_SIZE_MAX_DEFAULT;

void
text_setup(uint32_t item_size_max)
{
    text_item_size_max =
        item_size_max != 0 ? item_size_max : TEXT_ITEM_SIZE_MAX_DEFAULT;
}

void
text_teardown(void)
{
    text_item_size_max = TEXT_ITEM_SIZE_MAX_DEFAULT;
}

/* ---------------------------------------------------------------- parser */

struct text_tok {
    const char *p;
    uint32_t n;
};

/* The line being parsed. */
struct text_line {
    const char *buf;        /* start of the request */
    size_t len;             /* bytes available from buf */
    const char *args;       /* first byte after the command token */
    const char *end;        /* end of the content; *end is \r, \n or \0 */
    uint32_t linelen;       /* bytes of the line, "\n" included */
};

static inline bool
text_isspace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool
text_tok_is(const struct text_tok *t, const char *s, uint32_t n)
{
    return t->n == n && memcmp(t->p, s, n) == 0;
}

/*
 * The next token from *pp, false at the end of the line.  A NUL byte ends
 * the line where it is found (memcached strlen()s the line), so no
 * separate pass looks for one.
 */
static inline bool
text_next(struct text_line *l, const char **pp, struct text_tok *t)
{
    const char *p = *pp;
    const char *end = l->end;

    while (p < end && *p == ' ') {
        p++;
    }
    if (p == end || *p == '\0') {
        l->end = p;
        *pp = p;
        return false;
    }
    t->p = p;
    /* *l->end is '\r', '\n' or '\0' (see text_parse), never above ' ':
     * printable bytes need no bound check; the rest take the exact test */
    while ((unsigned char)*p > ' ') {
        p++;
    }
    while (p < end && *p != ' ' && *p != '\0') {
        p++;
    }
    t->n = (uint32_t)(p - t->p);
    if (p < end && *p == '\0') {
        l->end = p;
    }
    *pp = p;
    return true;
}

/*
 * Split the arguments into tokens, storing at most max; returns how many
 * were found, max + 1 meaning "more than max".
 */
static uint32_t
text_tokens(struct text_line *l, struct text_tok *t, uint32_t max)
{
    const char *p = l->args;
    struct text_tok extra;
    uint32_t n = 0;

    while (n < max && text_next(l, &p, &t[n])) {
        n++;
    }
    if (n == max && text_next(l, &p, &extra)) {
        return max + 1;
    }
    return n;
}

/* memcached's set_noreply_maybe(): the last token decides. */
static inline bool
text_noreply(const struct text_tok *t, uint32_t n)
{
    return n > 0 && n <= TEXT_ARGS && text_tok_is(&t[n - 1], "noreply", 7);
}

/* A number as strtoul()/strtol() see it, before range rules. */
struct text_num {
    uint64_t mag;
    bool neg;
    bool range;             /* the magnitude overflowed 64 bits */
};

/* False when memcached's safe_strto*() would reject the token's syntax. */
static bool
text_scan(const struct text_tok *t, struct text_num *v)
{
    const char *p = t->p;
    const char *e = t->p + t->n;
    const char *digits;
    uint64_t mag = 0;

    v->neg = false;
    v->range = false;
    if (t->n - 1 < 19) {
        /* the common token: 1..19 plain digits, which cannot overflow
         * 64 bits, so no per-digit range check */
        while (p < e && (unsigned)(*p - '0') < 10) {
            mag = mag * 10 + (unsigned)(*p - '0');
            p++;
        }
        if (p == e) {
            v->mag = mag;
            return true;
        }
        p = t->p;
        mag = 0;
    }
    while (p < e && text_isspace(*p)) {
        p++;
    }
    if (p < e && (*p == '+' || *p == '-')) {
        v->neg = *p == '-';
        p++;
    }
    digits = p;
    while (p < e && (unsigned)(*p - '0') < 10) {
        unsigned d = (unsigned)(*p - '0');

        if (mag > (UINT64_MAX - d) / 10) {
            v->range = true;
        } else {
            mag = mag * 10 + d;
        }
        p++;
    }
    if (p == digits || (p < e && !text_isspace(*p))) {
        return false;
    }
    v->mag = mag;
    return true;
}

/* safe_strtoull(): negative only when small enough to wrap silently. */
static bool
text_u64v(const struct text_tok *t, uint64_t *out)
{
    struct text_num v;
    uint64_t x;

    if (!text_scan(t, &v) || v.range) {
        return false;
    }
    x = v.neg ? (uint64_t)0 - v.mag : v.mag;
    if (v.neg && (x >> 63) != 0) {
        return false;
    }
    *out = x;
    return true;
}

/* safe_strtoul(): as above, then kept in 32 bits. */
static bool
text_u32(const struct text_tok *t, uint32_t *out)
{
    uint64_t x;

    if (!text_u64v(t, &x)) {
        return false;
    }
    *out = (uint32_t)x;
    return true;
}

/* safe_strtoll(): strtol's range, no other check. */
static bool
text_s64(const struct text_tok *t, int64_t *out)
{
    struct text_num v;

    if (!text_scan(t, &v) || v.range) {
        return false;
    }
    if (!v.neg) {
        if (v.mag > (uint64_t)INT64_MAX) {
            return false;
        }
        *out = (int64_t)v.mag;
    } else if (v.mag > (uint64_t)INT64_MAX + 1) {
        return false;
    } else if (v.mag == (uint64_t)INT64_MAX + 1) {
        *out = INT64_MIN;
    } else {
        *out = -(int64_t)v.mag;
    }
    return true;
}

/* safe_strtol(): strtol's 64-bit range, then kept in 32 bits. */
static bool
text_s32(const struct text_tok *t, int32_t *out)
{
    int64_t x;
    uint32_t lo;

    if (!text_s64(t, &x)) {
        return false;
    }
    lo = (uint32_t)(uint64_t)x;
    *out = lo <= (uint32_t)INT32_MAX ? (int32_t)lo
                                     : -(int32_t)(~lo) - 1;
    return true;
}

static int
text_fail(struct request *req, const char *err)
{
    req->op = REQ_NONE;
    req->err = err;
    return PARSE_ERROR;
}

/* No newline yet: wait, unless memcached would give up on the line. */
static int
text_partial(struct request *req, const char *buf, size_t len)
{
    size_t i = 0;

    if (len <= TEXT_LINE_MAX) {
        return PARSE_AGAIN;
    }
    while (i < len && buf[i] == ' ') {
        i++;
    }
    if (i <= TEXT_LEAD_MAX &&
        ((len - i >= 4 && memcmp(buf + i, "get ", 4) == 0) ||
         (len - i >= 5 && memcmp(buf + i, "gets ", 5) == 0))) {
        return PARSE_AGAIN;
    }
    req->err = NULL;
    return PARSE_CLOSE;
}

/*
 * The head of a get/gets line whose newline has not come: every key but
 * the last token can run now.  The last token stays (it may be partial,
 * and a line must keep one key so that its end still answers END), with
 * the one separator after it (' ' or the NUL that ends the line early);
 * what follows that separator is blanks or, after a NUL, ignored bytes.
 */
int
text_parse_get_head(struct request *req, const char *buf, size_t len)
{
    const char *end = buf + len;
    const char *p = buf;
    const char *first = NULL, *last = NULL, *tail = NULL, *tail_end = NULL;
    bool cas;

    req_reset(req, PROTO_TEXT);
    while (p < end && *p == ' ') {
        p++;
    }
    if (p - buf > TEXT_LEAD_MAX || memchr(p, '\n', (size_t)(end - p))) {
        return PARSE_AGAIN;
    }
    if (end - p >= 4 && memcmp(p, "get ", 4) == 0) {
        cas = false;
        p += 4;
    } else if (end - p >= 5 && memcmp(p, "gets ", 5) == 0) {
        cas = true;
        p += 5;
    } else {
        return PARSE_AGAIN;
    }
    if (end[-1] == '\r') {
        /* maybe the line's end: "\r\n" drops it, so it is no token */
        end--;
    }
    for (;;) {
        const char *t;

        while (p < end && *p == ' ') {
            p++;
        }
        if (p == end || *p == '\0') {
            break;
        }
        t = p;
        while (p < end && *p != ' ' && *p != '\0') {
            p++;
        }
        if (tail != NULL) {
            first = first != NULL ? first : tail;
            last = tail_end;
        }
        if ((size_t)(p - t) > REQ_KEY_MAX) {
            if (first == NULL) {
                return text_fail(req, E_FORMAT);
            }
            /* the keys before it still count, as in text_get */
            req->op = REQ_GET;
            req->want_cas = cas;
            req->keys = first;
            req->keys_len = (uint32_t)(last - first);
            req->keys_then_error = true;
            req->err = E_FORMAT;
            return PARSE_ERROR;
        }
        tail = t;
        tail_end = p;
    }
    req->op = REQ_GET;
    req->want_cas = cas;
    req->more = true;
    /* the keys that run: from the first token to the one before tail */
    req->keys = first != NULL ? first : end;
    req->keys_len = first != NULL ? (uint32_t)(last - first) : 0;
    req->consumed = (uint32_t)((tail != NULL ? tail : p) - buf);
    req->keep = tail != NULL ? (uint32_t)(tail_end - tail) : 0;
    /* then what must follow the kept token: a separator (a NUL ends the
     * line: what comes after it is ignored up to the newline), and the
     * "\r" that may end the line */
    if (p < end && *p == '\0') {
        req->keep_trail[req->nkeep_trail++] = '\0';
    } else if (tail != NULL && tail_end < end) {
        req->keep_trail[req->nkeep_trail++] = ' ';
    }
    if (end < buf + len) {
        req->keep_trail[req->nkeep_trail++] = '\r';
    }
    return PARSE_OK;
}

size_t
text_get_continue(char *line, const struct request *req)
{
    const char *cmd = req->want_cas ? "gets " : "get ";
    size_t n = req->want_cas ? 5 : 4;

    memcpy(line + req->consumed - n, cmd, n);
    memcpy(line + req->consumed + req->keep, req->keep_trail,
           req->nkeep_trail);
    return req->consumed - n;
}

/* get, bget, gets, gat, gats */
static int
text_get(struct request *req, struct text_line *l, bool cas, bool touch)
{
    const char *p = l->args;
    const char *first = NULL;
    const char *last = NULL;
    struct text_tok t;

    if (!text_next(l, &p, &t)) {
        return text_fail(req, E_ERROR);
    }
    if (touch) {
        int32_t exptime;

        if (!text_s32(&t, &exptime)) {
            return text_fail(req, E_EXPTIME);
        }
        req->exptime = exptime;
        req->touch = true;
        if (!text_next(l, &p, &t)) {
            t.n = 0;
        }
    }
    req->want_cas = cas;
    while (t.n != 0) {
        if (t.n > REQ_KEY_MAX) {
            if (first == NULL) {
                return text_fail(req, E_FORMAT);
            }
            /* the keys before it still count (see keys_then_error) */
            req->op = REQ_GET;
            req->keys = first;
            req->keys_len = (uint32_t)(last - first);
            req->keys_then_error = true;
            req->err = E_FORMAT;
            return PARSE_ERROR;
        }
        if (first == NULL) {
            first = t.p;
            req->key = t.p;
            req->nkey = t.n;
        }
        last = t.p + t.n;
        if (!text_next(l, &p, &t)) {
            break;
        }
    }
    req->op = REQ_GET;
    /* never NULL, so "gat 10" iterates zero keys */
    req->keys = first != NULL ? first : l->end;
    req->keys_len = first != NULL ? (uint32_t)(last - first) : 0;
    return PARSE_OK;
}

static int text_store_block(struct request *req, const struct text_line *l,
                            uint8_t mode, const struct text_tok *key,
                            int32_t vlen);

/* set, add, replace, append, prepend, cas, and their data block */
static int
text_store(struct request *req, struct text_line *l, uint8_t mode)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);
    bool cas = mode == REQ_CAS;
    uint32_t flags;
    int32_t exptime, vlen;
    uint64_t cas_unique = 0;

    if (cas ? (n != 5 && n != 6) : (n != 4 && n != 5)) {
        return text_fail(req, E_ERROR);
    }
    req->noreply = text_noreply(t, n);
    if (t[0].n > REQ_KEY_MAX) {
        return text_fail(req, E_FORMAT);
    }
    if (!text_u32(&t[1], &flags) || !text_s32(&t[2], &exptime) ||
        !text_s32(&t[3], &vlen)) {
        return text_fail(req, E_FORMAT);
    }
    if (cas && !text_u64v(&t[4], &cas_unique)) {
        return text_fail(req, E_FORMAT);
    }
    if (vlen < 0 || vlen > INT32_MAX - 2) {
        return text_fail(req, E_FORMAT);
    }
    req->flags = flags;
    req->exptime = exptime;
    req->cas = cas_unique;
    return text_store_block(req, l, mode, &t[0], vlen);
}

/*
 * The storage header is valid (flags, exptime and cas are in req): set
 * the request and find its data block after the line.
 */
static int
text_store_block(struct request *req, const struct text_line *l,
                 uint8_t mode, const struct text_tok *key, int32_t vlen)
{
    size_t total, avail;

    req->op = REQ_STORE;
    req->mode = mode;
    req->key = key->p;
    req->nkey = key->n;

    total = (size_t)vlen + 2;
    avail = l->len - l->linelen;
    if (total > text_item_size_max ||
        (uint64_t)l->linelen + total > UINT32_MAX) {
        /* refuse without buffering: answer now, drop the block as it
         * arrives; op/mode/key stay set (a refused set unlinks the key) */
        req->err = E_TOO_LARGE;
        if (avail >= total) {
            req->consumed = l->linelen + (uint32_t)total;
        } else {
            req->consumed = (uint32_t)l->len;
            req->swallow = total - avail;
        }
        return PARSE_ERROR;
    }
    if (avail < total && vlen >= REQ_STREAM_MIN) {
        /* too big to buffer: the caller reads it into the item */
        req->consumed = l->linelen;
        req->vlen = (uint32_t)vlen;
        req->vtrail = 2;
        return PARSE_VALUE;
    }
    if (avail < total) {
        req->consumed = 0;
        req->need = l->linelen + (uint32_t)total;
        return PARSE_AGAIN;
    }
    req->consumed = l->linelen + (uint32_t)total;
    req->vlen = (uint32_t)vlen;
    if (memcmp(l->buf + l->linelen + vlen, "\r\n", 2) != 0) {
        /* memcached reads exactly <bytes> + 2 and rejects them whole;
         * op and key stay set (see bad_chunk) */
        req->bad_chunk = true;
        req->err = E_CHUNK;
        return PARSE_ERROR;
    }
    req->value = l->buf + l->linelen;
    return PARSE_OK;
}

static int
text_arith(struct request *req, struct text_line *l, uint8_t mode)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);

    if (n != 2 && n != 3) {
        return text_fail(req, E_ERROR);
    }
    req->noreply = text_noreply(t, n);
    if (t[0].n > REQ_KEY_MAX) {
        return text_fail(req, E_FORMAT);
    }
    if (!text_u64v(&t[1], &req->delta)) {
        return text_fail(req, E_DELTA);
    }
    req->op = REQ_ARITH;
    req->mode = mode;
    req->key = t[0].p;
    req->nkey = t[0].n;
    return PARSE_OK;
}

static int
text_delete(struct request *req, struct text_line *l)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);

    if (n < 1 || n > 3) {
        return text_fail(req, E_ERROR);
    }
    if (n > 1) {
        /* a hold time is accepted only as "0", a legacy of old clients */
        bool zero = text_tok_is(&t[1], "0", 1);
        bool nr = text_noreply(t, n);

        req->noreply = nr;
        if (!((n == 2 && (zero || nr)) || (n == 3 && zero && nr))) {
            return text_fail(req, E_DELETE);
        }
    }
    if (t[0].n > REQ_KEY_MAX) {
        return text_fail(req, E_FORMAT);
    }
    req->op = REQ_DELETE;
    req->key = t[0].p;
    req->nkey = t[0].n;
    return PARSE_OK;
}

static int
text_touch(struct request *req, struct text_line *l)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);
    int32_t exptime;

    if (n != 2 && n != 3) {
        return text_fail(req, E_ERROR);
    }
    req->noreply = text_noreply(t, n);
    if (t[0].n > REQ_KEY_MAX) {
        return text_fail(req, E_FORMAT);
    }
    if (!text_s32(&t[1], &exptime)) {
        return text_fail(req, E_EXPTIME);
    }
    req->op = REQ_TOUCH;
    req->key = t[0].p;
    req->nkey = t[0].n;
    req->exptime = exptime;
    return PARSE_OK;
}

static int
text_flush(struct request *req, struct text_line *l)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);
    int32_t delay = 0;

    if (n > 2) {
        return text_fail(req, E_ERROR);
    }
    req->noreply = text_noreply(t, n);
    if (n != (req->noreply ? 1u : 0u) && !text_s32(&t[0], &delay)) {
        return text_fail(req, E_EXPTIME);
    }
    req->op = REQ_FLUSH;
    req->exptime = delay;
    return PARSE_OK;
}

static int
text_verbosity(struct request *req, struct text_line *l)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);
    uint32_t level;

    if (n != 1 && n != 2) {
        return text_fail(req, E_ERROR);
    }
    req->noreply = text_noreply(t, n);
    if (!text_u32(&t[0], &level)) {
        return text_fail(req, E_FORMAT);
    }
    req->op = REQ_VERBOSITY;
    req->number = level;
    return PARSE_OK;
}

static int
text_memlimit(struct request *req, struct text_line *l)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);
    uint32_t mib;

    if (n != 1 && n != 2) {
        return text_fail(req, E_ERROR);
    }
    req->noreply = text_noreply(t, n);
    if (!text_u32(&t[0], &mib)) {
        return text_fail(req, E_ERROR);
    }
    if (mib < 8) {
        return text_fail(req, E_MEM_SMALL);
    }
    if (mib > 1000000000) {
        return text_fail(req, E_MEM_BYTES);
    }
    req->op = REQ_MEMLIMIT;
    req->number = mib;
    return PARSE_OK;
}

static int
text_shutdown(struct request *req, struct text_line *l)
{
    struct text_tok t[2];
    uint32_t n = text_tokens(l, t, 1);

    req->op = REQ_SHUTDOWN;
    if (n == 0) {
        req->number = TEXT_SHUTDOWN_NOW;
    } else if (n == 1 && text_tok_is(&t[0], "graceful", 8)) {
        req->number = TEXT_SHUTDOWN_GRACEFUL;
    } else {
        req->number = TEXT_SHUTDOWN_INVALID;
    }
    return PARSE_OK;
}

/* A command whose arguments the executor reads: req->key is the first
 * argument token (or, with cmd_is_key, the command word itself) and
 * req->keys/keys_len span the tokens after it. */
static int
text_rest(struct request *req, struct text_line *l, uint8_t op,
          const struct text_tok *cmd)
{
    const char *p = l->args;
    struct text_tok t;

    req->op = op;
    req->keys = l->end;
    if (cmd != NULL) {
        req->key = cmd->p;
        req->nkey = cmd->n;
    } else if (!text_next(l, &p, &t)) {
        req->key = l->end;
        return PARSE_OK;
    } else {
        req->key = t.p;
        req->nkey = t.n;
    }
    if (text_next(l, &p, &t)) {
        const char *first = t.p;

        do {
            req->keys_len = (uint32_t)(t.p + t.n - first);
        } while (text_next(l, &p, &t));
        req->keys = first;
    }
    return PARSE_OK;
}

static int
text_debugtime(struct request *req, struct text_line *l)
{
    struct text_tok t[TEXT_ARGS];
    uint32_t n = text_tokens(l, t, TEXT_ARGS);
    int64_t secs = 0;

    if (n == 0) {
        return text_fail(req, E_ERROR);
    }
    if (text_tok_is(&t[0], "p", 1)) {
        req->number = TEXT_DEBUGTIME_PAUSE;
    } else if (text_tok_is(&t[0], "r", 1)) {
        req->number = TEXT_DEBUGTIME_RESUME;
    } else if (text_s64(&t[0], &secs)) {
        req->number = TEXT_DEBUGTIME_ADD;
    } else {
        return text_fail(req, E_ERROR);
    }
    req->op = REQ_DEBUGTIME;
    req->exptime = secs;
    return PARSE_OK;
}

/*
 * A command memcached does not know: "ERROR", except that a line whose last
 * token (of the first 23) starts with "HTTP/" is a web client and is
 * dropped without a word.
 */
static int
text_unknown(struct request *req, struct text_line *l,
             const struct text_tok *cmd)
{
    struct text_tok t[TEXT_MEMCACHED_TOKENS];
    uint32_t n = text_tokens(l, t, TEXT_MEMCACHED_TOKENS - 2);
    const struct text_tok *last;

    if (n > TEXT_MEMCACHED_TOKENS - 2) {
        n = TEXT_MEMCACHED_TOKENS - 2;
    }
    last = n > 0 ? &t[n - 1] : cmd;
    if (last->n >= 5 && memcmp(last->p, "HTTP/", 5) == 0) {
        req->err = NULL;
        return PARSE_CLOSE;
    }
    return text_fail(req, E_ERROR);
}

/*
 * Commands memcached has and stashd does not: "ERROR", never the HTTP
 * hang-up above.  The administrative ones stashd has (lru, lru_crawler,
 * watch) become REQ_ADMIN for the executor's admin table; lru and watch go
 * silent under a last "noreply" (memcached's handlers read it first), and
 * so does extstore, which stashd lacks.
 */
static int
text_unsupported(struct request *req, struct text_line *l,
                 const struct text_tok *c, bool *known)
{
    struct text_tok t[TEXT_MEMCACHED_TOKENS];
    uint32_t n;

    *known = true;
    if (text_tok_is(c, "misbehave", 9)) {
        return text_fail(req, E_ERROR);
    }
    if (text_tok_is(c, "lru_crawler", 11) ||
        text_tok_is(c, "refresh_certs", 13)) {
        return text_rest(req, l, REQ_ADMIN, c);
    }
    if (!text_tok_is(c, "lru", 3) && !text_tok_is(c, "watch", 5) &&
        !text_tok_is(c, "extstore", 8)) {
        *known = false;
        return PARSE_ERROR;
    }
    n = text_tokens(l, t, TEXT_MEMCACHED_TOKENS - 2);
    if (n > TEXT_MEMCACHED_TOKENS - 2) {
        n = TEXT_MEMCACHED_TOKENS - 2;
    }
    req->noreply = n > 0 && text_tok_is(&t[n - 1], "noreply", 7);
    if (text_tok_is(c, "extstore", 8)) {
        return text_fail(req, E_ERROR);
    }
    return text_rest(req, l, REQ_ADMIN, c);
}

/* A meta line: meta_parse() reads it from its command on. */
static int
text_meta(struct request *req, const char *buf, size_t len, size_t lead)
{
    int rc = meta_parse(req, buf + lead, len - lead);

    if (lead != 0) {
        if (rc == PARSE_AGAIN) {
            if (req->need != 0) {
                req->need += (uint32_t)lead;
            }
        } else {
            req->consumed += (uint32_t)lead;
        }
    }
    return rc;
}

/* 1-9 plain digits at *pp: no sign, no blanks, nothing that a range rule
 * of text_u32/text_s32 could reject or wrap.  False if not so. */
static inline bool
text_fast_num(const char **pp, const char *end, uint32_t *out)
{
    const char *p = *pp;
    uint32_t v = 0;

    while (p < end && (unsigned)(*p - '0') < 10) {
        v = v * 10 + (unsigned)(*p - '0');
        p++;
    }
    if (p == *pp || p - *pp > 9) {
        return false;
    }
    *out = v;
    *pp = p;
    return true;
}

/*
 * The first byte at or after p that is a space, a control byte or NUL:
 * where a token ends.  *end is '\r' or '\n', so end is the furthest it
 * can be.  Eight bytes at a time while they lie before end: a word holds
 * such a byte iff (x - 0x21..21) & ~x & 0x80..80 is nonzero, and the
 * lowest set bit of that marks the first of them exactly (a borrow only
 * runs towards higher bytes).
 */
static inline const char *
text_fast_token_end(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ULL;

    while (end - p >= 8) {
        uint64_t x, m;

        memcpy(&x, p, 8);
        m = (x - ones * 0x21) & ~x & (ones * 0x80);
        if (m != 0) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while ((unsigned char)*p > ' ') {
        p++;
    }
    return p;
}

/*
 * The plain forms of the two commands nearly every client sends:
 *   get <key>
 *   set <key> <flags> <exptime> <bytes>[ noreply]
 * single spaces, one key of printable bytes, numbers of 1-9 plain digits.
 * For those the general path below gives the same request; this one reads
 * the line once instead of tokenizing it and scanning each number twice.
 * False (nothing in req changed) for anything else, valid or not, which
 * the general path then parses.
 */
static bool
text_fast(struct request *req, const struct text_line *l, int *rc)
{
    const char *p = l->buf + 4;
    const char *key = p;
    const char *end = l->end;
    struct text_tok k;
    uint32_t flags, exptime, vlen;
    bool noreply = false;

    if (end - l->buf <= 4 || l->buf[3] != ' ') {
        return false;
    }
    p = text_fast_token_end(p, end);
    k.p = key;
    k.n = (uint32_t)(p - key);
    if (k.n == 0 || k.n > REQ_KEY_MAX) {
        return false;
    }
    if (memcmp(l->buf, "get", 3) == 0) {
        if (p != end) {
            return false;
        }
        req->op = REQ_GET;
        req->key = req->keys = key;
        req->nkey = req->keys_len = k.n;
        *rc = PARSE_OK;
        return true;
    }
    if (memcmp(l->buf, "set", 3) != 0 || *p++ != ' ' ||
        !text_fast_num(&p, end, &flags) || p == end || *p++ != ' ' ||
        !text_fast_num(&p, end, &exptime) || p == end || *p++ != ' ' ||
        !text_fast_num(&p, end, &vlen)) {
        return false;
    }
    if (p != end) {
        if (end - p != 8 || memcmp(p, " noreply", 8) != 0) {
            return false;
        }
        noreply = true;
    }
    req->noreply = noreply;
    req->flags = flags;
    req->exptime = (int32_t)exptime;
    *rc = text_store_block(req, l, REQ_SET, &k, (int32_t)vlen);
    return true;
}

#define CMD_IS(s) text_tok_is(&cmd, s, sizeof(s) - 1)

int
text_parse(struct request *req, const char *buf, size_t len)
{
    const char *nl, *end, *p;
    struct text_line l;
    struct text_tok cmd;
    int rc;

    req_reset(req, PROTO_TEXT);
    nl = memchr(buf, '\n', len);
    if (nl == NULL) {
        return text_partial(req, buf, len);
    }
    if ((size_t)(nl - buf) >= UINT32_MAX) {
        return PARSE_CLOSE;
    }
    if ((size_t)(nl - buf) >= TEXT_READ_MAX &&
        text_partial(req, buf, (size_t)(nl - buf)) == PARSE_CLOSE) {
        return PARSE_CLOSE;
    }
    end = nl;
    if (end - buf > 1 && end[-1] == '\r') {
        end--;
    }
    l.buf = buf;
    l.len = len;
    l.end = end;
    l.linelen = (uint32_t)(nl - buf) + 1;
    req->consumed = l.linelen;
    if (text_fast(req, &l, &rc)) {
        return rc;
    }

    p = buf;
    if (!text_next(&l, &p, &cmd)) {
        return text_fail(req, E_ERROR);
    }
    l.args = p;
    if (cmd.n < 2) {
        return text_fail(req, E_ERROR);
    }

    switch (cmd.p[0]) {
    case 'g':
        if (CMD_IS("get")) {
            return text_get(req, &l, false, false);
        } else if (CMD_IS("gets")) {
            return text_get(req, &l, true, false);
        } else if (CMD_IS("gat")) {
            return text_get(req, &l, false, true);
        } else if (CMD_IS("gats")) {
            return text_get(req, &l, true, true);
        }
        return text_fail(req, E_ERROR);
    case 's':
        if (CMD_IS("set")) {
            return text_store(req, &l, REQ_SET);
        } else if (CMD_IS("stats")) {
            return text_rest(req, &l, REQ_STATS, NULL);
        } else if (CMD_IS("slabs")) {
            return text_rest(req, &l, REQ_ADMIN, &cmd);
        } else if (CMD_IS("shutdown")) {
            return text_shutdown(req, &l);
        }
        return text_fail(req, E_ERROR);
    case 'a':
        if (CMD_IS("add")) {
            return text_store(req, &l, REQ_ADD);
        } else if (CMD_IS("append")) {
            return text_store(req, &l, REQ_APPEND);
        }
        return text_fail(req, E_ERROR);
    case 'c':
        if (CMD_IS("cas")) {
            return text_store(req, &l, REQ_CAS);
        } else if (CMD_IS("cache_memlimit")) {
            return text_memlimit(req, &l);
        }
        return text_fail(req, E_ERROR);
    case 'i':
        if (CMD_IS("incr")) {
            return text_arith(req, &l, REQ_INCR);
        }
        return text_fail(req, E_ERROR);
    case 'd':
        if (CMD_IS("delete")) {
            return text_delete(req, &l);
        } else if (CMD_IS("decr")) {
            return text_arith(req, &l, REQ_DECR);
        } else if (CMD_IS("debugtime")) {
            return text_debugtime(req, &l);
        }
        return text_fail(req, E_ERROR);
    case 't':
        if (CMD_IS("touch")) {
            return text_touch(req, &l);
        }
        return text_fail(req, E_ERROR);
    case 'm':
        if (cmd.n == 2) {
            switch (cmd.p[1]) {
            case 'g':
            case 's':
            case 'n':
            case 'd':
            case 'a':
            case 'e':
                return text_meta(req, buf, len, (size_t)(cmd.p - buf));
            default:
                return text_fail(req, E_ERROR);
            }
        }
        break;
    default:
        break;
    }

    if (CMD_IS("replace")) {
        return text_store(req, &l, REQ_REPLACE);
    } else if (CMD_IS("prepend")) {
        return text_store(req, &l, REQ_PREPEND);
    } else if (CMD_IS("bget")) {
        return text_get(req, &l, false, false);
    } else if (CMD_IS("flush_all")) {
        return text_flush(req, &l);
    } else if (CMD_IS("version")) {
        req->op = REQ_VERSION;
        return PARSE_OK;
    } else if (CMD_IS("quit")) {
        req->op = REQ_QUIT;
        return PARSE_OK;
    } else if (CMD_IS("verbosity")) {
        return text_verbosity(req, &l);
    } else {
        bool known;
        int rc = text_unsupported(req, &l, &cmd, &known);

        if (known) {
            return rc;
        }
    }
    return text_unknown(req, &l, &cmd);
}

#undef CMD_IS
