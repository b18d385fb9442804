/* SPDX-License-Identifier: MIT */
#pragma once

#include "address.h"

/* Opens a non-blocking listening stream socket on a; a stale Unix socket file is replaced. */
int listen_open(const SocketAddress *a, int *ret_fd);

/* The listening sockets systemd passed in (socket activation), as non-blocking fds: the count (0 when not
 * socket-activated), or a negative errno when a passed fd is not a listening stream socket. */
int listen_from_systemd(int **ret_fds, char ***ret_names);
