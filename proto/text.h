/*
 * text.h -- memcached's classic text protocol: parser and writer.
 *
 * Behaviour follows memcached 1.6.18 byte for byte, quirks included (32-bit
 * truncation of flags/exptime/length, "noreply" recognised only as the last
 * token, errors silenced by noreply, a line cut at its first NUL byte).
 * Meta commands (mg ms md ma mn me) arriving on a text connection are
 * handed to meta_parse() (proto/meta.h).
 *
 * What text_parse() puts in the request, per command:
 *
 *   all      proto = PROTO_TEXT, consumed = the whole request.
 *   get/bget/gets/gat/gats
 *            op = REQ_GET; keys/keys_len = the key tokens (iterate with
 *            req_next_key()); key/nkey = the first key (NULL/0 for "gat 10"
 *            with no key: answer just "END"); want_cas for gets/gats;
 *            touch and exptime for gat/gats.
 *   set/add/replace/append/prepend/cas
 *            op = REQ_STORE, mode, key, flags, exptime, value/vlen (the
 *            data block without its "\r\n"), cas (cas command only: a sent
 *            "0" is a real compare value there), noreply.
 *   incr/decr  op = REQ_ARITH, mode REQ_INCR/REQ_DECR, key, delta, noreply.
 *   delete   op = REQ_DELETE, key, noreply.
 *   touch    op = REQ_TOUCH, key, exptime, noreply.
 *   flush_all  op = REQ_FLUSH, exptime = delay as sent (memcached treats
 *            a delay <= 0 as "now"), noreply.
 *   version  op = REQ_VERSION.          quit      op = REQ_QUIT (no reply).
 *   verbosity  op = REQ_VERBOSITY, number = level, noreply.
 *   cache_memlimit  op = REQ_MEMLIMIT, number = MiB (8..1000000000; the
 *            MEMLIMIT_TOO_SMALL / "megabytes not bytes" lines come from
 *            the parser), noreply.
 *   shutdown op = REQ_SHUTDOWN, number = TEXT_SHUTDOWN_*: memcached first
 *            answers "ERROR: shutdown not enabled" without -A, then
 *            "CLIENT_ERROR invalid shutdown mode" for TEXT_SHUTDOWN_INVALID.
 *   stats    op = REQ_STATS, key/nkey = the sub-command token ("items",
 *            "reset", ...; nkey 0 for plain "stats"), keys/keys_len = any
 *            further arguments ("stats detail on", "stats cachedump 1 0").
 *   debugtime  op = REQ_DEBUGTIME, number = TEXT_DEBUGTIME_*, exptime =
 *            seconds to add (memcached -DMEMCACHED_DEBUG builds only: a
 *            release build answers "ERROR").
 *
 * Parse outcomes beyond PARSE_OK:
 *   PARSE_AGAIN  no complete request yet; need = total bytes when the line
 *            of a storage command is complete but its data block is not.
 *   PARSE_VALUE  the line of a storage command whose data block of
 *            REQ_STREAM_MIN bytes or more is not all here: consumed = the
 *            line, vlen = the block, vtrail = 2 (its "\r\n"), value NULL,
 *            every other field as for PARSE_OK (request.h).
 *   PARSE_ERROR  err = memcached's reply line; consumed (+ swallow) bytes to
 *            drop.  When memcached stays silent (the line carried
 *            "noreply") req->noreply is set: write err through
 *            text_proto.error, which honours it.  A storage command refused
 *            as too large (data block over the item size limit) comes back
 *            with op = REQ_STORE, mode and key filled: memcached then also
 *            unlinks the key when mode is REQ_SET, so a failed set never
 *            leaves stale data behind.  Every other PARSE_ERROR has
 *            op = REQ_NONE.
 *   PARSE_CLOSE  err = NULL: memcached closes silently (a line over 2048
 *            bytes without newline that is not a "get"/"gets", or an
 *            unknown command whose last token starts with "HTTP/").
 *
 * Writer (text_proto): .reply writes nothing at all for a noreply request
 * (memcached silences errors too) nor for RES_MISS/RES_NOOP or REQ_QUIT;
 * RES_VALUE is "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n" with
 * the data referenced zero-copy (values up to TEXT_COPY_MAX bytes are
 * copied: one iovec beats three for small values).
 */
#ifndef STASHD_PROTO_TEXT_H
#define STASHD_PROTO_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* A line without newline may grow to this many bytes; past it memcached
 * closes the connection unless the line is a "get"/"gets" (multigets are
 * unbounded). */
#define TEXT_LINE_MAX 2048

/* memcached reads lines into a buffer of this many bytes: a longer line
 * (but a get/gets) never arrives whole there, and it closes the connection
 * without answering it, even when the line end is already in. */
#define TEXT_READ_MAX 16384

/* Data blocks are refused (and swallowed) when larger than this unless
 * text_setup() says otherwise: memcached's default -I. */
#define TEXT_ITEM_SIZE_MAX_DEFAULT (1024 * 1024)

/* Values up to this size are copied into the reply instead of referenced. */
#define TEXT_COPY_MAX 512

/* req->number for REQ_SHUTDOWN. */
enum text_shutdown {
    TEXT_SHUTDOWN_NOW = 0,      /* "shutdown" */
    TEXT_SHUTDOWN_GRACEFUL,     /* "shutdown graceful" */
    TEXT_SHUTDOWN_INVALID,      /* anything else */
};

/* req->number for REQ_DEBUGTIME. */
enum text_debugtime {
    TEXT_DEBUGTIME_ADD = 0,     /* "debugtime <secs>": exptime = secs */
    TEXT_DEBUGTIME_PAUSE,       /* "debugtime p" */
    TEXT_DEBUGTIME_RESUME,      /* "debugtime r" */
};

/* Set the item size limit (bytes, memcached's -I) once at startup, before
 * any connection parses; read-only afterwards.  0 keeps the default. */
void text_setup(uint32_t item_size_max);

/* Restore the defaults (tests). */
void text_teardown(void);

/* Parse one request from buf[0..len): enum parse_status (see above).
 * Never reads past len, never allocates; pointers in req point into buf. */
int text_parse(struct request *req, const char *buf, size_t len);

/*
 * A get/gets line longer than the caller wants to buffer, no newline yet,
 * in buf[0..len): PARSE_OK with op REQ_GET, want_cas, more = true and
 * keys/keys_len = the keys that can run now (all complete ones but the
 * last, maybe none; answer them without END).  The line goes on as
 * text_get_continue() writes it: "get "/"gets ", the keep bytes at
 * buf + consumed (the last token), then keep_trail; the rest of buf is
 * blanks or (after a NUL) ignored.  PARSE_ERROR (CLIENT_ERROR bad command
 * line format) when a key is over REQ_KEY_MAX, with keys_then_error and
 * the keys before it as text_parse gives them: drop the rest of the line.
 * PARSE_AGAIN when buf is not such a line.  Pure: pointers into buf,
 * nothing allocated.
 */
int text_parse_get_head(struct request *req, const char *buf, size_t len);

/* After text_parse_get_head(req, line, ...) returned PARSE_OK and its keys
 * ran: rewrite line in place so that line[start, consumed + keep +
 * nkeep_trail) is the rest of the get line; returns start. */
size_t text_get_continue(char *line, const struct request *req);

/* Write the reply for one result; nothing for noreply requests. */
void text_reply(struct out *o, const struct request *req,
                const struct result *res);

/* Write "STAT <name> <value>\r\n". */
void text_stat(struct out *o, const struct request *req, const char *name,
               const char *value);

/* Write "END\r\n". */
void text_end(struct out *o, const struct request *req);

/* Write "<line>\r\n"; nothing when line is NULL or a text request carried
 * noreply (memcached silences its errors). */
void text_error(struct out *o, const struct request *req, const char *line);

/* Write the decimal digits of v to dst (at least 20 bytes); returns the
 * number of bytes written. */
size_t text_u64(char *dst, uint64_t v);

/* -Y: data blocks longer than this are not credentials (two fields of
 * at most 255 bytes): text_auth_parse() does not buffer them. */
#define TEXT_AUTH_DATA_MAX 1024

/*
 * Parse what an unauthenticated text connection sent under -Y
 * (proto/text_auth.c has the grammar): PARSE_OK with op = REQ_AUTH, key =
 * user, value = password; PARSE_ERROR with memcached's line in err (op =
 * REQ_AUTH, with swallow, for a data block over TEXT_AUTH_DATA_MAX: a
 * failed attempt); PARSE_AGAIN (need = total bytes once the line is
 * known); PARSE_CLOSE.
 */
int text_auth_parse(struct request *req, const char *buf, size_t len);

#endif
