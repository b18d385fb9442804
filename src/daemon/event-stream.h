/* SPDX-License-Identifier: MIT */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "event-queue.h"
#include "manager.h"

/* /api/v1/events, Server-Sent Events (thermo-server(8), HTTP API): each tick formatted once, into a chunk
 * that goes to every stream (event-queue.h), and the alarms of the tick likewise. A stream is a response
 * of libmicrohttpd's whose body comes from us: suspended while it has nothing to send, resumed when a tick
 * gives it some. The thermometer never waits for a stream: a tick that does not fit in a stream's queue
 * is skipped for that stream alone, as thermo/1 does for a slow client; an alarm is never skipped, and a
 * stream that does not take even those is ended. */
typedef struct EventHub EventHub;
typedef struct EventStream EventStream;

struct EventStream {
        EventHub *hub;
        Peer *peer;
        struct MHD_Connection *connection;
        EventQueue queue;
        sd_event_source *hangup;        /* libmicrohttpd does not see a peer go while suspended: we do */
        uint64_t after;                 /* replaying: the newest held tick queued */
        LIST_FIELDS(EventStream, streams);
        bool started;
        bool replaying;         /* held ticks go first, the live ones wait in the history */
        bool suspended;
        bool ending;            /* the server stops: the end of the stream once the queue is sent */
        bool broken;            /* the peer is gone, or took not even the alarms: the connection closes */
        bool skipping_said;
};

struct EventHub {
        Manager *manager;
        ThermometerObserver *observer;  /* the HTTP front end's, active while a stream is open */
        void (*wake)(void *userdata);   /* runs libmicrohttpd soon, for the streams resumed */
        void *userdata;
        EventStream *streams;
};

void event_hub_init(EventHub *h, Manager *m, ThermometerObserver *observer, void (*wake)(void *userdata),
                void *userdata);

/* A tick: to every stream. */
void event_hub_tick(EventHub *h, const Reading *readings, size_t n);

/* s, zeroed, streams on connection (its socket fd) for p from now on: the response to queue, or NULL
 * (out of memory; then s is as it was). With replay, the ticks held after after go first. */
struct MHD_Response *event_stream_start(EventHub *h, EventStream *s, Peer *p, struct MHD_Connection *connection,
                int fd, bool replay, uint64_t after);

/* The server stops: the stream ends once what it has queued is sent. */
void event_stream_end(EventStream *s);

/* The connection is over, or about to be freed: s streams no more. Safe on a stream never started. */
void event_stream_stop(EventStream *s);
