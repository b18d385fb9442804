/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "manager.h"

/* Restarts that keep every client (thermo-protocol(7), "Restarts"), as systemd-journald keeps its stream
 * connections across its own: what the server knows of its clients and of the readings goes in a sealed
 * memfd, and the clients' sockets, in that order, in the queue of a socket of a pair made for it, as
 * SCM_RIGHTS messages; the pair and the memfd go to systemd's file descriptor store (sd_notify()'s
 * FDSTORE=1, FileDescriptorStoreMax= in the unit), named "clients", "clients-peer" and "state". systemd
 * passes them to the next server with the sockets it listens on, and that one takes up where this one
 * stopped.
 *
 * Three fds in the store, whatever the number of clients: systemd keeps its store as a list, and compares
 * each fd stored with every other, which ten thousand clients one by one would make a hundred million
 * comparisons of PID 1's. And the order of the queue is the clients' order in the state: nothing to match
 * a socket to its client by. */

/* What a handover took, for the log: the time and the CPU of the process. */
typedef struct HandoverClock {
        uint64_t wall, cpu;
} HandoverClock;

void handover_clock_start(HandoverClock *c);
/* "in 12ms, 9ms of CPU": buf. */
const char *handover_clock_format(const HandoverClock *c, char *buf, size_t size);

/* The FDNAME=s of a handover's fds: not sockets to listen on. */
bool handover_is_fd_name(const char *name);

/* Hands the clients that can go across to systemd's store, with the state: the number of clients once
 * systemd has them all (the caller exits without a word to them), or a negative errno with nothing left in
 * the store: the clients are to be told goodbye instead. */
int handover_store(Manager *m);

/* At start, with the sensors, the history and the front ends set: takes back what handover_store() left,
 * n fds of those names (handover_is_fd_name()), which it takes. Every client whose state it reads is served
 * on where it was; one without (the server before ended before it had stored the state, or the state is
 * not one) is closed at once, never left silent. */
void handover_take(Manager *m, const int *fds, char *const *names, size_t n);
