/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "front-end-thermo.h"
#include "session.h"

#define LINE(s) s, strlen(s)

/* Replies to the request being handled: they may take the queue past --buffer-size by one request's worth
 * (the flow-control rule takes no further request until the client has read them). */
static void reply(Session *s, const char *data, size_t n) {
        (void) connection_write(&s->connection, data, n, thermo_front_end_get_reply_max(s->front_end));
}

static void session_close(Session *s, const char *why) {
        thermo_front_end_unsubscribe(s->front_end, s);
        connection_close(&s->connection, why);
}

int session_new(ThermoFrontEnd *fe, int fd, const PeerAddress *address, const ConnectionOps *ops, Session **ret) {
        _cleanup_(session_freep) Session *s = NULL;
        char hello[PROTOCOL_REPLY_MAX];
        ServerInfo info;
        size_t n;
        int r;

        assert(fe);
        assert(address);
        assert(ops);
        assert(ret);

        s = calloc(1, sizeof(*s));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->front_end = fe;
        s->connection.fd = -EBADF;

        r = connection_start(&s->connection, thermo_front_end_get_manager(fe), fd, address, ops);
        if (r < 0)
                return r;

        thermo_front_end_get_info(fe, &info);
        n = protocol_format_hello(hello, sizeof(hello), &info);
        reply(s, hello, n);

        /* Counted by the manager now, which frees it (PeerOps.free) when it is over. */
        *ret = TAKE_PTR(s);
        return 0;
}

Session *session_free(Session *s) {
        if (!s)
                return NULL;
        thermo_front_end_unsubscribe(s->front_end, s);
        connection_done(&s->connection);
        free(s);
        return NULL;
}

void session_deliver(Session *s, const char *data, size_t n, bool reading) {
        assert(s);
        assert(data);

        /* The thermometer never waits: a tick that does not fit in this client's buffer is skipped for this
         * client alone, and it sees a gap in the sequence numbers. */
        if (!connection_has_room(&s->connection, n))
                return;
        if (connection_write(&s->connection, data, n, 0) < 0 || !reading || s->remaining == 0)
                return;

        if (--s->remaining == 0) {
                thermo_front_end_unsubscribe(s->front_end, s);
                reply(s, LINE("END\n"));
                if (s->eof)
                        session_close(s, "closed by peer");
        }
}

static void handle_get(Session *s) {
        const Reading *readings = thermometer_get_readings(thermo_front_end_get_thermometer(s->front_end));
        char line[PROTOCOL_REPLY_MAX];
        size_t n;

        n = protocol_format_reading(line, sizeof(line), &readings[0]);
        reply(s, line, n);
}

static void handle_stream(Session *s, uint32_t count) {
        /* A second STREAM replaces the first: only the count changes. */
        s->remaining = count;
        reply(s, LINE("OK STREAM\n"));
        thermo_front_end_subscribe(s->front_end, s);
}

void session_handle_line(Session *s, const char *line, size_t n) {
        char text[PROTOCOL_REPLY_MAX];
        const char *error;
        ServerInfo info;
        Request req;
        size_t k;

        assert(s);
        assert(line || n == 0);

        if (protocol_parse_request(line, n, &req, &error) < 0) {
                k = protocol_format_error(text, sizeof(text), 400, error);
                reply(s, text, k);
                return;
        }

        switch (req.type) {
        case REQUEST_EMPTY:
                break;
        case REQUEST_GET:
                handle_get(s);
                break;
        case REQUEST_STREAM:
                handle_stream(s, req.count);
                break;
        case REQUEST_STOP:
                thermo_front_end_unsubscribe(s->front_end, s);
                reply(s, LINE("OK STOP\n"));
                break;
        case REQUEST_PING:
                reply(s, LINE("PONG\n"));
                break;
        case REQUEST_INFO:
                thermo_front_end_get_info(s->front_end, &info);
                k = protocol_format_info(text, sizeof(text), &info);
                reply(s, text, k);
                break;
        case REQUEST_QUIT:
                reply(s, LINE("BYE\n"));
                session_close(s, "QUIT");
                break;
        }
}

void session_handle_line_too_long(Session *s) {
        char text[PROTOCOL_REPLY_MAX];
        size_t k;

        assert(s);

        k = protocol_format_error(text, sizeof(text), 413, "request line too long");
        reply(s, text, k);
        session_close(s, "request line too long");
}

void session_handle_eof(Session *s) {
        assert(s);

        /* The peer half-closed: a streaming session goes on until it ends, an idle one closes. */
        s->eof = true;
        if (!s->subscribed)
                session_close(s, "closed by peer");
}

void session_shutdown(Session *s) {
        assert(s);

        reply(s, LINE("BYE\n"));
        session_close(s, "server stopping");
}
