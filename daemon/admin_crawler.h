/*
 * admin_crawler.h -- the lru_crawler command family and stats cachedump
 * (daemon/admin_crawler.c): memcached 1.6's replies, dumps streamed a
 * batch at a time through the resumable-request hook (daemon/process.h).
 */
#ifndef STASHD_DAEMON_ADMIN_CRAWLER_H
#define STASHD_DAEMON_ADMIN_CRAWLER_H

#include "daemon/admin.h"

/* lru_crawler enable|disable|crawl|metadump|mgdump|sleep|tocrawl: the
 * admin table's handler.  A dump returns PROCESS_PAUSED whenever px's output
 * is full, or (px->resume_idle) while the crawler thread has formatted
 * nothing new, and continues from px->resume_job when run again. */
enum process_rc admin_crawler(struct process_ctx *px, struct request *req,
                              const struct admin_args *a);

/* stats cachedump CLASS LIMIT (text protocol; req->keys holds the
 * arguments): streamed like a dump. */
enum process_rc admin_cachedump(struct process_ctx *px, struct request *req);

#endif
