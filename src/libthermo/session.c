/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "server.h"
#include "session.h"

#define LINE(s) s, strlen(s)

static int session_write(Session *s, const char *data, size_t n) {
        return s->ops->write(s->userdata, data, n);
}

static void session_close(Session *s, const char *why) {
        if (s->closing)
                return;
        s->closing = why;
        thermometer_unsubscribe(server_get_thermometer(s->server), &s->subscriber);
        s->ops->close(s->userdata);
}

static void on_reading(Subscriber *sub, const char *line, size_t length, const Reading *reading) {
        Session *s = (Session *) ((char *) sub - offsetof(Session, subscriber));

        /* The thermometer never waits: a reading that does not fit in this client's buffer is skipped for
         * this client alone, and it sees a gap in the sequence numbers. */
        if (s->ops->get_buffer_size(s->userdata) + length > server_get_buffer_limit(s->server))
                return;
        if (session_write(s, line, length) < 0 || !reading || s->remaining == 0)
                return;

        if (--s->remaining == 0) {
                thermometer_unsubscribe(server_get_thermometer(s->server), &s->subscriber);
                session_write(s, LINE("END\n"));
                if (s->eof)
                        session_close(s, "closed by peer");
        }
}

int session_new(Server *server, const SessionOps *ops, void *userdata, const char *peer, Session **ret) {
        char hello[PROTOCOL_REPLY_MAX];
        ServerInfo info;
        Session *s;
        size_t n;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->peer = strdup(peer);
        if (!s->peer) {
                free(s);
                return -ENOMEM;
        }
        s->server = server;
        s->ops = ops;
        s->userdata = userdata;
        s->subscriber.handler = on_reading;

        server_add_session(server, s);
        server_get_info(server, &info);
        n = protocol_format_hello(hello, sizeof(hello), &info);
        session_write(s, hello, n);

        *ret = s;
        return 0;
}

Session *session_free(Session *s, int error) {
        if (!s)
                return NULL;
        thermometer_unsubscribe(server_get_thermometer(s->server), &s->subscriber);
        server_remove_session(s->server, s, error < 0 ? strerror(-error) : s->closing ?: "connection lost");
        free(s->peer);
        free(s);
        return NULL;
}

static void handle_stream(Session *s, uint32_t count) {
        /* A second STREAM replaces the first: only the count changes. */
        s->remaining = count;
        session_write(s, LINE("OK STREAM\n"));
        thermometer_subscribe(server_get_thermometer(s->server), &s->subscriber);
}

void session_handle_line(Session *s, const char *line, size_t n) {
        char reply[PROTOCOL_REPLY_MAX];
        const char *error, *temp;
        ServerInfo info;
        Request req;
        size_t k;

        if (s->closing)
                return;

        if (protocol_parse_request(line, n, &req, &error) < 0) {
                k = protocol_format_error(reply, sizeof(reply), 400, error);
                session_write(s, reply, k);
                return;
        }

        switch (req.type) {
        case REQUEST_EMPTY:
                break;
        case REQUEST_GET:
                (void) thermometer_get_line(server_get_thermometer(s->server), &temp, &k);
                session_write(s, temp, k);
                break;
        case REQUEST_STREAM:
                handle_stream(s, req.count);
                break;
        case REQUEST_STOP:
                thermometer_unsubscribe(server_get_thermometer(s->server), &s->subscriber);
                session_write(s, LINE("OK STOP\n"));
                break;
        case REQUEST_PING:
                session_write(s, LINE("PONG\n"));
                break;
        case REQUEST_INFO:
                server_get_info(s->server, &info);
                k = protocol_format_info(reply, sizeof(reply), &info);
                session_write(s, reply, k);
                break;
        case REQUEST_QUIT:
                session_write(s, LINE("BYE\n"));
                session_close(s, "QUIT");
                break;
        }
}

/* The peer sent a line longer than the protocol allows: ERR 413, then close. */
static void line_too_long(Session *s) {
        char reply[PROTOCOL_REPLY_MAX];
        size_t k;

        if (s->closing)
                return;
        k = protocol_format_error(reply, sizeof(reply), 413, "request line too long");
        session_write(s, reply, k);
        session_close(s, "request line too long");
}

/* The peer half-closed: a streaming session goes on until it ends, an idle one closes. */
static void eof(Session *s) {
        s->eof = true;
        if (!s->subscriber.subscribed)
                session_close(s, "closed by peer");
}

bool session_handle_read(Session *s, int r, const char *line, size_t n) {
        if (r > 0) {
                session_handle_line(s, line, n);
                return true;
        }
        if (r == -EMSGSIZE)
                line_too_long(s);
        else if (r < 0)
                eof(s);
        return false;
}

void session_shutdown(Session *s) {
        if (s->closing)
                return;
        session_write(s, LINE("BYE\n"));
        session_close(s, "server stopping");
}
