/*
 * hotkeys.h -- "stats hotkeys [N]": the keys with the most requests over
 * about the last minute, from a bounded sketch per worker.
 *
 * Each worker owns one struct hotkeys and feeds it every read and write
 * it executes (hotkeys_note).  Only one request in HOTKEYS_SAMPLE is
 * counted, into a Space-Saving summary of HOTKEYS_SLOTS counters (with a
 * sampled choice of the counter a new key takes), so the cost per
 * request is a random number and a compare, and the memory is
 * fixed whatever the key space.  Two summaries of HOTKEYS_WINDOW seconds
 * each rotate: the report covers the current one and the one before.
 * "stats" merges every worker's summaries on demand (hotkeys_report).
 */
#ifndef STASHD_DAEMON_HOTKEYS_H
#define STASHD_DAEMON_HOTKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/stats.h"

struct clock;
struct hotkeys;

#define HOTKEYS_SLOTS 128       /* counters per summary */
#define HOTKEYS_SAMPLE 32       /* one request in this many is counted */
#define HOTKEYS_WINDOW 30       /* seconds per summary; two are reported */
#define HOTKEYS_DEFAULT 20      /* keys listed when N is not given */

/* A worker's sketch (seed tells workers' samplers apart); NULL on OOM.
 * With enabled false hotkeys_note does nothing (-o no_hotkeys). */
struct hotkeys *hotkeys_create(const struct clock *clk, unsigned seed,
                               bool enabled);

void hotkeys_destroy(struct hotkeys *h);

/* The head of struct hotkeys: the sampler hotkeys_note runs inline. */
struct hotkeys_gate {
    uint32_t rng;       /* xorshift32 state, the owning worker's only */
    bool enabled;       /* false with -o no_hotkeys */
};

/* Count a sampled request (hotkeys_note's slow half). */
void hotkeys_sample(struct hotkeys *h, const char *key, size_t nkey,
                    bool write, uint32_t rnd);

/* Count one request on key (write: a store, else a read): one request in
 * HOTKEYS_SAMPLE reaches the summary, the rest cost a few instructions
 * here.  The owning worker's thread only; h may be NULL. */
static inline void
hotkeys_note(struct hotkeys *h, const char *key, size_t nkey, bool write)
{
    /* struct hotkeys begins with its struct hotkeys_gate */
    struct hotkeys_gate *g = (struct hotkeys_gate *)(void *)h;
    uint32_t x;

    if (g == NULL || !g->enabled) {
        return;
    }
    x = g->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g->rng = x;
    if (x % HOTKEYS_SAMPLE == 0) {
        hotkeys_sample(h, key, nkey, write, x);
    }
}

/* Emit the top keys of the n sketches hs, merged: "hotkey:<rank>" with
 * "key=<key> reads/s=<r> writes/s=<w>" (key bytes outside 0x21..0x7e and
 * '%' as %XX), at most top lines.  Any thread. */
void hotkeys_report(struct hotkeys *const *hs, int n, unsigned top,
                    stats_emit_fn emit, void *ctx);

/* Write key as hotkeys_report shows it into buf (size >= 3 * nkey + 1). */
void hotkeys_escape(char *buf, const char *key, size_t nkey);

#endif
