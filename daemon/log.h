/*
 * log.h -- leveled logging for the daemon.
 *
 * Messages go to stderr.  The level is set once at setup from -v/-vv/-vvv
 * (and may be changed by the "verbosity" command; a relaxed atomic int, so
 * readers on other threads see a value, not a tear).  Only daemon/ logs:
 * proto/ and slab/ report through return codes.
 */
#ifndef STASHD_DAEMON_LOG_H
#define STASHD_DAEMON_LOG_H

enum log_level {
    LOG_ERROR = 0,  /* always shown */
    LOG_WARN = 1,   /* -v */
    LOG_INFO = 2,   /* -vv */
    LOG_DEBUG = 3,  /* -vvv */
};

/* Set the level (clamped to LOG_ERROR..LOG_DEBUG). */
void log_set_level(int level);

/* The level itself: written only by log_set_level; read here, inline,
 * because the connection loop asks once per request (-vv). */
extern int log_current;

/* The current level. */
static inline int
log_get_level(void)
{
    return __atomic_load_n(&log_current, __ATOMIC_RELAXED);
}

/* Write one formatted line if level <= the current level. */
void log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)

#endif
