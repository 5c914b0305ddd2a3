/*
 * bin.h -- memcached's binary protocol: parser (bin_parse) and writer
 * (bin_proto, declared in proto/proto.h).
 *
 * The parser turns one request packet into a struct request; the writer
 * turns the executor's struct result into response packets.  Both follow
 * memcached 1.6.18 byte for byte (opcodes, status codes, error texts, which
 * malformed packets close the connection); the few places where stashd
 * deliberately differs are documented in bin.c.
 *
 * The only setting is the item size limit (-I), given once by bin_setup();
 * it is read-only afterwards, so the parser is safe on every worker thread.
 */
#ifndef STASHD_PROTO_BIN_H
#define STASHD_PROTO_BIN_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct request;

#define BIN_HEADER_LEN 24
#define BIN_REQ_MAGIC 0x80
#define BIN_RES_MAGIC 0x81

/* Opcodes memcached knows (SASL ones are parsed and answered "unknown",
 * as memcached does when started without -S). */
enum bin_opcode {
    BIN_OP_GET = 0x00,
    BIN_OP_SET = 0x01,
    BIN_OP_ADD = 0x02,
    BIN_OP_REPLACE = 0x03,
    BIN_OP_DELETE = 0x04,
    BIN_OP_INCREMENT = 0x05,
    BIN_OP_DECREMENT = 0x06,
    BIN_OP_QUIT = 0x07,
    BIN_OP_FLUSH = 0x08,
    BIN_OP_GETQ = 0x09,
    BIN_OP_NOOP = 0x0a,
    BIN_OP_VERSION = 0x0b,
    BIN_OP_GETK = 0x0c,
    BIN_OP_GETKQ = 0x0d,
    BIN_OP_APPEND = 0x0e,
    BIN_OP_PREPEND = 0x0f,
    BIN_OP_STAT = 0x10,
    BIN_OP_SETQ = 0x11,
    BIN_OP_ADDQ = 0x12,
    BIN_OP_REPLACEQ = 0x13,
    BIN_OP_DELETEQ = 0x14,
    BIN_OP_INCREMENTQ = 0x15,
    BIN_OP_DECREMENTQ = 0x16,
    BIN_OP_QUITQ = 0x17,
    BIN_OP_FLUSHQ = 0x18,
    BIN_OP_APPENDQ = 0x19,
    BIN_OP_PREPENDQ = 0x1a,
    BIN_OP_VERBOSITY = 0x1b,    /* memcached answers "Unknown command" */
    BIN_OP_TOUCH = 0x1c,
    BIN_OP_GAT = 0x1d,
    BIN_OP_GATQ = 0x1e,
    BIN_OP_SASL_LIST_MECHS = 0x20,
    BIN_OP_SASL_AUTH = 0x21,
    BIN_OP_SASL_STEP = 0x22,
    BIN_OP_GATK = 0x23,
    BIN_OP_GATKQ = 0x24,
};

/* Response status codes. */
enum bin_status {
    BIN_ST_OK = 0x0000,
    BIN_ST_KEY_ENOENT = 0x0001,
    BIN_ST_KEY_EEXISTS = 0x0002,
    BIN_ST_E2BIG = 0x0003,
    BIN_ST_EINVAL = 0x0004,
    BIN_ST_NOT_STORED = 0x0005,
    BIN_ST_DELTA_BADVAL = 0x0006,
    BIN_ST_AUTH_ERROR = 0x0020,
    BIN_ST_AUTH_CONTINUE = 0x0021,
    BIN_ST_UNKNOWN_COMMAND = 0x0081,
    BIN_ST_ENOMEM = 0x0082,
};

/* Set the item size limit (bytes, -I); call once before any bin_parse().
 * A store whose value is larger is answered "Too large." and its body
 * swallowed without buffering it.  Default 1 MiB. */
void bin_setup(uint32_t item_size_max);

/* Longest SASL mechanism name (memcached's) and SASL data accepted. */
#define BIN_SASL_MECH_MAX 32
#define BIN_SASL_DATA_MAX 1024

/* Whether SASL is on (-S); call once before any bin_parse().  Off, the
 * SASL opcodes are "Unknown command" as in memcached without -S; on, they
 * parse to REQ_SASL.  Default off. */
void bin_setup_sasl(bool on);

/* Parse one packet from buf[0..len): enum parse_status, see proto.h and
 * request.h.  Never reads past len; key and value point into buf. */
int bin_parse(struct request *req, const char *buf, size_t len);

/* memcached's error body text for a status ("Not found", ...); "" for
 * BIN_ST_OK, "Unknown error" for codes memcached never sends. */
const char *bin_status_text(uint16_t status);

/* The enum req_store_mode an opcode stores with when it carries no CAS
 * (bin_parse turns Set/Add/Replace with a CAS into REQ_CAS); REQ_SET for
 * opcodes that do not store. */
uint8_t bin_store_mode(uint8_t opcode);

#endif
