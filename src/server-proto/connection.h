/* SPDX-License-Identifier: MIT */
#pragma once

#include "server.h"

/* thermo-server-proto's connection layer: the thermo protocol as a Transport's protocol, in the manner of
 * asyncio.Protocol: the transport calls us when data arrives, and we call back into it. */
int connection_open(Server *server, int fd, const char *peer);
