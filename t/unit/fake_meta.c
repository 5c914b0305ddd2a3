/*
 * fake_meta.c -- TEST ONLY.  Stands in for proto/meta.c so check_text can
 * be built without the meta parser: it proves that text_parse() hands meta
 * lines over (and fixes up leading spaces) without depending on meta's
 * behaviour.  Never linked into stashd.
 *
 * It answers every complete line with PARSE_ERROR "ERROR" marked
 * PROTO_META, and remembers what it was given.
 */
#include <string.h>

#include "proto/meta.h"

const char *fake_meta_buf;
size_t fake_meta_len;
int fake_meta_calls;

int
meta_parse(struct request *req, const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len);

    fake_meta_buf = buf;
    fake_meta_len = len;
    fake_meta_calls++;
    memset(req, 0, sizeof(*req));
    req->proto = PROTO_META;
    if (nl == NULL) {
        return PARSE_AGAIN;
    }
    req->consumed = (uint32_t)(nl - buf) + 1;
    req->err = "ERROR";
    return PARSE_ERROR;
}
