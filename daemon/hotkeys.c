/*
 * hotkeys.c -- sampled Space-Saving summaries of the requested keys, one
 * per worker, merged when an operator asks (daemon/hotkeys.h).
 *
 * Space-Saving keeps HOTKEYS_SLOTS counters: a counted key that has one
 * adds to it; a new key takes the counter with the smallest count and
 * inherits that count as its possible error.  With the true minimum, any
 * key whose count is above total / HOTKEYS_SLOTS is guaranteed a counter;
 * taking the smallest of a few random counters instead keeps that for
 * all but keys near the threshold, which is what "the hottest keys"
 * needs.  Sampling one request in HOTKEYS_SAMPLE keeps the
 * per-request cost at a random number and a compare; the lock is taken
 * only for a sampled request, and only "stats hotkeys" contends for it.
 */
#include "daemon/hotkeys.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slab/clock.h"

#define HOTKEYS_KEY_MAX 250
#define HOTKEYS_PROBES 8        /* counters compared to find a small one */
#define HOTKEYS_IDX 256         /* index positions: twice the counters */

struct hotkeys_sketch {
    uint32_t start;         /* rel time it began counting */
    uint32_t n;             /* counters in use */
    uint64_t hv[HOTKEYS_SLOTS];
    uint32_t base[HOTKEYS_SLOTS];   /* count inherited on takeover */
    uint32_t reads[HOTKEYS_SLOTS];
    uint32_t writes[HOTKEYS_SLOTS];
    uint8_t nkey[HOTKEYS_SLOTS];
    /* an open-addressing index of the counters by hash (linear probing,
     * counter + 1, 0 = empty): a sample finds its counter in a probe or
     * two instead of comparing all HOTKEYS_SLOTS hashes */
    uint8_t idx[HOTKEYS_IDX];
    char key[HOTKEYS_SLOTS][HOTKEYS_KEY_MAX];
};

struct hotkeys {
    struct hotkeys_gate gate;   /* first: hotkeys_note reads it inline */
    const struct clock *clk;
    pthread_mutex_t lock;   /* guards sk and cur */
    int cur;
    struct hotkeys_sketch sk[2];
};

/* One merged key of a report. */
struct hotkeys_row {
    uint64_t hv;
    double total;           /* ranks: counted + inherited, per second */
    double reads;
    double writes;
    uint8_t nkey;
    char key[HOTKEYS_KEY_MAX];
};

static uint64_t
hotkeys_hash(const char *key, size_t nkey)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < nkey; i++) {
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    }
    return h;
}

struct hotkeys *
hotkeys_create(const struct clock *clk, unsigned seed, bool enabled)
{
    struct hotkeys *h = calloc(1, sizeof(*h));

    if (h == NULL) {
        return NULL;
    }
    h->clk = clk;
    h->gate.enabled = enabled;
    h->gate.rng = 2463534242u ^ (seed * 2654435761u);
    if (h->gate.rng == 0) {
        h->gate.rng = 1;
    }
    pthread_mutex_init(&h->lock, NULL);
    h->sk[0].start = clock_now(clk);
    h->sk[1].start = h->sk[0].start - 2 * HOTKEYS_WINDOW;
    return h;
}

void
hotkeys_destroy(struct hotkeys *h)
{
    if (h != NULL) {
        pthread_mutex_destroy(&h->lock);
        free(h);
    }
}

/* FNV-1a's high bits barely move with a key's last byte (keys that
 * differ only there, "user:1001", "user:1002", would share a home and
 * grow one long cluster): mix before taking the top 8 bits. */
static uint32_t
hotkeys_home(uint64_t hv)
{
    return (uint32_t)((hv * 0x9E3779B97F4A7C15ULL) >> 56) % HOTKEYS_IDX;
}

/* The index position of key, or (not there) the empty one ending its
 * probe sequence, in *pos; true if found. */
static bool
hotkeys_find(const struct hotkeys_sketch *s, uint64_t hv, const char *key,
             size_t nkey, uint32_t *pos)
{
    uint32_t p = hotkeys_home(hv);

    while (s->idx[p] != 0) {
        uint32_t i = s->idx[p] - 1u;

        if (s->hv[i] == hv && s->nkey[i] == nkey &&
            memcmp(s->key[i], key, nkey) == 0) {
            *pos = p;
            return true;
        }
        p = (p + 1) % HOTKEYS_IDX;
    }
    *pos = p;
    return false;
}

/* Remove counter i from the index (backward-shift deletion keeps every
 * other entry reachable from its home position). */
static void
hotkeys_unindex(struct hotkeys_sketch *s, uint32_t i)
{
    uint32_t p = hotkeys_home(s->hv[i]);

    while (s->idx[p] != i + 1u) {
        p = (p + 1) % HOTKEYS_IDX;
    }
    for (uint32_t q = (p + 1) % HOTKEYS_IDX; s->idx[q] != 0;
         q = (q + 1) % HOTKEYS_IDX) {
        uint32_t home = hotkeys_home(s->hv[s->idx[q] - 1u]);

        /* the entry at q may move to the hole at p unless its home lies
         * cyclically in (p, q] */
        if ((q - home) % HOTKEYS_IDX >= (q - p) % HOTKEYS_IDX) {
            s->idx[p] = s->idx[q];
            p = q;
        }
    }
    s->idx[p] = 0;
}

/* Count key in s (Space-Saving).  A new key in a full summary takes the
 * smallest of HOTKEYS_PROBES counters picked at random (rnd): a full scan
 * for the true minimum costs as much as everything else per sample, and
 * a hot key's counter is almost never the smallest of the probes.  Caller
 * holds the lock. */
static void
hotkeys_count_locked(struct hotkeys_sketch *s, uint64_t hv, const char *key,
                     size_t nkey, bool write, uint32_t rnd)
{
    uint32_t i, pos;

    if (hotkeys_find(s, hv, key, nkey, &pos)) {
        i = s->idx[pos] - 1u;
    } else {
        uint32_t min_count = 0;

        if (s->n < HOTKEYS_SLOTS) {
            i = s->n++;
        } else {
            min_count = UINT32_MAX;
            i = 0;
            for (uint32_t p = 0; p < HOTKEYS_PROBES; p++) {
                uint32_t k = (rnd >> (p * 4) ^ p * 37u) % HOTKEYS_SLOTS;
                uint32_t c = s->base[k] + s->reads[k] + s->writes[k];

                if (c < min_count) {
                    min_count = c;
                    i = k;
                }
            }
            hotkeys_unindex(s, i);
            /* the deletion may have shifted the probe sequence */
            hotkeys_find(s, hv, key, nkey, &pos);
        }
        s->hv[i] = hv;
        s->base[i] = min_count;
        s->reads[i] = 0;
        s->writes[i] = 0;
        s->nkey[i] = (uint8_t)nkey;
        memcpy(s->key[i], key, nkey);
        s->idx[pos] = (uint8_t)(i + 1u);
    }
    if (write) {
        s->writes[i]++;
    } else {
        s->reads[i]++;
    }
}

void
hotkeys_sample(struct hotkeys *h, const char *key, size_t nkey, bool write,
               uint32_t x)
{
    rel_time_t now;
    struct hotkeys_sketch *s;

    if (nkey == 0 || nkey > HOTKEYS_KEY_MAX) {
        return;
    }
    now = clock_now(h->clk);
    pthread_mutex_lock(&h->lock);
    s = &h->sk[h->cur];
    if (now - s->start >= HOTKEYS_WINDOW) {
        h->cur ^= 1;
        s = &h->sk[h->cur];
        s->n = 0;
        memset(s->idx, 0, sizeof(s->idx));
        s->start = now;
    }
    hotkeys_count_locked(s, hotkeys_hash(key, nkey), key, nkey, write,
                         (x / HOTKEYS_SAMPLE) * 2654435761u);
    pthread_mutex_unlock(&h->lock);
}

/* Append the summaries of h that began within the last two windows to
 * rows (as per-second rates over the time they cover). */
static size_t
hotkeys_collect(struct hotkeys *h, struct hotkeys_row *rows, size_t nrows)
{
    rel_time_t now = clock_now(h->clk);
    uint32_t oldest = now;
    bool any = false;
    double span;

    pthread_mutex_lock(&h->lock);
    for (int k = 0; k < 2; k++) {
        const struct hotkeys_sketch *s = &h->sk[k];

        if (now - s->start < 2 * HOTKEYS_WINDOW && s->n > 0) {
            if (!any || now - s->start > now - oldest) {
                oldest = s->start;
            }
            any = true;
        }
    }
    /* a summary that began this second still covers one */
    span = (double)(now - oldest) + 1.0;
    for (int k = 0; any && k < 2; k++) {
        const struct hotkeys_sketch *s = &h->sk[k];

        if (now - s->start >= 2 * HOTKEYS_WINDOW) {
            continue;
        }
        for (uint32_t i = 0; i < s->n; i++) {
            struct hotkeys_row *r = &rows[nrows++];
            double scale = (double)HOTKEYS_SAMPLE / span;

            r->hv = s->hv[i];
            r->reads = s->reads[i] * scale;
            r->writes = s->writes[i] * scale;
            r->total = (s->base[i] + s->reads[i] + s->writes[i]) * scale;
            r->nkey = s->nkey[i];
            memcpy(r->key, s->key[i], s->nkey[i]);
        }
    }
    pthread_mutex_unlock(&h->lock);
    return nrows;
}

static int
hotkeys_by_key(const void *a, const void *b)
{
    const struct hotkeys_row *x = a, *y = b;

    if (x->hv != y->hv) {
        return x->hv < y->hv ? -1 : 1;
    }
    if (x->nkey != y->nkey) {
        return x->nkey < y->nkey ? -1 : 1;
    }
    return memcmp(x->key, y->key, x->nkey);
}

static int
hotkeys_by_rate(const void *a, const void *b)
{
    const struct hotkeys_row *x = a, *y = b;

    if (x->total != y->total) {
        return x->total > y->total ? -1 : 1;
    }
    return hotkeys_by_key(a, b);
}

void
hotkeys_escape(char *buf, const char *key, size_t nkey)
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = buf;

    for (size_t i = 0; i < nkey; i++) {
        unsigned char ch = (unsigned char)key[i];

        if (ch <= 0x20 || ch >= 0x7f || ch == '%') {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        } else {
            *p++ = (char)ch;
        }
    }
    *p = '\0';
}

void
hotkeys_report(struct hotkeys *const *hs, int n, unsigned top,
               stats_emit_fn emit, void *ctx)
{
    struct hotkeys_row *rows;
    size_t nrows = 0, merged = 0;

    rows = malloc((size_t)n * 2 * HOTKEYS_SLOTS * sizeof(*rows));
    if (rows == NULL) {
        return;
    }
    for (int i = 0; i < n; i++) {
        if (hs[i] != NULL) {
            nrows = hotkeys_collect(hs[i], rows, nrows);
        }
    }
    /* the same key counted by several workers (or both windows) is one */
    qsort(rows, nrows, sizeof(*rows), hotkeys_by_key);
    for (size_t i = 0; i < nrows; i++) {
        if (merged > 0 && hotkeys_by_key(&rows[merged - 1], &rows[i]) == 0) {
            rows[merged - 1].total += rows[i].total;
            rows[merged - 1].reads += rows[i].reads;
            rows[merged - 1].writes += rows[i].writes;
        } else {
            rows[merged++] = rows[i];
        }
    }
    qsort(rows, merged, sizeof(*rows), hotkeys_by_rate);
    for (size_t i = 0; i < merged && i < top; i++) {
        char name[32], val[3 * HOTKEYS_KEY_MAX + 80];
        int off;

        snprintf(name, sizeof(name), "hotkey:%zu", i + 1);
        off = snprintf(val, sizeof(val), "key=");
        hotkeys_escape(val + off, rows[i].key, rows[i].nkey);
        off += (int)strlen(val + off);
        snprintf(val + off, sizeof(val) - (size_t)off,
                 " reads/s=%.2f writes/s=%.2f", rows[i].reads,
                 rows[i].writes);
        emit(ctx, name, val);
    }
    free(rows);
}
