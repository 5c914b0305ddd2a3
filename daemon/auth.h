/*
 * auth.h -- the password table behind -Y (ascii auth) and -S (SASL PLAIN).
 *
 * Both read the same format as memcached: one "user:password" line per
 * account (the password is everything after the first ':').  A table is
 * loaded at start-up and reloaded on SIGHUP, as memcached reloads its -Y
 * file; workers check credentials concurrently with a reload.  A check
 * takes the same time whatever the credentials and whichever entry (if
 * any) they match: every entry is compared, over fixed-size fields.
 */
#ifndef STASHD_DAEMON_AUTH_H
#define STASHD_DAEMON_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Longest user name and password, as memcached's 256-byte lines allow. */
#define AUTH_FIELD_MAX 255

struct auth;

/* Load path into a new table.  NULL on error, with a message logged
 * (memcached's wording for a missing file or a malformed line). */
struct auth *auth_create(const char *path);

/* Free a table. */
void auth_destroy(struct auth *a);

/* Read a's file again and swap the entries in; 0, or -1 (logged) with
 * the old entries kept.  Any thread; checks running meanwhile see the
 * old or the new table, never a mix. */
int auth_reload(struct auth *a);

/* True when user/pass (not NUL-terminated) match an entry.  Constant
 * time in the contents and lengths of both.  Any thread. */
bool auth_check(struct auth *a, const char *user, size_t nuser,
                const char *pass, size_t npass);

/*
 * Check a SASL PLAIN message (RFC 4616: authzid NUL authcid NUL passwd)
 * against a.  As Cyrus SASL without proxy rights: the authzid must be
 * empty or the authcid itself.  False on a malformed message.
 */
bool auth_check_plain(struct auth *a, const char *msg, size_t len);

#endif
