/*
 * bin.c -- memcached's binary protocol: request parser and response writer.
 *
 * Grammar (all integers big-endian):
 *
 *   packet  = header extras key value
 *   header  = magic:1 opcode:1 keylen:2 extlen:1 datatype:1 vbucket:2
 *             bodylen:4 opaque:4 cas:8                      (24 bytes)
 *   request magic 0x80, response magic 0x81 (vbucket -> status)
 *   value   = bodylen - extlen - keylen bytes
 *
 *   extras by opcode          ext  key  value
 *   Get GetQ GetK GetKQ         0   >0   none
 *   Set Add Replace (+Q)        8   >0   any     flags:4 exptime:4
 *   Append Prepend (+Q)         0   >0   any
 *   Delete (Q)                  0   >0   none
 *   Increment Decrement (+Q)   20   >0   none    delta:8 initial:8 exptime:4
 *   Touch GAT GATQ GATK GATKQ   4   >0   none    exptime:4
 *   Flush (Q)                 0|4    0   none    delay:4
 *   Noop Version Quit (Q)       0    0   none
 *   Stat                        0   any  none    key = sub-command
 *   SASL List                   0    0   none    (without -S: "Unknown
 *   SASL Auth/Step              0   >0   any      command", see below)
 *
 * Error handling follows memcached 1.6.18, checked on loopback:
 *   - magic != 0x80: close, nothing sent;
 *   - keylen + extlen > bodylen: "Unknown command", close;
 *   - keylen > 250, or a shape not in the table above: "Invalid
 *     arguments", close;
 *   - unknown opcode (Verbosity included): "Unknown command", body
 *     swallowed, connection kept;
 *   - a value larger than the item size limit: "Too large.", value
 *     swallowed, connection kept (decided from header, extras and key,
 *     so a body that cannot fit is never buffered); a refused Set also
 *     unlinks the key (op, mode and key are filled for the executor).
 *   - a Set/Add/Replace/Append/Prepend value of REQ_STREAM_MIN bytes or
 *     more not yet all buffered: PARSE_VALUE once extras and key are.
 * Deliberate differences, because memcached loses packet framing there:
 *   - for an unknown opcode memcached swallows bodylen bytes *after* the
 *     extras and key, eating the start of the next packet; stashd swallows
 *     exactly the body.
 *   - memcached accepts Touch/GAT/Stat with trailing value bytes and then
 *     parses those bytes as the next header; stashd answers "Invalid
 *     arguments" and closes, as for every other malformed shape.
 *
 * Writer: every response echoes the request's opcode (quiet ones included)
 * and opaque.  Quiet gets write nothing on a miss; quiet mutations write
 * nothing on success, errors always.  Values are referenced, not copied.
 * Only proto/ headers are used here.
 */
#include "proto/bin.h"

#include <stdbool.h>
#include <string.h>

#include "proto/out.h"
#include "proto/proto.h"
#include "proto/request.h"

#define BIN_ITEM_MAX_DEFAULT (1024 * 1024)
#define BIN_NOCREATE_EXPTIME 0xffffffffu

/* -I, set once by bin_setup() before workers start; read-only after. */
static uint32_t bin_item_max = BIN_ITEM_MAX_DEFAULT;
/* -S, set once by bin_setup_sasl() likewise. */
static bool bin_sasl;

void
bin_setup_sasl(bool on)
{
    bin_sasl = on;
}

void
bin_setup(uint32_t item_size_max)
{
    bin_item_max = item_size_max;
}

/* ---- byte order ------------------------------------------------------ */

static inline uint16_t
bin_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
bin_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint64_t
bin_get64(const uint8_t *p)
{
    return ((uint64_t)bin_get32(p) << 32) | bin_get32(p + 4);
}

static inline void
bin_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
bin_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void
bin_put64(uint8_t *p, uint64_t v)
{
    bin_put32(p, (uint32_t)(v >> 32));
    bin_put32(p + 4, (uint32_t)v);
}

/* ---- parser ---------------------------------------------------------- */

/* Which extras/key/value layout an opcode requires. */
enum bin_shape {
    SHAPE_UNKNOWN = 0,  /* not an opcode we serve */
    SHAPE_EMPTY,        /* no extras, key or value */
    SHAPE_FLUSH,        /* optional 4-byte delay */
    SHAPE_KEY,          /* key only */
    SHAPE_STORE,        /* 8-byte extras, key, value */
    SHAPE_CONCAT,       /* key, value */
    SHAPE_ARITH,        /* 20-byte extras, key */
    SHAPE_TOUCH,        /* 4-byte extras, key */
    SHAPE_STAT,         /* optional key */
    SHAPE_SASL_LIST,    /* like EMPTY, then "Unknown command" */
    SHAPE_SASL_AUTH,    /* key, value, then "Unknown command" */
};

struct bin_cmd {
    uint8_t shape;      /* enum bin_shape */
    uint8_t op;         /* enum req_op */
    uint8_t mode;       /* enum req_store_mode / req_arith_mode */
    bool quiet;
    bool return_key;
    bool touch;
};

#define CMD(opc, sh, o, m, q, k, t)                                          \
    [opc] = { .shape = (sh), .op = (o), .mode = (m), .quiet = (q),           \
              .return_key = (k), .touch = (t) }

static const struct bin_cmd bin_cmds[256] = {
    CMD(BIN_OP_GET, SHAPE_KEY, REQ_GET, 0, false, false, false),
    CMD(BIN_OP_GETQ, SHAPE_KEY, REQ_GET, 0, true, false, false),
    CMD(BIN_OP_GETK, SHAPE_KEY, REQ_GET, 0, false, true, false),
    CMD(BIN_OP_GETKQ, SHAPE_KEY, REQ_GET, 0, true, true, false),
    CMD(BIN_OP_GAT, SHAPE_TOUCH, REQ_GET, 0, false, false, true),
    CMD(BIN_OP_GATQ, SHAPE_TOUCH, REQ_GET, 0, true, false, true),
    CMD(BIN_OP_GATK, SHAPE_TOUCH, REQ_GET, 0, false, true, true),
    CMD(BIN_OP_GATKQ, SHAPE_TOUCH, REQ_GET, 0, true, true, true),
    CMD(BIN_OP_TOUCH, SHAPE_TOUCH, REQ_TOUCH, 0, false, false, false),
    CMD(BIN_OP_SET, SHAPE_STORE, REQ_STORE, REQ_SET, false, false, false),
    CMD(BIN_OP_SETQ, SHAPE_STORE, REQ_STORE, REQ_SET, true, false, false),
    CMD(BIN_OP_ADD, SHAPE_STORE, REQ_STORE, REQ_ADD, false, false, false),
    CMD(BIN_OP_ADDQ, SHAPE_STORE, REQ_STORE, REQ_ADD, true, false, false),
    CMD(BIN_OP_REPLACE, SHAPE_STORE, REQ_STORE, REQ_REPLACE, false, false,
        false),
    CMD(BIN_OP_REPLACEQ, SHAPE_STORE, REQ_STORE, REQ_REPLACE, true, false,
        false),
    CMD(BIN_OP_APPEND, SHAPE_CONCAT, REQ_STORE, REQ_APPEND, false, false,
        false),
    CMD(BIN_OP_APPENDQ, SHAPE_CONCAT, REQ_STORE, REQ_APPEND, true, false,
        false),
    CMD(BIN_OP_PREPEND, SHAPE_CONCAT, REQ_STORE, REQ_PREPEND, false, false,
        false),
    CMD(BIN_OP_PREPENDQ, SHAPE_CONCAT, REQ_STORE, REQ_PREPEND, true, false,
        false),
    CMD(BIN_OP_DELETE, SHAPE_KEY, REQ_DELETE, 0, false, false, false),
    CMD(BIN_OP_DELETEQ, SHAPE_KEY, REQ_DELETE, 0, true, false, false),
    CMD(BIN_OP_INCREMENT, SHAPE_ARITH, REQ_ARITH, REQ_INCR, false, false,
        false),
    CMD(BIN_OP_INCREMENTQ, SHAPE_ARITH, REQ_ARITH, REQ_INCR, true, false,
        false),
    CMD(BIN_OP_DECREMENT, SHAPE_ARITH, REQ_ARITH, REQ_DECR, false, false,
        false),
    CMD(BIN_OP_DECREMENTQ, SHAPE_ARITH, REQ_ARITH, REQ_DECR, true, false,
        false),
    CMD(BIN_OP_FLUSH, SHAPE_FLUSH, REQ_FLUSH, 0, false, false, false),
    CMD(BIN_OP_FLUSHQ, SHAPE_FLUSH, REQ_FLUSH, 0, true, false, false),
    CMD(BIN_OP_NOOP, SHAPE_EMPTY, REQ_NOOP, 0, false, false, false),
    CMD(BIN_OP_VERSION, SHAPE_EMPTY, REQ_VERSION, 0, false, false, false),
    CMD(BIN_OP_QUIT, SHAPE_EMPTY, REQ_QUIT, 0, false, false, false),
    CMD(BIN_OP_QUITQ, SHAPE_EMPTY, REQ_QUIT, 0, true, false, false),
    CMD(BIN_OP_STAT, SHAPE_STAT, REQ_STATS, 0, false, false, false),
    CMD(BIN_OP_SASL_LIST_MECHS, SHAPE_SASL_LIST, REQ_NONE, 0, false, false,
        false),
    CMD(BIN_OP_SASL_AUTH, SHAPE_SASL_AUTH, REQ_NONE, 0, false, false, false),
    CMD(BIN_OP_SASL_STEP, SHAPE_SASL_AUTH, REQ_NONE, 0, false, false, false),
};

#undef CMD

/* Does the extras/key/body layout fit the opcode?  Mirrors memcached's
 * checks, except that Touch/GAT/Stat must not carry a value (see top). */
static bool
bin_shape_ok(uint8_t shape, uint32_t ext, uint32_t key, uint32_t body)
{
    switch (shape) {
    case SHAPE_EMPTY:
    case SHAPE_SASL_LIST:
        return ext == 0 && key == 0 && body == 0;
    case SHAPE_FLUSH:
        return key == 0 && body == ext && (ext == 0 || ext == 4);
    case SHAPE_KEY:
        return ext == 0 && key > 0 && body == key;
    case SHAPE_STORE:
        return ext == 8 && key > 0 && body >= key + 8;
    case SHAPE_CONCAT:
    case SHAPE_SASL_AUTH:
        return ext == 0 && key > 0;
    case SHAPE_ARITH:
        return ext == 20 && key > 0 && body == key + 20;
    case SHAPE_TOUCH:
        return ext == 4 && key > 0 && body == key + 4;
    case SHAPE_STAT:
        return ext == 0 && body == key;
    default:
        return false;
    }
}

/* Fail the packet with a status; the executor writes bin_proto.error(). */
static int
bin_fail(struct request *req, int rc, uint16_t status, uint32_t consumed,
         uint64_t swallow)
{
    req->bin_status = status;
    req->err = bin_status_text(status);
    req->consumed = consumed;
    req->swallow = swallow;
    return rc;
}

/* Fill req from a complete, validated packet. */
static void
bin_fill(struct request *req, const struct bin_cmd *cmd, const uint8_t *p,
         uint32_t ext, uint32_t nkey, uint32_t body)
{
    const uint8_t *x = p + BIN_HEADER_LEN;

    req->op = cmd->op;
    req->mode = cmd->mode;
    req->noreply = cmd->quiet;
    req->return_key = cmd->return_key;
    req->touch = cmd->touch;
    req->key = nkey > 0 ? (const char *)x + ext : "";
    req->nkey = nkey;

    switch (cmd->shape) {
    case SHAPE_KEY:
    case SHAPE_TOUCH:
        if (cmd->op == REQ_GET) {
            req->want_cas = true; /* binary hits always carry the CAS */
        }
        if (ext == 4) {
            req->exptime = bin_get32(x);
        }
        break;
    case SHAPE_STORE:
        req->flags = bin_get32(x);
        req->exptime = bin_get32(x + 4);
        /* memcached: Set/Add/Replace with a CAS all behave as "cas" */
        if (req->cas != 0) {
            req->mode = REQ_CAS;
        }
        /* fall through */
    case SHAPE_CONCAT:
        req->value = (const char *)x + ext + nkey;
        req->vlen = body - ext - nkey;
        break;
    case SHAPE_ARITH:
        req->delta = bin_get64(x);
        req->initial = bin_get64(x + 8);
        if (bin_get32(x + 16) == BIN_NOCREATE_EXPTIME) {
            req->create = false;
        } else {
            req->create = true;
            req->exptime = bin_get32(x + 16);
        }
        break;
    case SHAPE_FLUSH:
        if (ext == 4) {
            req->exptime = bin_get32(x);
        }
        break;
    default:
        break;
    }
}

/*
 * SASL_LIST_MECHS, SASL_AUTH, SASL_STEP.  Without -S memcached answers
 * "Unknown command" and swallows the body.  With it, as memcached, a
 * mechanism name over BIN_SASL_MECH_MAX is "Invalid arguments"; data over
 * BIN_SASL_DATA_MAX (memcached takes up to an item) is "Out of memory":
 * credentials are far shorter, and the body is then swallowed unbuffered.
 */
static int
bin_parse_sasl(struct request *req, const uint8_t *p, size_t len,
               uint32_t nkey, uint32_t body)
{
    if (!bin_sasl) {
        return bin_fail(req, PARSE_ERROR, BIN_ST_UNKNOWN_COMMAND,
                        BIN_HEADER_LEN, body);
    }
    req->op = REQ_SASL; /* errors included: allowed before auth */
    if (nkey > BIN_SASL_MECH_MAX) {
        return bin_fail(req, PARSE_ERROR, BIN_ST_EINVAL, BIN_HEADER_LEN,
                        body);
    }
    if (body - nkey > BIN_SASL_DATA_MAX) {
        return bin_fail(req, PARSE_ERROR, BIN_ST_ENOMEM, BIN_HEADER_LEN,
                        body);
    }
    if (len - BIN_HEADER_LEN < body) {
        req->need = BIN_HEADER_LEN + body;
        return PARSE_AGAIN;
    }
    req->mode = p[1] == BIN_OP_SASL_LIST_MECHS ? REQ_SASL_LIST
                : p[1] == BIN_OP_SASL_AUTH     ? REQ_SASL_AUTH
                                               : REQ_SASL_STEP;
    req->key = nkey > 0 ? (const char *)p + BIN_HEADER_LEN : "";
    req->nkey = nkey;
    req->value = (const char *)p + BIN_HEADER_LEN + nkey;
    req->vlen = body - nkey;
    req->consumed = BIN_HEADER_LEN + body;
    return PARSE_OK;
}

int
bin_parse(struct request *req, const char *buf, size_t len)
{
    const uint8_t *p = (const uint8_t *)buf;
    const struct bin_cmd *cmd;
    uint32_t ext, nkey, body, head;

    req_reset(req, PROTO_BINARY);
    if (len < BIN_HEADER_LEN) {
        req->need = BIN_HEADER_LEN;
        return PARSE_AGAIN;
    }
    if (p[0] != BIN_REQ_MAGIC) {
        return PARSE_CLOSE; /* memcached closes without a word */
    }

    req->bin_opcode = p[1];
    nkey = bin_get16(p + 2);
    ext = p[4];
    body = bin_get32(p + 8);
    req->bin_opaque = bin_get32(p + 12);
    req->cas = bin_get64(p + 16);

    if (nkey + ext > body) {
        return bin_fail(req, PARSE_CLOSE, BIN_ST_UNKNOWN_COMMAND,
                        BIN_HEADER_LEN, 0);
    }
    if (nkey > REQ_KEY_MAX) {
        return bin_fail(req, PARSE_CLOSE, BIN_ST_EINVAL, BIN_HEADER_LEN, 0);
    }
    cmd = &bin_cmds[p[1]];
    if (cmd->shape == SHAPE_UNKNOWN) {
        return bin_fail(req, PARSE_ERROR, BIN_ST_UNKNOWN_COMMAND,
                        BIN_HEADER_LEN, body);
    }
    if (!bin_shape_ok(cmd->shape, ext, nkey, body)) {
        return bin_fail(req, PARSE_CLOSE, BIN_ST_EINVAL, BIN_HEADER_LEN, 0);
    }
    if (cmd->shape == SHAPE_SASL_LIST || cmd->shape == SHAPE_SASL_AUTH) {
        return bin_parse_sasl(req, p, len, nkey, body);
    }
    head = BIN_HEADER_LEN + ext + nkey;
    if ((cmd->shape == SHAPE_STORE || cmd->shape == SHAPE_CONCAT) &&
        body - ext - nkey > bin_item_max) {
        /* the key is needed: as memcached, a refused Set unlinks it so a
         * failed update never leaves the old value readable */
        if (len < head) {
            req->need = head;
            return PARSE_AGAIN;
        }
        req->op = REQ_STORE;
        req->mode = cmd->mode;
        req->key = (const char *)p + BIN_HEADER_LEN + ext;
        req->nkey = nkey;
        return bin_fail(req, PARSE_ERROR, BIN_ST_E2BIG, head,
                        body - ext - nkey);
    }
    if ((cmd->shape == SHAPE_STORE || cmd->shape == SHAPE_CONCAT) &&
        len - BIN_HEADER_LEN < body && body - ext - nkey >= REQ_STREAM_MIN) {
        /* too big to buffer: the caller reads the value into the item */
        if (len < head) {
            req->need = head;
            return PARSE_AGAIN;
        }
        bin_fill(req, cmd, p, ext, nkey, body);
        req->value = NULL;
        req->consumed = head;
        return PARSE_VALUE;
    }
    /* every accepted body is <= 255 + 250 + item max: no overflow */
    if (len - BIN_HEADER_LEN < body) {
        req->need = BIN_HEADER_LEN + body;
        return PARSE_AGAIN;
    }

    bin_fill(req, cmd, p, ext, nkey, body);
    req->consumed = BIN_HEADER_LEN + body;
    return PARSE_OK;
}

uint8_t
bin_store_mode(uint8_t opcode)
{
    const struct bin_cmd *cmd = &bin_cmds[opcode];

    return cmd->op == REQ_STORE ? cmd->mode : (uint8_t)REQ_SET;
}

/* ---- writer ---------------------------------------------------------- */

const char *
bin_status_text(uint16_t status)
{
    switch (status) {
    case BIN_ST_OK:
        return "";
    case BIN_ST_KEY_ENOENT:
        return "Not found";
    case BIN_ST_KEY_EEXISTS:
        return "Data exists for key.";
    case BIN_ST_E2BIG:
        return "Too large.";
    case BIN_ST_EINVAL:
        return "Invalid arguments";
    case BIN_ST_NOT_STORED:
        return "Not stored.";
    case BIN_ST_DELTA_BADVAL:
        return "Non-numeric server-side value for incr or decr";
    case BIN_ST_UNKNOWN_COMMAND:
        return "Unknown command";
    case BIN_ST_ENOMEM:
        return "Out of memory";
    case BIN_ST_AUTH_ERROR:
        return "Auth failure.";
    default:
        return "Unknown error";
    }
}

/* Longest packet prefix we assemble on the stack: header, flags, key. */
#define BIN_PREFIX_MAX (BIN_HEADER_LEN + 8 + REQ_KEY_MAX)

/* Fill a response header at h. */
static void
bin_header(uint8_t *h, const struct request *req, uint16_t status,
           uint8_t ext, uint16_t nkey, uint32_t body, uint64_t cas)
{
    h[0] = BIN_RES_MAGIC;
    h[1] = req->bin_opcode;
    bin_put16(h + 2, nkey);
    h[4] = ext;
    h[5] = 0; /* datatype: raw bytes */
    bin_put16(h + 6, status);
    bin_put32(h + 8, body);
    bin_put32(h + 12, req->bin_opaque);
    bin_put64(h + 16, cas);
}

/* One packet with copied key and value (small: errors, stats, version). */
static void
bin_packet(struct out *o, const struct request *req, uint16_t status,
           const void *key, size_t nkey, const void *val, size_t vlen,
           uint64_t cas)
{
    uint8_t h[BIN_HEADER_LEN];

    if (nkey > UINT16_MAX) {
        nkey = UINT16_MAX;
    }
    bin_header(h, req, status, 0, (uint16_t)nkey, (uint32_t)(nkey + vlen),
               cas);
    out_bytes(o, h, sizeof(h));
    if (nkey > 0) {
        out_bytes(o, key, nkey);
    }
    if (vlen > 0) {
        out_bytes(o, val, vlen);
    }
}

/* An error packet: status, memcached's text, no CAS. */
static void
bin_status_packet(struct out *o, const struct request *req, uint16_t status)
{
    const char *text = bin_status_text(status);

    bin_packet(o, req, status, NULL, 0, text, strlen(text), 0);
}

/* A hit (get, GAT, touch): flags extras, key for the K variants, value
 * referenced slice by slice; touch carries no value. */
static void
bin_write_value(struct out *o, const struct request *req,
                const struct result *res)
{
    uint8_t pre[BIN_PREFIX_MAX];
    bool with_value = req->op != REQ_TOUCH;
    uint32_t nkey = 0;
    uint32_t vlen = with_value ? res->vlen : 0;
    const char *key = res->key != NULL ? res->key : req->key;
    size_t n;

    if (req->return_key && with_value) {
        nkey = res->key != NULL ? res->nkey : req->nkey;
        if (nkey > REQ_KEY_MAX) {
            nkey = REQ_KEY_MAX;
        }
    }
    bin_header(pre, req, BIN_ST_OK, 4, (uint16_t)nkey, 4 + nkey + vlen,
               res->cas);
    bin_put32(pre + BIN_HEADER_LEN, res->flags);
    n = BIN_HEADER_LEN + 4;
    if (nkey > 0) {
        memcpy(pre + n, key, nkey);
        n += nkey;
    }
    out_bytes(o, pre, n);
    if (with_value) {
        for (uint32_t i = 0; i < res->nslices; i++) {
            if (res->slices[i].len == 0) {
                continue;
            }
            if (res->copy_value) {
                out_bytes(o, res->slices[i].ptr, res->slices[i].len);
            } else {
                out_ref(o, res->slices[i].ptr, res->slices[i].len);
            }
        }
    }
}

/* A text error line from the executor, mapped to memcached's status. */
static uint16_t
bin_status_of_line(const char *msg)
{
    static const struct {
        const char *prefix;
        uint16_t status;
    } map[] = {
        { "SERVER_ERROR out of memory", BIN_ST_ENOMEM },
        { "SERVER_ERROR object too large", BIN_ST_E2BIG },
        { "CLIENT_ERROR cannot increment or decrement", BIN_ST_DELTA_BADVAL },
        { "NOT_FOUND", BIN_ST_KEY_ENOENT },
        { "EXISTS", BIN_ST_KEY_EEXISTS },
        { "NOT_STORED", BIN_ST_NOT_STORED },
    };

    if (msg == NULL) {
        return BIN_ST_EINVAL;
    }
    if (strcmp(msg, "ERROR") == 0) {
        return BIN_ST_UNKNOWN_COMMAND;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strncmp(msg, map[i].prefix, strlen(map[i].prefix)) == 0) {
            return map[i].status;
        }
    }
    return BIN_ST_EINVAL;
}

/* NOT_STORED means different things per mode in memcached's binary
 * protocol: Add on an existing key is "exists", Replace on a missing key
 * is "not found", the rest (append, prepend, cas) "not stored". */
static uint16_t
bin_not_stored_status(const struct request *req)
{
    if (req->op == REQ_STORE && req->mode == REQ_ADD) {
        return BIN_ST_KEY_EEXISTS;
    }
    if (req->op == REQ_STORE && req->mode == REQ_REPLACE) {
        return BIN_ST_KEY_ENOENT;
    }
    return BIN_ST_NOT_STORED;
}

static void bin_end(struct out *o, const struct request *req);

static void
bin_reply(struct out *o, const struct request *req, const struct result *res)
{
    uint8_t num[8];
    uint16_t status;

    switch (res->code) {
    case RES_VALUE:
    case RES_TOUCHED:
        if (res->code == RES_TOUCHED && req->noreply) {
            return;
        }
        bin_write_value(o, req, res);
        return;
    case RES_MISS:
        if (req->noreply) {
            return;
        }
        if (req->return_key) {
            /* GetK/GATK miss: the key, no error text */
            bin_packet(o, req, BIN_ST_KEY_ENOENT, req->key, req->nkey, NULL, 0,
                       0);
        } else {
            bin_status_packet(o, req, BIN_ST_KEY_ENOENT);
        }
        return;
    case RES_OK:
    case RES_DELETED:
    case RES_NOOP:
        if (!req->noreply) {
            bin_packet(o, req, BIN_ST_OK, NULL, 0, NULL, 0, 0);
        }
        return;
    case RES_STORED:
        if (!req->noreply) {
            bin_packet(o, req, BIN_ST_OK, NULL, 0, NULL, 0, res->cas);
        }
        return;
    case RES_NUMBER:
        if (!req->noreply) {
            bin_put64(num, res->number);
            bin_packet(o, req, BIN_ST_OK, NULL, 0, num, sizeof(num), res->cas);
        }
        return;
    case RES_VERSION:
        bin_packet(o, req, BIN_ST_OK, NULL, 0, res->msg,
                   res->msg != NULL ? strlen(res->msg) : 0, 0);
        return;
    case RES_NOT_STORED:
        status = bin_not_stored_status(req);
        break;
    case RES_EXISTS:
        status = BIN_ST_KEY_EEXISTS;
        break;
    case RES_NOT_FOUND:
        status = BIN_ST_KEY_ENOENT;
        break;
    case RES_E_TOO_LARGE:
        status = BIN_ST_E2BIG;
        break;
    case RES_E_NOMEM:
        status = BIN_ST_ENOMEM;
        break;
    case RES_E_NON_NUMERIC:
        status = BIN_ST_DELTA_BADVAL;
        break;
    case RES_E_UNKNOWN:
        status = BIN_ST_UNKNOWN_COMMAND;
        break;
    case RES_AUTH_OK:
        bin_packet(o, req, BIN_ST_OK, NULL, 0, res->msg,
                   res->msg != NULL ? strlen(res->msg) : 0, 0);
        return;
    case RES_AUTH_CONTINUE:
        bin_packet(o, req, BIN_ST_AUTH_CONTINUE, NULL, 0, NULL, 0, 0);
        return;
    case RES_AUTH_ERROR:
        /* whatever the opcode, stats included */
        bin_status_packet(o, req, BIN_ST_AUTH_ERROR);
        return;
    case RES_E_MSG:
    default:
        if (req->op == REQ_STATS && res->msg != NULL &&
            strcmp(res->msg, "RESET") == 0) {
            /* text "stats reset" answers RESET; memcached's binary stat
             * reset answers only the empty terminator */
            bin_end(o, req);
            return;
        }
        status = bin_status_of_line(res->msg);
        break;
    }
    if (req->op == REQ_STATS) {
        /* memcached: an unknown stats sub-command is "Not found" */
        status = BIN_ST_KEY_ENOENT;
    }
    bin_status_packet(o, req, status);
}

static void
bin_stat(struct out *o, const struct request *req, const char *name,
         const char *value)
{
    bin_packet(o, req, BIN_ST_OK, name, strlen(name), value,
               value != NULL ? strlen(value) : 0, 0);
}

static void
bin_end(struct out *o, const struct request *req)
{
    if (req->op == REQ_STATS) {
        bin_packet(o, req, BIN_ST_OK, NULL, 0, NULL, 0, 0);
    }
}

static void
bin_error(struct out *o, const struct request *req, const char *line)
{
    uint16_t status = req->bin_status != BIN_ST_OK ? req->bin_status
                                                  : BIN_ST_EINVAL;

    if (line == NULL) {
        line = bin_status_text(status);
    }
    bin_packet(o, req, status, NULL, 0, line, strlen(line), 0);
}

const struct proto_ops bin_proto = {
    .parse = bin_parse,
    .reply = bin_reply,
    .stat = bin_stat,
    .end = bin_end,
    .error = bin_error,
};
