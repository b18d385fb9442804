/* SPDX-License-Identifier: MIT */
#pragma once

#include "server.h"

/* thermo-server's connection layer: a session driven by a Stream, read a line, handle it, write. */
int connection_open(Server *server, int fd, const char *peer);
