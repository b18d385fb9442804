/* SPDX-License-Identifier: MIT */
#pragma once

#include "macro.h"
#include "options.h"

/* thermo-mqtt as a whole: one Host for each server, on one event loop; the service's status, readiness and
 * watchdog for systemd; and on SIGTERM, every host marked offline before we go. */
typedef struct Bridge Bridge;

int bridge_new(const MqttOptions *options, Bridge **ret);
Bridge *bridge_free(Bridge *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Bridge *, bridge_free);

/* Runs until SIGTERM or SIGINT: 0, or a negative errno. */
int bridge_run(Bridge *b);
