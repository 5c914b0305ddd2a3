/*
 * meta.h -- memcached's meta protocol (mg ms md ma mn me): parser and writer.
 *
 * Meta commands travel on ascii connections.  text_parse() hands a line
 * whose command is mg/ms/md/ma/mn/me to meta_parse(), which fills the same
 * struct request as every other parser with req->proto = PROTO_META; the
 * executor then answers through meta_proto (proto_for(req)).  Behaviour and
 * every reply byte follow memcached 1.6.18; E (explicit new CAS) and x (md:
 * drop the value, keep the item) come from later memcached releases.
 *
 * What meta_parse() puts in the request, per command:
 *
 *   all   proto = PROTO_META; key/nkey (decoded into keybuf when b, with
 *         key_binary set); mflags = META_BIT() of every flag letter seen;
 *         mtokens/mtokens_len = the raw flag tokens, for the writer to echo
 *         in request order; noreply = q; opaque/opaque_len = the whole O
 *         token, letter included; N -> vivify_ttl, R -> recache_ttl,
 *         E -> new_cas, T -> meta_ttl, C -> cas, F -> flags, M -> mmode,
 *         J -> initial, D -> delta.  Numbers are read the way memcached reads
 *         them (TTLs and the data length as 32-bit signed, F as 32-bit
 *         unsigned, C/E/J/D as 64-bit unsigned).
 *   mg    op = REQ_GET; touch = T given, exptime = T.  N/R/h/l/u/E are for
 *         the executor to read from mflags and the fields above.
 *         w<millis> -> wait_ms (stashd's own flag, mg only; memcached
 *         answers "CLIENT_ERROR invalid flag" to it, and so does stashd on
 *         ms/md/ma).  Where plain mg would answer Z because another client
 *         holds the lease (empty placeholder, or a stale or early-refresh
 *         value being recomputed), the request is parked in the server
 *         instead and answered when the holder's store lands (the value),
 *         the lease is invalidated, deleted or expires (then as an mg run at
 *         that moment), or after <millis> (then exactly as without w, Z
 *         included).  Nothing is echoed for w.  See daemon/wait.h.
 *   ms    op = REQ_STORE; value/vlen = the data block; exptime = T (0 when
 *         absent); flags = F (0); mode from M: S or none -> REQ_SET,
 *         E -> REQ_ADD, A -> REQ_APPEND, P -> REQ_PREPEND, R -> REQ_REPLACE;
 *         with C, set and replace become REQ_CAS and add drops the CAS (as
 *         memcached does).  I (stale fill) is in mflags.
 *   md    op = REQ_DELETE; cas = C; exptime = T (used with I); I and x in
 *         mflags.
 *   ma    op = REQ_ARITH; mode REQ_INCR (none, I, +) or REQ_DECR (D, -);
 *         delta = D (default 1); initial = J (default 0); create = N given,
 *         exptime = N (the TTL of a created item); cas = C; a T update TTL
 *         is in meta_ttl.
 *   mn    op = REQ_NOOP.
 *   me    op = REQ_META_DEBUG; "me <key> b" decodes the key.
 *
 * The writer needs from the executor (struct result): RES_VALUE/RES_MISS for
 * mg and me; RES_STORED/NOT_STORED/EXISTS/NOT_FOUND for ms (res.cas = new
 * CAS); RES_DELETED (or RES_OK)/NOT_FOUND/EXISTS for md; RES_NUMBER (number,
 * cas, ttl_left, created)/NOT_FOUND/EXISTS/NOT_STORED for ma; RES_NOOP for
 * mn; the RES_E_* codes for errors.  For mg hits also vlen/slices, flags,
 * cas, ttl_left, last_access, fetched (both as they were before this
 * request), win/stale/lease_lost and key_binary; for me hits ttl_left,
 * last_access, cas, fetched, slab_class, item_size, key_binary.
 */
#ifndef STASHD_PROTO_META_H
#define STASHD_PROTO_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* A request line longer than this without a newline closes the
 * connection, as in memcached. */
#define META_LINE_MAX 2048

/* Longest line memcached accepts, in tokens (command, key, datalen and
 * flags together). */
#define META_TOKENS_MAX 19

/* Largest explicit CAS (E) accepted; larger ones answer "CLIENT_ERROR bad
 * token in command line format".  The store keeps its CAS counter at or
 * above every E handed out (flush_all invalidates by CAS order), so this
 * leaves it 2^62 values before it could wrap. */
#define META_NEW_CAS_MAX (UINT64_C(1) << 62)

/* ms data blocks over this are refused unless meta_setup() says otherwise:
 * memcached's default -I. */
#define META_ITEM_SIZE_MAX_DEFAULT (1024 * 1024)

/* Set the item size limit (bytes, -I) once at startup, before any parse;
 * 0 restores the default. */
void meta_setup(uint32_t item_size_max);

/*
 * Parse one meta request starting at buf[0] (the command).  Returns an enum
 * parse_status: PARSE_OK with req->consumed covering the line and, for ms,
 * the data block; PARSE_VALUE for an ms whose data block of
 * REQ_STREAM_MIN bytes or more is not all here (req->consumed = the line,
 * vlen/vtrail = the block and its "\r\n" still to come, request.h);
 * PARSE_AGAIN (req->need = bytes needed when known);
 * PARSE_ERROR with req->err = memcached's reply line, req->consumed and
 * req->swallow (the data block of a rejected ms); PARSE_CLOSE when no line
 * end came within META_LINE_MAX bytes.  The request is reset first.
 */
int meta_parse(struct request *req, const char *buf, size_t len);

/* True when buf starts with a meta command word ("mg", "ms", "md", "ma",
 * "mn", "me") followed by a space or line end; false when unsure (fewer
 * than three bytes). */
bool meta_is_command(const char *buf, size_t len);

#endif
