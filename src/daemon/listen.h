/* SPDX-License-Identifier: MIT */
#pragma once

#include "address.h"

/* Opens a non-blocking listening stream socket on a; a stale Unix socket file is replaced, a live one is
 * -EADDRINUSE. */
int listen_open(const SocketAddress *a, int *ret_fd);

/* The listening sockets systemd passed in (socket activation), as non-blocking fds: the count (0 when not
 * socket-activated), or a negative errno when a passed fd is not a listening stream socket. */
int listen_from_systemd(int **ret_fds, char ***ret_names);

/* On an accepted TCP connection: kernel buffers of 64 KiB at most, so that a client that does not read
 * holds little memory; keepalive and a user timeout, so that a peer that vanished without a word does not
 * hold its slot for ever. */
void listen_tune_connection(int fd);
