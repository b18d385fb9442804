/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"
#include "options.h"

/* thermo-mqtt --remove, for one host: what the bridge published of it and the broker holds retained (its
 * readings, availability, levels, the device's config, 0.2.0's configs) is cleared, with an empty retained
 * payload each. The host's name is NAME=, or the server's, or, for a local server that is not there, this
 * machine's. */
typedef struct Remover Remover;

/* done() is called once, with 0 or a negative errno (said), when the remover is through. */
int remover_new(sd_event *e, const MqttOptions *options, const ServerSpec *spec, const char *bridge_host,
                void (*done)(Remover *r, int result, void *userdata), void *userdata, Remover **ret);
Remover *remover_free(Remover *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Remover *, remover_free);

void remover_start(Remover *r);
