/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "connection.h"
#include "stream.h"

typedef struct Connection {
        Server *server;
        Stream *stream;
        Session *session;
} Connection;

static int connection_write(void *userdata, const char *data, size_t n) {
        Connection *c = userdata;
        return stream_write(c->stream, data, n);
}

static size_t connection_get_buffer_size(void *userdata) {
        Connection *c = userdata;
        return stream_get_buffer_size(c->stream);
}

static void connection_close(void *userdata) {
        Connection *c = userdata;
        stream_close(c->stream);
}

static const SessionOps connection_ops = {
        .write = connection_write,
        .get_buffer_size = connection_get_buffer_size,
        .close = connection_close,
};

/* The loop of a streams server's handler: 'while line := await reader.readline(): handle(line); await
 * writer.drain()', with the awaits turned into returns that the stream calls us back from. */
static void on_readable(Stream *stream, void *userdata) {
        Connection *c = userdata;

        while (!c->session->closing) {
                const char *line;
                size_t n;
                int r;

                /* Replies wait in the buffer: read no more requests until the peer takes them. */
                if (stream_drain(stream))
                        return;

                r = stream_readline(stream, &line, &n);
                if (!session_handle_read(c->session, r, line, n))
                        return;
        }
}

static void on_closed(Stream *stream, int error, void *userdata) {
        Connection *c = userdata;

        session_free(c->session, error);
        stream_free(c->stream);
        free(c);
}

int connection_open(Server *server, int fd, const char *peer) {
        Connection *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = server;

        r = stream_new(server_get_event(server), fd, server_get_buffer_capacity(server),
                        server_get_buffer_limit(server), server_get_buffer_limit(server) / 4, on_readable, on_closed,
                        c, &c->stream);
        if (r < 0) {
                free(c);
                return r;
        }
        r = session_new(server, &connection_ops, c, peer, &c->session);
        if (r < 0) {
                stream_free(c->stream);
                free(c);
                return r;
        }
        return 0;
}
