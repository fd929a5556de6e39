/*
 * Logging to stderr with a level filter. Kept deliberately small: the daemon
 * is meant to run under systemd, which stores and rotates what we print.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum br_log_level current_level = BR_LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void br_log_set_level(enum br_log_level level)
{
    current_level = level;
}

int br_log_level_parse(const char *name, enum br_log_level *out)
{
    for (unsigned i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum br_log_level)i;
            return 0;
        }
    }
    return -1;
}

void br_log(enum br_log_level level, const char *fmt, ...)
{
    char stamp[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    if (level > current_level)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    flockfile(stderr);
    fprintf(stderr, "%s.%03ldZ %-5s ", stamp, now.tv_nsec / 1000000, level_names[level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}
