/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

/* MESSAGE_IDs of the events an administrator may want to find in the journal;
 * systemd/thermo.catalog explains each. */
#define THERMO_MESSAGE_STARTED "4c2a1a6c36a94b0f9d0a2f6c3b1e7d01"
#define THERMO_MESSAGE_STOPPED "4c2a1a6c36a94b0f9d0a2f6c3b1e7d02"
#define THERMO_MESSAGE_CONNECTED "4c2a1a6c36a94b0f9d0a2f6c3b1e7d03"
#define THERMO_MESSAGE_DISCONNECTED "4c2a1a6c36a94b0f9d0a2f6c3b1e7d04"
#define THERMO_MESSAGE_REJECTED "4c2a1a6c36a94b0f9d0a2f6c3b1e7d05"

/* A NULL-terminated list of extra "KEY=value" journal fields. */
#define LOG_FIELDS(...) ((const char *const[]) { __VA_ARGS__, NULL })

void log_set_max_level(int level);
/* On stderr, lines start with this (a command's name) instead of the level (a daemon's habit). */
void log_set_prefix(const char *prefix);
int log_get_max_level(void);
int log_level_from_string(const char *s);

/* Logs to the journal when stderr is connected to it, else "level: message" on stderr.
 * Returns -abs(error), so that callers can 'return log_error_errno(r, ...)'. */
int log_struct_internal(int level, int error, const char *message_id, const char *const *fields,
                const char *format, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...) log_struct_internal(level, error, NULL, NULL, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_oom() log_full_errno(LOG_ERR, ENOMEM, "Out of memory.")

/* A log line with a MESSAGE_ID and extra fields: log_struct(LOG_INFO, 0, ID, LOG_FIELDS(...), fmt, ...) */
#define log_struct(level, error, message_id, fields, ...) \
        log_struct_internal(level, error, message_id, fields, __VA_ARGS__)
