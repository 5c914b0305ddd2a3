/*
 * log.c -- leveled logging to stderr; see log.h.
 *
 * Warnings printed during startup (before -v is known) use LOG_ERROR so
 * they are always seen, as memcached prints its startup warnings.
 */
#include "daemon/log.h"

#include <stdarg.h>
#include <stdio.h>

int log_current = LOG_ERROR;      /* the one mutable global: a level */

void
log_set_level(int level)
{
    if (level < LOG_ERROR) {
        level = LOG_ERROR;
    }
    if (level > LOG_DEBUG) {
        level = LOG_DEBUG;
    }
    __atomic_store_n(&log_current, level, __ATOMIC_RELAXED);
}

void
log_write(int level, const char *fmt, ...)
{
    va_list ap;
    char line[1024];

    if (level > log_get_level()) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
