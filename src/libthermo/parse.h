/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)

/* Decimal digits only (no sign, no spaces), within [min, max]: 0, -EINVAL or -ERANGE. */
int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* "1500", "1.5s", "250ms", "2min", "1h": a time span in microseconds. A number without a unit is taken in
 * default_unit_usec (USEC_PER_MSEC for --interval, USEC_PER_SEC for --exit-idle). */
int parse_timespan(const char *s, uint64_t default_unit_usec, uint64_t *ret);

/* The --timeout of a client: parse_timespan() in seconds, from 1ms to 24h. */
#define TIMEOUT_RANGE "a time from 1ms to 24h"
int parse_timeout(const char *s, uint64_t *ret);

/* "65536", "64K", "1M", "1G" (powers of 1024): a size in bytes. */
int parse_size(const char *s, uint64_t *ret);
