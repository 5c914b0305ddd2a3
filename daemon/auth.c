/*
 * auth.c -- the user:password table of -Y and -S, reloadable.
 *
 * Entries are stored in fixed AUTH_FIELD_MAX-byte, zero-padded fields so
 * that a check reads the same bytes whatever it is given: the work and
 * the memory touched do not depend on which entry matches, on how much of
 * a password is right, or on the stored lengths.  Checks are rare (once
 * per connection), so one mutex guards the table pointer; a reload builds
 * the new table outside it and swaps.  Calls only libc and daemon/log.
 */
#include "daemon/auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"

/* A password file larger than this is refused: it is a short list of
 * accounts, not a user database. */
#define AUTH_FILE_MAX (1024 * 1024)

struct auth_entry {
    char user[AUTH_FIELD_MAX];
    char pass[AUTH_FIELD_MAX];
    size_t nuser;
    size_t npass;
};

struct auth_table {
    size_t n;
    struct auth_entry e[];
};

struct auth {
    char *path;
    pthread_mutex_t lock;
    struct auth_table *t;   /* under lock */
};

/* The whole of path, NUL-terminated; NULL (logged) on error. */
static char *
auth_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    if (f == NULL) {
        log_error("Could not open authfile [%s] for reading, error %s",
                  path, strerror(errno));
        return NULL;
    }
    buf = malloc(AUTH_FILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        log_error("Out of memory reading authfile [%s]", path);
        return NULL;
    }
    n = fread(buf, 1, AUTH_FILE_MAX + 1, f);
    if (ferror(f) || n > AUTH_FILE_MAX) {
        log_error("Could not read authfile [%s]: %s", path,
                  ferror(f) ? strerror(errno) : "larger than 1 MiB");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parse "user:password" lines; blank lines are skipped, a trailing "\r"
 * is not part of the password.  NULL (logged) on a malformed line. */
static struct auth_table *
auth_parse(const char *path, const char *buf, size_t len)
{
    size_t lines = 1;
    struct auth_table *t;
    const char *p = buf;
    const char *end = buf + len;

    for (size_t i = 0; i < len; i++) {
        lines += buf[i] == '\n';
    }
    t = calloc(1, sizeof(*t) + lines * sizeof(t->e[0]));
    if (t == NULL) {
        log_error("Out of memory loading authfile [%s]", path);
        return NULL;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        const char *colon;
        struct auth_entry *e = &t->e[t->n];

        if (eol > p && eol[-1] == '\r') {
            eol--;
        }
        if (eol > p) {
            colon = memchr(p, ':', (size_t)(eol - p));
            if (colon == NULL || colon == p ||
                (size_t)(colon - p) > AUTH_FIELD_MAX ||
                (size_t)(eol - colon - 1) > AUTH_FIELD_MAX) {
                log_error("Authfile [%s] has a malformed entry. Should be "
                          "'user:password'", path);
                free(t);
                return NULL;
            }
            e->nuser = (size_t)(colon - p);
            e->npass = (size_t)(eol - colon - 1);
            memcpy(e->user, p, e->nuser);
            memcpy(e->pass, colon + 1, e->npass);
            t->n++;
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return t;
}

static struct auth_table *
auth_load(const char *path)
{
    size_t len = 0;
    char *buf = auth_read_file(path, &len);
    struct auth_table *t;

    if (buf == NULL) {
        return NULL;
    }
    t = auth_parse(path, buf, len);
    /* the file's bytes are secrets: do not leave them in freed memory */
    memset(buf, 0, len);
    free(buf);
    return t;
}

struct auth *
auth_create(const char *path)
{
    struct auth *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        return NULL;
    }
    a->path = strdup(path);
    a->t = a->path != NULL ? auth_load(path) : NULL;
    if (a->t == NULL || pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a->t);
        free(a->path);
        free(a);
        return NULL;
    }
    return a;
}

void
auth_destroy(struct auth *a)
{
    if (a == NULL) {
        return;
    }
    pthread_mutex_destroy(&a->lock);
    free(a->t);
    free(a->path);
    free(a);
}

int
auth_reload(struct auth *a)
{
    struct auth_table *t = auth_load(a->path);
    struct auth_table *old;

    if (t == NULL) {
        log_error("authfile [%s] not reloaded: keeping the old entries",
                  a->path);
        return -1;
    }
    pthread_mutex_lock(&a->lock);
    old = a->t;
    a->t = t;
    pthread_mutex_unlock(&a->lock);
    free(old);
    log_info("authfile [%s] reloaded: %zu entries", a->path, t->n);
    return 0;
}

/* Nonzero unless cand[0..ncand) equals the field; reads all
 * AUTH_FIELD_MAX bytes of the field whatever the inputs. */
static unsigned
auth_field_diff(const char *field, size_t nfield, const char *cand,
                size_t ncand)
{
    unsigned d = nfield != ncand;

    for (size_t i = 0; i < AUTH_FIELD_MAX; i++) {
        unsigned char c = i < ncand ? (unsigned char)cand[i] : 0;

        d |= (unsigned)((unsigned char)field[i] ^ c);
    }
    return d;
}

bool
auth_check(struct auth *a, const char *user, size_t nuser, const char *pass,
           size_t npass)
{
    unsigned found = 0;

    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->t->n; i++) {
        const struct auth_entry *e = &a->t->e[i];
        unsigned d = auth_field_diff(e->user, e->nuser, user, nuser) |
                     auth_field_diff(e->pass, e->npass, pass, npass);

        /* no early exit: every entry costs the same */
        found |= d == 0;
    }
    pthread_mutex_unlock(&a->lock);
    return found != 0;
}

bool
auth_check_plain(struct auth *a, const char *msg, size_t len)
{
    const char *nul1 = memchr(msg, '\0', len);
    const char *authcid, *nul2;
    size_t nauthz, nauthc;

    if (nul1 == NULL) {
        return false;
    }
    authcid = nul1 + 1;
    nul2 = memchr(authcid, '\0', len - (size_t)(authcid - msg));
    if (nul2 == NULL) {
        return false;
    }
    nauthz = (size_t)(nul1 - msg);
    nauthc = (size_t)(nul2 - authcid);
    if (nauthz != 0 &&
        (nauthz != nauthc || memcmp(msg, authcid, nauthc) != 0)) {
        return false;
    }
    return auth_check(a, authcid, nauthc, nul2 + 1,
                      len - (size_t)(nul2 + 1 - msg));
}
