/*
 * common/log.h: one-line diagnostics on stderr.
 *
 * Contract: every line is "recap: <level>: <message>" (or, for fatal CLI errors,
 * "recap: <message>"), written with a single write(2) so lines from the writer
 * thread and the event loop never interleave. Safe to call from any thread.
 * Messages above the current level are dropped cheaply.
 */
#ifndef RCX_LOG_H
#define RCX_LOG_H

typedef enum { RCX_LOG_ERROR = 0, RCX_LOG_WARN, RCX_LOG_INFO, RCX_LOG_DEBUG } rcx_log_level_t;

/** Sets the level below which messages are written (default RCX_LOG_INFO). */
void rcx_log_set_level(rcx_log_level_t level);

/** Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int rcx_log_parse_level(const char *s, rcx_log_level_t *out);

/** Writes one line at the given level; a trailing newline is added. */
void rcx_log(rcx_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rcx_log_error(...) rcx_log(RCX_LOG_ERROR, __VA_ARGS__)
#define rcx_log_warn(...) rcx_log(RCX_LOG_WARN, __VA_ARGS__)
#define rcx_log_info(...) rcx_log(RCX_LOG_INFO, __VA_ARGS__)
#define rcx_log_debug(...) rcx_log(RCX_LOG_DEBUG, __VA_ARGS__)

#endif
