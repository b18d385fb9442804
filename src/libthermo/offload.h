/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

/* A call that may wait for the network (getaddrinfo(), a library's connect), made off the event loop: in a
 * thread of its own, and its end taken up on the loop. A dead resolver then holds up that thread alone, not
 * every peer, the keepalives and the watchdog. */
typedef struct Offload Offload;

typedef struct OffloadOps {
        /* In the thread: the call, on data. */
        void (*work)(void *data);
        /* On the loop, once work() is done: its result is in data. Not after offload_cancel(). The offload
         * is gone once this returns: the owner forgets it here. */
        void (*done)(void *data, void *userdata);
        /* Frees data: after done(), or once work() has ended after offload_cancel(); in the thread or on the
         * loop, whichever lets go last. NULL for data that is not freed. */
        void (*free_data)(void *data);
} OffloadOps;

/* Runs ops->work(data) in a new thread; ops must outlive it. */
int offload_start(sd_event *e, const OffloadOps *ops, void *data, void *userdata, Offload **ret);
/* done() is not called; a work() under way runs to its end (nothing can cut getaddrinfo() short) in its
 * thread, which then frees data and itself. Returns NULL. */
Offload *offload_cancel(Offload *o);
