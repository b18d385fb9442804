/* SPDX-License-Identifier: MIT */
#pragma once

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"
#include "parse.h"

/* How long a client waits before it tries a connection again: 0.5s, doubling to 30s, and from 0.5s again
 * once a connection has worked, for as long as the longest wait (0 here). */
#define BACKOFF_MIN_USEC (500 * USEC_PER_MSEC)
#define BACKOFF_MAX_USEC (30 * USEC_PER_SEC)

static inline uint64_t backoff_next(uint64_t backoff) {
        return backoff == 0 ? BACKOFF_MIN_USEC : MIN(backoff * 2, BACKOFF_MAX_USEC);
}

/* "0.5s", "30.0s": a backoff as the clients say it ("...; reconnecting in 0.5s."). Returns buf. */
#define BACKOFF_STRING_MAX 32
static inline const char *backoff_format(char buf[static BACKOFF_STRING_MAX], uint64_t usec) {
        snprintf(buf, BACKOFF_STRING_MAX, "%" PRIu64 ".%us", usec / USEC_PER_SEC, (unsigned) (usec % USEC_PER_SEC / 100000));
        return buf;
}
