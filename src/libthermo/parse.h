/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)

/* Decimal digits only (no sign, no spaces), within [min, max]: 0, -EINVAL or -ERANGE. */
int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* What every --help says of TIME. */
#define TIMESPAN_HELP "TIME is read as systemd reads it: 5 (seconds), 250ms, 1.5s, 2min 30s.\n"

/* A time span as systemd.time(7) reads one, in microseconds: "5" (seconds), "1.5s", "250ms", "2min 30s",
 * "1h30min", with systemd's units from "us" to "y". */
int parse_timespan(const char *s, uint64_t *ret);

/* "2min 30s", "250ms", "1h 1us": usec as systemd writes a time span, its largest units first, up to
 * hours. Returns buf. */
const char *format_timespan(char *buf, size_t size, uint64_t usec);
/* The same to the millisecond, as systemd writes a span it measured: "24.579s", "1min 24.579s", "250ms". */
const char *format_timespan_ms(char *buf, size_t size, uint64_t usec);

/* The --timeout of a client: parse_timespan(), from 1ms to 24h. */
#define TIMEOUT_RANGE "a time from 1ms to 24h"
int parse_timeout(const char *s, uint64_t *ret);

/* Degrees Celsius as an option gives them: "80", "-5", "7.5", "92.125" (three decimals at most, as a
 * reading has), within ±1000000 °C: millidegrees. */
#define CELSIUS_OPTION_MAX (INT64_C(1000000) * 1000)
int parse_celsius(const char *s, int64_t *ret);

/* "65536", "64K", "1M", "1G" (powers of 1024): a size in bytes. */
int parse_size(const char *s, uint64_t *ret);

/* An origin as --http-cors-origin takes it, as a browser sends it (RFC 6454, serialized): "*", or
 * "http://" or "https://", a host (lowercase letters, digits, '-' and '.', or an IPv6 address in brackets)
 * and an optional ":PORT" of 1 to 65535 that is not the scheme's default, with no path, no user and no
 * trailing dot or slash. */
bool parse_origin_is_valid(const char *s);
