/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "connection.h"

/* One thermo/1 client (thermo-protocol(7)): its connection and what it asked for, in one allocation. */
typedef struct Session Session;
typedef struct ThermoFrontEnd ThermoFrontEnd;

struct Session {
        Connection connection;  /* first: the connection's callbacks find the session from it */
        ThermoFrontEnd *front_end;
        LIST_FIELDS(Session, subscribers);
        uint32_t remaining;     /* readings before END; 0 streams without end */
        bool subscribed:1;
        bool eof:1;             /* the peer sent all it will send */
};

/* Greets the peer; on failure fd is closed. */
int session_new(ThermoFrontEnd *fe, int fd, const PeerAddress *address, const ConnectionOps *ops, Session **ret);
Session *session_free(Session *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Session *, session_free);

/* What a server's connection layer hands over: one request line (without its terminator), a line too
 * long for the protocol, or the end of the peer's input. */
void session_handle_line(Session *s, const char *line, size_t n);
void session_handle_line_too_long(Session *s);
void session_handle_eof(Session *s);

/* One tick's bytes for a streaming session: a reading, or the sensor's error (reading false). Skipped when
 * the client is too far behind to take them. */
void session_deliver(Session *s, const char *data, size_t n, bool reading);

/* The server stops: BYE, then close. */
void session_shutdown(Session *s);
