/* SPDX-License-Identifier: MIT */
#pragma once

#include "front-end-thermo.h"

/* A whole server program: options, sensors, the manager and its front ends, run. handler is how the
 * program's thermo/1 sessions take their requests. Returns the exit status. */
int server_main(int argc, char *argv[], const char *name, const char *default_listen, thermo_handler_t handler);
