/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* Many sockets as one event source: clients' sockets are watched by an epoll instance of our own, itself
 * a single io source on the event loop. An sd-event source costs some 300 bytes, twice what all the rest
 * of a client does; this way a client is one small allocation, and all client I/O has one priority, which
 * the thermometer's timer is above. Each wakeup handles a bounded number of ready sockets; epoll hands the
 * rest out next time, in turn. */
typedef struct Poller Poller;
typedef struct PollerWatch PollerWatch;

typedef void (*poller_handler_t)(PollerWatch *w, uint32_t revents);

/* Embedded in what watches a socket. A watch removed during a wakeup may still be called in it: its
 * memory must last until the wakeup is over (the manager's reaper sees to that for clients). */
struct PollerWatch {
        poller_handler_t handler;
};

int poller_new(sd_event *e, int64_t priority, Poller **ret);
Poller *poller_free(Poller *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Poller *, poller_free);

/* Level-triggered, as sd-event's io sources: events may be 0, and a hang-up or error is still reported. */
int poller_add(Poller *p, int fd, uint32_t events, PollerWatch *w);
int poller_modify(Poller *p, int fd, uint32_t events, PollerWatch *w);
/* Before fd is closed. */
void poller_remove(Poller *p, int fd);
