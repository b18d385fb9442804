/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "thermometer.h"

typedef struct Server Server;
typedef struct Session Session;

/* How a session writes: the connection layer it sits on (streams in thermo-server, transport and
 * protocol in thermo-server-proto) provides these. */
typedef struct SessionOps {
        /* Queues a whole line; a failed write has already made the layer drop the connection. */
        int (*write)(void *userdata, const char *data, size_t n);
        /* Bytes queued and not yet sent. */
        size_t (*get_buffer_size)(void *userdata);
        /* Sends what is queued, then closes. The layer frees the session later, never inside this call. */
        void (*close)(void *userdata);
} SessionOps;

struct Session {
        Server *server;
        const SessionOps *ops;
        void *userdata;
        char *peer;

        Subscriber subscriber;
        uint32_t remaining;     /* readings before END; 0 streams without end */
        bool eof;               /* the peer sent all it will send */
        const char *closing;    /* why we close: logged with the disconnect */

        LIST_FIELDS(Session, sessions);
};

/* Greets the peer and counts it among the server's clients. */
int session_new(Server *server, const SessionOps *ops, void *userdata, const char *peer, Session **ret);
/* error: why the connection failed (a negative errno), or 0 when it closed in good order. */
Session *session_free(Session *s, int error);

/* One request line without its terminator. */
void session_handle_line(Session *s, const char *line, size_t n);
/* What a connection layer's line reader gave (line_buffer_next() and readers like it): a line is handled,
 * a line too long or the end of input is dealt with. Returns true when the layer may read on. */
bool session_handle_read(Session *s, int r, const char *line, size_t n);
/* The server stops: BYE, then close. */
void session_shutdown(Session *s);
