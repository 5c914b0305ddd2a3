/*
 * request.h -- the one request type every parser fills and the one result
 * type every writer consumes.
 *
 * The text, meta and binary parsers all produce a struct request, so the
 * executor (daemon/process.c) has one code path per operation, not one per
 * protocol.  The executor answers with a struct result; the writer of the
 * request's protocol (req->proto) turns it into bytes.
 *
 * Pointers in a request (key, keys, value, meta tokens, opaque) point into
 * the caller's read buffer and are valid only until those bytes are consumed;
 * the exception is a base64 meta key, decoded into req->keybuf.
 *
 * This header belongs to proto/: it includes nothing from slab/ or daemon/.
 */
#ifndef STASHD_PROTO_REQUEST_H
#define STASHD_PROTO_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQ_KEY_MAX 250     /* longest key, all protocols */
#define REQ_OPAQUE_MAX 32   /* longest meta opaque token (O flag) */

/* A storage value at least this long whose bytes are not all buffered yet
 * is not buffered at all: the parser returns PARSE_VALUE once the header
 * is complete and the caller reads the value straight into its item.  Any
 * shorter request fits the resting read buffer (daemon/worker.h).  The
 * fuzz build (scripts/fuzz) lowers it so that small inputs stream too. */
#ifndef REQ_STREAM_MIN
#define REQ_STREAM_MIN (32 * 1024)
#endif

/* Which writer answers the request. */
enum req_proto {
    PROTO_TEXT = 0,
    PROTO_META,
    PROTO_BINARY,
};

/* The operation, protocol-neutral. */
enum req_op {
    REQ_NONE = 0,
    REQ_GET,        /* retrieval; text may carry many keys (req->keys) */
    REQ_STORE,      /* req->mode is an enum req_store_mode */
    REQ_ARITH,      /* req->mode is REQ_INCR or REQ_DECR */
    REQ_DELETE,
    REQ_TOUCH,
    REQ_FLUSH,      /* flush_all [delay]: req->exptime holds the delay */
    REQ_VERSION,
    REQ_VERBOSITY,  /* req->number holds the level */
    REQ_QUIT,
    REQ_SHUTDOWN,
    REQ_MEMLIMIT,   /* cache_memlimit <MiB>: req->number */
    REQ_STATS,      /* req->key/nkey: sub-command ("" = general) */
    REQ_NOOP,       /* binary noop, meta mn */
    REQ_DEBUGTIME,  /* --enable-debug only: req->exptime = seconds to add */
    REQ_META_DEBUG, /* meta "me <key>" */
    REQ_ADMIN,      /* lru, lru_crawler, slabs, watch: req->key/nkey is
                     * the command word, req->keys/keys_len its argument
                     * tokens (space separated); daemon/admin.c */
    REQ_AUTH,       /* -Y ascii auth "set": key/nkey = user, value/vlen =
                     * password (on PARSE_ERROR: a failed attempt) */
    REQ_SASL,       /* binary SASL: mode is an enum req_sasl_mode, key/nkey
                     * the mechanism, value/vlen the data */
};

enum req_sasl_mode {
    REQ_SASL_LIST = 0,
    REQ_SASL_AUTH,
    REQ_SASL_STEP,
};

enum req_store_mode {
    REQ_SET = 0,
    REQ_ADD,
    REQ_REPLACE,
    REQ_APPEND,
    REQ_PREPEND,
    REQ_CAS,
};

enum req_arith_mode {
    REQ_INCR = 0,
    REQ_DECR,
};

/* Meta flag letters as a bit set: bit META_BIT('v') etc. */
#define META_BIT(c)                                                          \
    ((c) >= 'a' && (c) <= 'z' ? (UINT64_C(1) << ((c) - 'a'))                 \
                              : (UINT64_C(1) << (26 + (c) - 'A')))

struct request {
    uint8_t proto;          /* enum req_proto: which writer answers */
    uint8_t op;             /* enum req_op */
    uint8_t mode;           /* enum req_store_mode / req_arith_mode */
    bool noreply;           /* text "noreply"; binary quiet; meta q */
    bool want_cas;          /* gets/gats: reply carries the CAS */
    bool touch;             /* gat/gats/binary GAT: exptime applies */
    bool return_key;        /* binary GetK/GATK: echo the key */

    /* single-key operations (all protocols; text get uses keys below) */
    const char *key;
    uint32_t nkey;

    /* text multi-key retrieval: the key tokens, space separated, not
     * including the line end; iterate with req_next_key() */
    const char *keys;
    uint32_t keys_len;

    /* storage: the data block, without its trailing "\r\n" (PARSE_VALUE:
     * value is NULL, vlen bytes follow the header, then vtrail bytes that
     * must read "\r\n": 2 for text and meta, 0 for binary) */
    const char *value;
    uint32_t vlen;
    uint8_t vtrail;
    bool bad_chunk;         /* PARSE_ERROR: the block's trailer is not
                             * "\r\n"; op, mode, key, flags and vlen stay
                             * set so the executor sizes the item first
                             * (memcached refuses an item too large or
                             * out of memory before reading its block) */

    bool keys_then_error;   /* PARSE_ERROR: a text get whose key after
                             * keys/keys_len is too long; memcached has
                             * looked up (gat: touched) the keys before
                             * it, so the executor does too, silently */

    uint32_t flags;         /* client flags */
    int64_t exptime;        /* as sent: 0 never, <=30d relative, else unix */
    uint64_t cas;           /* compare-and-swap token; 0 = none */
    uint64_t delta;         /* incr/decr */
    uint64_t initial;       /* binary/meta auto-create value for arith */
    uint64_t number;        /* verbosity level, memlimit MiB, ... */
    bool create;            /* arith: create with initial when missing */

    /* binary protocol framing, echoed by the binary writer */
    uint8_t bin_opcode;
    uint32_t bin_opaque;
    uint16_t bin_status;    /* PARSE_ERROR/PARSE_CLOSE: binary status code */

    /* meta protocol: letters seen, raw flag tokens (for order-preserving
     * replies) and the numeric arguments they carried */
    uint64_t mflags;
    const char *mtokens;
    uint32_t mtokens_len;
    const char *opaque;     /* meta O token, <= REQ_OPAQUE_MAX bytes */
    uint8_t opaque_len;
    char mmode;             /* meta M mode letter, 0 if none */
    int64_t vivify_ttl;     /* N */
    int64_t recache_ttl;    /* R */
    uint64_t new_cas;       /* E */
    int64_t meta_ttl;       /* T, when mflags has T: mg/md/ma new TTL, ms
                             * item TTL (also copied to exptime, see meta.h) */
    bool key_binary;        /* b: key was base64 and is decoded in keybuf */
    char keybuf[REQ_KEY_MAX + 1];
    uint32_t wait_ms;       /* mg w<millis>: stashd's server-side wait for
                             * a lease holder's fill (daemon/wait.h); 0 =
                             * none.  Only the meta parser sets it: read it
                             * only when proto is PROTO_META */

    /* outcome of parsing */
    uint32_t consumed;      /* bytes of the buffer this request used */
    uint64_t swallow;       /* further bytes to discard after consumed */
    uint32_t need;          /* PARSE_AGAIN: total bytes needed, 0 unknown */
    bool more;              /* text_parse_get_head: the line goes on, so
                             * no END after these keys */
    uint32_t keep;          /* text_parse_get_head: bytes after consumed
                             * that stay for the line's next head, then
                             * keep_trail (text_get_continue writes it) */
    char keep_trail[2];
    uint8_t nkeep_trail;
    const char *err;        /* PARSE_ERROR/PARSE_CLOSE reply line, no CRLF */
};

/* Parser return codes, shared by every protocol. */
enum parse_status {
    PARSE_OK = 0,       /* req is complete; req->consumed bytes used */
    PARSE_AGAIN = -1,   /* incomplete; nothing consumed; req->need hint */
    PARSE_ERROR = -2,   /* reply req->err, drop consumed (+swallow), go on */
    PARSE_CLOSE = -3,   /* reply req->err if set, then close */
    PARSE_VALUE = 1,    /* a storage header is complete (req->consumed
                         * bytes); its value of req->vlen bytes (then
                         * req->vtrail) follows unbuffered: read it into
                         * the item, see REQ_STREAM_MIN */
};

/* The executor's answer to one request (or to one key of a multi-get). */
enum res_code {
    RES_OK = 0,         /* text "OK" (flush_all, verbosity, memlimit) */
    RES_VALUE,          /* hit: key, flags, cas, value */
    RES_MISS,           /* retrieval miss */
    RES_STORED,
    RES_NOT_STORED,
    RES_EXISTS,
    RES_NOT_FOUND,
    RES_DELETED,
    RES_TOUCHED,
    RES_NUMBER,         /* incr/decr: number (and cas) */
    RES_VERSION,        /* msg: version string */
    RES_NOOP,           /* binary noop / meta mn */
    /* errors: each writer maps them to memcached's text or binary status */
    RES_E_TOO_LARGE,    /* SERVER_ERROR object too large for cache */
    RES_E_NOMEM,        /* SERVER_ERROR out of memory storing object */
    RES_E_NON_NUMERIC,  /* CLIENT_ERROR cannot increment or decrement ... */
    RES_E_UNKNOWN,      /* ERROR / binary 0x81 */
    RES_E_MSG,          /* msg holds the whole text error line */
    /* binary SASL */
    RES_AUTH_OK,        /* status 0, msg is the body ("Authenticated",
                         * the mechanism list) */
    RES_AUTH_CONTINUE,  /* status 0x21, empty body: send SASL_STEP */
    RES_AUTH_ERROR,     /* status 0x20 "Auth failure." */
};

/* One slice of a value; the executor keeps the memory alive until sent. */
struct res_slice {
    const char *ptr;
    uint32_t len;
};

struct result {
    uint8_t code;           /* enum res_code */
    const char *key;        /* for hits: the stored key */
    uint32_t nkey;
    uint32_t flags;
    uint64_t cas;
    uint64_t number;
    const char *msg;        /* RES_VERSION, RES_E_MSG */

    /* value, possibly in several slices (chunked items) */
    const struct res_slice *slices;
    uint32_t nslices;
    uint32_t vlen;
    bool copy_value;        /* the slices are valid only during the reply
                             * call: the writer copies them, whatever
                             * their size (a small value read under the
                             * store's lock, with no reference held) */

    /* meta return flags */
    int64_t ttl_left;       /* t: -1 = never expires */
    uint32_t last_access;   /* l: seconds since last access */
    bool fetched;           /* h: hit before */
    bool win;               /* W */
    bool stale;             /* X */
    bool lease_lost;        /* Z: a win token was already handed out */

    /* meta additions */
    bool key_binary;        /* hit: the stored key came in base64 (b); the
                             * meta writer echoes it base64-encoded.  If the
                             * store does not track it, copy req->key_binary */
    bool created;           /* ma: the key was created (N); memcached then
                             * answers even under q */
    uint32_t slab_class;    /* me: slab class id of the item */
    uint32_t item_size;     /* me: total bytes of the item */
};

/*
 * Every field back to neutral (keybuf aside: written only when a base64 key
 * is decoded), one store each.  Parsers call it first; it is inline and
 * field by field because a memset of the struct compiles to "rep stos",
 * which costs more than parsing a whole get.  A field added to struct
 * request must be added here.
 */
static inline void
req_reset(struct request *req, enum req_proto proto)
{
    req->proto = (uint8_t)proto;
    req->op = REQ_NONE;
    req->mode = 0;
    req->noreply = false;
    req->want_cas = false;
    req->touch = false;
    req->return_key = false;
    req->key = NULL;
    req->nkey = 0;
    req->keys = NULL;
    req->keys_len = 0;
    req->value = NULL;
    req->vlen = 0;
    req->vtrail = 0;
    req->bad_chunk = false;
    req->keys_then_error = false;
    req->flags = 0;
    req->exptime = 0;
    req->cas = 0;
    req->delta = 0;
    req->initial = 0;
    req->number = 0;
    req->create = false;
    req->bin_opcode = 0;
    req->bin_opaque = 0;
    req->bin_status = 0;
    req->mflags = 0;
    req->mtokens = NULL;
    req->mtokens_len = 0;
    req->opaque = NULL;
    req->opaque_len = 0;
    req->mmode = 0;
    req->vivify_ttl = 0;
    req->recache_ttl = 0;
    req->new_cas = 0;
    req->meta_ttl = 0;
    req->key_binary = false;
    req->wait_ms = 0;
    req->consumed = 0;
    req->swallow = 0;
    req->need = 0;
    req->more = false;
    req->keep = 0;
    req->nkeep_trail = 0;
    req->err = NULL;
}

/*
 * Iterate the keys of a text multi-key request; pos starts at 0.  Returns
 * true and sets key and nkey to the next key, false when there are none.
 */
bool req_next_key(const struct request *req, uint32_t *pos,
                  const char **key, uint32_t *nkey);

/*
 * Copy src to dst for a caller that moves the request's bytes old[0..n)
 * to to[0..n): every pointer into the old bytes is moved along, a key
 * decoded into src->keybuf points into dst->keybuf.  Pointers elsewhere
 * (static error lines) are kept.
 */
void req_move(struct request *dst, const struct request *src,
              const char *old, size_t n, const char *to);

#endif
