/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "manager.h"

/* Restarts that keep every client (thermo-protocol(7), "Restarts"), as systemd-journald keeps its stream
 * connections across its own: at a restart, each client's socket goes to systemd's file descriptor store
 * (sd_notify()'s FDSTORE=1, FileDescriptorStoreMax= in the unit), named "client", and what the server knows
 * of it and of the readings goes beside them, a sealed memfd named "state". systemd passes them to the next
 * server with the sockets it listens on, and that one takes up where this one stopped. */

/* Whether an fd systemd passed under that name is a handover's, not a socket to listen on. */
bool handover_is_fd_name(const char *name);

/* Hands the clients that can go across to systemd's store, with the state: 0 once systemd has them all (the
 * caller exits without a word to them), or a negative errno with nothing left in the store: the clients
 * are to be told goodbye instead. */
int handover_store(Manager *m);

/* At start, with the sensors, the history and the front ends set: takes back what handover_store() left,
 * n fds of those names (handover_is_fd_name()), which it takes. Every client whose state it reads is served
 * on where it was; one without (the server before ended before it had stored the state, or the state is
 * not one) is closed at once, never left silent. */
void handover_take(Manager *m, const int *fds, char *const *names, size_t n);
