/*
 * fuzz_server.h -- the in-process server the connection-level fuzz
 * targets (fuzz_conn, fuzz_udp) run requests against: a real store (2 MiB,
 * so items are evicted, no background thread so replays stay exact) and a
 * real worker whose event base is never run.
 *
 * Header-only, like fuzz_util.h: each target is one translation unit.
 */
#ifndef STASHD_FUZZ_SERVER_H
#define STASHD_FUZZ_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "daemon/server.h"
#include "daemon/settings.h"
#include "daemon/worker.h"
#include "proto/bin.h"
#include "proto/meta.h"
#include "proto/text.h"
#include "slab/clock.h"
#include "slab/store.h"
#include "t/fuzz/fuzz_util.h"

#define FUZZ_MEM_LIMIT ((size_t)2 << 20)

static struct settings fuzz_settings;
static struct server fuzz_srv;
static struct worker *fuzz_worker;
static bool fuzz_ready;

/* The daemon's main.c defines this; here a shutdown just closes. */
void
server_stop(struct server *srv)
{
    (void)srv;
}

/* Build the server once, on the first input. */
static void
fuzz_setup(void)
{
    struct store_config cfg;

    settings_default(&fuzz_settings);
    fuzz_settings.mem_limit = FUZZ_MEM_LIMIT;
    fuzz_settings.enable_shutdown = true;
    text_setup((uint32_t)fuzz_settings.item_size_max);
    bin_setup((uint32_t)fuzz_settings.item_size_max);
    meta_setup((uint32_t)fuzz_settings.item_size_max);
    memset(&fuzz_srv, 0, sizeof(fuzz_srv));
    fuzz_srv.settings = &fuzz_settings;
    fuzz_srv.clock = clock_create();
    FUZZ_CHECK(fuzz_srv.clock != NULL);
    store_config_default(&cfg);
    cfg.mem_limit = FUZZ_MEM_LIMIT;
    cfg.item_size_max = fuzz_settings.item_size_max;
    cfg.lru_bg = false;     /* no background thread: replays stay exact */
    fuzz_srv.store = store_create(&cfg, fuzz_srv.clock);
    FUZZ_CHECK(fuzz_srv.store != NULL);
    fuzz_worker = worker_create(&fuzz_srv, 0);
    FUZZ_CHECK(fuzz_worker != NULL);
    fuzz_srv.workers = &fuzz_worker;
    fuzz_srv.nworkers = 1;
    fuzz_ready = true;
}

#endif
