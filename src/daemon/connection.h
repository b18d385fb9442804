/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <systemd/sd-event.h>

#include "deadline.h"
#include "line.h"
#include "manager.h"
#include "poller.h"
#include "send-queue.h"
#include "state.h"

/* A client's socket, as every line-speaking front end shares it: one line pump (the socket is read into a
 * buffer on the stack, and only a partial line is kept between reads), one output queue that exists only
 * while the kernel is behind, and one flow-control rule: no more requests are taken from a client while
 * its replies wait above the high-water mark (--buffer-size), until they are down to a quarter of it.
 *
 * It is embedded in the front end's client object, so that a client is one allocation. The object is
 * freed by the manager's reaper (PeerOps.free), never inside one of its own callbacks. */
typedef struct Connection Connection;
typedef struct Pump Pump;

/* Why a client that does not stream lost its slot. */
typedef enum ConnectionExpiry {
        CONNECTION_IDLE,        /* no whole request for --idle-timeout */
        CONNECTION_PARTIAL,     /* a partial line for CONNECTION_PARTIAL_TIMEOUT_USEC */
        CONNECTION_UNREAD,      /* its replies unread, so no request taken, for --idle-timeout */
} ConnectionExpiry;

typedef struct ConnectionOps {
        PeerOps peer;
        /* Requests may be waiting: take them with connection_read_line() from p, which lives on the stack
         * of this call alone. Called when the socket has input or has ended, and when the replies have
         * drained after a pause. */
        void (*readable)(Connection *c, Pump *p);
        /* The client, not streaming, ran out of time (why): say so, in the front end's words, and
         * connection_close(). */
        void (*expired)(Connection *c, ConnectionExpiry why);
        /* What is queued is down to the low-water mark, as connection_notify_drained() asked. */
        void (*drained)(Connection *c);
} ConnectionOps;

/* How long a line, once begun, may take to end (or --idle-timeout, where that is shorter): beyond it, the
 * slot goes to someone who uses it. */
#define CONNECTION_PARTIAL_TIMEOUT_USEC (10 * UINT64_C(1000000))

struct Connection {
        Peer peer;
        PollerWatch watch;
        Deadline deadline;      /* the idle or partial-line one; while closing, the close's */
        SendQueue *output;
        char *input;            /* what is left of the last read (a partial line, or lines not yet taken);
                                 * NULL when nothing is */
        int fd;
        uint16_t n_input;
        uint8_t events;         /* what the poller watches for: EPOLLIN and EPOLLOUT, which fit */
        bool eof:1;             /* the peer sends no more */
        bool paused:1;          /* the flow-control rule holds requests back */
        bool closing:1;         /* sending the last replies, then waiting for the peer to close */
        bool lingering:1;       /* all sent and our side shut down: waiting for the peer to close */
        bool held:1;            /* the owner takes no request for now */
        bool finished:1;        /* the socket is closed; the reaper frees us */
        bool streaming:1;       /* the owner streams to it: no deadline at all */
        bool partial:1;         /* a partial line alone waits: the partial-line deadline runs */
        bool notify_drained:1;  /* the owner waits for the queue to drain (ConnectionOps.drained) */
        bool resume_closing:1;  /* restored closing: it closes at connection_resume() */
};

/* c is zeroed memory inside the caller's object. Takes over fd, counts the client, and watches its socket.
 * On failure fd is closed, the client is not counted, and the caller frees its object. */
int connection_start(Connection *c, Manager *m, int fd, const PeerAddress *address, const ConnectionOps *ops);
/* What goes on across a restart (handover.c), as a STATE_CONNECTION record: the input not taken yet, the
 * output not sent, and where the connection is (its end of input, paused, closing). */
void connection_serialize(Connection *c, StateWriter *w);
/* connection_start() for a client the server before a restart had, from the payload of the record
 * connection_serialize() put: no deadline runs yet, and nothing is read or sent until connection_resume().
 * On failure fd is closed, and the caller frees its object; r's error is set for bytes that are not a
 * connection's. */
int connection_restore(Connection *c, Manager *m, int fd, const ConnectionOps *ops, StateReader *r);
/* The owner has taken up its part of the state: the deadline runs, and requests that came meanwhile are
 * taken, unless the owner holds them still (held: as connection_hold() does, until connection_release());
 * a connection that was closing goes on closing. */
void connection_resume(Connection *c, bool held);

/* Releases what the connection still holds: for the owner's PeerOps.free. */
void connection_done(Connection *c);

/* The next request line, without its "\n" or "\r\n", valid until the next call: 1 with a line, 0 when there
 * is none for now (readable() runs again when there may be), -EMSGSIZE for a line longer than
 * LINE_MAX_BYTES, -EPIPE once the peer has sent all it will. At the end of input, what is left is the last
 * line, terminator or not. */
int connection_read_line(Connection *c, Pump *p, const char **ret_line, size_t *ret_length);

/* Queues all n bytes or none; they go to the socket now when nothing else is waiting. Replies to a request
 * may take the queue up to --buffer-size plus extra; -ENOBUFS beyond. An empty queue takes any one write,
 * however large. A write that fails for any other reason ends the connection. */
int connection_write(Connection *c, const void *data, size_t n, size_t extra);
/* The same, for bytes in several places: what one write of preformatted lines takes. */
int connection_writev(Connection *c, const struct iovec *iov, size_t n_iov, size_t extra);
/* Whether n more bytes fit under the high-water mark, or nothing is queued: what a broadcast checks, to
 * skip a slow client. */
bool connection_has_room(Connection *c, size_t n);

/* The owner has more to write than fits now: ConnectionOps.drained() is called once what is queued is
 * down to a quarter of the high-water mark. */
void connection_notify_drained(Connection *c);

/* The owner streams to the client (no deadline while it does), or no longer does. */
void connection_set_streaming(Connection *c, bool streaming);

/* The owner can take no request for now (it waits for something): connection_read_line() gives none
 * until connection_release(), which hands over what has come meanwhile. */
void connection_hold(Connection *c);
void connection_release(Connection *c);

/* Sends what is queued, then closes gracefully: no more requests, and what the peer still sends is read
 * and dropped until it closes too, or a few seconds pass, so that it does not lose our last line to a
 * reset. reason is what the log says. */
void connection_close(Connection *c, const char *reason);
/* Closes now, dropping what is queued. */
void connection_abort(Connection *c, int error);
