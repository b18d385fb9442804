/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* How long a closed connection waits for its peer to close too, at most: a refused socket here, and a
 * client's connection after its last line (connection.c). */
#define LINGER_TIMEOUT_USEC (2 * UINT64_C(1000000))

/* The sockets one owner has lingering: fds, which it counts; drained() runs when the last one is gone, for
 * an owner that waits for them before it exits. */
typedef struct Lingers Lingers;
struct Lingers {
        size_t n;
        void (*drained)(Lingers *l);
};

/* Closes a connection gracefully: no more writes, and what the peer still sends is read and dropped until
 * it closes too (or a few seconds pass). Closing with unread input would send a reset instead, and the
 * peer could lose the last line we wrote (an ERR 413, a BYE). Takes ownership of fd on every path; it
 * counts in owner->n while it lingers. */
int linger_close(sd_event *e, int fd, Lingers *owner);
