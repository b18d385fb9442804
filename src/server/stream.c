/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "line-buffer.h"
#include "stream.h"
#include "transport.h"

struct Stream {
        Transport *transport;
        LineBuffer input;
        bool eof;
        bool draining;

        stream_handler_t on_readable;
        stream_closed_t on_closed;
        void *userdata;
};

/* Read from the socket only while a whole read fits and nobody waits for a drain. */
static void update_reading(Stream *s) {
        if (s->draining || line_buffer_room(&s->input) < LINE_BUFFER_READ_MAX)
                transport_pause_reading(s->transport);
        else
                transport_resume_reading(s->transport);
}

static void connection_made(Transport *t, void *userdata) {
        Stream *s = userdata;
        s->transport = t;
}

static void data_received(Transport *t, const char *data, size_t n, void *userdata) {
        Stream *s = userdata;

        /* update_reading() keeps a read's worth of room, so this fits. */
        (void) line_buffer_append(&s->input, data, n);
        update_reading(s);
        s->on_readable(s, s->userdata);
}

static bool eof_received(Transport *t, void *userdata) {
        Stream *s = userdata;

        s->eof = true;
        s->on_readable(s, s->userdata);
        return true; /* whoever reads decides when to close */
}

static void connection_lost(Transport *t, int error, void *userdata) {
        Stream *s = userdata;
        s->on_closed(s, error, s->userdata);
}

static void pause_writing(Transport *t, void *userdata) {
        /* stream_drain() asks the transport whether writing is paused. */
}

static void resume_writing(Transport *t, void *userdata) {
        Stream *s = userdata;

        if (!s->draining)
                return;
        s->draining = false;
        update_reading(s);
        s->on_readable(s, s->userdata);
}

static const TransportProtocol stream_protocol = {
        .connection_made = connection_made,
        .data_received = data_received,
        .eof_received = eof_received,
        .connection_lost = connection_lost,
        .pause_writing = pause_writing,
        .resume_writing = resume_writing,
};

int stream_new(sd_event *e, int fd, size_t capacity, size_t high_water, size_t low_water,
                stream_handler_t on_readable, stream_closed_t on_closed, void *userdata, Stream **ret) {
        Stream *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->on_readable = on_readable;
        s->on_closed = on_closed;
        s->userdata = userdata;

        r = transport_new(e, fd, capacity, high_water, low_water, &stream_protocol, s, &s->transport);
        if (r < 0) {
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

Stream *stream_free(Stream *s) {
        if (!s)
                return NULL;
        transport_free(s->transport);
        free(s);
        return NULL;
}

int stream_readline(Stream *s, const char **ret_line, size_t *ret_length) {
        int r = line_buffer_next(&s->input, s->eof, ret_line, ret_length);

        if (r > 0)
                update_reading(s);
        return r;
}

int stream_write(Stream *s, const char *data, size_t n) {
        return transport_write(s->transport, data, n);
}

size_t stream_get_buffer_size(Stream *s) {
        return transport_get_write_buffer_size(s->transport);
}

bool stream_drain(Stream *s) {
        if (!transport_is_writing_paused(s->transport))
                return false;
        s->draining = true;
        update_reading(s);
        return true;
}

void stream_close(Stream *s) {
        transport_close(s->transport);
}
