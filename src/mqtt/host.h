/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "options.h"

/* One thermo server and what thermo-mqtt makes of it: the stream of every sensor (a ServerLink), and a
 * broker connection of its own (a Publisher), whose will marks this host offline. Each reconnects on its
 * own. While the broker cannot take them, readings wait in the server's history, and are asked for again
 * when it can (from a server without a history, the newest of each sensor waits here). */
typedef struct Host Host;
typedef struct Bridge Bridge;

typedef struct HostStats {
        bool server_up;         /* greeted, streaming */
        bool broker_up;
        size_t sensors;
        uint64_t published;     /* readings sent to the broker */
        uint64_t dropped;       /* readings it never got */
} HostStats;

/* What a host needs of the bridge that holds it. */
typedef struct HostOwner {
        /* Whether another host publishes under name already. */
        bool (*name_taken)(Host *h, const char *name, void *userdata);
        /* After host_stop(): this host is done. */
        void (*stopped)(Host *h, void *userdata);
        void *userdata;
} HostOwner;

/* options and spec must outlive the host; bridge_host is this machine's name, for the broker client id. */
int host_new(sd_event *e, const MqttOptions *options, const ServerSpec *spec, const char *bridge_host,
                const HostOwner *owner, Host **ret);
Host *host_free(Host *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(Host *, host_free);

void host_start(Host *h);
/* Says "offline" for the host and goodbye to the broker, then owner->stopped(). */
void host_stop(Host *h);
/* A reload: the broker connection made again, with password (NULL for none). */
int host_reconnect_broker(Host *h, const char *password);
/* The name in its topics: NAME=, or the server's host=, NULL before it has greeted us. */
const char *host_get_name(Host *h);
void host_get_stats(Host *h, HostStats *ret);
