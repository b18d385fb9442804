/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <syslog.h>

#include "macro.h"

/* MESSAGE_IDs of the events an administrator may want to find in the journal;
 * systemd/thermo.catalog explains each. */
#define THERMO_MESSAGE_STARTED "72214724076f4f48a4e77cce31fd4dd3"
#define THERMO_MESSAGE_STOPPED "cd91b2bc4aa14d4ebe57ec0b682c04ae"
#define THERMO_MESSAGE_HANDED_OVER "9ff038233c924790b8ff83f8ff2f229e"
#define THERMO_MESSAGE_TAKEN_OVER "a9c8511d8c1f49679bb48f3f693dd473"
#define THERMO_MESSAGE_CONNECTED "caa6a5b986af4e949c810cff0e0a76a7"
#define THERMO_MESSAGE_DISCONNECTED "55c68309aadf41c9ba76928ac7c21bd2"
#define THERMO_MESSAGE_REJECTED "81be728ab9684781ac2ad5aab0809aa6"
#define THERMO_MESSAGE_SENSOR_FAILED "6a7c863dbdf4436fa8d877ece8c20d7f"
#define THERMO_MESSAGE_SENSOR_RECOVERED "f3d552726c4541d090c3a802a6682346"
#define THERMO_MESSAGE_SHORT_CONNECTIONS "edce26d4d43c47c98f5935d6e4568486"
#define THERMO_MESSAGE_RESCANNED "741eee9e599f405e97a9e8d718bd5031"
#define THERMO_MESSAGE_SIMULATED "1f04546240b6457f94d0df1f0258ae36"
#define THERMO_MESSAGE_LEVEL_HIGH "979a0a968f4048bfb71ee5ab93dca5a3"
#define THERMO_MESSAGE_LEVEL_CRIT "bf10ced02ba740aeb6521ae04aa5ce8f"
#define THERMO_MESSAGE_LEVEL_LOW "b42a1cf13d5a46c9b8282bcb4b27ffed"
#define THERMO_MESSAGE_LEVEL_OK "d767fe26d12c46cdb963027e4ccaad0e"
#define THERMO_MESSAGE_BROKER_CONNECTED "029f86fd70a64e0fb45c5e71f3a90132"
#define THERMO_MESSAGE_BROKER_LOST "7b492d65ccdc40829345c0a14874d6e4"
#define THERMO_MESSAGE_READINGS_DROPPED "157d16f1ce814363978760851fc544a0"

/* A NULL-terminated list of extra "KEY=value" journal fields. */
#define LOG_FIELDS(...) ((const char *const[]) { __VA_ARGS__, NULL })

void log_set_max_level(int level);
/* On stderr, lines start with this (a command's name) instead of the level (a daemon's habit). */
void log_set_prefix(const char *prefix);
/* Colours errors and warnings on stderr (the caller decides that stderr is a terminal that wants them). */
void log_set_color(bool color);
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
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_oom() log_full_errno(LOG_ERR, ENOMEM, "Out of memory.")

/* --log-level=LEVEL of every program: sets the level, or says what is wrong (as log_invalid_value()). */
int log_parse_level_option(const char *value);

/* After a usage error: where to read more, on stderr. */
void log_usage_hint(void);

/* A bad command line, said to the person who typed it (stderr, never the journal):
 * "<program>: Invalid value '<value>' for <option>: <why>". Returns -EINVAL. */
int log_invalid_value(const char *option, const char *value, const char *why);

/* A log line with a MESSAGE_ID and extra fields: log_struct(LOG_INFO, 0, ID, LOG_FIELDS(...), fmt, ...) */
#define log_struct(level, error, message_id, fields, ...) \
        log_struct_internal(level, error, message_id, fields, __VA_ARGS__)
