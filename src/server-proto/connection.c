/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "connection.h"
#include "line-buffer.h"
#include "transport.h"

typedef struct Connection {
        Server *server;
        Transport *transport;
        Session *session;
        const char *peer; /* until the session has it */
        LineBuffer input;
        bool eof;
} Connection;

static int connection_write(void *userdata, const char *data, size_t n) {
        Connection *c = userdata;
        return transport_write(c->transport, data, n);
}

static size_t connection_get_buffer_size(void *userdata) {
        Connection *c = userdata;
        return transport_get_write_buffer_size(c->transport);
}

static void connection_close(void *userdata) {
        Connection *c = userdata;
        transport_close(c->transport);
}

static const SessionOps connection_ops = {
        .write = connection_write,
        .get_buffer_size = connection_get_buffer_size,
        .close = connection_close,
};

/* Handles the complete lines received, as long as the peer takes our replies; reads more only when a
 * whole read fits. */
static void handle_input(Connection *c) {
        while (!c->session->closing && !transport_is_writing_paused(c->transport)) {
                const char *line;
                size_t n;
                int r;

                r = line_buffer_next(&c->input, c->eof, &line, &n);
                if (!session_handle_read(c->session, r, line, n))
                        break;
        }

        if (transport_is_writing_paused(c->transport) || line_buffer_room(&c->input) < LINE_BUFFER_READ_MAX)
                transport_pause_reading(c->transport);
        else
                transport_resume_reading(c->transport);
}

static void connection_made(Transport *t, void *userdata) {
        Connection *c = userdata;
        int r;

        c->transport = t;
        r = session_new(c->server, &connection_ops, c, c->peer, &c->session);
        if (r < 0)
                transport_abort(t);
        c->peer = NULL;
}

static void data_received(Transport *t, const char *data, size_t n, void *userdata) {
        Connection *c = userdata;

        /* handle_input() stops reading unless a whole read fits, so this does. */
        (void) line_buffer_append(&c->input, data, n);
        handle_input(c);
}

static bool eof_received(Transport *t, void *userdata) {
        Connection *c = userdata;

        c->eof = true;
        handle_input(c);
        return true; /* the session closes when it is done: a counted stream goes on to its END */
}

static void pause_writing(Transport *t, void *userdata) {
        /* The peer does not take our replies: take no more requests from it until it does. */
        transport_pause_reading(t);
}

static void resume_writing(Transport *t, void *userdata) {
        handle_input(userdata);
}

static void connection_lost(Transport *t, int error, void *userdata) {
        Connection *c = userdata;

        session_free(c->session, error);
        transport_free(t);
        free(c);
}

static const TransportProtocol thermo_protocol = {
        .connection_made = connection_made,
        .data_received = data_received,
        .eof_received = eof_received,
        .connection_lost = connection_lost,
        .pause_writing = pause_writing,
        .resume_writing = resume_writing,
};

int connection_open(Server *server, int fd, const char *peer) {
        Connection *c;
        Transport *t;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = server;
        c->peer = peer;

        r = transport_new(server_get_event(server), fd, server_get_buffer_capacity(server),
                        server_get_buffer_limit(server), server_get_buffer_limit(server) / 4, &thermo_protocol, c, &t);
        if (r < 0) {
                free(c);
                return r;
        }
        return 0;
}
