/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

/* Blocks SIGTERM and SIGINT and has them arrive as sources on e that call handler: a program's way to
 * be asked to stop. */
int signals_add_stop(sd_event *e, sd_event_signal_handler_t handler, void *userdata);
/* Blocks SIGHUP and has it arrive as a source on e that calls handler: a daemon's way to be asked to
 * reload (systemctl reload). */
int signals_add_reload(sd_event *e, sd_event_signal_handler_t handler, void *userdata);
/* The value thermo-handover queues with SIGUSR2 (sigqueue()): what tells its signal from a stray kill. */
#define SIGNALS_RESTART_VALUE 0x74686572

/* Blocks SIGUSR2 and has it arrive as a source of that priority on e that calls handler: how a daemon is
 * told that the stop that comes is a restart (thermo-handover(8)). */
int signals_add_restart(sd_event *e, int64_t priority, sd_event_signal_handler_t handler, void *userdata);
