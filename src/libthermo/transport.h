/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* One connected socket as asyncio's transports see it: it owns the socket and a bounded write buffer,
 * and calls a protocol's callbacks at the moments asyncio would. thermo-server-proto's connections are
 * such protocols; thermo-server's streams are built on it, as asyncio's streams are. */
typedef struct Transport Transport;

typedef struct TransportProtocol {
        /* The transport is set up; called once, from transport_new(). */
        void (*connection_made)(Transport *t, void *userdata);
        /* Bytes from the peer: at most LINE_BUFFER_READ_MAX at a time. */
        void (*data_received)(Transport *t, const char *data, size_t n, void *userdata);
        /* The peer will send nothing more. Return true to keep the connection open for writing; false
         * closes it, as transport_close(). */
        bool (*eof_received)(Transport *t, void *userdata);
        /* The connection is over: error is 0 after close(), else a negative errno. Called from an event of
         * its own, never from inside another call of ours, so the protocol may free the transport here. */
        void (*connection_lost)(Transport *t, int error, void *userdata);
        /* The write buffer went above the high-water mark, and came back down to the low-water mark. */
        void (*pause_writing)(Transport *t, void *userdata);
        void (*resume_writing)(Transport *t, void *userdata);
} TransportProtocol;

/* Takes over fd. The write buffer holds at most capacity bytes; writing pauses above high_water and
 * resumes at low_water. */
int transport_new(sd_event *e, int fd, size_t capacity, size_t high_water, size_t low_water,
                const TransportProtocol *protocol, void *userdata, Transport **ret);
Transport *transport_free(Transport *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Transport *, transport_free);

/* Queues all n bytes or none. A write that cannot be done (the peer is gone, the buffer is full) ends
 * the connection with that error. */
int transport_write(Transport *t, const char *data, size_t n);
size_t transport_get_write_buffer_size(Transport *t);
bool transport_is_writing_paused(Transport *t);

void transport_pause_reading(Transport *t);
void transport_resume_reading(Transport *t);

/* Sends what is queued, then closes gracefully (see linger_close()); connection_lost(0) follows. */
void transport_close(Transport *t);
/* Closes now, dropping what is queued; connection_lost(-ECONNABORTED) follows. */
void transport_abort(Transport *t);
