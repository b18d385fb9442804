/* SPDX-License-Identifier: MIT */
#pragma once

#include "manager.h"

/* The manager of a harness's server: two simulated sensors, "simulated" and "second", ticking at
 * options->interval, the log quiet but for what is critical. The harness adds its front end. Aborts
 * where it cannot be made. */
Manager *fuzz_manager_new(const ServerOptions *options);

/* The same with thermo/1 as its front end (in *ret_thermo), taking requests as thermo-server does. */
Manager *fuzz_thermo_server_new(const ServerOptions *options, FrontEnd **ret_thermo);
