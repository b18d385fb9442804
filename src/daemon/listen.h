/* SPDX-License-Identifier: MIT */
#pragma once

#include "address.h"

/* Opens a non-blocking listening stream socket on a; a stale Unix socket file is replaced, a live one is
 * -EADDRINUSE. */
int listen_open(const SocketAddress *a, int *ret_fd);

/* The fds systemd passed in, with their names: the sockets to listen on (socket activation) and what its
 * file descriptor store kept (handover.h). The count (0 when none were passed), or a negative errno. */
int listen_from_systemd(int **ret_fds, char ***ret_names);
/* A passed fd is a listening stream socket, made non-blocking: 0, or a negative errno (-ENOTSOCK for what
 * is not one). */
int listen_check_passed(int fd);

/* On an accepted TCP connection: kernel buffers of 64 KiB at most, so that a client that does not read
 * holds little memory; keepalive and a user timeout, so that a peer that vanished without a word does not
 * hold its slot for ever. */
void listen_tune_connection(int fd);
