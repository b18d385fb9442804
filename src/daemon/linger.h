/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "deadline.h"
#include "macro.h"
#include "poller.h"

/* A lingering close, the one way thermo closes a connection it has written to: no more writes (our side is
 * shut down), and what the peer still sends is read and dropped until it closes too, or a few seconds
 * pass. Closing with unread input would send a reset instead, and the peer could lose the last line we
 * wrote (an ERR 413, a BYE, a refusal). A client's connection lingers through its own watch and deadline
 * (connection.c); a refused socket through a Linger of its own, on the same poller and deadline lists. */

/* How long a closed connection waits for its peer to close too, at most. */
#define LINGER_TIMEOUT_USEC (2 * UINT64_C(1000000))

/* The first step: our side is done writing. */
void linger_begin(int fd);
/* Reads what the peer sent since, and drops it: true once the peer is done (it closed, or the connection
 * failed), false while it may send more (the poller says when: EPOLLIN is level-triggered). A few reads
 * at most per call, so that a peer that floods us takes its turn with the others. */
bool linger_drain(int fd);

/* The refused sockets one owner has lingering: drained() runs when the last one is gone, for an owner that
 * waits for them before it exits. */
typedef struct Linger Linger;
typedef struct Lingers {
        Poller *poller;
        Deadlines *deadlines;
        Linger *list;
        size_t n;
        void (*drained)(struct Lingers *l);
} Lingers;

/* Closes fd gracefully, as above; takes it over on every path (closed at once when there is no memory to
 * linger with). It counts in l->n while it lingers. */
int lingers_add(Lingers *l, int fd);
/* Closes every one at once: for the owner's end. */
void lingers_done(Lingers *l);
