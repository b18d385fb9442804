/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "connection.h"
#include "thermometer.h"

/* One thermo/1 client (thermo-protocol(7)): its connection and what it asked for, in one allocation. */
typedef struct Session Session;
typedef struct ThermoFrontEnd ThermoFrontEnd;

/* Held ticks going out to a session: before the live ones (STREAM after=), or alone (HISTORY); allocated
 * only while they do, so that a client that never asks costs nothing of it. */
typedef struct Replay {
        sd_event_source *defer; /* the next turn, when the socket takes all as fast as it comes */
        uint64_t after;         /* the seq of the last held tick sent: the next is the first after it */
        uint64_t until;         /* HISTORY: the newest when it was asked, its last */
        uint32_t n_subset;      /* the sensors there were when it was asked: the bits subset has */
        bool all;               /* every sensor's, by name */
        bool has_subset;        /* the sensors of subset, by name; neither: the default sensor's */
        bool end;               /* HISTORY: END after the last, and requests taken again */
        uint64_t subset[];
} Replay;

struct Session {
        Connection connection;  /* first: the connection's callbacks find the session from it */
        ThermoFrontEnd *front_end;
        LIST_FIELDS(Session, subscribers);
        uint64_t *subset;       /* STREAM <name>...: a bit for each sensor streamed; NULL otherwise */
        uint32_t n_subset;      /* the sensors there were then: the bits subset has (a rescan adds more) */
        uint32_t remaining;     /* readings before END; 0 streams without end */
        uint64_t stream_seq;    /* the last tick of the stream's, held or live: where it takes up after HISTORY */
        Replay *replay;         /* held ticks going out, NULL when none are */
        ThermometerRequest get; /* a GET that waits for the next tick */
        bool subscribed:1;      /* on the front end's list: it streams, or has ALARMS, or both */
        bool stream:1;          /* STREAM */
        bool alarms:1;          /* ALARMS */
        bool all:1;             /* STREAM *: every sensor */
        bool get_named:1;       /* that GET named its sensor: its reply does too */
        bool eof:1;             /* the peer sent all it will send */
        bool skipping_said:1;   /* readings were skipped for it, and the log said so */
        bool resume_get:1;      /* restored with a GET that waited: asked again at session_resume() */
};

/* What goes on across a restart (handover.c), as a STATE_SESSION record and its connection's: the
 * subscription, the count left, ALARMS, a GET that waits, held ticks going out. */
void session_serialize(Session *s, StateWriter *w);
/* A session of the server before a restart, as session_serialize() put it, its sensors where map says: it
 * is subscribed as it was, with no HELLO, and takes nothing and sends no tick until session_resume(),
 * once every client is back (else a GET of one could take a tick the others miss). A stream whose sensors
 * are all gone gets ERR 404, and ends. On failure fd is closed. */
int session_restore(ThermoFrontEnd *fe, int fd, const ConnectionOps *ops, StateReader *r, const SensorMap *map,
                Session **ret);
void session_resume(Session *s);

/* Greets the peer; on failure fd is closed. */
int session_new(ThermoFrontEnd *fe, int fd, const PeerAddress *address, const ConnectionOps *ops, Session **ret);
Session *session_free(Session *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Session *, session_free);

/* What a server's connection layer hands over: one request line (without its terminator), a line too
 * long for the protocol, or the end of the peer's input. */
void session_handle_line(Session *s, const char *line, size_t n);
void session_handle_line_too_long(Session *s);
void session_handle_eof(Session *s);
/* A client that does not stream sent no request for too long, a partial line too slowly, or did not read
 * its replies: ERR 408, and the connection closes. */
void session_expire(Session *s, ConnectionExpiry why);

/* Whether a bit set of n sensors (STREAM <name>...) has sensor i. */
static inline bool subset_has(const uint64_t *subset, size_t n, size_t i) {
        return subset && i < n && (subset[i / 64] & (UINT64_C(1) << (i % 64)));
}

/* Whether a session streams sensor i by name. */
static inline bool session_streams(const Session *s, size_t i) {
        return subset_has(s->subset, s->n_subset, i);
}

/* One tick's (seq) lines for a subscribed session: for its stream, n bytes in all, of which readings are
 * readings (the rest errors), all skipped when the client is too far behind to take them; and the tick's
 * ALARM lines, for a session that has ALARMS, never skipped. */
void session_deliver(Session *s, uint64_t seq, const struct iovec *iov, size_t n_iov, size_t n, size_t readings,
                const char *alarms, size_t n_alarms);
/* A tick has come, for a GET that waits. */
void session_answer_get(Session *s, const Reading *readings);
/* The client has taken what was queued: the held ticks it is sent go on. */
void session_drained(Session *s);

/* The server stops: BYE, then close. */
void session_shutdown(Session *s);
