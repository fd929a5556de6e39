/*
 * Logging. One line per event on stderr (journald adds the time stamp when the
 * daemon runs under systemd; an interactive run gets a UTC time prefix).
 * Messages name what happened and why, never personal data beyond what an
 * operator needs to find the call (SIP Call-ID, source address).
 */
#ifndef BR_LOG_H
#define BR_LOG_H

enum br_log_level { BR_LOG_ERROR, BR_LOG_WARN, BR_LOG_INFO, BR_LOG_DEBUG };

void br_log_set_level(enum br_log_level level);
int br_log_level_parse(const char *name, enum br_log_level *out);
void br_log(enum br_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define br_err(...) br_log(BR_LOG_ERROR, __VA_ARGS__)
#define br_warn(...) br_log(BR_LOG_WARN, __VA_ARGS__)
#define br_info(...) br_log(BR_LOG_INFO, __VA_ARGS__)
#define br_debug(...) br_log(BR_LOG_DEBUG, __VA_ARGS__)

#endif
